"""Office documents (OOXML: DOCX/XLSX/PPTX; OpenDocument: ODT/ODS/ODP), rewritten without metadata.

The zip package is checked from its directory alone (declared sizes and ratios, no extraction)
against zip bombs, refused if it holds macros, then copied entry by entry into a new package:
document properties emptied (author, last modified by, company, dates, template path...),
comment and tracked-change authors replaced by a neutral name, revision ids and thumbnails
dropped, signatures (which name their signer) dropped, entry dates set to 1980. Embedded office
documents (a chart's spreadsheet) are cleaned the same way.
"""
from __future__ import annotations

import posixpath
import shutil
import zipfile
from io import BytesIO
from pathlib import Path
from typing import IO

from lxml import etree

from forum.uploads.kinds import ARCHIVE, DAMAGED, MACROS, N_, NOT_ACCEPTED, Refused

MAX_ENTRIES = 5_000
MAX_TOTAL_BYTES = 512 * 1024 * 1024  # declared, uncompressed, all entries
MAX_RATIO = 100  # declared size / compressed size, for entries over RATIO_FROM bytes
RATIO_FROM = 1024 * 1024
MAX_XML_BYTES = 32 * 1024 * 1024  # a part read into memory to be cleaned
MAX_DEPTH = 2  # a document in a document in a document, at most
CHUNK = 1024 * 1024
NEUTRAL_NAME = "Auteur"
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
CONTENT_TYPES = "[Content_Types].xml"
W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
DC = "{http://purl.org/dc/elements/1.1/}"
CONFIG_NAME = "{urn:oasis:names:tc:opendocument:xmlns:config:1.0}name"
MANIFEST_PATH = "{urn:oasis:names:tc:opendocument:xmlns:manifest:1.0}full-path"
PARSER = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False,
                         huge_tree=False)

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
# Attributes naming a person anywhere in an OOXML part (comments, tracked changes, people).
PERSON_ATTRIBUTES = {"author": NEUTRAL_NAME, "userName": NEUTRAL_NAME, "initials": "A",
                     "userId": "", "providerId": ""}


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


def clean_office(src: Path, dst: Path) -> tuple[str, set[str]]:
    """Write the cleaned package to dst; returns its kind and the codes of what was removed."""
    removed: set[str] = set()
    with open_package(src) as package:
        check_sizes(package)
        kind = identify(package)
        with zipfile.ZipFile(dst, "w", zipfile.ZIP_DEFLATED) as out:
            _rewrite(package, out, kind, removed, 0)
    return kind, removed


def _rewrite(package: zipfile.ZipFile, out: zipfile.ZipFile, kind: str, removed: set[str],
             depth: int) -> None:
    odf = kind in ODF_KINDS.values()
    dropped = {name for name in package.namelist() if _dropped(name, odf)}
    removed |= {"thumbnail" for name in dropped if "humbnail" in name}
    removed |= {"signatures" for name in dropped if "ignature" in name}
    removed |= {"revisions" for name in dropped if "ersion" in name}
    for entry in package.infolist():
        if entry.filename in dropped or entry.is_dir():
            continue
        target = zipfile.ZipInfo(entry.filename, date_time=ZIP_EPOCH)  # no dates, no extras
        target.compress_type = zipfile.ZIP_STORED if entry.filename == "mimetype" else (
            zipfile.ZIP_DEFLATED)
        clean = _cleaner(entry.filename, odf)
        if clean is not None:
            data = _read(package, entry, MAX_XML_BYTES)
            out.writestr(target, clean(data, removed, dropped))
        elif _is_package(entry.filename):
            out.writestr(target, _clean_embedded(_read(package, entry, MAX_XML_BYTES), removed,
                                                 depth + 1))
        elif entry.filename.endswith((".xml", ".rels")) and entry.file_size > MAX_XML_BYTES and (
                not entry.filename.startswith(("xl/worksheets/", "ppt/slides/"))):
            raise Refused(DAMAGED)  # a part too large to check, where people's names may be
        else:
            with package.open(entry) as source, out.open(target, "w") as sink:
                shutil.copyfileobj(source, sink, CHUNK)


