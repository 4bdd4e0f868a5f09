"""Office documents (OOXML: DOCX/XLSX/PPTX; OpenDocument: ODT/ODS/ODP), rewritten without metadata.

The zip package is checked from its directory alone (declared sizes and ratios, no extraction)
against zip bombs, refused if it holds macros, then copied entry by entry into a new package:
document properties emptied (author, last modified by, company, dates, template path...),
comment and tracked-change authors replaced by a neutral name, revision ids and thumbnails
dropped, signatures (which name their signer) dropped, entry dates set to 1980. Pictures inside
go through the image cleaner (GPS, author, XMP...), SVG drawings through drawings.py, Windows
metafiles (EMF, WMF) through metafiles.py, legacy VML drawings as XML parts; embedded
objects (OLE and others), custom XML, printer settings and data connections are dropped
(ooxml.py says which and why); links to files outside the document are blanked.
"""
from __future__ import annotations

import posixpath
import shutil
import zipfile
from collections.abc import Callable
from io import BytesIO
from pathlib import Path
from typing import IO

from lxml import etree

from forum.uploads import drawings, images, metafiles, ooxml
from forum.uploads.kinds import ARCHIVE, DAMAGED, MACROS, N_, NOT_ACCEPTED, Refused
from forum.uploads.ooxml import CONTENT_TYPES, NEUTRAL_NAME, NEUTRAL_TARGET, OLE2, SAFE_LINKS
from forum.uploads.xmlsafe import local as _local
from forum.uploads.xmlsafe import parse as _parse
from forum.uploads.xmlsafe import qualified as _qualified
from forum.uploads.xmlsafe import read_entry as _read
from forum.uploads.xmlsafe import serialize as _serialize

MAX_ENTRIES = 5_000
MAX_TOTAL_BYTES = 512 * 1024 * 1024  # declared, uncompressed, all entries
MAX_RATIO = 100  # declared size / compressed size, for entries over RATIO_FROM bytes
RATIO_FROM = 1024 * 1024
MAX_XML_BYTES = 32 * 1024 * 1024  # a part read into memory to be cleaned
MAX_DEPTH = 2  # a document in a document in a document, at most
MAX_PICTURE_BYTES = 64 * 1024 * 1024  # a picture inside, read into memory to be re-encoded
CHUNK = 1024 * 1024
HEAD_BYTES = metafiles.HEAD_BYTES
ZIP_EPOCH = (1980, 1, 1, 0, 0, 0)

BOMB = N_("This document declares far more data than it holds (a “zip bomb”): it is refused.")
ENCRYPTED = N_("This document is protected by a password: send it without the password.")

ODF_KINDS = {"application/vnd.oasis.opendocument.text": "odt",
             "application/vnd.oasis.opendocument.spreadsheet": "ods",
             "application/vnd.oasis.opendocument.presentation": "odp"}
OOXML_MAIN = "application/vnd.openxmlformats-officedocument."
OOXML_KINDS = {"/word/document.xml": (OOXML_MAIN + "wordprocessingml.document.main+xml", "docx"),
               "/xl/workbook.xml": (OOXML_MAIN + "spreadsheetml.sheet.main+xml", "xlsx"),
               "/ppt/presentation.xml": (OOXML_MAIN + "presentationml.presentation.main+xml",
                                         "pptx")}
DC = "{http://purl.org/dc/elements/1.1/}"
CONFIG_NAME = "{urn:oasis:names:tc:opendocument:xmlns:config:1.0}name"
MANIFEST_PATH = "{urn:oasis:names:tc:opendocument:xmlns:manifest:1.0}full-path"
XLINK_HREF = "{http://www.w3.org/1999/xlink}href"
DDE_TOPIC = "{urn:oasis:names:tc:opendocument:xmlns:office:1.0}dde-topic"

CORE_XML = (b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<cp:coreProperties'
            b' xmlns:cp="http://schemas.openxmlformats.org/package/2006/metadata/'
            b'core-properties" xmlns:dc="http://purl.org/dc/elements/1.1/"'
            b' xmlns:dcterms="http://purl.org/dc/terms/"/>')
APP_XML = (b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<Properties'
           b' xmlns="http://schemas.openxmlformats.org/officeDocument/2006/extended-properties"/>')
CUSTOM_XML = (b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<Properties'
              b' xmlns="http://schemas.openxmlformats.org/officeDocument/2006/custom-properties"/>')
META_XML = (b'<?xml version="1.0" encoding="UTF-8"?>\n<office:document-meta'
            b' xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0"'
            b' office:version="%s"><office:meta/></office:document-meta>')
SETTINGS_XML = (b'<?xml version="1.0" encoding="UTF-8"?>\n<office:document-settings'
                b' xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0"'
                b' office:version="%s"><office:settings/></office:document-settings>')
