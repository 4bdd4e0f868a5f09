"""What a file of each media type the upload operation lists (its `encoding`) looks like, for
schemathesis (loaded through SCHEMATHESIS_HOOKS by tests/test_openapi.py).

A schema says a file is bytes of some media types; it cannot say what makes bytes a PNG. So
schemathesis sends random bytes unless told how to make a file of a media type: this is the
way its documentation gives ("Custom Media Types": schemathesis.openapi.media_type). Its checks
stay the default ones; only the made-up files are real files.
"""
from __future__ import annotations

import io

import schemathesis
from hypothesis import strategies as st
from PIL import Image


def _image(format_: str) -> st.SearchStrategy[bytes]:
    def draw(size: tuple[int, int], colour: tuple[int, int, int]) -> bytes:
        out = io.BytesIO()
        Image.new("RGB", size, colour).save(out, format_)
        return out.getvalue()

    sides = st.tuples(st.integers(1, 64), st.integers(1, 64))
    colours = st.tuples(*[st.integers(0, 255)] * 3)
    return st.builds(draw, sides, colours)


def _pdf(text: str) -> bytes:
    """A one-page PDF, its offsets computed (a parser reads it without repairs)."""
    stream = f"BT /F1 12 Tf 20 50 Td ({text}) Tj ET".encode()
    objects = [b"<</Type/Catalog/Pages 2 0 R>>", b"<</Type/Pages/Kids[3 0 R]/Count 1>>",
               b"<</Type/Page/Parent 2 0 R/MediaBox[0 0 200 100]/Contents 4 0 R"
               b"/Resources<</Font<</F1 5 0 R>>>>>>",
               b"<</Length %d>>stream\n%s\nendstream" % (len(stream), stream),
               b"<</Type/Font/Subtype/Type1/BaseFont/Helvetica>>"]
    out, offsets = bytearray(b"%PDF-1.4\n"), []
    for number, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<</Size %d/Root 1 0 R>>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1, xref)
    return bytes(out)


WORDS = st.text(st.characters(categories=["L", "N"], max_codepoint=0x24F), min_size=1,
                max_size=40)
schemathesis.openapi.media_type("image/png", _image("PNG"))
schemathesis.openapi.media_type("image/jpeg", _image("JPEG"))
schemathesis.openapi.media_type("image/gif", _image("GIF"))
schemathesis.openapi.media_type("application/pdf", st.from_regex(r"[A-Za-z0-9 ]{1,30}",
                                                                fullmatch=True).map(_pdf))
schemathesis.openapi.media_type("text/plain", WORDS.map(str.encode))
schemathesis.openapi.media_type("text/csv", st.lists(WORDS, min_size=1, max_size=5).map(
    lambda cells: (",".join(cells) + "\n").encode()))
