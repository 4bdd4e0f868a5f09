"""PDF: rewritten by qpdf (pikepdf) without its metadata, scripts and actions; first-page thumbnail.

Taken out: the document information (Author, Creator, Producer, dates, title...), every XMP
stream (document, pages, images), JavaScript, automatic actions (/OpenAction, /AA, and link
actions other than going to a page or a web address), embedded files, application data
(/PieceInfo), and the EXIF/XMP/comment segments of the JPEG photos inside. qpdf writes only the
objects still in use, so earlier revisions of the file (incremental updates) are gone too.
"""
from __future__ import annotations

from pathlib import Path

import pikepdf
from pikepdf import Array, Dictionary, Name, Stream

from forum.uploads.images import THUMBNAIL_SIZE, save_thumbnail
from forum.uploads.kinds import N_, Refused

PASSWORD = N_("This PDF is protected by a password: send it without the password.")
SAFE_ACTIONS = (Name.URI, Name.GoTo, Name.Named)  # follow a link, go to a page: no effect else
DROPPED_KEYS = {"/AA": "actions", "/OpenAction": "actions", "/JS": "javascript",
                "/Metadata": "xmp", "/PieceInfo": "software"}
INFO_CODES = {"/Author": "author", "/Creator": "software", "/Producer": "software",
              "/CreationDate": "dates", "/ModDate": "dates"}
MAX_DEPTH = 32  # direct objects nested deeper than this are not looked into (nor legitimate)


def clean_pdf(src: Path, dst: Path) -> set[str]:
    """Write a cleaned copy of src to dst; returns the codes of what was taken out."""
    removed: set[str] = set()
    try:
        pdf = pikepdf.open(src)
    except pikepdf.PasswordError:
        raise Refused(PASSWORD) from None
    with pdf:
        info = pdf.trailer.get("/Info")
        if isinstance(info, Dictionary):
            removed |= {INFO_CODES.get(key, "properties") for key in info}
        if "/Info" in pdf.trailer:
            del pdf.trailer["/Info"]
        names = pdf.Root.get("/Names")
        if isinstance(names, Dictionary):
            for key, code in (("/JavaScript", "javascript"), ("/EmbeddedFiles", "embedded_files")):
                if key in names:
                    del names[key]
                    removed.add(code)
        form = pdf.Root.get("/AcroForm")
        if isinstance(form, Dictionary) and "/XFA" in form:  # XML forms carry their scripts
            del form["/XFA"]
            removed.add("javascript")
        for obj in pdf.objects:
            if isinstance(obj, Dictionary | Stream | Array):
                _clean(obj, removed, 0)
        # Encryption without a user password is dropped too (the default of save()).
        pdf.save(dst, deterministic_id=True)
    return removed


def _clean(obj: Dictionary | Stream | Array, removed: set[str], depth: int) -> None:
    """Clean one object and the direct objects inside it (indirect ones come in their turn)."""
    if isinstance(obj, Array):
        children = list(obj)
    else:
        _clean_dictionary(obj, removed)
        children = [obj.get(key) for key in list(obj.keys())]
    if depth >= MAX_DEPTH:
        return
    for child in children:
        if isinstance(child, Dictionary | Array) and not child.is_indirect:
            _clean(child, removed, depth + 1)


def _clean_dictionary(obj: Dictionary | Stream, removed: set[str]) -> None:
    for key, code in DROPPED_KEYS.items():
        if key in obj:
            del obj[key]
            removed.add(code)
    action = obj.get("/A")
    if isinstance(action, Dictionary) and action.get("/S") not in SAFE_ACTIONS:
        del obj["/A"]
        removed.add("javascript" if action.get("/S") == Name.JavaScript else "actions")
    for key in ("/EF", "/FS"):  # a file specification's content; a file attachment annotation
        if key in obj and (key == "/EF" or obj.get("/Subtype") == Name.FileAttachment):
            del obj[key]
            removed.add("embedded_files")
    if isinstance(obj, Stream) and _is_jpeg(obj):
        raw = obj.read_raw_bytes()
        stripped = strip_jpeg_metadata(raw)
        if stripped != raw:
            obj.write(stripped, filter=Name.DCTDecode, decode_parms=obj.get("/DecodeParms"))
            removed.add("exif")


def _is_jpeg(stream: Stream) -> bool:
    """A photo stored as a JPEG file, the only filter (it then keeps its EXIF segments)."""
    filters = stream.get("/Filter")
    if isinstance(filters, Array):
        return len(filters) == 1 and filters[0] == Name.DCTDecode
    return filters == Name.DCTDecode


def strip_jpeg_metadata(data: bytes) -> bytes:
    """A JPEG without its APPn and comment segments (EXIF, XMP, IPTC...), pixels untouched.

    The Adobe segment stays: decoders need it to read CMYK photos' colours right.
    """
    if not data.startswith(b"\xff\xd8"):
        return data
    out, pos = bytearray(b"\xff\xd8"), 2
    while pos + 4 <= len(data):
        if data[pos] != 0xFF:
            return data  # not a JPEG we understand: left as it is
        marker = data[pos + 1]
        if marker == 0xFF:  # fill byte
            pos += 1
            continue
        length = int.from_bytes(data[pos + 2:pos + 4], "big")
        segment = data[pos:pos + 2 + length]
        if marker == 0xDA:  # start of scan: the compressed pixels, to the end
            out += data[pos:]
            return bytes(out)
        app = 0xE0 <= marker <= 0xEF or marker == 0xFE
        if not app or (marker == 0xEE and segment[4:9] == b"Adobe"):
            out += segment
        pos += 2 + length
    return data


def render_thumbnail(path: Path, thumb: Path) -> bool:
    """The first page as a small JPEG; False when it cannot be drawn (the file stays valid)."""
    import pypdfium2 as pdfium  # only the cleaning worker draws pages

    document = pdfium.PdfDocument(str(path))
    try:
        if len(document) == 0:
            return False
        page = document[0]
        width, height = page.get_size()
        if min(width, height) < 1:
            return False
        image = page.render(scale=THUMBNAIL_SIZE / max(width, height)).to_pil()
        save_thumbnail(image, thumb)
        return True
    except pdfium.PdfiumError:
        return False
    finally:
        document.close()
