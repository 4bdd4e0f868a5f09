"""The kinds of file Vigie accepts, told from their first bytes, never from a name or a claim."""
from __future__ import annotations

from dataclasses import dataclass


def N_(message: str) -> str:
    """Mark a msgid for extraction (as forum.i18n.N_; the cleaning worker does not load i18n)."""
    return message


class Refused(Exception):
    """A file Vigie does not take: `message` is a msgid, translated where it is shown."""

    def __init__(self, message: str, **params: object) -> None:
        super().__init__(message)
        self.message = message
        self.params = params


@dataclass(frozen=True)
class Kind:
    name: str  # as written in Config.upload_kinds
    label: str  # shown to members
    content_type: str  # the one it is served with
    extensions: tuple[str, ...]  # the first is added to a name that has none of them
    family: str  # image | pdf | office | text: decides how it is cleaned
    pil_format: str = ""  # Pillow's name, for images

    @property
    def inline(self) -> bool:
        """Shown in the browser rather than downloaded (still under a sandbox CSP)."""
        return self.family in ("image", "pdf")


OOXML = "application/vnd.openxmlformats-officedocument."
ODF = "application/vnd.oasis.opendocument."
KINDS = {kind.name: kind for kind in (
    Kind("pdf", "PDF", "application/pdf", ("pdf",), "pdf"),
    Kind("jpeg", "JPEG", "image/jpeg", ("jpg", "jpeg", "jpe", "jfif"), "image", "JPEG"),
    Kind("png", "PNG", "image/png", ("png",), "image", "PNG"),
    Kind("webp", "WebP", "image/webp", ("webp",), "image", "WEBP"),
    Kind("gif", "GIF", "image/gif", ("gif",), "image", "GIF"),
    Kind("odt", "ODT", ODF + "text", ("odt",), "office"),
    Kind("ods", "ODS", ODF + "spreadsheet", ("ods",), "office"),
    Kind("odp", "ODP", ODF + "presentation", ("odp",), "office"),
    Kind("docx", "DOCX", OOXML + "wordprocessingml.document", ("docx",), "office"),
    Kind("xlsx", "XLSX", OOXML + "spreadsheetml.sheet", ("xlsx",), "office"),
    Kind("pptx", "PPTX", OOXML + "presentationml.presentation", ("pptx",), "office"),
    Kind("csv", "CSV", "text/csv; charset=utf-8", ("csv",), "text"),
    Kind("text", N_("text"), "text/plain; charset=utf-8", ("txt", "text", "md", "log"), "text"),
)}

# Messages of the refusals, one per family of dangerous file.
NOT_ACCEPTED = N_("This kind of file is not accepted. Accepted: PDF, images (JPEG, PNG, WebP, "
                  "GIF), office documents (ODT, ODS, ODP, DOCX, XLSX, PPTX), CSV and plain text.")
MARKUP = N_("SVG, HTML and XML files are not accepted: they can carry scripts.")
PROGRAM = N_("Programs and scripts are not accepted.")
ARCHIVE = N_("Archives (zip, rar, 7z, tar…) are not accepted: send the files themselves.")
MACROS = N_("Office files with macros are not accepted: save the file as DOCX, XLSX, PPTX or "
            "OpenDocument without macros.")
LEGACY_OFFICE = N_("Old Office files (.doc, .xls, .ppt) and password-protected documents are "
                   "not accepted: save the file as DOCX, XLSX, PPTX or OpenDocument, without a "
                   "password.")
DAMAGED = N_("This file could not be read: it is damaged, incomplete or too complex.")

