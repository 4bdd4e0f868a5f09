"""XML parts of office packages, read without entities, DTDs or network, and written back."""
from __future__ import annotations

import zipfile

from lxml import etree

from forum.uploads.kinds import DAMAGED, Refused

PARSER = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False,
                         huge_tree=False)
REL_NS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"


def read_entry(package: zipfile.ZipFile, entry: zipfile.ZipInfo, limit: int) -> bytes:
    """An entry's bytes, refused past `limit` (declared or actual)."""
    if entry.file_size > limit:
        raise Refused(DAMAGED)
    with package.open(entry) as source:
        return source.read(limit + 1)[:limit]


def parse(data: bytes) -> etree._Element:
    """Parse a part without entities, DTDs or network (no XXE, no “billion laughs”)."""
    if b"<!DOCTYPE" in data[:4096] or b"<!ENTITY" in data[:4096]:
        raise Refused(DAMAGED)
    try:
        return etree.fromstring(data, PARSER)
    except etree.XMLSyntaxError:
        raise Refused(DAMAGED) from None


def serialize(root: etree._Element) -> bytes:
    standalone = root.getroottree().docinfo.standalone
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8",
                          standalone=standalone)


def qualified(tag: object) -> str:
    """A tag as parsed ("{namespace}name"); "" for a comment or a processing instruction, whose
    tag is a function (a name test on one never matches, and never raises)."""
    return tag if isinstance(tag, str) else ""


def local(tag: object) -> str:
    """A tag's (or an attribute's) name without its namespace."""
    return qualified(tag).rpartition("}")[2]
