"""OOXML parts (DOCX, XLSX, PPTX): what is dropped, and the names, dates and links in the rest.

A package is read in two passes. plan() looks at names, first bytes and relationships only:
which parts go (OLE and other embedded objects, custom XML, printer settings, data connections,
thumbnails, signatures) and which relationship ids pointed to them, so that the parts that refer
to a dropped one lose the reference too and the document still opens. Then each kept XML part
is rewritten: people's names made neutral, dates and revision ids removed, external targets
(file:///C:/Users/…, \\\\server\\share…) replaced by a neutral one.
"""
from __future__ import annotations

import posixpath
import re
import zipfile
from dataclasses import dataclass, field

from lxml import etree

from forum.uploads.kinds import DAMAGED, Refused
from forum.uploads.xmlsafe import REL_NS, local, parse, read_entry, serialize

NEUTRAL_NAME = "Auteur"
NEUTRAL_DATE = "1980-01-01T00:00:00Z"
NEUTRAL_TARGET = "about:blank"
CONTENT_TYPES = "[Content_Types].xml"
OLE2 = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
MAX_RELS_BYTES = 8 * 1024 * 1024
UNCLOSED_BREAK = re.compile(rb"<br\s*>", re.IGNORECASE)
LENIENT_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False,
                                 huge_tree=False, recover=True)
# Attributes naming a person anywhere in a part (comments, tracked changes, people, pivots).
PERSON_ATTRIBUTES = {"author": NEUTRAL_NAME, "userName": NEUTRAL_NAME, "initials": "A",
                     "userId": "", "providerId": "", "refreshedBy": NEUTRAL_NAME,
                     # A signature line (VML): who is to sign, their title and address.
                     "suggestedsigner": NEUTRAL_NAME, "suggestedsigner2": "",
                     "suggestedsigneremail": ""}
DROPPED_DATES = ("dT", "dt", "refreshedDate", "refreshedDateIso")  # optional: removed
NEUTRAL_DATES = ("dateUtc", "created", "dateTime")  # required where they appear: made neutral
# Elements that only exist to point to a dropped part: removed with it (the rest lose the id).
REFERRERS = {"OLEObject", "oleObject", "oleObj", "externalData", "control"}
# Containers left empty once their only child went.
EMPTY_CONTAINERS = {"oleObjects", "controls", "Choice", "Fallback", "AlternateContent"}
SAFE_LINKS = ("http://", "https://", "mailto:")
# A quoted path of a disk or a network share in a field instruction (LINK, INCLUDEPICTURE...).
LOCAL_FILE = re.compile(r'\s*(?:[A-Za-z]:[\\/]|\\\\|file:|/(?:Users|home)/)')
LOCAL_PATH = re.compile(r'"(?:[A-Za-z]:\\|\\\\|file:|/(?:Users|home)/)[^"]*"')
# Elements removed whole, and what they told: revision ids, the folder the file was saved in,
# document variables, a mail merge's data source (a path and a connection string), the ids
# that follow a document from copy to copy.
DOOMED = {"rsids": "revisions", "absPath": "paths", "attachedTemplate": "paths",
          "docVars": "properties", "mailMerge": "connections", "docId": "revisions",
          "revisionPtr": "revisions"}


@dataclass
class Plan:
    """What goes from one package, decided before anything is written."""
    dropped: dict[str, str] = field(default_factory=dict)  # part name -> removed code
    dropped_ids: dict[str, set[str]] = field(default_factory=dict)  # source part -> rel ids


def dropped_code(name: str, head: bytes) -> str | None:
    """Why a part of an OOXML package goes, or None if it stays."""
    base = posixpath.basename(name)
    if head.startswith(OLE2) or "/embeddings/" in f"/{name}" or "/activeX/" in f"/{name}":
        return "embedded_objects"  # OLE objects name their author, path and printer
    if name.startswith("customXml/"):
        return "custom_xml"
    if base.startswith("printerSettings"):
        return "printer"
    if name == "xl/connections.xml" or name.startswith("xl/queryTables/"):
        return "connections"  # server, database and user names, connection strings
    if name.startswith("docProps/thumbnail"):
        return "thumbnail"
    if name.startswith("_xmlsignatures/"):
        return "signatures"
    if name.startswith("docMetadata/"):  # sensitivity labels: the organisation's tenant id
        return "properties"
    return None


