"""PDF: rewritten by qpdf (pikepdf) without its metadata, scripts and actions; first-page thumbnail.

Taken out: the document information (Author, Creator, Producer, dates, title...), every XMP
stream (document, pages, images), JavaScript, automatic actions (/OpenAction, /AA, and link
actions other than going to a page or a web address), embedded files, application data
(/PieceInfo), annotation authors and dates (and the look drawn with them), signatures (the
signer's name, place, contact and certificate), and the metadata of the pictures inside: JPEG
photos, whatever filters wrap them, lose their EXIF/XMP/comment segments (pixels untouched);
JPEG 2000 pictures, whose boxes can hold anything, are decoded and stored again as plain
pixels. qpdf writes only the objects still in use, so earlier revisions of the file
(incremental updates) are gone too.
"""
from __future__ import annotations

import zlib
from io import BytesIO
from pathlib import Path

import pikepdf
from pikepdf import Array, Dictionary, Name, Stream
from PIL import Image

from forum.uploads.images import THUMBNAIL_SIZE, TOO_LARGE, found_metadata, save_thumbnail
from forum.uploads.kinds import N_, Refused

PASSWORD = N_("This PDF is protected by a password: send it without the password.")
UNREADABLE_PICTURE = N_("This PDF holds a picture that could not be read, so what it carries "
                        "(position, author…) could not be removed: the file is refused. Save "
                        "or print it again as PDF and send the new file.")
SAFE_ACTIONS = (Name.URI, Name.GoTo, Name.Named)  # follow a link, go to a page: no effect else
DROPPED_KEYS = {"/AA": "actions", "/OpenAction": "actions", "/JS": "javascript",
                "/Metadata": "xmp", "/PieceInfo": "software", "/LastModified": "dates"}
INFO_CODES = {"/Author": "author", "/Creator": "software", "/Producer": "software",
              "/CreationDate": "dates", "/ModDate": "dates"}
# An annotation's author (/T, but a form field's /T is its name) and its dates.
ANNOTATION_KEYS = {"/T": "author", "/M": "dates", "/CreationDate": "dates"}
# A signature dictionary: who signed, where, how to reach them, why, when, and the certificate.
SIGNATURE_KEYS = ("/Name", "/Location", "/ContactInfo", "/Reason", "/M", "/Contents", "/Cert",
                  "/Prop_Build", "/Prop_AuthTime", "/Prop_AuthType", "/ByteRange", "/Reference",
                  "/Changes")
# Filters qpdf decodes, which may wrap a JPEG or JPEG 2000 picture.
WRAPPERS = (Name.FlateDecode, Name.LZWDecode, Name.ASCII85Decode, Name.ASCIIHexDecode,
            Name.RunLengthDecode)
MAX_DEPTH = 32  # direct objects nested deeper than this are not looked into (nor legitimate)


def clean_pdf(src: Path, dst: Path, max_pixels: int) -> set[str]:
    """Write a cleaned copy of src to dst; returns the codes of what was taken out."""
    removed: set[str] = set()
    try:
        pdf = pikepdf.open(src)
    except pikepdf.PasswordError:
        raise Refused(PASSWORD) from None
    with pdf:
        info = pdf.trailer.get("/Info")
        if isinstance(info, Dictionary):
            removed |= {INFO_CODES.get(str(key), "properties") for key in info}
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
        _drop_signature_fields(pdf, removed)
        for page in pdf.pages:  # pictures written inside the page's drawing become objects
            _give_forms_resources(page)
            page.externalize_inline_images(min_size=0)
        _refuse_inline_photos(pdf)
        for obj in pdf.objects:
            if isinstance(obj, Dictionary | Stream | Array):
                _clean(pdf, obj, removed, 0, max_pixels)
        # Encryption without a user password is dropped too (the default of save()).
        pdf.save(dst, deterministic_id=True)
    return removed


def _give_forms_resources(page: pikepdf.Page) -> None:
    """Drawings without resources of their own use the page's: said explicitly, so that the
    pictures taken out of them have a place to go (qpdf would otherwise lose them)."""
    resources = page.obj.get("/Resources")
    xobjects = resources.get("/XObject") if isinstance(resources, Dictionary) else None
    if not isinstance(xobjects, Dictionary):
        return
    for key in list(xobjects.keys()):
        form = xobjects[key]
        if isinstance(form, Stream) and form.get("/Subtype") == Name.Form and (
                "/Resources" not in form):
            form.Resources = resources


def _refuse_inline_photos(pdf: pikepdf.Pdf) -> None:
    """A JPEG written inside a drawing no page uses directly (an annotation's look): refused."""
    for obj in pdf.objects:
        if not (isinstance(obj, Stream) and obj.get("/Subtype") == Name.Form):
            continue
        try:
            if b"ID" not in obj.read_bytes():
                continue
            instructions = pikepdf.parse_content_stream(obj)
        except pikepdf.PdfError:
            raise Refused(UNREADABLE_PICTURE) from None
        for instruction in instructions:
            if isinstance(instruction, pikepdf.ContentStreamInlineImage) and any(
                    name in ("/DCTDecode", "/JPXDecode", "/DCT")
                    for name in instruction.iimage.filters):
                raise Refused(UNREADABLE_PICTURE)


