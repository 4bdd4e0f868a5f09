"""Plain text and CSV: stored as UTF-8; binary data and markup are refused."""
from __future__ import annotations

import codecs
import re
from pathlib import Path

from forum.uploads.kinds import MARKUP, N_, Refused

CHUNK = 1024 * 1024
# Controls other than tab, newline, form feed and carriage return: the mark of binary data.
BINARY = re.compile("[\x00-\x08\x0b\x0e-\x1f\x7f-\x9f]")
# The same test on bytes, for UTF-8 and Windows-1252 (several times faster than on the text):
# every byte but these is a C0 control; C1 controls are, in UTF-8, \xc2\x80 to \xc2\x9f.
TEXT_BYTES = bytes([9, 10, 12, 13, *range(0x20, 0x7F), *range(0x80, 0x100)])
C1_UTF8 = re.compile(rb"\xc2[\x80-\x9f]")
# A text that a browser would take for a page or an image with scripts, if it ever sniffed it.
MARKUP_START = re.compile(r"\s*<(!doctype|html|svg|\?xml|script|head|body|iframe|!--|meta|"
                          r"object|embed|img|a\s|div|style|xsl|math)", re.IGNORECASE)
NOT_TEXT = N_("This file is neither a document, an image nor plain text.")


def clean_text(src: Path, dst: Path) -> set[str]:
    """Copy a text file as UTF-8 (from UTF-8, UTF-16 with a BOM, or Windows-1252)."""
    with src.open("rb") as raw:
        head = raw.read(4)
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        _transcode(src, dst, "utf-16")
        return set()
    try:
        _transcode(src, dst, "utf-8-sig", keep_bom=head.startswith(codecs.BOM_UTF8))
    except UnicodeDecodeError:
        # Spreadsheets in France still export CSV in Windows-1252; stored as UTF-8 with a BOM so
        # that the same spreadsheets read the accents right.
        try:
            _transcode(src, dst, "cp1252", keep_bom=True)
        except UnicodeDecodeError:
            raise Refused(NOT_TEXT) from None
    return set()


def _transcode(src: Path, dst: Path, encoding: str, keep_bom: bool = False) -> None:
    decoder = codecs.getincrementaldecoder(encoding)()
    first, last = True, b""
    with src.open("rb") as raw, dst.open("w", encoding="utf-8", newline="") as out:
        if keep_bom:
            out.write("\ufeff")
        while True:
            chunk = raw.read(CHUNK)
            text = decoder.decode(chunk, final=not chunk)
            if first and text:
                if MARKUP_START.match(text.lstrip("\ufeff")):
                    raise Refused(MARKUP)
                first = False
            if encoding == "utf-16":
                binary = BINARY.search(text) is not None
            else:
                binary = bool(chunk.translate(None, TEXT_BYTES)) or (
                    encoding != "cp1252" and C1_UTF8.search(last + chunk) is not None)
            if binary:
                raise Refused(NOT_TEXT)
            out.write(text)
            if not chunk:
                return
            last = chunk[-1:]
