"""The cleaning corpus: one generated file per place a document can hide who made it.

Each case plants a unique marker in ONE place (a photo's EXIF inside a DOCX, a comment's date,
an OLE object, a PDF signature's /Location...), sends the file through the real app, fetches the
file as it is served, takes it apart (every zip entry; every PDF object, stream decoded, picture
extracted) and checks with `exiftool -j` and a raw byte search that the marker is gone, that
the document still holds together, and that the uploader was told what was removed.
"""
from __future__ import annotations

import base64
import contextlib
import gzip
import io
import json
import posixpath
import re
import struct
import subprocess
import zipfile
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import pikepdf
import pytest
from lxml import etree
from pikepdf import Array, Dictionary, Name
from PIL import Image

from forum.i18n import CATALOGS
from forum.models.uploads import REMOVED_LABELS
from forum.uploads import ooxml
from forum.uploads.kinds import DAMAGED
from forum.uploads.metafiles import clean_metafile
from forum.uploads.pdf import UNREADABLE_PICTURE
from tests.conftest import csrf_token, log_in
from tests.test_uploads import odf_package, png_declaring, post_form

EXIFTOOL = "/usr/bin/exiftool"
OPENXML = "http://schemas.openxmlformats.org"
R_NS = f"{OPENXML}/officeDocument/2006/relationships"
W_NS = f"{OPENXML}/wordprocessingml/2006/main"
A_NS = f"{OPENXML}/drawingml/2006/main"
S_NS = f"{OPENXML}/spreadsheetml/2006/main"
P_NS = f"{OPENXML}/presentationml/2006/main"
PKG_NS = f"{OPENXML}/package/2006"
OFFICE_DOC = "application/vnd.openxmlformats-officedocument"
REL = f"{OPENXML}/officeDocument/2006/relationships"
ODF = "urn:oasis:names:tc:opendocument:xmlns"
DC_NS = "http://purl.org/dc/elements/1.1/"
XLINK = "http://www.w3.org/1999/xlink"
HEAD = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
OLE2 = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
# A date planted where dates are kept: searched as written in XML and in PDF dates.
DATE = "2031-07-13T11:22:33Z"
DATE_NEEDLES = ("2031-07-13", "20310713")


def marker(case: str) -> str:
    """The unique text planted by one case (letters only: it survives every encoding)."""
    return "Vigiemark" + "".join(c for c in case.title() if c.isalpha())


# Pictures. ------------------------------------------------------------------------------------

def photo(mark: str, fmt: str = "JPEG") -> bytes:
    """A photo as a phone writes it: GPS position and Artist (the marker), XMP, a comment."""
    img = Image.new("RGB", (64, 48), "red")
    exif = Image.Exif()
    exif[0x013B] = mark  # Artist
    exif[0x8825] = {1: "N", 2: (48.0, 51.0, 29.0), 3: "E", 4: (2.0, 17.0, 40.0)}
    xmp = (f'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/'
           f'22-rdf-syntax-ns#"><rdf:Description xmlns:dc="{DC_NS}"><dc:creator>{mark}'
           "</dc:creator></rdf:Description></rdf:RDF></x:xmpmeta>").encode()
    out = io.BytesIO()
    if fmt == "JPEG":
        img.save(out, "JPEG", exif=exif, xmp=xmp, comment=mark.encode())
    else:
        img.save(out, fmt, exif=exif)
    return out.getvalue()


def jp2_with_boxes(mark: str) -> bytes:
    """A JPEG 2000 picture followed by an XML box and an XMP box naming the marker."""
    out = io.BytesIO()
    Image.new("RGB", (32, 24), "blue").save(out, "JPEG2000")
    xmp_uuid = bytes.fromhex("be7acfcb97a942e89c71999491e3afac")
    xmp = (f'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/'
           f'22-rdf-syntax-ns#"><rdf:Description xmlns:dc="{DC_NS}"><dc:creator>{mark}'
           "</dc:creator></rdf:Description></rdf:RDF></x:xmpmeta>").encode()
    xml = f"<gml><owner>{mark}</owner></gml>".encode()
    boxes = b"".join(len(body := kind + payload).to_bytes(4, "big") + body
                     for kind, payload in ((b"xml ", xml), (b"uuid", xmp_uuid + xmp)))
    return out.getvalue() + boxes


def ole_object(mark: str) -> bytes:
    """The start of an OLE compound file, with the author's name in it (as Word writes it)."""
    return OLE2 + b"\x00" * 504 + mark.encode() + mark.encode("utf-16-le") + b"\x00" * 512


def _padded(data: bytes) -> bytes:
    return data + b"\x00" * (-len(data) % 4)