def _drop_signature_fields(pdf: pikepdf.Pdf, removed: set[str]) -> None:
    """Signature fields go from the form and the pages; what proves a signature goes too."""
    for key in ("/Perms", "/DSS"):  # certification rights; certificates, revocation data
        if key in pdf.Root:
            del pdf.Root[key]
            removed.add("signatures")
    form = pdf.Root.get("/AcroForm")
    if isinstance(form, Dictionary):
        fields = form.get("/Fields")
        if isinstance(fields, Array):
            form.Fields = _without_signatures(fields, removed)
        if "/SigFlags" in form:
            del form["/SigFlags"]
    for page in pdf.pages:
        annotations = page.obj.get("/Annots")
        if isinstance(annotations, Array):
            page.obj.Annots = _without_signatures(annotations, removed)


def _without_signatures(items: Array, removed: set[str]) -> Array:
    kept = []
    for item in items:
        if _is_signature_field(item):
            removed.add("signatures")
        else:
            kept.append(item)
    return Array(kept)


def _is_signature_field(obj: object) -> bool:
    for _level in range(MAX_DEPTH):  # a widget inherits its field type from its parents
        if not isinstance(obj, Dictionary):
            return False
        if "/FT" in obj:
            return Name.Sig == obj.FT
        obj = obj.get("/Parent")
    return False


def _clean(pdf: pikepdf.Pdf, obj: Dictionary | Stream | Array, removed: set[str], depth: int,
           max_pixels: int) -> None:
    """Clean one object and the direct objects inside it (indirect ones come in their turn)."""
    children: list[object]
    if isinstance(obj, Array):
        children = list(obj)
    else:
        _clean_dictionary(obj, removed)
        if isinstance(obj, Stream):
            _clean_picture(pdf, obj, removed, max_pixels)
        children = [obj.get(key) for key in list(obj.keys())]
    if depth >= MAX_DEPTH:
        return
    for child in children:
        if isinstance(child, Dictionary | Array) and not child.is_indirect:
            _clean(pdf, child, removed, depth + 1, max_pixels)


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
    if _is_annotation(obj):
        named = False
        for key, code in ANNOTATION_KEYS.items():
            if key in obj and (key != "/T" or obj.get("/Subtype") != Name.Widget):
                del obj[key]
                removed.add(code)
                named = True
        if named and obj.get("/Subtype") != Name.Widget and "/AP" in obj:
            # Its look was drawn by the author's reader, often with their name and the date
            # (a stamp "Approved by …", a comment's header): dropped, and readers draw it
            # again from what the annotation still says (its text, colour, shape). A form
            # field's look shows its value, not who filled it in: kept.
            del obj["/AP"]
            if "/AS" in obj:
                del obj["/AS"]
            removed.add("annotation_appearances")
    if obj.get("/Type") == Name.Sig or "/ByteRange" in obj or obj.get("/FT") == Name.Sig:
        for key in (*SIGNATURE_KEYS, "/V", "/SV", "/Lock"):
            if key in obj:
                del obj[key]
                removed.add("signatures")


def _is_annotation(obj: Dictionary | Stream) -> bool:
    return obj.get("/Type") == Name.Annot or ("/Subtype" in obj and "/Rect" in obj)


def _clean_picture(pdf: pikepdf.Pdf, stream: Stream, removed: set[str], max_pixels: int) -> None:
    """A JPEG or JPEG 2000 picture, under any chain of filters, without its metadata."""
    filters = stream.get("/Filter")
    chain = list(filters) if isinstance(filters, Array) else [filters] if filters else []
    if not chain or chain[-1] not in (Name.DCTDecode, Name.JPXDecode):
        return
    if not all(name in WRAPPERS for name in chain[:-1]):
        raise Refused(UNREADABLE_PICTURE)
    given = stream.get("/DecodeParms")
    parms: list[object] = list(given) if isinstance(given, Array) else [given] * len(chain)
    data = _unwrap(pdf, stream, chain, parms)
    if chain[-1] == Name.DCTDecode:
        stripped = strip_jpeg_metadata(data)
        if stripped is None:
            raise Refused(UNREADABLE_PICTURE)
        if stripped != data or len(chain) > 1:
            last = parms[-1] if isinstance(parms[-1], Dictionary) else None
            stream.write(stripped, filter=Name.DCTDecode, decode_parms=last)
        if stripped != data:
            removed |= _found_in(data) | {"exif"}
    else:
        _replace_jpx(pdf, stream, data, removed, max_pixels)