# Fields of an OpenDocument text that show who wrote it or when: emptied.
ODF_FIELDS = ("author-name", "author-initials", "initial-creator", "creator", "printed-by",
              "creation-date", "creation-time", "modification-date", "modification-time",
              "print-date", "print-time", "sender-firstname", "sender-lastname",
              "sender-initials", "sender-email", "sender-phone-private", "sender-phone-work",
              "sender-street", "sender-city", "sender-postal-code", "sender-company")
# Metadata elements (by local name) and what they tell, for the uploader's summary.
PROPERTY_CODES = {
    "creator": "author", "lastModifiedBy": "author", "initial-creator": "author",
    "printed-by": "author", "Manager": "author", "Company": "company",
    "created": "dates", "modified": "dates", "lastPrinted": "dates", "creation-date": "dates",
    "date": "dates", "print-date": "dates", "Application": "software", "AppVersion": "software",
    "generator": "software", "revision": "revisions", "TotalTime": "revisions",
    "editing-cycles": "revisions", "editing-duration": "revisions", "Template": "paths",
    "template": "paths", "user-defined": "properties", "property": "properties",
    "title": "properties", "subject": "properties", "keywords": "properties",
    "description": "properties", "category": "properties", "contentStatus": "properties",
}
def identify(package: zipfile.ZipFile) -> str:
    """The kind of an office package, from its declared content; Refused for anything else."""
    names = package.namelist()
    if len(set(names)) != len(names):
        raise Refused(DAMAGED)  # two entries of one name: readers would disagree on which
    if any(name.lower().endswith("vbaproject.bin") or name.startswith(("Basic/", "Scripts/"))
           for name in names):
        raise Refused(MACROS)
    if "mimetype" in names:
        declared = _read(package, package.getinfo("mimetype"), 200).decode("ascii", "replace")
        if declared.strip() in ODF_KINDS:
            return ODF_KINDS[declared.strip()]
        raise Refused(NOT_ACCEPTED)
    if CONTENT_TYPES not in names:
        raise Refused(ARCHIVE)
    types = _parse(_read(package, package.getinfo(CONTENT_TYPES), 1024 * 1024))
    overrides = {el.get("PartName"): el.get("ContentType", "") for el in types
                 if isinstance(el.tag, str) and el.tag.endswith("Override")}
    if any("macroEnabled" in value or "vbaProject" in value for value in overrides.values()):
        raise Refused(MACROS)
    for part, (content_type, kind) in OOXML_KINDS.items():
        if overrides.get(part) == content_type:
            return kind
    raise Refused(NOT_ACCEPTED)


def check_sizes(package: zipfile.ZipFile) -> None:
    """Refuse zip bombs and oddities from the directory alone, before reading any entry."""
    entries = package.infolist()
    if len(entries) > MAX_ENTRIES or sum(e.file_size for e in entries) > MAX_TOTAL_BYTES:
        raise Refused(BOMB)
    for entry in entries:
        if entry.file_size > RATIO_FROM and entry.file_size > MAX_RATIO * max(
                entry.compress_size, 1):
            raise Refused(BOMB)
        if entry.flag_bits & 0x1:
            raise Refused(ENCRYPTED)
        if entry.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
            raise Refused(DAMAGED)


def open_package(src: Path | IO[bytes]) -> zipfile.ZipFile:
    try:
        return zipfile.ZipFile(src)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, EOFError):
        raise Refused(DAMAGED) from None


def clean_office(src: Path, dst: Path, max_pixels: int) -> tuple[str, set[str]]:
    """Write the cleaned package to dst; returns its kind and the codes of what was removed."""
    removed: set[str] = set()
    with open_package(src) as package:
        check_sizes(package)
        kind = identify(package)
        with zipfile.ZipFile(dst, "w", zipfile.ZIP_DEFLATED) as out:
            _rewrite(package, out, kind, removed, 0, max_pixels)
    return kind, removed


Cleaner = Callable[[bytes, set[str]], bytes]