def plan(package: zipfile.ZipFile, heads: dict[str, bytes]) -> Plan:
    """The parts dropped and the relationships that pointed to them."""
    result = Plan()
    for name, head in heads.items():
        code = dropped_code(name, head)
        if code:
            result.dropped[name] = code
    for name in heads:  # relationships of a dropped part go with it
        if name.endswith(".rels") and source_of(name) in result.dropped:
            result.dropped[name] = result.dropped[source_of(name)]
    for name in heads:
        if not name.endswith(".rels") or name in result.dropped:
            continue
        source = source_of(name)
        root = parse(read_entry(package, package.getinfo(name), MAX_RELS_BYTES))
        for rel in root:
            if isinstance(rel.tag, str) and _goes(rel, source, result):
                result.dropped_ids.setdefault(source, set()).add(rel.get("Id", ""))
    return result


def source_of(rels: str) -> str:
    """The part a .rels entry belongs to: word/_rels/document.xml.rels -> word/document.xml."""
    folder = posixpath.dirname(posixpath.dirname(rels))
    return posixpath.join(folder, posixpath.basename(rels).removesuffix(".rels"))


def _goes(rel: etree._Element, source: str, result: Plan) -> bool:
    kind = rel.get("Type", "")
    if kind.endswith(("/attachedTemplate", "/digital-signature/origin", "/metadata/thumbnail")):
        return True
    if rel.get("TargetMode") == "External":
        return False
    return _resolve(source, rel.get("Target", "")) in result.dropped


def _resolve(source: str, target: str) -> str:
    if target.startswith("/"):
        return posixpath.normpath(target).lstrip("/")
    return posixpath.normpath(posixpath.join(posixpath.dirname(source), target))


# Cleaners: (part's bytes, its name, the plan, codes removed so far) -> the new bytes. ---------

def relationships(data: bytes, name: str, result: Plan, removed: set[str]) -> bytes:
    """Relationships to dropped parts removed; external targets other than web links blanked."""
    root = parse(data)
    gone = result.dropped_ids.get(source_of(name), set())
    for rel in list(root):
        if not isinstance(rel.tag, str):
            continue
        kind = rel.get("Type", "")
        if rel.get("Id") in gone:
            root.remove(rel)
            if kind.endswith("/attachedTemplate"):
                removed.add("paths")  # e.g. file:///C:/Users/<name>/.../Normal.dotm
        elif rel.get("TargetMode") == "External" and rel.get("Target") != NEUTRAL_TARGET and not (
                kind.endswith("/hyperlink")
                and rel.get("Target", "").lower().startswith(SAFE_LINKS)):
            rel.set("Target", NEUTRAL_TARGET)  # a file of the author's disk or network
            removed.add("external_links")
    return serialize(root)


def content_types(data: bytes, result: Plan) -> bytes:
    root = parse(data)
    for element in list(root):
        if (element.get("PartName") or "").lstrip("/") in result.dropped:
            root.remove(element)
    return serialize(root)


def part(data: bytes, name: str, result: Plan, removed: set[str]) -> bytes:
    """Names, dates, revision ids and references to dropped parts, out of one XML part."""
    root = parse(data)
    _clean_tree(root, name, result, removed)
    return serialize(root)


def vml(data: bytes, name: str, result: Plan, removed: set[str]) -> bytes:
    """A legacy drawing part (VML: Excel's comment boxes, old Word and PowerPoint shapes),
    cleaned as any part: linked pictures' paths, the DrawingML copy a shape hides (gfxdata),
    signature lines' signers. Excel writes its comment boxes' line breaks as HTML does (<br>):
    closed first; anything else not well-formed is read by lxml's recovering parser, which
    keeps every element it can.
    """
    data = UNCLOSED_BREAK.sub(b"<br/>", data)
    try:
        root = parse(data)
    except Refused:
        if b"<!DOCTYPE" in data[:4096] or b"<!ENTITY" in data[:4096]:
            raise
        root = etree.fromstring(data, LENIENT_PARSER)
        if root is None:
            raise Refused(DAMAGED) from None
    _clean_tree(root, name, result, removed)
    declared = data.lstrip().startswith(b"<?xml")
    return etree.tostring(root, xml_declaration=declared, encoding="UTF-8")