def _unwrap(pdf: pikepdf.Pdf, stream: Stream, chain: list[pikepdf.Object],
            parms: list[object]) -> bytes:
    """The picture's own bytes: the filters around it decoded (qpdf does not decode pictures)."""
    raw = stream.read_raw_bytes()
    if len(chain) == 1:
        return raw
    wrapper = Stream(pdf, raw)
    wrapper.Filter = Array(chain[:-1])
    if any(isinstance(p, Dictionary) for p in parms[:-1]):
        wrapper.DecodeParms = Array([p if isinstance(p, Dictionary) else None
                                     for p in parms[:-1]])
    try:
        return wrapper.read_bytes()
    except pikepdf.PdfError:
        raise Refused(UNREADABLE_PICTURE) from None


def _found_in(data: bytes) -> set[str]:
    """What a JPEG said (GPS, author...), read from its header only."""
    try:
        with Image.open(BytesIO(data), formats=["JPEG"]) as img:
            return found_metadata(img)
    except (OSError, ValueError, SyntaxError):
        return set()


def _replace_jpx(pdf: pikepdf.Pdf, stream: Stream, data: bytes, removed: set[str],
                 max_pixels: int) -> None:
    """JPEG 2000 boxes (XML, UUID: XMP, GeoJP2 positions…) go with the format: plain pixels."""
    try:
        with Image.open(BytesIO(data), formats=["JPEG2000"]) as img:
            width, height = img.size
            if width * height > max_pixels:
                raise Refused(TOO_LARGE, width=width, height=height,
                              max=max_pixels // 1_000_000)
            img.load()
            picture = img if img.mode in ("L", "RGB", "CMYK", "RGBA", "LA") else img.convert(
                "RGB")
    except (OSError, ValueError, SyntaxError):
        raise Refused(UNREADABLE_PICTURE) from None
    alpha = picture.getchannel("A") if picture.mode in ("RGBA", "LA") else None
    if alpha is not None:
        picture = picture.convert("RGB" if picture.mode == "RGBA" else "L")
    space = {"L": Name.DeviceGray, "RGB": Name.DeviceRGB, "CMYK": Name.DeviceCMYK}[picture.mode]
    indexed = isinstance(stream.get("/ColorSpace"), Array) and stream.ColorSpace[0] in (
        Name.Indexed, Name.I)
    stream.write(zlib.compress(picture.tobytes()), filter=Name.FlateDecode)
    for key in ("/SMaskInData", "/DecodeParms") + (() if indexed else ("/Decode",)):
        if key in stream:
            del stream[key]
    if not (indexed and picture.mode == "L"):
        stream.ColorSpace = space
    stream.BitsPerComponent, stream.Width, stream.Height = 8, picture.width, picture.height
    if alpha is not None and "/SMask" not in stream:
        stream.SMask = pdf.make_stream(
            zlib.compress(alpha.tobytes()), Type=Name.XObject, Subtype=Name.Image,
            Width=alpha.width, Height=alpha.height, ColorSpace=Name.DeviceGray,
            BitsPerComponent=8, Filter=Name.FlateDecode)
    removed.add("jpeg2000")


def strip_jpeg_metadata(data: bytes) -> bytes | None:
    """A JPEG without its APPn and comment segments (EXIF, XMP, IPTC...), pixels untouched.

    Every scan is walked (a progressive JPEG may hide a comment between two), and whatever
    follows the end marker is dropped. The Adobe segment stays: decoders need it to read CMYK
    photos' colours right. None when the structure is not one we understand.
    """
    if not data.startswith(b"\xff\xd8"):
        return None
    out, pos, size = bytearray(b"\xff\xd8"), 2, len(data)
    while pos + 1 < size:
        if data[pos] != 0xFF:
            return None
        marker = data[pos + 1]
        if marker == 0xFF:  # fill byte
            pos += 1
            continue
        if marker == 0xD9:  # end of image: nothing after it is kept
            return bytes(out + b"\xff\xd9")
        if 0xD0 <= marker <= 0xD7 or marker == 0x01:  # markers without a length
            out += data[pos:pos + 2]
            pos += 2
            continue
        length = int.from_bytes(data[pos + 2:pos + 4], "big")
        if length < 2 or pos + 2 + length > size:
            return None
        segment = data[pos:pos + 2 + length]
        if not (0xE0 <= marker <= 0xEF or marker == 0xFE) or (
                marker == 0xEE and segment[4:9] == b"Adobe"):
            out += segment
        pos += 2 + length
        if marker == 0xDA:  # start of scan: the compressed pixels, up to the next marker
            end = _scan_end(data, pos)
            out += data[pos:end]
            pos = end
    return bytes(out + b"\xff\xd9")  # a truncated photo: ended as decoders would


def _scan_end(data: bytes, pos: int) -> int:
    """Where the compressed data of a scan ends: the first marker other than a restart."""
    while (found := data.find(b"\xff", pos)) != -1 and found + 1 < len(data):
        following = data[found + 1]
        if following == 0x00 or 0xD0 <= following <= 0xD7 or following == 0xFF:
            pos = found + 1
            continue
        return found
    return len(data)


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