def _rewrite(package: zipfile.ZipFile, out: zipfile.ZipFile, kind: str, removed: set[str],
             depth: int, max_pixels: int) -> None:
    odf = kind in ODF_KINDS.values()
    heads = {entry.filename: _head(package, entry) for entry in package.infolist()
             if not entry.is_dir()}
    plan = _odf_plan(heads) if odf else ooxml.plan(package, heads)
    removed |= set(plan.dropped.values())
    names = set(heads)
    for entry in package.infolist():
        if entry.filename in plan.dropped or _in_dropped_folder(entry.filename, plan):
            continue
        target = zipfile.ZipInfo(entry.filename, date_time=ZIP_EPOCH)  # no dates, no extras
        if entry.is_dir():  # kept: an OpenDocument manifest lists its folders
            out.writestr(target, b"")
            continue
        target.compress_type = zipfile.ZIP_STORED if entry.filename == "mimetype" else (
            zipfile.ZIP_DEFLATED)
        clean = _cleaner(entry, odf, plan, names)
        picture = images.embedded_kind(heads[entry.filename])
        if clean is not None:
            out.writestr(target, clean(_read(package, entry, MAX_XML_BYTES), removed))
        elif metafiles.is_metafile(entry.filename, heads[entry.filename]):
            out.writestr(target, metafiles.clean_metafile(
                entry.filename, _read(package, entry, MAX_PICTURE_BYTES), removed,
                MAX_PICTURE_BYTES))
        elif picture is not None:
            data, found = images.clean_image_data(_read(package, entry, MAX_PICTURE_BYTES),
                                                  picture, max_pixels)
            removed |= found
            out.writestr(target, data)
        elif drawings.is_drawing(entry.filename, heads[entry.filename]):
            out.writestr(target, drawings.clean_drawing(
                _read(package, entry, MAX_XML_BYTES), removed, max_pixels))
        elif _is_package(entry.filename):
            out.writestr(target, _clean_embedded(_read(package, entry, MAX_XML_BYTES), removed,
                                                 depth + 1, max_pixels))
        elif entry.filename.endswith((".xml", ".rels")) and entry.file_size > MAX_XML_BYTES and (
                not entry.filename.startswith(("xl/worksheets/", "ppt/slides/"))):
            raise Refused(DAMAGED)  # a part too large to check, where people's names may be
        else:
            with package.open(entry) as source, out.open(target, "w") as sink:
                shutil.copyfileobj(source, sink, CHUNK)


def _in_dropped_folder(name: str, plan: ooxml.Plan) -> bool:
    return name.endswith("/") and any(dropped.startswith(name) for dropped in plan.dropped)


def _head(package: zipfile.ZipFile, entry: zipfile.ZipInfo) -> bytes:
    with package.open(entry) as source:
        return source.read(HEAD_BYTES)


def _odf_plan(heads: dict[str, bytes]) -> ooxml.Plan:
    """Entries of an OpenDocument package that only carry metadata, or cannot be cleaned."""
    plan = ooxml.Plan()
    for name, head in heads.items():
        if name.startswith(("Thumbnails/", "Versions/")) or name == "VersionList.xml":
            plan.dropped[name] = "thumbnail" if name.startswith("Thumb") else "revisions"
        elif name in ("META-INF/documentsignatures.xml", "META-INF/macrosignatures.xml"):
            plan.dropped[name] = "signatures"
        elif head.startswith(OLE2):  # an embedded OLE object (a Word or Excel document)
            plan.dropped[name] = "embedded_objects"
        elif metafiles.is_old_metafile(head) or (
                name.startswith("ObjectReplacements/") and not _is_picture(name, head)):
            # What an object looks like, in a format nobody here reads: its application draws
            # it again from the object itself.
            plan.dropped[name] = "unreadable_pictures"
    return plan


def _cleaner(entry: zipfile.ZipInfo, odf: bool, plan: ooxml.Plan,
             names: set[str]) -> Cleaner | None:
    name, base = entry.filename, posixpath.basename(entry.filename)
    if odf:
        if base in ("content.xml", "styles.xml"):
            return lambda data, removed: _odf_body(data, removed, name, names)
        return {"meta.xml": _odf_meta, "settings.xml": _odf_settings,
                "manifest.xml": lambda data, removed: _odf_manifest(data, plan)}.get(base)
    if name in ("docProps/core.xml", "docProps/app.xml", "docProps/custom.xml"):
        return _ooxml_properties
    if name == CONTENT_TYPES:
        return lambda data, removed: ooxml.content_types(data, plan)
    if name.endswith(".rels"):
        return lambda data, removed: ooxml.relationships(data, name, plan, removed)
    if name.lower().endswith(".vml"):
        return lambda data, removed: ooxml.vml(data, name, plan, removed)
    # Sheets may be huge and name nobody: copied as they are, unless they point to a dropped
    # part (printer settings, an OLE object). A slide is read when it is of a readable size.
    large = name.startswith("xl/worksheets/") or (
        name.startswith("ppt/slides/") and entry.file_size > MAX_XML_BYTES)
    if (name.endswith(".xml") and name.startswith(("word/", "xl/", "ppt/")) and not large) or (
            ooxml.has_references(name, plan)):
        return lambda data, removed: ooxml.part(data, name, plan, removed)
    return None


def _is_picture(name: str, head: bytes) -> bool:
    """Whether an entry is a picture the cleaners read, by its content (a name may lie)."""
    return (images.embedded_kind(head) is not None or metafiles.metafile_kind(head) is not None
            or drawings.is_drawing(name, head))