def emf(mark: str) -> bytes:
    """An EMF picture as Office writes one: a description naming the program and the file, an
    EMF+ comment, a printer escape, a bitmap holding a JPEG photo, a rectangle, the end."""
    description = f"Microsoft Office\0C:\\Users\\{mark}\\plan.emf\0\0".encode("utf-16-le")
    comment = _padded(b"EMF+" + mark.encode("utf-16-le"))
    escape = _padded(f"%%Creator: {mark}".encode())
    bitmap = _padded(photo(mark))
    records = [
        struct.pack("<III", 70, 12 + len(comment), len(comment)) + comment,
        struct.pack("<IIIII", 110, 20 + len(escape), 0, 0, len(escape)) + escape,
        struct.pack("<II", 81, 8 + len(bitmap)) + bitmap,  # EMR_STRETCHDIBITS
        struct.pack("<II4i", 43, 24, 4, 4, 60, 44),  # EMR_RECTANGLE
        struct.pack("<IIIII", 14, 20, 0, 16, 20),  # EMR_EOF
    ]
    header_size = 88 + len(_padded(description))
    total = header_size + sum(len(record) for record in records)
    header = struct.pack("<II4i4i4sIIIHHIIIiiii", 1, header_size, 0, 0, 64, 48, 0, 0, 1700,
                         1270, b" EMF", 0x10000, total, len(records) + 1, 1, 0,
                         len(description) // 2, 88, 0, 1024, 768, 320, 240)
    return header + _padded(description) + b"".join(records)


def wmf(mark: str, placeable: bool = True) -> bytes:
    """A WMF picture (placeable unless told) with a comment (an escape), a rectangle, the end."""
    comment = mark.encode() + b"\x00" * (len(mark) % 2)
    records = [
        struct.pack("<IHHH", (10 + len(comment)) // 2, 0x0626, 0x000F, len(comment)) + comment,
        struct.pack("<IH4h", 7, 0x041B, 44, 60, 4, 4),  # META_RECTANGLE
        struct.pack("<IH", 3, 0x0000),  # META_EOF
    ]
    words = 9 + sum(len(record) for record in records) // 2
    header = struct.pack("<HHHIHIH", 1, 9, 0x0300, words, 0,
                         max(len(record) // 2 for record in records), 0)
    if not placeable:
        return header + b"".join(records)
    prefix = struct.pack("<IH4hHI", 0x9AC6CDD7, 0, 0, 0, 64, 48, 1440, 0)
    checksum = 0
    for (word,) in struct.iter_unpack("<H", prefix):
        checksum ^= word
    return prefix + struct.pack("<H", checksum) + header + b"".join(records)


def svm_action(kind: int, payload: bytes, version: int = 1) -> bytes:
    """A StarView metafile action: its type, then a version and the length of what follows."""
    return struct.pack("<HHI", kind, version, len(payload)) + payload


def svm(mark: str, actions: list[bytes] | None = None) -> bytes:
    """A StarView metafile (.svm) as LibreOffice writes one: a comment naming the marker, a
    PostScript picture (%%For: the user), a transparency holding a metafile with its own
    comment, a rectangle."""
    comment_text = f"XPATHFILL_SEQ_BEGIN {mark}".encode()
    comment = svm_action(512, struct.pack("<H", len(comment_text)) + comment_text
                         + struct.pack("<iI", 0, len(mark)) + mark.encode())
    rectangle = svm_action(103, struct.pack("<4i", 0, 0, 60, 44))
    nested = svm_file([svm_action(512, struct.pack("<H", len(mark)) + mark.encode()
                                  + struct.pack("<iI", 0, 0)), rectangle])
    transparency = svm_action(147, nested + struct.pack("<4i", 0, 0, 60, 44) + b"\x00" * 12)
    eps = svm_action(143, f"%!PS-Adobe-3.0 EPSF-3.0\n%%For: {mark}\n".encode())
    return svm_file(actions or [comment, eps, transparency, rectangle])


def svm_file(actions: list[bytes]) -> bytes:
    map_mode = struct.pack("<HI", 1, 27) + struct.pack("<H2i4iB", 0, 0, 0, 1, 1, 1, 1, 1)
    header = struct.pack("<I", 0) + map_mode + struct.pack("<iiI", 1700, 1270, len(actions))
    return b"VCLMTF" + struct.pack("<HI", 1, len(header)) + header + b"".join(actions)


def svm_actions(data: bytes) -> list[tuple[int, bytes]]:
    """The actions of a StarView metafile, as its header counts them (each must be whole)."""
    (length,) = struct.unpack_from("<I", data, 8)
    (map_length,) = struct.unpack_from("<I", data, 12 + 4 + 2)
    (count,) = struct.unpack_from("<I", data, 12 + 4 + 6 + map_length + 8)
    pos, found = 12 + length, []
    for _ in range(count):
        kind, _version, size = struct.unpack_from("<HHI", data, pos)
        found.append((kind, data[pos + 8:pos + 8 + size]))
        pos += 8 + size
        assert pos <= len(data)
    return found


VML_NS = ('xmlns:v="urn:schemas-microsoft-com:vml" xmlns:o="urn:schemas-microsoft-com:office:'
          'office" xmlns:x="urn:schemas-microsoft-com:office:excel"')
VML_TYPE = f"{OFFICE_DOC}.vmlDrawing"


def vml_note(inside: str) -> str:
    """Excel's legacy drawing of a comment box: not well-formed XML (<br>), as Excel writes."""
    return (f'<xml {VML_NS}><v:shape id="_x0000_s1025" type="#_x0000_t202">{inside}'
            '<v:textbox><div style="text-align:left">à vérifier<br>demain</div></v:textbox>'
            '<x:ClientData ObjectType="Note"><x:Row>0</x:Row><x:Column>0</x:Column>'
            "</x:ClientData></v:shape></xml>")


# OOXML packages. ------------------------------------------------------------------------------

def rels_xml(rels: list[tuple]) -> str:
    """(id, type, target) or (id, type, target, "External")."""
    items = "".join(
        f'<Relationship Id="{rel[0]}" Type="{_rel_type(rel[1])}" Target="{rel[2]}"'
        + (' TargetMode="External"' if len(rel) > 3 else "") + "/>" for rel in rels)
    return f'{HEAD}<Relationships xmlns="{PKG_NS}/relationships">{items}</Relationships>'


def _rel_type(kind: str) -> str:
    return kind if kind.startswith("http") else f"{REL}/{kind}"


def types_xml(overrides: dict[str, str]) -> str:
    defaults = {"rels": "application/vnd.openxmlformats-package.relationships+xml",
                "xml": "application/xml", "jpeg": "image/jpeg", "png": "image/png",
                "bin": f"{OFFICE_DOC}.oleObject", "xlsx": f"{OFFICE_DOC}.spreadsheetml.sheet"}
    return (f'{HEAD}<Types xmlns="{PKG_NS}/content-types">'
            + "".join(f'<Default Extension="{ext}" ContentType="{kind}"/>'
                      for ext, kind in defaults.items())
            + "".join(f'<Override PartName="/{part}" ContentType="{kind}"/>'
                      for part, kind in overrides.items()) + "</Types>")


def zip_of(entries: dict[str, str | bytes]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as package:
        for name, data in entries.items():
            package.writestr(name, data if isinstance(data, bytes) else data.encode())
    return out.getvalue()


def office_package(main: str, types: dict[str, str], own_parts: dict[str, str],
                   parts: dict | None = None, overrides: dict | None = None) -> bytes:
    """An OOXML package whose root relationship leads to `main`: its content `types`, its
    `own_parts`, then a test's extra `parts` and content-type `overrides`."""
    return zip_of({
        "[Content_Types].xml": types_xml({**types, **(overrides or {})}),
        "_rels/.rels": rels_xml([("rId1", "officeDocument", main)]),
        **own_parts, **(parts or {})})


def docx(body: str = "", rels: list[tuple] = (), parts: dict | None = None,
         overrides: dict | None = None) -> bytes:
    """A Word document: `body` inside <w:body>, `rels` of word/document.xml, more parts."""
    document = (f'{HEAD}<w:document xmlns:w="{W_NS}" xmlns:r="{R_NS}" xmlns:a="{A_NS}" '
                'xmlns:o="urn:schemas-microsoft-com:office:office" '
                'xmlns:v="urn:schemas-microsoft-com:vml"><w:body>'
                f"<w:p><w:r><w:t>Relevé des caméras.</w:t></w:r></w:p>{body}</w:body></w:document>")
    return office_package("word/document.xml", {
        "word/document.xml": f"{OFFICE_DOC}.wordprocessingml.document.main+xml"}, {
        "word/document.xml": document,
        "word/_rels/document.xml.rels": rels_xml(list(rels))}, parts, overrides)


def xlsx(sheet: str = "", sheet_rels: list[tuple] = (), book_rels: list[tuple] = (),
         parts: dict | None = None, overrides: dict | None = None) -> bytes:
    """A workbook of one sheet: `sheet` after <sheetData/>, relationships of both, more parts."""
    return office_package("xl/workbook.xml", {
        "xl/workbook.xml": f"{OFFICE_DOC}.spreadsheetml.sheet.main+xml",
        "xl/worksheets/sheet1.xml": f"{OFFICE_DOC}.spreadsheetml.worksheet+xml"}, {
        "xl/workbook.xml": (f'{HEAD}<workbook xmlns="{S_NS}" xmlns:r="{R_NS}"><sheets>'
                            '<sheet name="Relevé" sheetId="1" r:id="rId1"/></sheets></workbook>'),
        "xl/_rels/workbook.xml.rels": rels_xml(
            [("rId1", "worksheet", "worksheets/sheet1.xml"), *book_rels]),
        "xl/worksheets/sheet1.xml": (f'{HEAD}<worksheet xmlns="{S_NS}" xmlns:r="{R_NS}" '
                                     'xmlns:mc="http://schemas.openxmlformats.org/'
                                     f'markup-compatibility/2006"><sheetData/>{sheet}'
                                     "</worksheet>"),
        "xl/worksheets/_rels/sheet1.xml.rels": rels_xml(list(sheet_rels))}, parts, overrides)


def pptx(slide: str = "", slide_rels: list[tuple] = (), parts: dict | None = None,
         overrides: dict | None = None, presentation_rels: list[tuple] = ()) -> bytes:
    """A presentation of one slide: `slide` inside its shape tree."""
    return office_package("ppt/presentation.xml", {
        "ppt/presentation.xml": f"{OFFICE_DOC}.presentationml.presentation.main+xml",
        "ppt/slides/slide1.xml": f"{OFFICE_DOC}.presentationml.slide+xml"}, {
        "ppt/presentation.xml": (f'{HEAD}<p:presentation xmlns:p="{P_NS}" xmlns:r="{R_NS}">'
                                 '<p:sldIdLst><p:sldId id="256" r:id="rId1"/></p:sldIdLst>'
                                 "</p:presentation>"),
        "ppt/_rels/presentation.xml.rels": rels_xml(
            [("rId1", "slide", "slides/slide1.xml"), *presentation_rels]),
        "ppt/slides/slide1.xml": (f'{HEAD}<p:sld xmlns:p="{P_NS}" xmlns:r="{R_NS}" '
                                  f'xmlns:a="{A_NS}"><p:cSld><p:spTree>{slide}</p:spTree>'
                                  "</p:cSld></p:sld>"),
        "ppt/slides/_rels/slide1.xml.rels": rels_xml(list(slide_rels))}, parts, overrides)


def blip(rid: str, attribute: str = "r:embed") -> str:
    return (f'<w:p><w:r><w:drawing><a:graphic><a:graphicData><a:blip {attribute}="{rid}"/>'
            "</a:graphicData></a:graphic></w:drawing></w:r></w:p>")


def word_part(root: str, inner: str, extra_ns: str = "") -> str:
    return f'{HEAD}<w:{root} xmlns:w="{W_NS}"{extra_ns}>{inner}</w:{root}>'


def comments(author: str = "Léa", date: str = "", initials: str = "L") -> str:
    dated = f' w:date="{date}"' if date else ""
    return word_part("comments", f'<w:comment w:id="0" w:author="{author}" '
                     f'w:initials="{initials}"{dated}><w:p><w:r><w:t>À vérifier</w:t></w:r>'
                     "</w:p></w:comment>")


COMMENTS_TYPE = f"{OFFICE_DOC}.wordprocessingml.comments+xml"
W15 = "http://schemas.microsoft.com/office/word/2012/wordml"
W16CEX = "http://schemas.microsoft.com/office/word/2018/wordml/cex"


def docx_drawing(inside: str, attributes: str = "") -> bytes:
    """A Word document showing an SVG drawing (and its PNG copy, as Office saves them)."""
    svg = (f'<?xml version="1.0" encoding="UTF-8"?>\n<svg xmlns="http://www.w3.org/2000/svg" '
           f'xmlns:xlink="http://www.w3.org/1999/xlink"{attributes} viewBox="0 0 64 48">'
           f'<rect width="64" height="48" fill="red"/>{inside}</svg>')
    return docx(blip("rId5").replace(
        "/>", '><a:extLst><a:ext uri="{96DAC541-7B7A-43D3-8B79-37D633B846F1}"><asvg:svgBlip '
        'xmlns:asvg="http://schemas.microsoft.com/office/drawing/2016/SVG/main" r:embed="rId6"/>'
        "</a:ext></a:extLst></a:blip>", 1),
        [("rId5", "image", "media/image1.png"), ("rId6", "image", "media/image2.svg")],
        {"word/media/image1.png": photo("copie", "PNG"), "word/media/image2.svg": svg},
        {"word/media/image2.svg": "image/svg+xml"})


def docx_cases() -> dict[str, tuple[Callable[[str], bytes], set[str]]]:
    ole_body = ('<w:p><w:r><w:object><v:shape id="s1"/><o:OLEObject Type="Embed" '
                'ProgID="Word.Document.12" ShapeID="s1" r:id="rId9"/></w:object></w:r></w:p>')
    return {
        "docx-picture-exif": (lambda m: docx(blip("rId5"), [("rId5", "image",
                                                              "media/image1.jpeg")],
                                             {"word/media/image1.jpeg": photo(m)}),
                              {"gps", "author"}),
        "docx-emf-picture": (lambda m: docx(blip("rId5"), [("rId5", "image", "media/image1.emf")],
                                            {"word/media/image1.emf": emf(m)},
                                            {"word/media/image1.emf": "image/x-emf"}),
                             {"comments", "software", "exif"}),
        "docx-vml-signature-line": (lambda m: docx(
            '<w:p><w:r><w:pict><v:shape id="s2"><o:signatureline v:ext="edit" '
            f'o:suggestedsigner="{m}" o:suggestedsigner2="Maire" '
            f'o:suggestedsigneremail="{m.lower()}@mairie.example"/></v:shape></w:pict></w:r>'
            "</w:p>"), {"author"}),
        "docx-picture-png": (lambda m: docx(blip("rId5"), [("rId5", "image", "media/image1.png")],
                                            {"word/media/image1.png": photo(m, "PNG")}),
                             {"gps"}),
        "docx-ole-object": (lambda m: docx(ole_body, [("rId9", "oleObject",
                                                       "embeddings/oleObject1.bin")],
                                           {"word/embeddings/oleObject1.bin": ole_object(m)}),
                            {"embedded_objects"}),
        "docx-embedded-workbook": (
            lambda m: docx(ole_body.replace("rId9", "rId8"),
                           [("rId8", "package", "embeddings/Feuille.xlsx")],
                           {"word/embeddings/Feuille.xlsx": xlsx(
                               f'<headerFooter><oddHeader>{m}</oddHeader></headerFooter>')}),
            {"embedded_objects"}),
        "docx-custom-xml": (lambda m: docx("", [("rId7", "customXml", "../customXml/item1.xml")], {
            "customXml/item1.xml": f"{HEAD}<owner>{m}</owner>",
            "customXml/itemProps1.xml": f'{HEAD}<ds:datastoreItem ds:itemID="{{1}}" '
                                        'xmlns:ds="http://schemas.openxmlformats.org/officeDocument'
                                        '/2006/customXml"/>',
            "customXml/_rels/item1.xml.rels": rels_xml([("rId1", "customXmlProps",
                                                         "itemProps1.xml")])},
            {"customXml/itemProps1.xml": f"{OFFICE_DOC}.customXmlProperties+xml"}),
            {"custom_xml"}),
        "docx-printer-settings": (lambda m: docx("", [("rId6", "printerSettings",
                                                       "printerSettings/printerSettings1.bin")],
                                                 {"word/printerSettings/printerSettings1.bin":
                                                  b"\x00\x04" + m.encode("utf-16-le")}),
                                  {"printer"}),
        "docx-hyperlink-to-a-file": (
            lambda m: docx('<w:p><w:hyperlink r:id="rId4"><w:r><w:t>notes</w:t></w:r>'
                           "</w:hyperlink></w:p>",
                           [("rId4", "hyperlink", f"file:///C:/Users/{m}/notes.docx", "ext")]),
            {"external_links"}),
        "docx-linked-picture": (
            lambda m: docx(blip("rId4", "r:link"),
                           [("rId4", "image", f"\\\\serveur\\{m}\\photo.jpg", "ext")]),
            {"external_links"}),
        "docx-tracked-change-author": (
            lambda m: docx(f'<w:p><w:ins w:id="1" w:author="{m}"><w:r><w:t>Ajout</w:t></w:r>'
                           "</w:ins></w:p>"), {"author"}),
        "docx-tracked-change-date": (
            lambda m: docx(f'<w:p><w:del w:id="1" w:author="Léa" w:date="{DATE}"><w:r>'
                           "<w:delText>Retrait</w:delText></w:r></w:del></w:p>"), {"dates"}),
        "docx-comment-author": (
            lambda m: docx("", [("rId3", "comments", "comments.xml")],
                           {"word/comments.xml": comments(author=m)},
                           {"word/comments.xml": COMMENTS_TYPE}), {"author"}),
        "docx-comment-initials": (
            lambda m: docx("", [("rId3", "comments", "comments.xml")],
                           {"word/comments.xml": comments(initials=m)},
                           {"word/comments.xml": COMMENTS_TYPE}), {"author"}),
        "docx-comment-date": (
            lambda m: docx("", [("rId3", "comments", "comments.xml")],
                           {"word/comments.xml": comments(date=DATE)},
                           {"word/comments.xml": COMMENTS_TYPE}), {"dates"}),
        "docx-footnote-revision-author": (
            lambda m: docx("", [("rId3", "footnotes", "footnotes.xml")], {
                "word/footnotes.xml": word_part(
                    "footnotes", f'<w:footnote w:id="1"><w:p><w:del w:id="2" w:author="{m}" '
                    f'w:date="{DATE}"><w:r><w:delText>x</w:delText></w:r></w:del></w:p>'
                    "</w:footnote>")},
                {"word/footnotes.xml": f"{OFFICE_DOC}.wordprocessingml.footnotes+xml"}),
            {"author", "dates"}),
        "docx-people": (
            lambda m: docx("", [("rId3", "http://schemas.microsoft.com/office/2011/"
                                 "relationships/people", "people.xml")], {
                "word/people.xml": (
                    f'{HEAD}<w15:people xmlns:w15="{W15}"><w15:person w15:author="{m}">'
                    '<w15:presenceInfo w15:providerId="AD" '
                    f'w15:userId="S::{m.lower()}@mairie.example"/></w15:person></w15:people>')}),
            {"author"}),
        "docx-mail-merge-source": (lambda m: docx("", [("rId2", "settings", "settings.xml")], {
            "word/settings.xml": word_part("settings", (
                '<w:mailMerge><w:mainDocumentType w:val="formLetters"/><w:connectString '
                'w:val="Provider=Microsoft.ACE.OLEDB.12.0;Data Source=C:\\Users\\'
                f'{m}\\contacts.xlsx"/></w:mailMerge>'))},
            {"word/settings.xml": f"{OFFICE_DOC}.wordprocessingml.settings+xml"}),
            {"connections"}),
        "docx-document-variables": (lambda m: docx("", [("rId2", "settings", "settings.xml")], {
            "word/settings.xml": word_part("settings", (
                f'<w:docVars><w:docVar w:name="redacteur" w:val="{m}"/></w:docVars>'))},
            {"word/settings.xml": f"{OFFICE_DOC}.wordprocessingml.settings+xml"}),
            {"properties"}),
        "docx-sensitivity-label": (lambda m: docx("", parts={
            "docMetadata/LabelInfo.xml": (
                f'{HEAD}<clbl:labelList xmlns:clbl="http://schemas.microsoft.com/office/2020/'
                f'mipLabelMetadata"><clbl:label id="{{1}}" enabled="1" method="Standard" '
                f'siteId="{{{m}}}" removed="0"/></clbl:labelList>')}), {"properties"}),
        "docx-field-picture-path": (
            lambda m: docx('<w:p><w:r><w:fldChar w:fldCharType="begin"/></w:r><w:r><w:instrText '
                           f'xml:space="preserve"> INCLUDEPICTURE "C:\\\\Users\\\\{m}\\\\p.jpg"'
                           ' \\d </w:instrText></w:r><w:r><w:fldChar w:fldCharType="end"/></w:r>'
                           "</w:p>"), {"external_links"}),
        "docx-simple-field-link": (
            lambda m: docx('<w:p><w:fldSimple w:instr=" LINK Excel.Sheet.12 &quot;\\\\\\\\'
                           f'serveur\\\\{m}\\\\budget.xlsx&quot; &quot;A1&quot; "><w:r><w:t>1'
                           "</w:t></w:r></w:fldSimple></w:p>"), {"external_links"}),
        "docx-svg-metadata": (lambda m: docx_drawing(
            '<metadata><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" '
            'xmlns:dc="http://purl.org/dc/elements/1.1/"><rdf:Description><dc:creator>'
            f"{m}</dc:creator></rdf:Description></rdf:RDF></metadata>"), {"properties"}),
        "docx-svg-editor-paths": (lambda m: docx_drawing(
            "", f' xmlns:inkscape="http://www.inkscape.org/namespaces/inkscape" '
            f'inkscape:export-filename="/home/{m}/icone.png"'), {"paths"}),
        "docx-svg-comment": (lambda m: docx_drawing(f"<!-- dessiné par {m} -->"), {"comments"}),
        "docx-svg-photo": (lambda m: docx_drawing(
            '<image width="64" height="48" xlink:href="data:image/jpeg;base64,'
            f'{base64.b64encode(photo(m)).decode()}"/>'), {"gps", "author"}),
        "docx-svg-linked-file": (lambda m: docx_drawing(
            f'<image width="64" height="48" xlink:href="file:///C:/Users/{m}/p.jpg"/>'),
            {"external_links"}),
        "docx-picture-described-by-its-path": (
            lambda m: docx(blip("rId5").replace(
                "<w:drawing>", '<w:drawing><wp:inline xmlns:wp="http://schemas.openxmlformats.org/'
                f'drawingml/2006/wordprocessingDrawing"><wp:docPr id="1" name="Image 1" '
                f'descr="C:\\Users\\{m}\\Pictures\\place.jpg"/></wp:inline>'),
                [("rId5", "image", "media/image1.png")],
                {"word/media/image1.png": photo("copie", "PNG")}), {"paths"}),
        "docx-comments-extensible-date": (
            lambda m: docx("", [], {
                "word/commentsExtensible.xml": (
                    f'{HEAD}<w16cex:commentsExtensible xmlns:w16cex="{W16CEX}">'
                    f'<w16cex:commentExtensible w16cex:durableId="1" w16cex:dateUtc="{DATE}"/>'
                    "</w16cex:commentsExtensible>")}), {"dates"}),
    }


PIVOT = f"{OFFICE_DOC}.spreadsheetml.pivotCacheDefinition+xml"


def pivot_cache(attributes: str) -> dict[str, str]:
    return {"xl/pivotCache/pivotCacheDefinition1.xml": (
        f'{HEAD}<pivotCacheDefinition xmlns="{S_NS}" xmlns:r="{R_NS}" {attributes} '
        'recordCount="0"><cacheSource type="worksheet"><worksheetSource ref="A1:A2" '
        'sheet="Relevé"/></cacheSource><cacheFields count="0"/></pivotCacheDefinition>')}


def xlsx_cases() -> dict[str, tuple[Callable[[str], bytes], set[str]]]:
    drawing = (f'{HEAD}<xdr:wsDr xmlns:xdr="{OPENXML}/drawingml/2006/spreadsheetDrawing" '
               f'xmlns:a="{A_NS}" xmlns:r="{R_NS}"><xdr:oneCellAnchor><xdr:pic><xdr:blipFill>'
               '<a:blip r:embed="rId1"/></xdr:blipFill></xdr:pic></xdr:oneCellAnchor>'
               "</xdr:wsDr>")
    ole = ('<mc:AlternateContent><mc:Choice Requires="x14"><oleObjects><oleObject '
           'progId="Word.Document.12" shapeId="1025" r:id="rId2"/></oleObjects></mc:Choice>'
           "</mc:AlternateContent>")
    return {
        "xlsx-wmf-picture": (lambda m: xlsx('<drawing r:id="rId1"/>', [
            ("rId1", "drawing", "../drawings/drawing1.xml")], parts={
            "xl/drawings/drawing1.xml": drawing,
            "xl/drawings/_rels/drawing1.xml.rels": rels_xml([("rId1", "image",
                                                              "../media/image1.wmf")]),
            "xl/media/image1.wmf": wmf(m)}, overrides={"xl/media/image1.wmf": "image/x-wmf"}),
            {"comments"}),
        "xlsx-vml-linked-picture": (lambda m: xlsx('<legacyDrawing r:id="rId3"/>', [
            ("rId3", "vmlDrawing", "../drawings/vmlDrawing1.vml")], parts={
            "xl/drawings/vmlDrawing1.vml": vml_note(
                f'<v:imagedata src="file:///C:/Users/{m}/photo.jpg" '
                f'o:href="C:\\Users\\{m}\\photo.jpg" alt="/home/{m}/photo.jpg"/>')},
            overrides={"xl/drawings/vmlDrawing1.vml": VML_TYPE}), {"external_links", "paths"}),
        "xlsx-picture-exif": (lambda m: xlsx('<drawing r:id="rId1"/>', [
            ("rId1", "drawing", "../drawings/drawing1.xml")], parts={
            "xl/drawings/drawing1.xml": drawing,
            "xl/drawings/_rels/drawing1.xml.rels": rels_xml([("rId1", "image",
                                                              "../media/image1.jpeg")]),
            "xl/media/image1.jpeg": photo(m)}), {"gps", "author"}),
        "xlsx-connections": (lambda m: xlsx(book_rels=[("rId5", "connections",
                                                         "connections.xml")], parts={
            "xl/connections.xml": (
                f'{HEAD}<connections xmlns="{S_NS}"><connection id="1" name="Caméras" '
                'type="1" refreshedVersion="6"><dbPr connection="Provider=SQLOLEDB;'
                f'Data Source=sql-police;User ID={m};Initial Catalog=videosurveillance" '
                'command="select * from cameras"/></connection></connections>')},
            overrides={"xl/connections.xml": f"{OFFICE_DOC}.spreadsheetml.connections+xml"}),
            {"connections"}),
        "xlsx-printer-settings": (lambda m: xlsx('<pageSetup paperSize="9" r:id="rId1"/>', [
            ("rId1", "printerSettings", "../printerSettings/printerSettings1.bin")], parts={
            "xl/printerSettings/printerSettings1.bin": b"\x00\x04" + m.encode("utf-16-le")}),
            {"printer"}),
        "xlsx-pivot-refreshed-by": (
            lambda m: xlsx(book_rels=[("rId6", "pivotCacheDefinition",
                                       "pivotCache/pivotCacheDefinition1.xml")],
                           parts=pivot_cache(f'refreshedBy="{m}"'),
                           overrides={"xl/pivotCache/pivotCacheDefinition1.xml": PIVOT}),
            {"author"}),
        "xlsx-pivot-refreshed-date": (
            lambda m: xlsx(book_rels=[("rId6", "pivotCacheDefinition",
                                       "pivotCache/pivotCacheDefinition1.xml")],
                           parts=pivot_cache('refreshedDate="20310713.5"'),
                           overrides={"xl/pivotCache/pivotCacheDefinition1.xml": PIVOT}),
            {"dates"}),
        "xlsx-external-workbook": (lambda m: xlsx(book_rels=[
            ("rId7", "externalLink", "externalLinks/externalLink1.xml")], parts={
            "xl/externalLinks/externalLink1.xml": (
                f'{HEAD}<externalLink xmlns="{S_NS}" xmlns:r="{R_NS}"><externalBook '
                'r:id="rId1"/></externalLink>'),
            "xl/externalLinks/_rels/externalLink1.xml.rels": rels_xml([(
                "rId1", "externalLinkPath", f"file:///\\\\serveur\\{m}\\budget.xlsx", "ext")])},
            overrides={"xl/externalLinks/externalLink1.xml":
                       f"{OFFICE_DOC}.spreadsheetml.externalLink+xml"}),
            {"external_links"}),
        "xlsx-dde-link": (lambda m: xlsx(book_rels=[
            ("rId7", "externalLink", "externalLinks/externalLink1.xml")], parts={
            "xl/externalLinks/externalLink1.xml": (
                f'{HEAD}<externalLink xmlns="{S_NS}"><ddeLink ddeService="Excel" '
                f'ddeTopic="C:\\Users\\{m}\\budget.xls"/></externalLink>')},
            overrides={"xl/externalLinks/externalLink1.xml":
                       f"{OFFICE_DOC}.spreadsheetml.externalLink+xml"}),
            {"external_links"}),
        "xlsx-ole-object": (lambda m: xlsx(ole, [("rId2", "oleObject",
                                                  "../embeddings/oleObject1.bin")],
                                           parts={"xl/embeddings/oleObject1.bin": ole_object(m)}),
                            {"embedded_objects"}),
        "xlsx-threaded-comment-date": (lambda m: xlsx(parts={
            "xl/threadedComments/threadedComment1.xml": (
                f'{HEAD}<ThreadedComments xmlns="http://schemas.microsoft.com/office/'
                f'spreadsheetml/2018/threadedcomments"><threadedComment ref="A1" dT="{DATE}" '
                'personId="{1}" id="{2}"><text>à vérifier</text></threadedComment>'
                "</ThreadedComments>")}), {"dates"}),
        "xlsx-shared-workbook-revisions": (lambda m: xlsx(parts={
            "xl/revisions/revisionHeaders.xml": (
                f'{HEAD}<headers xmlns="{S_NS}" guid="{{3}}"><header guid="{{4}}" '
                f'dateTime="{DATE}" maxSheetId="2" userName="{m}"/></headers>'),
            "xl/revisions/userNames.xml": (
                f'{HEAD}<users xmlns="{S_NS}" count="1"><userInfo guid="{{5}}" name="{m}" '
                f'id="1" dateTime="{DATE}"/></users>')}), {"author", "dates"}),
    }


def pptx_cases() -> dict[str, tuple[Callable[[str], bytes], set[str]]]:
    picture = ('<p:pic><p:blipFill><a:blip r:embed="rId2"/></p:blipFill></p:pic>')
    ole = ('<p:graphicFrame><a:graphic><a:graphicData uri="http://schemas.openxmlformats.org/'
           'presentationml/2006/ole"><p:oleObj progId="Word.Document.12" r:id="rId3">'
           "<p:embed/></p:oleObj></a:graphicData></a:graphic></p:graphicFrame>")
    authors = f"{OFFICE_DOC}.presentationml.commentAuthors+xml"
    return {
        "pptx-picture-exif": (lambda m: pptx(picture, [("rId2", "image", "../media/image1.jpeg")],
                                             {"ppt/media/image1.jpeg": photo(m)}),
                              {"gps", "author"}),
        "pptx-picture-described-by-its-path": (lambda m: pptx(
            f'<p:pic><p:nvPicPr><p:cNvPr id="4" name="Image 3" descr="/home/{m}/place.jpg"/>'
            '</p:nvPicPr><p:blipFill><a:blip r:embed="rId2"/></p:blipFill></p:pic>',
            [("rId2", "image", "../media/image1.png")],
            {"ppt/media/image1.png": photo("copie", "PNG")}), {"paths"}),
        "pptx-ole-object": (lambda m: pptx(ole, [("rId3", "oleObject",
                                                  "../embeddings/oleObject1.bin")],
                                           {"ppt/embeddings/oleObject1.bin": ole_object(m)}),
                            {"embedded_objects"}),
        "pptx-comment-author": (lambda m: pptx(parts={
            "ppt/commentAuthors.xml": (f'{HEAD}<p:cmAuthorLst xmlns:p="{P_NS}"><p:cmAuthor '
                                       f'id="0" name="{m}" initials="VM" lastIdx="1" '
                                       'clrIdx="0"/></p:cmAuthorLst>')},
            overrides={"ppt/commentAuthors.xml": authors},
            presentation_rels=[("rId4", "commentAuthors", "commentAuthors.xml")]), {"author"}),
        "pptx-comment-date": (lambda m: pptx(parts={
            "ppt/comments/comment1.xml": (f'{HEAD}<p:cmLst xmlns:p="{P_NS}"><p:cm authorId="0" '
                                          f'dt="{DATE}" idx="1"><p:pos x="10" y="10"/><p:text>'
                                          "à vérifier</p:text></p:cm></p:cmLst>")}),
            {"dates"}),
        "pptx-modern-comment": (lambda m: pptx(parts={
            "ppt/authors.xml": (f'{HEAD}<p188:authorLst xmlns:p188="http://schemas.microsoft.com'
                                f'/office/powerpoint/2018/8/main"><p188:author id="{{1}}" '
                                f'name="{m}" initials="VM" userId="{m}@mairie.example" '
                                'providerId="AD"/></p188:authorLst>'),
            "ppt/comments/modernComment_1.xml": (
                f'{HEAD}<p188:cmLst xmlns:p188="http://schemas.microsoft.com/office/powerpoint/'
                f'2018/8/main"><p188:cm id="{{2}}" authorId="{{1}}" created="{DATE}">'
                "<p188:txBody/></p188:cm></p188:cmLst>")}), {"author", "dates"}),
    }


# OpenDocument packages. -----------------------------------------------------------------------

ODF_TYPES = {"odt": ("text", "text"), "ods": ("spreadsheet", "spreadsheet"),
             "odp": ("presentation", "presentation")}


def odf(kind: str = "odt", body: str = "", meta: str = "", settings: str = "",
        files: dict[str, bytes] | None = None) -> bytes:
    """An OpenDocument file: `body` in its office:text (or spreadsheet, presentation)."""
    media, element = ODF_TYPES[kind]
    namespaces = (f'xmlns:office="{ODF}:office:1.0" xmlns:text="{ODF}:text:1.0" '
                  f'xmlns:draw="{ODF}:drawing:1.0" xmlns:meta="{ODF}:meta:1.0" '
                  f'xmlns:config="{ODF}:config:1.0" xmlns:dc="{DC_NS}" xmlns:xlink="{XLINK}" '
                  'office:version="1.3"')
    parts = {
        "content.xml": (f'<?xml version="1.0" encoding="UTF-8"?><office:document-content '
                        f"{namespaces}><office:body><office:{element}><text:p>Relevé des caméras."
                        f"</text:p>{body}</office:{element}></office:body>"
                        "</office:document-content>"),
        "meta.xml": (f'<?xml version="1.0" encoding="UTF-8"?><office:document-meta {namespaces}>'
                     f"<office:meta>{meta}</office:meta></office:document-meta>"),
        "settings.xml": (f'<?xml version="1.0" encoding="UTF-8"?><office:document-settings '
                         f"{namespaces}><office:settings><config:config-item-set "
                         f'config:name="ooo:configuration-settings">{settings}'
                         "</config:config-item-set></office:settings></office:document-settings>"),
        **(files or {})}
    return odf_package(f"application/vnd.oasis.opendocument.{media}", parts)


def svm_frame(path: str) -> str:
    return f'<draw:frame><draw:image xlink:href="{path}"/></draw:frame>'


def object_frame() -> str:
    """A chart or formula object, and the picture shown in its place (no extension)."""
    return ('<draw:frame><draw:object xlink:href="./Object 1"/><draw:image xlink:href="./'
            'ObjectReplacements/Object 1"/></draw:frame>')


def config_item(name: str, value: str) -> str:
    return f'<config:config-item config:name="{name}" config:type="string">{value}' \
           "</config:config-item>"


def annotation(author: str = "Léa", date: str = "2025-01-01T00:00:00") -> str:
    return (f"<text:p>Note<office:annotation><dc:creator>{author}</dc:creator><dc:date>{date}"
            "</dc:date><text:p>à vérifier</text:p></office:annotation></text:p>")


def odf_cases() -> dict[str, tuple[Callable[[str], bytes], set[str]]]:
    image = '<draw:frame><draw:image xlink:href="Pictures/photo.jpg"/></draw:frame>'
    return {
        "odt-picture-exif": (lambda m: odf(body=image, files={"Pictures/photo.jpg": photo(m)}),
                             {"gps", "author"}),
        "ods-picture-exif": (lambda m: odf("ods", files={"Pictures/photo.jpg": photo(m)}),
                             {"gps", "author"}),
        "odp-picture-exif": (lambda m: odf("odp", files={"Pictures/photo.jpg": photo(m)}),
                             {"gps", "author"}),
        "odt-file-link": (lambda m: odf(body=f'<text:p><text:a xlink:href="file:///home/{m}/'
                                        'notes.odt">notes</text:a></text:p>'),
                          {"external_links"}),
        "odt-relative-link": (lambda m: odf(body=f'<text:p><text:a xlink:href="../../Users/{m}/'
                                            'notes.odt">notes</text:a></text:p>'),
                              {"external_links"}),
        "odt-linked-picture": (lambda m: odf(body='<draw:frame><draw:image xlink:href="'
                                             f'file:///C:/Users/{m}/photo.jpg"/></draw:frame>'),
                               {"external_links"}),
        "odt-settings-printer": (lambda m: odf(settings=config_item("PrinterName", m)),
                                 {"printer"}),
        "odt-settings-data-source": (
            lambda m: odf(settings=config_item("CurrentDatabaseDataSource", m)), {"settings"}),
        "odt-meta-author": (lambda m: odf(meta=f"<meta:initial-creator>{m}"
                                          "</meta:initial-creator>"), {"author"}),
        "ods-meta-author": (lambda m: odf("ods", meta=f"<dc:creator>{m}</dc:creator>"),
                            {"author"}),
        "odt-annotation-author": (lambda m: odf(body=annotation(author=m)), {"author"}),
        "odp-annotation-author": (lambda m: odf("odp", body=annotation(author=m)), {"author"}),
        "odt-annotation-date": (lambda m: odf(body=annotation(date=DATE[:-1])), {"dates"}),
        "odt-tracked-change": (
            lambda m: odf(body="<text:tracked-changes><text:changed-region text:id=\"c1\">"
                          f"<text:insertion><office:change-info><dc:creator>{m}</dc:creator>"
                          f"<dc:date>{DATE[:-1]}</dc:date></office:change-info></text:insertion>"
                          "</text:changed-region></text:tracked-changes>"), {"author", "dates"}),
        "odt-author-field": (lambda m: odf(body=f"<text:p><text:author-name>{m}"
                                           "</text:author-name></text:p>"), {"author"}),
        "odt-dde-source": (lambda m: odf(body=(
            '<text:dde-connection-decls><text:dde-connection-decl office:name="budget" '
            f'office:dde-application="soffice" office:dde-topic="/home/{m}/budget.ods" '
            'office:dde-item="A1"/></text:dde-connection-decls>')), {"external_links"}),
        "odt-creation-date-field": (lambda m: odf(body=(
            f'<text:p><text:creation-date text:date-value="{DATE[:-1]}">13/07/2031'
            "</text:creation-date></text:p>")), {"dates"}),
        "odt-ole-object": (lambda m: odf(body='<draw:frame><draw:object-ole xlink:href="./Object '
                                         '1"/></draw:frame>', files={"Object 1": ole_object(m)}),
                           {"embedded_objects"}),
        "odt-svm-picture": (lambda m: odf(body=svm_frame("Pictures/image1.svm"),
                                          files={"Pictures/image1.svm": svm(m)}),
                            {"comments", "embedded_files"}),
        # ObjectReplacements/ holds what an application shows for an embedded object, without
        # an extension: SVM, EMF or WMF, told apart only by their content.
        "odt-object-replacement-svm": (lambda m: odf(body=object_frame(), files={
            "ObjectReplacements/Object 1": svm(m)}), {"comments", "embedded_files"}),
        "odt-object-replacement-emf": (lambda m: odf(body=object_frame(), files={
            "ObjectReplacements/Object 1": emf(m)}), {"comments", "software", "exif"}),
        "odp-object-replacement-wmf": (lambda m: odf("odp", body=object_frame(), files={
            "ObjectReplacements/Object 1": wmf(m, placeable=False)}), {"comments"}),
        "ods-object-replacement-gzipped-emf": (lambda m: odf("ods", body=object_frame(), files={
            "ObjectReplacements/Object 1": gzip.compress(emf(m), 0, mtime=0)}),
            {"unreadable_pictures"}),
        "odt-object-replacement-old-svm": (lambda m: odf(body=object_frame(), files={
            "ObjectReplacements/Object 1": b"SVGDI\x10\x00" + m.encode() * 4}),
            {"unreadable_pictures"}),
        "odt-old-svm-picture": (lambda m: odf(body=svm_frame("Pictures/old.svm"), files={
            "Pictures/old.svm": b"SVGDI\x10\x00" + m.encode("utf-16-le") * 4}),
            {"unreadable_pictures"}),
    }


# PDFs. ----------------------------------------------------------------------------------------

def pdf(change: Callable[[pikepdf.Pdf], None]) -> bytes:
    """A one-page PDF saying "Bonjour Metz", changed by `change`, saved compressed."""
    document = pikepdf.new()
    document.add_blank_page(page_size=(595, 842))
    page = document.pages[0]
    page.Resources = Dictionary(Font=Dictionary(F1=Dictionary(
        Type=Name.Font, Subtype=Name.Type1, BaseFont=Name.Helvetica)))
    page.Contents = document.make_stream(b"BT /F1 24 Tf 72 700 Td (Bonjour Metz) Tj ET")
    change(document)
    out = io.BytesIO()
    document.save(out, compress_streams=True,
                  object_stream_mode=pikepdf.ObjectStreamMode.generate)
    return out.getvalue()


def annotate(document: pikepdf.Pdf, **fields: Any) -> Dictionary:
    note = document.make_indirect(Dictionary(Type=Name.Annot, Subtype=Name.Text,
                                             Rect=[72, 600, 92, 620],
                                             Contents=pikepdf.String("à vérifier"), **fields))
    document.pages[0].Annots = document.make_indirect(Array([note]))
    return note


def popup(mark: str) -> Callable[[pikepdf.Pdf], None]:
    def change(document: pikepdf.Pdf) -> None:
        note = annotate(document)
        window = document.make_indirect(Dictionary(Type=Name.Annot, Subtype=Name.Popup,
                                                   Rect=[100, 600, 300, 700], Parent=note,
                                                   T=pikepdf.String(mark)))
        note.Popup = window
        document.pages[0].Annots.append(window)
    return change


def stamped(mark: str) -> Callable[[pikepdf.Pdf], None]:
    """A stamp whose look, drawn by the author's reader, says who approved it."""
    def change(document: pikepdf.Pdf) -> None:
        look = document.make_stream(
            b"BT /Helv 9 Tf 2 6 Td (Approuve par " + mark.encode() + b") Tj ET",
            Type=Name.XObject, Subtype=Name.Form, BBox=[0, 0, 200, 20],
            Resources=Dictionary(Font=Dictionary(Helv=Dictionary(
                Type=Name.Font, Subtype=Name.Type1, BaseFont=Name.Helvetica))))
        stamp = document.make_indirect(Dictionary(
            Type=Name.Annot, Subtype=Name.Stamp, Rect=[72, 500, 272, 520], Name=Name.Approved,
            T=pikepdf.String(mark), AP=Dictionary(N=look)))
        document.pages[0].Annots = document.make_indirect(Array([stamp]))
    return change


def signed(**signature: str) -> Callable[[pikepdf.Pdf], None]:
    """A signature field whose value names the signer (and holds a certificate)."""
    def change(document: pikepdf.Pdf) -> None:
        value = Dictionary(Type=Name.Sig, Filter=Name("/Adobe.PPKLite"),
                           SubFilter=Name("/adbe.pkcs7.detached"), ByteRange=[0, 10, 20, 30],
                           Contents=pikepdf.String(b"\x30\x82certificate"),
                           M=pikepdf.String("D:20250101000000Z"),
                           **{key: pikepdf.String(text) for key, text in signature.items()})
        field = document.make_indirect(Dictionary(
            Type=Name.Annot, Subtype=Name.Widget, FT=Name.Sig, T=pikepdf.String("Signature1"),
            Rect=[72, 100, 272, 150], F=4, P=document.pages[0].obj,
            V=document.make_indirect(value)))
        document.pages[0].Annots = document.make_indirect(Array([field]))
        document.Root.AcroForm = Dictionary(Fields=[field], SigFlags=3)
    return change


def picture(data: bytes, filters: list[Name], **extra: Any) -> Callable[[pikepdf.Pdf], None]:
    """A picture drawn on the page, its bytes wrapped in `filters` (outermost first)."""
    def change(document: pikepdf.Pdf) -> None:
        encoded = data
        if filters[0] == Name.FlateDecode:
            encoded = zlib.compress(data)
        image = pikepdf.Stream(document, encoded)
        image.Type, image.Subtype = Name.XObject, Name.Image
        image.Width, image.Height = (64, 48) if filters[-1] == Name.DCTDecode else (32, 24)
        image.ColorSpace, image.BitsPerComponent = Name.DeviceRGB, 8
        image.Filter = Array(filters) if len(filters) > 1 else filters[0]
        for key, value in extra.items():
            image[f"/{key}"] = value
        page = document.pages[0]
        page.Resources.XObject = Dictionary(Im1=document.make_indirect(image))
        page.Contents = document.make_stream(
            b"BT /F1 24 Tf 72 700 Td (Bonjour Metz) Tj ET q 64 0 0 48 72 72 cm /Im1 Do Q")
    return change


def inline_picture(data: bytes) -> Callable[[pikepdf.Pdf], None]:
    """A JPEG written inside the page's drawing instructions (BI ... ID ... EI)."""
    def change(document: pikepdf.Pdf) -> None:
        document.pages[0].Contents = document.make_stream(
            b"q 64 0 0 48 72 72 cm BI /W 64 /H 48 /CS /RGB /BPC 8 /F /DCT ID\n" + data
            + b"\nEI Q")
    return change


def inline_form(document: pikepdf.Pdf, data: bytes) -> pikepdf.Stream:
    """A drawing (form XObject) without resources of its own, holding an inline JPEG."""
    return document.make_indirect(document.make_stream(
        b"q 64 0 0 48 0 0 cm BI /W 64 /H 48 /CS /RGB /BPC 8 /F /DCT ID\n" + data + b"\nEI Q",
        Type=Name.XObject, Subtype=Name.Form, BBox=[0, 0, 64, 48]))


def inline_in_form(data: bytes) -> Callable[[pikepdf.Pdf], None]:
    def change(document: pikepdf.Pdf) -> None:
        page = document.pages[0]
        page.Resources.XObject = Dictionary(Fm1=inline_form(document, data))
        page.Contents = document.make_stream(b"q 1 0 0 1 72 72 cm /Fm1 Do Q")
    return change


def jpeg_with_tail(mark: str) -> bytes:
    """A plain JPEG with a comment after its pixels and bytes after its end."""
    out = io.BytesIO()
    Image.new("RGB", (64, 48), "green").save(out, "JPEG")
    data = out.getvalue()
    comment = mark.encode()
    segment = b"\xff\xfe" + (len(comment) + 2).to_bytes(2, "big") + comment
    return data[:-2] + segment + b"\xff\xd9" + b"after the end " + comment


def xmp_stream(document: pikepdf.Pdf, mark: str) -> pikepdf.Stream:
    return document.make_stream(
        f'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/'
        f'22-rdf-syntax-ns#"><rdf:Description xmlns:dc="{DC_NS}"><dc:creator>{mark}'
        "</dc:creator></rdf:Description></rdf:RDF></x:xmpmeta>".encode(),
        Type=Name.Metadata, Subtype=Name.XML)


def set_info(mark: str) -> Callable[[pikepdf.Pdf], None]:
    def change(document: pikepdf.Pdf) -> None:
        document.docinfo["/Author"] = mark
    return change


def page_piece(mark: str) -> Callable[[pikepdf.Pdf], None]:
    def change(document: pikepdf.Pdf) -> None:
        document.pages[0].PieceInfo = Dictionary(Illustrator=Dictionary(
            LastModified=pikepdf.String("D:20310713112233Z"), Private=pikepdf.String(mark)))
        document.pages[0].LastModified = pikepdf.String("D:20310713112233Z")
    return change


def root_xmp(mark: str) -> Callable[[pikepdf.Pdf], None]:
    def change(document: pikepdf.Pdf) -> None:
        document.Root.Metadata = xmp_stream(document, mark)
    return change


def image_xmp(mark: str) -> Callable[[pikepdf.Pdf], None]:
    def change(document: pikepdf.Pdf) -> None:
        out = io.BytesIO()
        Image.new("RGB", (64, 48), "green").save(out, "JPEG")
        picture(out.getvalue(), [Name.DCTDecode])(document)
        document.pages[0].Resources.XObject.Im1.Metadata = xmp_stream(document, mark)
    return change


def pdf_cases() -> dict[str, tuple[Callable[[str], bytes], set[str]]]:
    return {
        "pdf-annotation-author": (lambda m: pdf(lambda d: annotate(d, T=pikepdf.String(m))),
                                  {"author"}),
        "pdf-annotation-dates": (
            lambda m: pdf(lambda d: annotate(d, M=pikepdf.String("D:20310713112233Z"),
                                             CreationDate=pikepdf.String("D:20310713112233Z"))),
            {"dates"}),
        "pdf-popup-author": (lambda m: pdf(popup(m)), {"author"}),
        "pdf-annotation-appearance": (lambda m: pdf(stamped(m)),
                                      {"author", "annotation_appearances"}),
        "pdf-signature-name": (lambda m: pdf(signed(Name=m)), {"signatures"}),
        "pdf-signature-location": (lambda m: pdf(signed(Location=m)), {"signatures"}),
        "pdf-signature-contact": (lambda m: pdf(signed(ContactInfo=f"{m}@mairie.example")),
                                  {"signatures"}),
        "pdf-signature-reason": (lambda m: pdf(signed(Reason=f"Approuvé par {m}")),
                                 {"signatures"}),
        "pdf-jpeg-picture": (lambda m: pdf(picture(photo(m), [Name.DCTDecode])),
                             {"gps", "author"}),
        "pdf-flate-jpeg-picture": (
            lambda m: pdf(picture(photo(m), [Name.FlateDecode, Name.DCTDecode])),
            {"gps", "author"}),
        "pdf-jpeg-comment-after-pixels": (
            lambda m: pdf(picture(jpeg_with_tail(m), [Name.DCTDecode])), {"exif"}),
        "pdf-inline-jpeg-picture": (lambda m: pdf(inline_picture(photo(m))), {"gps", "author"}),
        "pdf-inline-jpeg-in-a-drawing": (lambda m: pdf(inline_in_form(photo(m))),
                                         {"gps", "author"}),
        "pdf-jpeg2000-picture": (lambda m: pdf(picture(jp2_with_boxes(m), [Name.JPXDecode])),
                                 {"jpeg2000"}),
        "pdf-flate-jpeg2000-picture": (
            lambda m: pdf(picture(jp2_with_boxes(m), [Name.FlateDecode, Name.JPXDecode])),
            {"jpeg2000"}),
        "pdf-picture-xmp": (lambda m: pdf(image_xmp(m)), {"xmp"}),
        "pdf-page-piece": (lambda m: pdf(page_piece(m)), {"software", "dates"}),
        "pdf-document-info": (lambda m: pdf(set_info(m)), {"author"}),
        "pdf-document-xmp": (lambda m: pdf(root_xmp(m)), {"xmp"}),
    }


@dataclass(frozen=True)
class Case:
    name: str
    make: Callable[[str], bytes]
    codes: set[str]  # what the uploader must be told was removed

    @property
    def extension(self) -> str:
        return self.name.split("-")[0]

    @property
    def needles(self) -> list[bytes]:
        """What must not be found anywhere in the served file, taken apart."""
        mark = marker(self.name)
        found = [mark.encode(), mark.lower().encode(), mark.encode("utf-16-le"),
                 mark.encode("utf-16-be")]
        if "date" in self.name or "dates" in self.codes:
            found += [needle.encode() for needle in DATE_NEEDLES]
        return found


CASES = [Case(name, make, codes) for cases in (docx_cases(), xlsx_cases(), pptx_cases(),
                                                odf_cases(), pdf_cases())
         for name, (make, codes) in cases.items()]


# Taking the served file apart. ----------------------------------------------------------------

DATA_URI = re.compile(rb"data:image/[a-z]+;base64,([A-Za-z0-9+/=]+)")


def office_pieces(data: bytes, prefix: str = "") -> dict[str, bytes]:
    """Every entry of a package (and of packages inside it), decompressed."""
    pieces = {}
    with zipfile.ZipFile(io.BytesIO(data)) as package:
        assert package.testzip() is None
        for name in package.namelist():
            content = package.read(name)
            pieces[prefix + name] = content
            for number, encoded in enumerate(DATA_URI.findall(content)):
                pieces[f"{prefix}{name}#picture{number}"] = base64.b64decode(encoded)
            if content.startswith(b"PK\x03\x04"):
                pieces |= office_pieces(content, f"{prefix}{name}!")
    return pieces


def pdf_pieces(data: bytes) -> dict[str, bytes]:
    """Every object of a PDF: the whole file uncompressed, each stream raw and decoded."""
    pieces = {}
    with pikepdf.open(io.BytesIO(data)) as document:
        plain = io.BytesIO()
        document.save(plain, qdf=True, compress_streams=False,
                      stream_decode_level=pikepdf.StreamDecodeLevel.generalized,
                      object_stream_mode=pikepdf.ObjectStreamMode.disable)
        pieces["uncompressed.pdf"] = plain.getvalue()
        for number, obj in enumerate(document.objects):
            if isinstance(obj, pikepdf.Stream):
                pieces[f"stream{number}.raw"] = obj.read_raw_bytes()
                pieces[f"stream{number}.picture"] = unwrapped(document, obj)
                with contextlib.suppress(pikepdf.PdfError):  # a picture qpdf cannot decode
                    pieces[f"stream{number}.decoded"] = obj.read_bytes(
                        decode_level=pikepdf.StreamDecodeLevel.all)
            if isinstance(obj, pikepdf.Dictionary | pikepdf.Stream | pikepdf.Array):
                pieces[f"object{number}.txt"] = obj.unparse()
    return pieces


def unwrapped(document: pikepdf.Pdf, stream: pikepdf.Stream) -> bytes:
    """A stream's bytes with every filter decoded but the last (a JPEG stays a JPEG file)."""
    filters = stream.get("/Filter")
    chain = list(filters) if isinstance(filters, Array) else [filters] if filters else []
    if len(chain) < 2:
        return stream.read_raw_bytes()
    outer = pikepdf.Stream(document, stream.read_raw_bytes())
    outer.Filter = Array(chain[:-1])
    return outer.read_bytes()


def exiftool_all(folder: Path) -> list[dict[str, Any]]:
    result = subprocess.run([EXIFTOOL, "-j", "-a", "-G1", "-ee", "-r", str(folder)],
                            capture_output=True, text=True)
    return json.loads(result.stdout or "[]")


def traces(pieces: dict[str, bytes], needles: list[bytes], folder: Path) -> list[str]:
    """Where a needle is still found: raw bytes of each piece, then what exiftool reads."""
    found = [f"{name}: {needle!r}" for name, data in pieces.items() for needle in needles
             if needle in data]
    folder.mkdir()
    for number, data in enumerate(pieces.values()):
        (folder / f"piece{number}").write_bytes(data)
    text_needles = [n.decode("latin-1") for n in needles if n.isascii()]
    for meta in exiftool_all(folder):
        shown = json.dumps(meta, ensure_ascii=False)
        found += [f"exiftool {meta['SourceFile']}: {needle}" for needle in text_needles
                  if needle in shown]
        found += [f"exiftool {meta['SourceFile']}: {tag}" for tag in meta if "GPS" in tag]
    return found


def package_problems(data: bytes) -> list[str]:
    """What would make an office application refuse or repair the package."""
    problems = []
    with zipfile.ZipFile(io.BytesIO(data)) as package:
        names = set(package.namelist())
        parsed = {name: etree.fromstring(package.read(name)) for name in names
                  if name.endswith((".xml", ".rels")) and package.getinfo(name).file_size}
    if "mimetype" in names:
        return _odf_problems(names, parsed)
    types = parsed["[Content_Types].xml"]
    overrides = {el.get("PartName").lstrip("/") for el in types if el.get("PartName")}
    defaults = {el.get("Extension").lower() for el in types if el.get("Extension")}
    problems += [f"content type for a missing part {part}" for part in overrides - names]
    problems += [f"no content type for {name}" for name in names
                 if name not in overrides and name.rpartition(".")[2].lower() not in defaults
                 and name != "[Content_Types].xml"]
    ids: dict[str, set[str]] = {}
    for name, root in parsed.items():
        if not name.endswith(".rels"):
            continue
        source = posixpath.join(posixpath.dirname(posixpath.dirname(name)),
                                posixpath.basename(name).removesuffix(".rels"))
        if source and source not in names:
            problems.append(f"relationships of a missing part {source}")
        ids[source] = {rel.get("Id") for rel in root}
        for rel in root:
            target = rel.get("Target")
            if rel.get("TargetMode") != "External" and posixpath.normpath(posixpath.join(
                    posixpath.dirname(source), target)) not in names:
                problems.append(f"{name} points to a missing part {target}")
    for name, root in parsed.items():
        for element in root.iter():
            for key, value in element.attrib.items():
                if key.startswith(f"{{{R_NS}}}") and value not in ids.get(name, set()):
                    problems.append(f"{name} refers to a missing relationship {value}")
    return problems


def _odf_problems(names: set[str], parsed: dict[str, etree._Element]) -> list[str]:
    manifest = parsed["META-INF/manifest.xml"]
    listed = {el.get(f"{{{ODF}:manifest:1.0}}full-path") for el in manifest}
    return [f"manifest lists a missing entry {path}" for path in listed - names - {"/"}
            if not (path.endswith("/") and any(name.startswith(path) for name in names))]


# The cases. -----------------------------------------------------------------------------------

def labels_for(codes: set[str]) -> set[str]:
    """What the uploader reads (French by default) for each code."""
    return {CATALOGS["fr"].gettext(REMOVED_LABELS[code]) for code in codes}


@pytest.fixture
async def lea(forum):
    user = await forum.user("lea")
    browser = await forum.visitor()
    await log_in(browser, "lea")
    return {"token": await forum.token(user), "browser": browser}


async def post_file(forum, lea, name: str, data: bytes, status: int) -> dict[str, Any]:
    """POST /api/v1/uploads as Léa's client does; the answer's JSON, its status checked."""
    form = aiohttp.FormData()
    form.add_field("file", data, filename=name, content_type="application/octet-stream")
    response = await forum.client.post("/api/v1/uploads", data=form,
                                       headers={"Authorization": f"Bearer {lea['token']}"})
    assert response.status == status, await response.text()
    return await response.json()


async def send(forum, lea, name: str, data: bytes) -> dict[str, Any]:
    return await post_file(forum, lea, name, data, 201)


def test_every_case_plants_its_marker_where_exiftool_or_a_search_finds_it(tmp_path):
    """The corpus is worth something only if each file, as sent, shows its marker."""
    for case in CASES:
        data = case.make(marker(case.name))
        pieces = pdf_pieces(data) if case.extension == "pdf" else office_pieces(data)
        assert any(needle in piece for piece in pieces.values() for needle in case.needles), (
            case.name)
        if case.extension != "pdf":
            assert package_problems(data) == [], case.name


@pytest.mark.parametrize("case", CASES, ids=[case.name for case in CASES])
async def test_served_file_keeps_no_trace_and_the_uploader_is_told(forum, lea, case, tmp_path):
    data = case.make(marker(case.name))
    body = await send(forum, lea, f"releve.{case.extension}", data)
    served = await lea["browser"].get(body["url"])
    assert served.status == 200
    content = await served.read()
    if case.extension == "pdf":
        pieces = pdf_pieces(content)
        with pikepdf.open(io.BytesIO(content)) as document:
            assert document.check_pdf_syntax() == [] and len(document.pages) == 1
            for image in document.pages[0].images.values():
                pikepdf.PdfImage(image).as_pil_image().load()  # still a picture
        assert body["thumbnail_url"]  # PDFium drew the first page
    else:
        pieces = office_pieces(content)
        assert package_problems(content) == []
    assert traces({"served": content, **pieces}, case.needles, tmp_path / "pieces") == []
    assert labels_for(case.codes) <= set(body["removed"])


# What cannot be cleaned is refused, and the page says what was removed. ----------------------

async def refusal(forum, lea, name: str, data: bytes) -> str:
    return (await post_file(forum, lea, name, data, 422))["error"]["message"]


@pytest.mark.parametrize("filters, data", [
    ([Name.JPXDecode], b"\x00\x00\x00\x0cjP  \r\n\x87\nnot a picture"),
    ([Name.CCITTFaxDecode, Name.DCTDecode], photo("x")),
    ([Name.DCTDecode], b"\xff\xd8\xff\xe1\xff\xffcut short"),
], ids=["broken-jpeg2000", "jpeg-under-a-fax-filter", "broken-jpeg"])
async def test_pdf_picture_that_cannot_be_cleaned_refuses_the_file(forum, lea, filters, data):
    message = await refusal(forum, lea, "releve.pdf", pdf(picture(data, filters)))
    assert message == CATALOGS["fr"].gettext(UNREADABLE_PICTURE)


async def test_pdf_annotation_drawn_with_an_inline_photo_is_refused(forum, lea):
    def change(document: pikepdf.Pdf) -> None:
        annotate(document, AP=Dictionary(N=inline_form(document, photo("x"))))

    message = await refusal(forum, lea, "releve.pdf", pdf(change))
    assert message == CATALOGS["fr"].gettext(UNREADABLE_PICTURE)


async def test_picture_too_large_inside_a_document_refuses_it(forum, lea):
    data = docx(blip("rId5"), [("rId5", "image", "media/image1.png")],
                {"word/media/image1.png": png_declaring(20_000, 20_000)})
    message = await refusal(forum, lea, "releve.docx", data)
    assert "20000" in message.replace("\u202f", "").replace(" ", "")


async def test_reply_form_tells_which_parts_of_a_document_were_removed(forum, client):
    lea = await forum.user("lea")
    thread_id, _ = await forum.thread(await forum.board("Metz"), lea)
    await log_in(client, "lea")
    token = await csrf_token(client, f"/t/{thread_id}/reply")
    make, _codes = docx_cases()["docx-ole-object"]
    response = await client.post(f"/t/{thread_id}/reply", data=post_form(
        token, "Le document.", "preview", [("releve.docx", make("secret"))]))
    page = await response.text()
    assert response.status == 200, page
    assert labels_for({"embedded_objects"}).pop() in page.replace("&#39;", "'")


async def test_picture_inside_a_document_keeps_its_orientation_alone(forum, lea):
    """The document sized the picture's frame as the application showed it: turned."""
    exif = Image.Exif()
    exif[0x0112], exif[0x013B] = 6, marker("orientation")
    sent = io.BytesIO()
    Image.new("RGB", (64, 48), "red").save(sent, "JPEG", exif=exif)
    data = docx(blip("rId5"), [("rId5", "image", "media/image1.jpeg")],
                {"word/media/image1.jpeg": sent.getvalue()})
    body = await send(forum, lea, "releve.docx", data)
    served = await (await lea["browser"].get(body["url"])).read()
    with zipfile.ZipFile(io.BytesIO(served)) as package:
        picture_bytes = package.read("word/media/image1.jpeg")
    with Image.open(io.BytesIO(picture_bytes)) as img:
        assert img.size == (64, 48) and dict(img.getexif()) == {0x0112: 6}
    assert marker("orientation").encode() not in picture_bytes


@pytest.mark.parametrize("make", [emf, wmf], ids=["emf", "wmf"])
def test_a_cleaned_metafile_still_holds_together(make):
    """Sizes written again, drawing records kept: Pillow reads it, a second pass finds nothing."""
    removed: set[str] = set()
    cleaned = clean_metafile("image1." + make.__name__, make("Vigiemark"), removed, 10**6)
    assert b"Vigiemark" not in cleaned and "comments" in removed
    with Image.open(io.BytesIO(cleaned)) as picture:
        assert picture.format == "WMF" and picture.size[0] > 0
    if make is emf:
        assert struct.unpack_from("<I", cleaned, 48)[0] == len(cleaned)
        assert struct.pack("<II", 43, 24) in cleaned  # the rectangle
    else:
        assert struct.unpack_from("<I", cleaned, 22 + 6)[0] * 2 == len(cleaned) - 22
        assert struct.pack("<IH", 7, 0x041B) in cleaned
    again: set[str] = set()
    assert clean_metafile("image1." + make.__name__, cleaned, again, 10**6) == cleaned
    assert again == set()


def test_a_cleaned_svm_still_holds_together():
    """Comments and PostScript gone, the count written again, a nested metafile cleaned too."""
    removed: set[str] = set()
    cleaned = clean_metafile("Object 1", svm("Vigiemark"), removed, 10**6)
    assert b"Vigiemark" not in cleaned and removed == {"comments", "embedded_files"}
    actions = svm_actions(cleaned)
    assert [kind for kind, _ in actions] == [147, 103]
    nested = actions[0][1]
    assert [kind for kind, _ in svm_actions(nested)] == [103]
    assert nested.endswith(struct.pack("<4i", 0, 0, 60, 44) + b"\x00" * 12)
    again: set[str] = set()
    assert clean_metafile("Object 1", cleaned, again, 10**6) == cleaned and again == set()


@pytest.mark.parametrize("data", [
    svm("x")[:-3],  # cut short
    svm("x", [svm_action(600, b"Vigiemark")]),  # an action no LibreOffice writes
    svm_file([svm_action(147, svm_file([svm_action(147, b"VCLMTF")]))]),  # a broken nesting
], ids=["cut-short", "unknown-action", "broken-nesting"])
async def test_an_svm_that_does_not_hold_together_refuses_the_document(forum, lea, data):
    document = odf(body=svm_frame("Pictures/image1.svm"), files={"Pictures/image1.svm": data})
    assert await refusal(forum, lea, "releve.odt", document) == CATALOGS["fr"].gettext(DAMAGED)


async def test_a_metafile_cut_short_refuses_the_document(forum, lea):
    data = docx(blip("rId5"), [("rId5", "image", "media/image1.emf")],
                {"word/media/image1.emf": emf("x")[:-12]}, {"word/media/image1.emf": "image/x-emf"})
    assert await refusal(forum, lea, "releve.docx", data) == CATALOGS["fr"].gettext(DAMAGED)


def test_a_vml_comment_box_keeps_its_shape_once_cleaned():
    """Excel's <br> is closed, not "recovered" into a tree where the box's data moved."""
    removed: set[str] = set()
    cleaned = ooxml.vml(vml_note('<v:imagedata src="file:///C:/Users/lea/p.jpg"/>').encode(),
                        "xl/drawings/vmlDrawing1.vml", ooxml.Plan(), removed)
    shape = etree.fromstring(cleaned)[0]
    assert [etree.QName(child).localname for child in shape] == [
        "imagedata", "textbox", "ClientData"]
    assert b"<br/>demain" in cleaned and removed == {"external_links"}