def _dropped(name: str, odf: bool) -> bool:
    """Entries that only carry metadata: thumbnails, signatures, old versions."""
    if odf:
        return (name.startswith(("Thumbnails/", "Versions/")) or name == "VersionList.xml"
                or name in ("META-INF/documentsignatures.xml", "META-INF/macrosignatures.xml"))
    return name.startswith(("docProps/thumbnail", "_xmlsignatures/"))


def _cleaner(name: str, odf: bool):
    base = posixpath.basename(name)
    if odf:
        return {"meta.xml": _odf_meta, "manifest.xml": _odf_manifest, "content.xml": _odf_body,
                "styles.xml": _odf_body, "settings.xml": _odf_settings}.get(base)
    if name in ("docProps/core.xml", "docProps/app.xml", "docProps/custom.xml"):
        return _ooxml_properties
    if name == CONTENT_TYPES or name.endswith(".rels"):
        return _ooxml_relations
    if name.endswith(".xml") and name.startswith(("word/", "xl/", "ppt/")) and not (
            name.startswith(("xl/worksheets/", "ppt/slides/", "word/media/"))):
        return _ooxml_part
    return None


def _is_package(name: str) -> bool:
    return name.lower().endswith((".docx", ".xlsx", ".pptx", ".odt", ".ods", ".odp", ".docm",
                                  ".xlsm", ".pptm"))


def _clean_embedded(data: bytes, removed: set[str], depth: int) -> bytes:
    """An office document inside another one, cleaned by the same rules."""
    if depth > MAX_DEPTH:
        raise Refused(DAMAGED)
    result = BytesIO()
    with open_package(BytesIO(data)) as package:
        check_sizes(package)
        kind = identify(package)
        with zipfile.ZipFile(result, "w", zipfile.ZIP_DEFLATED) as out:
            _rewrite(package, out, kind, removed, depth)
    return result.getvalue()


# Cleaners: (part's bytes, codes removed so far, names dropped) -> the new bytes. ---------------

def _ooxml_properties(data: bytes, removed: set[str], dropped: set[str]) -> bytes:
    root = _parse(data)
    removed |= _codes(root)
    if _local(root.tag) == "coreProperties":
        return CORE_XML
    return CUSTOM_XML if "custom-properties" in root.tag else APP_XML


def _ooxml_relations(data: bytes, removed: set[str], dropped: set[str]) -> bytes:
    """Relationships and content types that point to dropped parts or to the author's disk."""
    root = _parse(data)
    for element in list(root):
        target = (element.get("Target") or element.get("PartName") or "").lstrip("/")
        kind = element.get("Type", "")
        if any(target.endswith(name) for name in dropped if target) or kind.endswith(
                ("/attachedTemplate", "/digital-signature/origin", "/metadata/thumbnail")):
            root.remove(element)
            if kind.endswith("/attachedTemplate"):
                removed.add("paths")  # e.g. file:///C:/Users/<name>/.../Normal.dotm
    return _serialize(root)