def _is_package(name: str) -> bool:
    return name.lower().endswith((".docx", ".xlsx", ".pptx", ".odt", ".ods", ".odp", ".docm",
                                  ".xlsm", ".pptm"))


def _clean_embedded(data: bytes, removed: set[str], depth: int, max_pixels: int) -> bytes:
    """An office document inside another one, cleaned by the same rules."""
    if depth > MAX_DEPTH:
        raise Refused(DAMAGED)
    result = BytesIO()
    with open_package(BytesIO(data)) as package:
        check_sizes(package)
        kind = identify(package)
        with zipfile.ZipFile(result, "w", zipfile.ZIP_DEFLATED) as out:
            _rewrite(package, out, kind, removed, depth, max_pixels)
    return result.getvalue()


# Cleaners: (part's bytes, codes removed so far) -> the new bytes. ---------------------------

def _ooxml_properties(data: bytes, removed: set[str]) -> bytes:
    root = _parse(data)
    removed |= _codes(root)
    if _local(root.tag) == "coreProperties":
        return CORE_XML
    return CUSTOM_XML if "custom-properties" in _qualified(root.tag) else APP_XML


def _odf_meta(data: bytes, removed: set[str]) -> bytes:
    root = _parse(data)
    removed |= _codes(root)
    return META_XML % _odf_version(root)


def _odf_version(root: etree._Element) -> bytes:
    version = next((value for name, value in root.attrib.items() if _local(name) == "version"),
                   "1.2")
    return version.encode("ascii", "replace")


def _odf_manifest(data: bytes, plan: ooxml.Plan) -> bytes:
    root = _parse(data)
    for element in list(root):
        path = element.get(MANIFEST_PATH) or ""
        if path in plan.dropped or path.startswith(("Thumbnails/", "Versions/")):
            root.remove(element)
    return _serialize(root)


def _odf_body(data: bytes, removed: set[str], name: str, names: set[str]) -> bytes:
    """Annotations' and tracked changes' authors and dates, author fields, links to files."""
    root = _parse(data)
    for element in root.iter(DC + "creator", DC + "date", "{*}creator-initials",
                             "{*}sender-initials"):
        if element.tag == DC + "date":
            element.text = "1980-01-01T00:00:00"
            removed.add("dates")
        elif element.text:
            element.text = NEUTRAL_NAME if element.tag == DC + "creator" else "A"
            removed.add("author")
    for element in root.iter(*(f"{{*}}{field}" for field in ODF_FIELDS)):
        if not _qualified(element.tag).startswith("{urn:oasis:names:tc:opendocument:xmlns:text:"):
            continue
        values = [key for key in element.attrib if _local(key) in ("date-value", "time-value")]
        if element.text or len(element) or values:
            element.text = ""
            for child in list(element):
                element.remove(child)
            for key in values:
                del element.attrib[key]
            tag = _qualified(element.tag)
            removed.add("dates" if "date" in tag or "time" in tag else "author")
    folder = posixpath.dirname(name)
    for element in root.iter():
        if not isinstance(element.tag, str):
            continue
        if element.get(DDE_TOPIC):  # a linked document's path: /home/<name>/budget.ods
            element.set(DDE_TOPIC, "")
            removed.add("external_links")
        href = element.get(XLINK_HREF)
        if href and not _inside(href, folder, names) and not (
                href.startswith("#") or href.lower().startswith(SAFE_LINKS)):
            element.set(XLINK_HREF, NEUTRAL_TARGET)  # file:///home/<name>/…, ../../Users/…
            removed.add("external_links")
    return _serialize(root)


def _inside(href: str, folder: str, names: set[str]) -> bool:
    """Whether a link points into the package itself (a picture, an embedded object)."""
    if ":" in href.split("/")[0]:
        return False
    path = posixpath.normpath(posixpath.join(folder, href))
    return path in names or any(name.startswith(path + "/") for name in names)


def _odf_settings(data: bytes, removed: set[str]) -> bytes:
    """Settings: printer, data sources, window positions... replaced by empty ones."""
    root = _parse(data)
    items = [el for el in root.iter("{*}config-item") if (el.text or "").strip()]
    if any(el.get(CONFIG_NAME) in ("PrinterName", "PrinterSetup") for el in items):
        removed.add("printer")
    if items:
        removed.add("settings")
    return SETTINGS_XML % _odf_version(root)


# Helpers. -----------------------------------------------------------------------------------

def _codes(root: etree._Element) -> set[str]:
    """What a properties part said, from the names of its filled-in elements."""
    return {PROPERTY_CODES[_local(el.tag)] for el in root.iter()
            if isinstance(el.tag, str) and _local(el.tag) in PROPERTY_CODES
            and ((el.text or "").strip() or el.attrib)}  # a template is an xlink:href