def _clean_tree(root: etree._Element, name: str, result: Plan, removed: set[str]) -> None:
    authors: set[str] = set()
    doomed = []
    gone = result.dropped_ids.get(name, set())
    no_connections = "xl/connections.xml" in result.dropped
    for element in root.iter():
        if not isinstance(element.tag, str):
            continue
        tag = local(element.tag)
        if _clean_attributes(element, gone, no_connections, removed) and tag in REFERRERS:
            doomed.append(element)
        if tag == "instrText" and element.text:
            element.text = _without_local_paths(element.text, removed)
        if tag in DOOMED:
            doomed.append(element)
            removed.add(DOOMED[tag])
        elif tag == "author" and element.text and element.text != NEUTRAL_NAME:
            authors.add(element.text.strip())  # legacy spreadsheet comments
            element.text = NEUTRAL_NAME
            removed.add("author")
        elif tag in ("person", "userInfo") or (tag in ("cmAuthor", "author")
                                                and element.get("name")):
            for attribute in ("displayName", "name"):
                if element.get(attribute) not in (None, NEUTRAL_NAME):
                    element.set(attribute, NEUTRAL_NAME)
                    removed.add("author")
    for element in doomed:
        _remove(element)
    if authors:  # Excel starts each comment's text with "Name:" in bold
        for element in root.iter("{*}t"):
            if element.text and element.text.strip().rstrip(":") in authors:
                element.text = ""


def has_references(name: str, result: Plan) -> bool:
    """Whether a part (a sheet, a slide: copied as they are otherwise) points to a dropped one."""
    return bool(result.dropped_ids.get(name))


def _clean_attributes(element: etree._Element, gone: set[str], no_connections: bool,
                      removed: set[str]) -> bool:
    """Clean one element's attributes; True when it referred to a dropped part."""
    referred = False
    for key in list(element.attrib):
        attribute, value = local(key), element.attrib[key]
        if key.startswith("{" + REL_NS + "}") and value in gone:
            del element.attrib[key]
            referred = True
        elif attribute in PERSON_ATTRIBUTES and value not in (NEUTRAL_NAME, "A", ""):
            element.attrib[key] = PERSON_ATTRIBUTES[attribute]
            removed.add("author")
        elif key == W + "date" or attribute in DROPPED_DATES:
            del element.attrib[key]
            removed.add("dates")
        elif attribute in NEUTRAL_DATES and value != NEUTRAL_DATE:
            element.attrib[key] = NEUTRAL_DATE
            removed.add("dates")
        elif key.startswith(W + "rsid"):
            del element.attrib[key]
            removed.add("revisions")
        elif attribute in ("descr", "title", "alt") and LOCAL_FILE.match(value):
            element.attrib[key] = ""  # Word 2007-2010 described a picture by its path
            removed.add("paths")
        elif attribute in ("href", "src") and LOCAL_FILE.match(value):
            element.attrib[key] = ""  # a VML picture linked from the author's disk
            removed.add("external_links")
        elif attribute == "gfxdata":  # a VML shape's copy in DrawingML, zipped: unread
            del element.attrib[key]
            removed.add("embedded_objects")
        elif attribute == "instr" or (attribute == "ddeTopic" and value):
            element.attrib[key] = (_without_local_paths(value, removed) if attribute == "instr"
                                   else "")
            removed.update(() if attribute == "instr" else ("external_links",))
        elif no_connections and (attribute in ("connectionId", "queryTableFieldId") or (
                attribute == "tableType" and value == "queryTable")):
            del element.attrib[key]
    return referred


def _without_local_paths(instruction: str, removed: set[str]) -> str:
    """A field's instruction (INCLUDEPICTURE "C:\\Users\\<name>\\photo.jpg") without paths."""
    cleaned = LOCAL_PATH.sub('""', instruction)
    if cleaned != instruction:
        removed.add("external_links")
    return cleaned


def _remove(element: etree._Element) -> None:
    """Remove an element, and the containers it leaves empty (a slide's frame goes whole)."""
    frame = next((a for a in element.iterancestors() if local(a.tag) == "graphicFrame"), None)
    if frame is not None:
        element = frame
    parent = element.getparent()
    if parent is None:
        return
    parent.remove(element)
    grand = parent.getparent()
    while (grand is not None and local(parent.tag) in EMPTY_CONTAINERS
           and not any(isinstance(child.tag, str) for child in parent)):
        grand.remove(parent)
        parent, grand = grand, grand.getparent()