def _ooxml_part(data: bytes, removed: set[str], dropped: set[str]) -> bytes:
    root = _parse(data)
    authors: set[str] = set()
    doomed = []
    for element in root.iter():
        if not isinstance(element.tag, str):
            continue
        local = _local(element.tag)
        for name in list(element.attrib):
            attribute = _local(name)
            if attribute in PERSON_ATTRIBUTES and element.attrib[name] not in (
                    NEUTRAL_NAME, "A", ""):
                element.attrib[name] = PERSON_ATTRIBUTES[attribute]
                removed.add("author")
            elif name == W + "date" or attribute in ("dT", "dt"):
                del element.attrib[name]
                removed.add("dates")
            elif name.startswith(W + "rsid"):
                del element.attrib[name]
                removed.add("revisions")
        if local in ("rsids", "absPath", "attachedTemplate"):
            doomed.append(element)
            removed.add("revisions" if local == "rsids" else "paths")
        elif local == "author" and element.text and element.text != NEUTRAL_NAME:
            authors.add(element.text.strip())  # legacy spreadsheet comments
            element.text = NEUTRAL_NAME
            removed.add("author")
        elif local == "person" or (local in ("cmAuthor", "author") and element.get("name")):
            for name in ("displayName", "name"):
                if element.get(name):
                    element.set(name, NEUTRAL_NAME)
                    removed.add("author")
    for element in doomed:
        element.getparent().remove(element)
    if authors:  # Excel starts each comment's text with "Name:" in bold
        for element in root.iter("{*}t"):
            if element.text and element.text.strip().rstrip(":") in authors:
                element.text = ""
    return _serialize(root)


def _odf_meta(data: bytes, removed: set[str], dropped: set[str]) -> bytes:
    root = _parse(data)
    removed |= _codes(root)
    version = next((value for name, value in root.attrib.items() if _local(name) == "version"),
                   "1.2")
    return META_XML % version.encode("ascii", "replace")


def _odf_manifest(data: bytes, removed: set[str], dropped: set[str]) -> bytes:
    root = _parse(data)
    for element in list(root):
        if element.get(MANIFEST_PATH) in dropped or any(
                (element.get(MANIFEST_PATH) or "").startswith(name) for name in
                ("Thumbnails/", "Versions/")):
            root.remove(element)
    return _serialize(root)


def _odf_body(data: bytes, removed: set[str], dropped: set[str]) -> bytes:
    """Annotations' and tracked changes' authors and dates."""
    root = _parse(data)
    for element in root.iter(DC + "creator", DC + "date", "{*}creator-initials",
                             "{*}sender-initials"):
        if element.tag == DC + "date":
            element.text = "1980-01-01T00:00:00"
            removed.add("dates")
        elif element.text:
            element.text = NEUTRAL_NAME if element.tag == DC + "creator" else "A"
            removed.add("author")
    return _serialize(root)


def _odf_settings(data: bytes, removed: set[str], dropped: set[str]) -> bytes:
    root = _parse(data)
    for element in list(root.iter("{*}config-item")):
        if element.get(CONFIG_NAME) in ("PrinterName", "PrinterSetup") and element.text:
            element.getparent().remove(element)
            removed.add("printer")
    return _serialize(root)


# XML helpers. --------------------------------------------------------------------------------

def _read(package: zipfile.ZipFile, entry: zipfile.ZipInfo, limit: int) -> bytes:
    if entry.file_size > limit:
        raise Refused(DAMAGED)
    with package.open(entry) as source:
        return source.read(limit + 1)[:limit]


def _parse(data: bytes) -> etree._Element:
    """Parse a part without entities, DTDs or network (no XXE, no “billion laughs”)."""
    if b"<!DOCTYPE" in data[:4096] or b"<!ENTITY" in data[:4096]:
        raise Refused(DAMAGED)
    try:
        return etree.fromstring(data, PARSER)
    except etree.XMLSyntaxError:
        raise Refused(DAMAGED) from None


def _serialize(root: etree._Element) -> bytes:
    standalone = root.getroottree().docinfo.standalone
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8",
                          standalone=standalone)


def _local(tag: str) -> str:
    return tag.rpartition("}")[2]


def _codes(root: etree._Element) -> set[str]:
    """What a properties part said, from the names of its filled-in elements."""
    return {PROPERTY_CODES[_local(el.tag)] for el in root.iter()
            if isinstance(el.tag, str) and _local(el.tag) in PROPERTY_CODES
            and ((el.text or "").strip() or el.attrib)}  # a template is an xlink:href