# Names that say what the content must never be, whatever it is.
REFUSED_EXTENSIONS = {
    **dict.fromkeys(("svg", "svgz", "html", "htm", "xhtml", "shtml", "xml", "xsl", "mht",
                     "mhtml", "hta"), MARKUP),
    **dict.fromkeys(("exe", "dll", "com", "scr", "msi", "bat", "cmd", "ps1", "vbs", "vbe", "js",
                     "mjs", "jse", "wsf", "sh", "bash", "py", "pl", "rb", "php", "jar", "apk",
                     "app", "dmg", "deb", "rpm", "elf", "bin", "lnk", "reg"), PROGRAM),
    **dict.fromkeys(("zip", "rar", "7z", "gz", "tgz", "bz2", "xz", "zst", "tar", "cab", "iso"),
                    ARCHIVE),
    **dict.fromkeys(("docm", "dotm", "xlsm", "xltm", "xlam", "pptm", "potm", "ppsm", "ppam"),
                    MACROS),
    **dict.fromkeys(("doc", "dot", "xls", "xlt", "ppt", "pps"), LEGACY_OFFICE),
}

_EXECUTABLES = (b"MZ", b"\x7fELF", b"\xfe\xed\xfa\xce", b"\xfe\xed\xfa\xcf", b"\xce\xfa\xed\xfe",
                b"\xcf\xfa\xed\xfe", b"\xca\xfe\xba\xbe", b"#!", b"\x00asm", b"dex\n")
_ARCHIVES = (b"Rar!\x1a\x07", b"7z\xbc\xaf\x27\x1c", b"\x1f\x8b", b"BZh", b"\xfd7zXZ\x00",
             b"\x28\xb5\x2f\xfd", b"PK\x05\x06", b"PK\x07\x08", b"MSCF", b"\x04\x22\x4d\x18")
OLE2 = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # legacy Office, and every encrypted OOXML file
SNIFF_BYTES = 4096


def enabled(setting: str) -> frozenset[str]:
    """Config.upload_kinds ("pdf jpeg png…", commas allowed) as a set of known kind names."""
    names = {name.strip().lower() for name in setting.replace(",", " ").split()}
    return frozenset(names & KINDS.keys())


def sniff(head: bytes) -> str:
    """What the first bytes say: a kind name, "zip" (office decides) or "text" (checked after).

    Raises Refused for what is never accepted (programs, archives, old Office files).
    """
    if head.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if head[:6] in (b"GIF87a", b"GIF89a"):
        return "gif"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "webp"
    if head.startswith(b"%PDF-"):
        return "pdf"
    if head.startswith(b"PK\x03\x04"):
        return "zip"
    if head.startswith(OLE2):
        raise Refused(LEGACY_OFFICE)
    if head.startswith(_EXECUTABLES):
        raise Refused(PROGRAM)
    if head.startswith(_ARCHIVES) or head[257:262] == b"ustar":
        raise Refused(ARCHIVE)
    return "text"


def extension(filename: str) -> str:
    """The lower-case extension of a name, "" when it has none."""
    stem, dot, ext = filename.rpartition(".")
    return ext.lower() if dot and stem else ""


def check_name(filename: str, kind: Kind) -> None:
    """Refuse a name whose extension says something else than the content."""
    ext = extension(filename)
    if ext in REFUSED_EXTENSIONS:
        raise Refused(REFUSED_EXTENSIONS[ext])
    other = next((k for k in KINDS.values() if ext in k.extensions), None)
    if other is None or other.family == kind.family == "text":
        return  # no extension, one we do not know (added to), or .csv for text
    if other.name != kind.name:
        raise Refused(N_("The name of this file ends in .%(ext)s, but its content is %(kind)s. "
                         "Rename it or send the right file."), ext=ext, kind=kind.label)


def check_claim(claimed: str, kind: Kind) -> None:
    """Refuse a browser's claim of another accepted kind (unknown claims are ignored)."""
    claimed = claimed.split(";")[0].strip().lower()
    other = next((k for k in KINDS.values() if k.content_type.split(";")[0] == claimed), None)
    if other is not None and other.family != kind.family:
        raise Refused(N_("This file was sent as %(claimed)s, but its content is %(kind)s."),
                      claimed=other.label, kind=kind.label)


def text_kind(filename: str) -> Kind:
    """Text content: CSV when its name says so, else plain text (the name only picks the view)."""
    return KINDS["csv"] if extension(filename) == "csv" else KINDS["text"]
