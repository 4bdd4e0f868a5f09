"""Attachments: real files made here (Pillow, pikepdf, zipfile), sent to the real server, and the
stored copies read back with exiftool. Every hostile file is refused and leaves nothing on disk.
"""
from __future__ import annotations

import asyncio
import io
import json
import re
import struct
import subprocess
import zipfile
import zlib
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pikepdf
import pytest
from aiohttp.test_utils import TestClient
from PIL import Image, ImageCms, PngImagePlugin

from forum import keys
from forum.app import create_app
from forum.config import MB, Config
from forum.models import posts
from forum.uploads import names, office
from forum.uploads.kinds import KINDS, Refused
from tests.conftest import Forum, csrf_token, log_in
from tests.storages import STORAGES, storage_url, stored_copy, stored_keys

pytestmark = pytest.mark.both_stores
POSTGRESQL_STORAGES = ("bucket",)  # a PostgreSQL site's servers share their files in a bucket

EXIFTOOL = "/usr/bin/exiftool"
V1 = "/api/v1"
SECRET_NAME = "Jean Secret"
NEUTRAL_ZIP_DATE = "1980:01:01 00:00:00"  # what every entry of a cleaned package says
CAMERA = "EOS 5D Mark IV"
# Tags exiftool shows when a file still tells where, with what or by whom it was made.
LEAKING_TAG = re.compile(
    r"GPS|Make$|Model$|Serial|Author|Creator|Producer|LastModifiedBy|Company|Manager|Comment|"
    r"^XMP|Artist|Copyright|DateTimeOriginal|CreateDate|ModifyDate|Software|Keywords|Title$|"
    r"Subject$|Description$|OwnerName|ProfileDescription|Template|Application", re.IGNORECASE)


# Files, made here with the metadata we want to see removed. -----------------------------------

def jpeg_with_gps(size: tuple[int, int] = (400, 300)) -> bytes:
    """A photo as a phone writes it: GPS, camera, dates, serial number, comment, XMP, ICC; and
    turned: EXIF orientation 6 (the pixels are stored 90° from how the photo looks)."""
    img = Image.new("RGB", size, "red")
    img.paste((0, 0, 255), (0, 0, size[0] // 2, size[1]))
    exif = Image.Exif()
    exif[0x010F], exif[0x0110] = "Canon", CAMERA
    exif[0x0132], exif[0x013B], exif[0x0112] = "2025:06:01 10:00:00", SECRET_NAME, 6
    exif[0x8825] = {1: "N", 2: (48.0, 51.0, 29.0), 3: "E", 4: (2.0, 17.0, 40.0)}
    exif.get_ifd(0x8769)[0xA431] = "SN-123456"  # body serial number
    exif.get_ifd(0x8769)[0x9003] = "2025:06:01 10:00:00"
    xmp = (b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/'
           b'02/22-rdf-syntax-ns#"><rdf:Description xmlns:dc="http://purl.org/dc/elements/1.1/">'
           b"<dc:creator>" + SECRET_NAME.encode() + b"</dc:creator></rdf:Description></rdf:RDF>"
           b"</x:xmpmeta>")
    icc = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    out = io.BytesIO()
    img.save(out, "JPEG", exif=exif, comment=b"Jean Secret was here", xmp=xmp, icc_profile=icc)
    return out.getvalue()


def png_with_text() -> bytes:
    info = PngImagePlugin.PngInfo()
    info.add_text("Author", SECRET_NAME)
    info.add_text("Software", "SecretScanner 2.0")
    info.add_itxt("Comment", "rue des Lilas", lang="fr")
    exif = Image.Exif()
    exif[0x8825] = {1: "N", 2: (48.0, 51.0, 29.0)}
    out = io.BytesIO()
    Image.new("RGBA", (60, 40), (0, 128, 0, 100)).save(out, "PNG", pnginfo=info, exif=exif)
    return out.getvalue()


def animated_gif() -> bytes:
    frames = [Image.new("RGB", (30, 30), color) for color in ("red", "green", "blue")]
    out = io.BytesIO()
    frames[0].save(out, "GIF", save_all=True, append_images=frames[1:], duration=120, loop=0,
                   comment=b"Jean Secret's animation")
    return out.getvalue()


def pdf_with_author(password: str = "") -> bytes:
    """A PDF with document info, XMP, an OpenAction script, a named script and a link."""
    pdf = pikepdf.new()
    pdf.add_blank_page(page_size=(595, 842))
    page = pdf.pages[0]
    page.Resources = pikepdf.Dictionary(Font=pikepdf.Dictionary(F1=pikepdf.Dictionary(
        Type=pikepdf.Name.Font, Subtype=pikepdf.Name.Type1, BaseFont=pikepdf.Name.Helvetica)))
    page.Contents = pdf.make_stream(b"BT /F1 24 Tf 72 700 Td (Bonjour Metz) Tj ET")
    page.Annots = pdf.make_indirect(pikepdf.Array([pikepdf.Dictionary(
        Type=pikepdf.Name.Annot, Subtype=pikepdf.Name.Link, Rect=[72, 690, 300, 730],
        A=pikepdf.Dictionary(S=pikepdf.Name.Launch, F=pikepdf.String("calc.exe")))]))
    pdf.docinfo["/Author"] = SECRET_NAME
    pdf.docinfo["/Creator"] = "Secret Writer 9"
    pdf.docinfo["/Producer"] = "Secret Producer 1.2"
    pdf.docinfo["/CreationDate"] = "D:20250601100000+02'00'"
    with pdf.open_metadata(set_pikepdf_as_editor=False) as meta:
        meta["dc:creator"] = [SECRET_NAME]
        meta["xmp:CreatorTool"] = "Secret Writer 9"
    pdf.Root.OpenAction = pikepdf.Dictionary(S=pikepdf.Name.JavaScript,
                                             JS=pikepdf.String("app.alert('pwned')"))
    pdf.Root.Names = pikepdf.Dictionary(JavaScript=pikepdf.Dictionary(Names=[
        pikepdf.String("x"), pikepdf.Dictionary(S=pikepdf.Name.JavaScript,
                                                JS=pikepdf.String("app.alert(2)"))]))
    out = io.BytesIO()
    encryption = pikepdf.Encryption(user=password, owner="owner") if password else False
    pdf.save(out, encryption=encryption)
    return out.getvalue()


W_NS = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
OPENXML = "http://schemas.openxmlformats.org"
OFFICE_DOC = "application/vnd.openxmlformats-officedocument"
DOCX_MAIN = f"{OFFICE_DOC}.wordprocessingml.document.main+xml"
DOCM_MAIN = "application/vnd.ms-word.document.macroEnabled.main+xml"
XML_HEAD = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
DC_NS = "http://purl.org/dc/elements/1.1/"
ODF = "urn:oasis:names:tc:opendocument:xmlns"


def content_types(main: str) -> str:
    overrides = {"/word/document.xml": main,
                 "/word/comments.xml": f"{OFFICE_DOC}.wordprocessingml.comments+xml",
                 "/docProps/core.xml": "application/vnd.openxmlformats-package.core-properties+xml",
                 "/docProps/app.xml": f"{OFFICE_DOC}.extended-properties+xml",
                 "/docProps/thumbnail.jpeg": "image/jpeg"}
    return (f'{XML_HEAD}<Types xmlns="{OPENXML}/package/2006/content-types">'
            '<Default Extension="rels" '
            'ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
            '<Default Extension="xml" ContentType="application/xml"/>'
            + "".join(f'<Override PartName="{part}" ContentType="{kind}"/>'
                      for part, kind in overrides.items()) + "</Types>")


def relationships(*targets: tuple[str, str]) -> str:
    """A .rels part: (type, target) pairs; "ext:" in front of a target makes it external."""
    items = []
    for number, (kind, target) in enumerate(targets, 1):
        mode = ' TargetMode="External"' if target.startswith("ext:") else ""
        items.append(f'<Relationship Id="rId{number}" Type="{kind}" '
                     f'Target="{target.removeprefix("ext:")}"{mode}/>')
    return (f'{XML_HEAD}<Relationships xmlns="{OPENXML}/package/2006/relationships">'
            + "".join(items) + "</Relationships>")


def docx_with_author(main: str = DOCX_MAIN, extra_parts: dict[str, bytes] | None = None,
                     document: str | None = None) -> bytes:
    """A Word document: author, last editor, company, a comment and a tracked change by
    Jean Secret, revision ids, a template path on his disk, and a thumbnail."""
    rel, pkg = f"{OPENXML}/officeDocument/2006/relationships", f"{OPENXML}/package/2006"
    document = document or (
        f'{XML_HEAD}<w:document xmlns:w="{W_NS}"><w:body>'
        '<w:p w:rsidR="00A1B2C3"><w:r><w:t>Relevé des caméras, place Saint-Louis.</w:t></w:r>'
        f'</w:p><w:p><w:ins w:id="1" w:author="{SECRET_NAME}" w:date="2025-06-01T10:00:00Z">'
        '<w:r><w:t>Ajout.</w:t></w:r></w:ins><w:commentRangeStart w:id="0"/>'
        '<w:r><w:commentReference w:id="0"/></w:r></w:p></w:body></w:document>')
    parts = {
        "[Content_Types].xml": content_types(main),
        "_rels/.rels": relationships(
            (f"{rel}/officeDocument", "word/document.xml"),
            (f"{pkg}/relationships/metadata/core-properties", "docProps/core.xml"),
            (f"{rel}/extended-properties", "docProps/app.xml"),
            (f"{pkg}/relationships/metadata/thumbnail", "docProps/thumbnail.jpeg")),
        "word/document.xml": document,
        "word/_rels/document.xml.rels": relationships(
            (f"{rel}/comments", "comments.xml"),
            (f"{rel}/attachedTemplate",
             "ext:file:///C:/Users/jsecret/AppData/Roaming/Microsoft/Templates/Normal.dotm")),
        "word/comments.xml": (
            f'{XML_HEAD}<w:comments xmlns:w="{W_NS}"><w:comment w:id="0" '
            f'w:author="{SECRET_NAME}" w:initials="JS" w:date="2025-06-01T10:00:00Z"><w:p><w:r>'
            "<w:t>À vérifier</w:t></w:r></w:p></w:comment></w:comments>"),
        "docProps/core.xml": (
            f'{XML_HEAD}<cp:coreProperties xmlns:cp="{pkg}/metadata/core-properties" '
            f'xmlns:dc="{DC_NS}" xmlns:dcterms="http://purl.org/dc/terms/">'
            f"<dc:creator>{SECRET_NAME}</dc:creator>"
            f"<cp:lastModifiedBy>{SECRET_NAME}</cp:lastModifiedBy><cp:revision>7</cp:revision>"
            "<dcterms:created>2025-06-01T10:00:00Z</dcterms:created></cp:coreProperties>"),
        "docProps/app.xml": (
            f'{XML_HEAD}<Properties xmlns="{OPENXML}/officeDocument/2006/extended-properties">'
            "<Template>Normal.dotm</Template><Application>Microsoft Office Word</Application>"
            "<Company>Prefecture Secrete</Company><Manager>Chef Secret</Manager>"
            "<TotalTime>42</TotalTime></Properties>"),
        "docProps/thumbnail.jpeg": jpeg_with_gps((40, 30)),
        **(extra_parts or {}),
    }
    return zip_of({name: data if isinstance(data, bytes) else data.encode()
                   for name, data in parts.items()})


def xlsx_with_comments() -> bytes:
    """A spreadsheet: a legacy comment signed "Jean Secret:", a person list, and the folder
    it was saved in (C:\\Users\\jsecret)."""
    sheet_ns = f"{OPENXML}/spreadsheetml/2006/main"
    types = content_types(f"{OFFICE_DOC}.spreadsheetml.sheet.main+xml").replace(
        "/word/document.xml", "/xl/workbook.xml")
    parts = {
        "[Content_Types].xml": types,
        "_rels/.rels": relationships((f"{OPENXML}/officeDocument/2006/relationships/"
                                      "officeDocument", "xl/workbook.xml")),
        "xl/workbook.xml": (
            f'{XML_HEAD}<workbook xmlns="{sheet_ns}" xmlns:x15ac="http://schemas.microsoft.com'
            '/office/spreadsheetml/2010/11/ac"><x15ac:absPath url="C:\\Users\\jsecret\\"/>'
            '<sheets><sheet name="Relevé" sheetId="1"/></sheets></workbook>'),
        "xl/worksheets/sheet1.xml": f'{XML_HEAD}<worksheet xmlns="{sheet_ns}"><sheetData/>'
                                    "</worksheet>",
        "xl/comments1.xml": (
            f'{XML_HEAD}<comments xmlns="{sheet_ns}"><authors><author>{SECRET_NAME}</author>'
            '</authors><commentList><comment ref="A1" authorId="0"><text><r><rPr><b/></rPr>'
            f"<t>{SECRET_NAME}:</t></r><r><t>à vérifier</t></r></text></comment></commentList>"
            "</comments>"),
        "xl/persons/person.xml": (
            f'{XML_HEAD}<personList xmlns="http://schemas.microsoft.com/office/spreadsheetml/'
            f'2018/threadedcomments"><person displayName="{SECRET_NAME}" id="{{1}}" '
            'userId="jsecret@example.org" providerId="AD"/></personList>'),
    }
    return zip_of({name: data.encode() for name, data in parts.items()})


def odt_with_author() -> bytes:
    meta = (f'<?xml version="1.0" encoding="UTF-8"?><office:document-meta '
            f'xmlns:office="{ODF}:office:1.0" xmlns:meta="{ODF}:meta:1.0" xmlns:dc="{DC_NS}" '
            f'office:version="1.3"><office:meta>'
            f"<meta:initial-creator>{SECRET_NAME}</meta:initial-creator>"
            f"<dc:creator>{SECRET_NAME}</dc:creator>"
            "<meta:creation-date>2025-06-01T10:00:00</meta:creation-date>"
            "<meta:generator>LibreOffice/7.5</meta:generator>"
            "<meta:editing-cycles>12</meta:editing-cycles></office:meta></office:document-meta>")
    content = (f'<?xml version="1.0" encoding="UTF-8"?><office:document-content '
               f'xmlns:office="{ODF}:office:1.0" xmlns:text="{ODF}:text:1.0" '
               f'xmlns:dc="{DC_NS}" office:version="1.3"><office:body><office:text>'
               "<text:p>Relevé des caméras.<office:annotation>"
               f"<dc:creator>{SECRET_NAME}</dc:creator><dc:date>2025-06-01T10:00:00</dc:date>"
               "<text:p>note</text:p></office:annotation></text:p></office:text></office:body>"
               "</office:document-content>")
    return odf_package("application/vnd.oasis.opendocument.text", {
        "content.xml": content, "meta.xml": meta,
        "Thumbnails/thumbnail.png": png_with_text()})


def odf_package(media_type: str, parts: dict[str, str | bytes]) -> bytes:
    """An OpenDocument zip: its mimetype first and stored, the parts, and a manifest listing
    them (XML parts as text/xml, anything else as octet-stream)."""
    entries = {"/": media_type, **{name: "text/xml" if name.endswith(".xml")
                                   else "application/octet-stream" for name in parts}}
    manifest = (f'<?xml version="1.0" encoding="UTF-8"?><manifest:manifest '
                f'xmlns:manifest="{ODF}:manifest:1.0" manifest:version="1.3">'
                + "".join(f'<manifest:file-entry manifest:full-path="{path}" '
                          f'manifest:media-type="{kind}"/>' for path, kind in entries.items())
                + "</manifest:manifest>")
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as package:
        package.writestr(zipfile.ZipInfo("mimetype"), media_type)
        for name, data in parts.items():
            package.writestr(name, data)
        package.writestr("META-INF/manifest.xml", manifest)
    return out.getvalue()


def zip_of(entries: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as package:
        for name, data in entries.items():
            package.writestr(name, data)
    return out.getvalue()


def png_declaring(width: int, height: int) -> bytes:
    """A tiny PNG whose header declares a huge picture (a decompression bomb)."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return (struct.pack(">I", len(data)) + kind + data
                + struct.pack(">I", zlib.crc32(kind + data)))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header)
            + chunk(b"IDAT", zlib.compress(b"\x00" * 1000)) + chunk(b"IEND", b""))


# Helpers. -------------------------------------------------------------------------------------

def exiftool(path: Path) -> dict[str, Any]:
    result = subprocess.run([EXIFTOOL, "-j", "-a", "-G1", str(path)], capture_output=True,
                            text=True, check=True)
    return json.loads(result.stdout)[0]


def leaks(path: Path) -> dict[str, Any]:
    """What exiftool still reads in a stored file that tells who, where, when or with what."""
    meta = exiftool(path)
    found = {tag: value for tag, value in meta.items() if not tag.startswith(
        ("System:", "ExifTool:", "SourceFile")) and LEAKING_TAG.search(tag.split(":")[-1])
        and value != NEUTRAL_ZIP_DATE}
    text = json.dumps(meta, ensure_ascii=False)
    for secret in (SECRET_NAME, CAMERA, "Prefecture", "jsecret", "SN-123456", "Secret"):
        if secret in text:
            found[f"value:{secret}"] = True
    return found


def stored_files(forum: Forum) -> list[str]:
    """Files in the store (temporary ones apart), in the data folder or the bucket."""
    return [key for key in stored_keys(forum.app, "files/") if not key.startswith("files/tmp/")]


def leftovers(forum: Forum) -> list[str]:
    """Everything kept for files: stored ones and temporary files."""
    temporary = forum.config.data_dir / "files" / "tmp"
    return sorted({*stored_keys(forum.app, "files/"),
                   *(str(p) for p in temporary.rglob("*") if p.is_file())})


def stored_path(forum: Forum, sha256: str) -> Path:
    """The stored file, as a local path (a copy when it is in a bucket)."""
    return stored_copy(forum.app, forum.app[keys.UPLOADER].store.key(sha256))


async def upload(client: TestClient, token: str | None, name: str, data: bytes,
                 content_type: str = "application/octet-stream",
                 headers: dict[str, str] | None = None) -> aiohttp.ClientResponse:
    form = aiohttp.FormData(quote_fields=False)  # names as browsers send them: raw UTF-8
    form.add_field("file", data, filename=name, content_type=content_type)
    headers = dict(headers or {})
    if token:
        headers["Authorization"] = f"Bearer {token}"
    return await client.post(f"{V1}/uploads", data=form, headers=headers)


async def uploaded(client: TestClient, token: str, name: str, data: bytes,
                   content_type: str = "application/octet-stream") -> dict[str, Any]:
    response = await upload(client, token, name, data, content_type)
    assert response.status == 201, await response.text()
    return await response.json()


@pytest.fixture
async def member(forum) -> dict[str, Any]:
    lea = await forum.user("lea")
    return {"user": lea, "token": await forum.token(lea)}


@pytest.fixture(params=STORAGES)
def files_url(request: pytest.FixtureRequest) -> str:
    """Every test here runs with files in the data folder, then in a bucket."""
    return storage_url(request)


@pytest.fixture
async def make_forum(aiohttp_client, tmp_path, files_url: str, database_url: str,
                     request: pytest.FixtureRequest) -> AsyncIterator:
    """A site with some settings changed: make_forum(upload_max_bytes=...). Each its own data
    folder and, on PostgreSQL, its own database."""
    made: list[Forum] = []
    databases: list[str] = []

    async def make(**overrides: Any) -> Forum:
        url = database_url
        if made and database_url:
            url = await request.getfixturevalue("postgresql_cluster").database()
            databases.append(url)
        config = Config.from_env(env={}, data_dir=tmp_path / f"data{len(made)}",
                                 files_url=files_url, database_url=url, **overrides)
        app = create_app(config)
        site = Forum(app, await aiohttp_client(app))
        made.append(site)
        return site

    yield make
    for site in made:
        await site.close()
        await site.client.close()  # before its database goes
    for url in databases:
        await asyncio.shield(request.getfixturevalue("postgresql_cluster").drop(url))


# Metadata removal. ---------------------------------------------------------------------------

async def test_photo_loses_gps_camera_and_comment_and_stays_upright(forum, client, member):
    sent = jpeg_with_gps()
    original = leaks_of_bytes(sent, forum.config.data_dir.parent / "original.jpg")
    assert {"GPS:GPSLatitude", "IFD0:Model", "File:Comment"} <= set(original)  # the test's own
    body = await uploaded(client, member["token"], "IMG_2025.jpg", sent, "image/jpeg")
    assert body["content_type"] == "image/jpeg" and body["kind"] == "jpeg"
    assert body["filename"] == "IMG_2025.jpg"
    assert (body["width"], body["height"]) == (300, 400)  # orientation applied to the pixels
    assert "GPS position" in body["removed"] or "position GPS" in body["removed"]
    path = stored_path(forum, body["sha256"])
    assert leaks(path) == {}
    with Image.open(path) as img:
        assert img.size == (300, 400) and img.format == "JPEG"
        assert not img.getexif() and "icc_profile" not in img.info
        # The left half was blue: after turning the photo upright, it is the top.
        assert img.getpixel((150, 50))[2] > 200 and img.getpixel((150, 350))[0] > 200
    assert body["url"] == f"/files/{body['id']}/IMG_2025.jpg"
    assert body["thumbnail_url"] == f"/files/{body['id']}/thumb"


def leaks_of_bytes(data: bytes, path: Path) -> dict[str, Any]:
    path.write_bytes(data)
    return leaks(path)


async def test_png_text_chunks_and_exif_are_removed_transparency_kept(forum, client, member):
    body = await uploaded(client, member["token"], "plan.png", png_with_text())
    path = stored_path(forum, body["sha256"])
    assert leaks(path) == {}
    with Image.open(path) as img:
        assert img.mode == "RGBA" and img.size == (60, 40) and not img.text
        assert img.getpixel((5, 5)) == (0, 128, 0, 100)


async def test_animated_gif_stays_animated_without_its_comment(forum, client, member):
    body = await uploaded(client, member["token"], "anim.gif", animated_gif())
    path = stored_path(forum, body["sha256"])
    assert leaks(path) == {}
    assert b"Jean" not in path.read_bytes()
    with Image.open(path) as img:
        assert img.n_frames == 3 and img.info.get("duration") == 120


async def test_pdf_loses_author_xmp_and_scripts_and_still_opens(forum, client, member):
    original = leaks_of_bytes(pdf_with_author(), forum.config.data_dir.parent / "o.pdf")
    assert {"PDF:Author", "PDF:Creator", "XMP-dc:Creator"} <= set(original)
    body = await uploaded(client, member["token"], "rapport.pdf", pdf_with_author())
    assert body["content_type"] == "application/pdf" and body["thumbnail_url"]
    path = stored_path(forum, body["sha256"])
    assert leaks(path) == {}
    data = path.read_bytes()
    for marker in (b"JavaScript", b"app.alert", b"OpenAction", b"calc.exe", b"Launch"):
        assert marker not in data
    with pikepdf.open(path) as pdf:
        assert len(pdf.pages) == 1 and "/Info" not in pdf.trailer
        assert "/Metadata" not in pdf.Root and "/OpenAction" not in pdf.Root
        assert b"Bonjour Metz" in pdf.pages[0].Contents.read_bytes()
        assert "/A" not in pdf.pages[0].Annots[0]
    removed = " ".join(body["removed"])
    assert "JavaScript" in removed
    thumb = await (await browser_of(forum, "lea")).get(body["thumbnail_url"])
    assert thumb.status == 200 and thumb.content_type == "image/jpeg"
    with Image.open(io.BytesIO(await thumb.read())) as img:
        assert max(img.size) == 320


async def test_docx_loses_author_company_comments_and_thumbnail_and_still_opens(
        forum, client, member):
    original = forum.config.data_dir.parent / "o.docx"
    assert leaks_of_bytes(docx_with_author(), original)  # exiftool reads its author
    body = await uploaded(client, member["token"], "notes.docx", docx_with_author())
    assert body["kind"] == "docx" and body["thumbnail_url"] is None
    path = stored_path(forum, body["sha256"])
    assert leaks(path) == {}
    with zipfile.ZipFile(path) as package:
        assert package.testzip() is None
        names = package.namelist()
        assert "docProps/thumbnail.jpeg" not in names
        everything = b"".join(package.read(name) for name in names)
        document = package.read("word/document.xml").decode()
        assert all(info.date_time == (1980, 1, 1, 0, 0, 0) for info in package.infolist())
    for secret in (SECRET_NAME.encode(), b"jsecret", b"Prefecture", b"rsidR", b"JS"):
        assert secret not in everything
    assert "Relevé des caméras, place Saint-Louis." in document and "Ajout." in document
    assert "thumbnail" not in package_text(path, "_rels/.rels")
    labels = " ".join(body["removed"])
    assert "author" in labels or "auteur" in labels


def package_text(path: Path, name: str) -> str:
    with zipfile.ZipFile(path) as package:
        return package.read(name).decode()


async def test_xlsx_loses_comment_authors_people_and_its_folder(forum, client, member):
    body = await uploaded(client, member["token"], "releve.xlsx", xlsx_with_comments())
    path = stored_path(forum, body["sha256"])
    assert body["kind"] == "xlsx" and leaks(path) == {}
    with zipfile.ZipFile(path) as package:
        everything = b"".join(package.read(name) for name in package.namelist())
        assert "à vérifier" in package.read("xl/comments1.xml").decode()
    for secret in (b"Jean", b"jsecret", b"absPath"):
        assert secret not in everything


async def test_odt_loses_its_meta_and_annotation_authors(forum, client, member):
    body = await uploaded(client, member["token"], "releve.odt", odt_with_author())
    path = stored_path(forum, body["sha256"])
    assert body["kind"] == "odt" and leaks(path) == {}
    with zipfile.ZipFile(path) as package:
        assert package.namelist()[0] == "mimetype"
        assert package.getinfo("mimetype").compress_type == zipfile.ZIP_STORED
        assert "Thumbnails/thumbnail.png" not in package.namelist()
        assert "Thumbnails" not in package.read("META-INF/manifest.xml").decode()
        assert SECRET_NAME not in package.read("content.xml").decode()
        assert "Relevé des caméras." in package.read("content.xml").decode()


async def test_csv_in_windows_1252_is_stored_as_utf8(forum, client, member):
    body = await uploaded(client, member["token"], "caméras.csv",
                          "rue;nombre\nPlace Saint-Étienne;4\n".encode("cp1252"))
    assert body["kind"] == "csv" and body["content_type"] == "text/csv; charset=utf-8"
    text = stored_path(forum, body["sha256"]).read_bytes().decode("utf-8-sig")
    assert text == "rue;nombre\nPlace Saint-Étienne;4\n"


# Refusals: each leaves nothing on disk. --------------------------------------------------------

def macro_docx() -> bytes:
    return docx_with_author(main=DOCM_MAIN, extra_parts={"word/vbaProject.bin": b"\xd0\xcf" * 50})


def zip_bomb_docx() -> bytes:
    """A document whose one part declares 64 MB of zeros, compressed about a thousand times."""
    return docx_with_author(extra_parts={"word/media/zeros.xml": b"\0" * (64 * MB)})


def entity_bomb_docx() -> bytes:
    lol = ('<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 '
           '"&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">]>'
           f'<w:document xmlns:w="{W_NS}"><w:body>&lol2;</w:body></w:document>')
    return docx_with_author(document=lol)


REFUSED = {
    "svg": ("carte.svg", b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>'),
    "svg-named-txt": ("carte.txt", b'<?xml version="1.0"?><svg onload="alert(1)"/>'),
    "html": ("page.html", b"<!doctype html><script>alert(1)</script>"),
    "html-named-txt": ("page.txt", b"\n  <html><body onload=alert(1)>"),
    "executable": ("setup.exe", b"MZ\x90\x00" + b"\x00" * 100),
    "executable-named-pdf": ("doc.pdf", b"MZ\x90\x00" + b"\x00" * 100),
    "script": ("run.txt", b"#!/bin/sh\nrm -rf /\n"),
    "elf": ("tool", b"\x7fELF\x02\x01\x01" + b"\x00" * 100),
    "zip": ("archive.zip", zip_of({"a.txt": b"hello"})),
    "zip-named-docx": ("notes.docx", zip_of({"a.txt": b"hello"})),
    "gzip": ("a.gz", b"\x1f\x8b\x08\x00" + b"\x00" * 20),
    "docm": ("macro.docx", macro_docx()),
    "legacy-doc": ("old.doc", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 100),
    "empty": ("empty.txt", b""),
    "binary": ("data.bin.txt", bytes(range(256)) * 4),
    "jpeg-named-png": ("photo.png", jpeg_with_gps((20, 20))),
    "truncated-jpeg": ("cut.jpg", jpeg_with_gps((800, 600))[:3000]),
    "truncated-pdf": ("cut.pdf", pdf_with_author()[:200]),
    "truncated-docx": ("cut.docx", docx_with_author()[:600]),
    "pixel-bomb": ("bomb.png", png_declaring(100_000, 100_000)),
    "zip-bomb": ("bomb.docx", zip_bomb_docx()),
    "entity-bomb": ("lol.docx", entity_bomb_docx()),
    "gif-script": ("x.gif", b"GIF89a/*\x00\x00\x00\x00*/=alert(document.domain);//"),
    "password-pdf": ("secret.pdf", pdf_with_author(password="1234")),
}


@pytest.mark.parametrize("case", sorted(REFUSED))
async def test_hostile_or_wrong_file_is_refused_and_leaves_nothing(forum, client, member, case):
    name, data = REFUSED[case]
    response = await upload(client, member["token"], name, data)
    body = await response.json()
    assert response.status == 422, body
    assert body["error"]["field"] == "file" and len(body["error"]["message"]) > 10
    assert leftovers(forum) == []
    async with forum.db.read() as conn:
        assert await conn.value("select count(*) from uploads") == 0


async def test_refusals_say_why(client, member):
    cases = {"carte.svg": "SVG", "setup.exe": "Program", "archive.zip": "rchive",
             "macro.docx": "macro", "photo.png": ".png"}
    for name, word in cases.items():
        response = await upload(client, member["token"], name, dict(REFUSED.values())[name])
        message = (await response.json())["error"]["message"]
        assert word.lower() in message.lower(), message


async def test_script_after_a_real_gif_is_dropped_by_reencoding(forum, client, member):
    gif = animated_gif() + b"<script>alert(1)</script>"
    body = await uploaded(client, member["token"], "anim.gif", gif)
    data = stored_path(forum, body["sha256"]).read_bytes()
    assert b"script" not in data and data.startswith(b"GIF89a")


async def test_too_large_upload_is_cut_off_with_413_and_leaves_nothing(make_forum):
    site = await make_forum(upload_max_bytes=MB)
    token = await site.token(await site.user("lea"))
    boundary = "vigieboundary"

    async def body() -> AsyncIterator[bytes]:  # chunked: no Content-Length to refuse early
        yield (f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; "
               f"filename=\"big.txt\"\r\nContent-Type: text/plain\r\n\r\n").encode()
        for _ in range(40):  # 40 MB, if the server kept reading
            yield b"a" * MB
        yield f"\r\n--{boundary}--\r\n".encode()

    try:
        response = await site.client.post(
            f"{V1}/uploads", data=body(), headers={
                "Authorization": f"Bearer {token}",
                "Content-Type": f"multipart/form-data; boundary={boundary}"})
        assert response.status == 413
        assert (await response.json())["error"]["code"] == "too_large"
    except aiohttp.ClientError:
        pass  # the server may close the connection while the client still sends
    assert leftovers(site) == []


async def test_declared_length_over_the_limit_is_refused_before_reading(make_forum):
    site = await make_forum(upload_max_bytes=MB)
    token = await site.token(await site.user("lea"))
    response = await upload(site.client, token, "big.txt", b"a" * (5 * MB))
    assert response.status == 413 and leftovers(site) == []


async def test_daily_quota_and_rate_limit_answer_429(make_forum):
    site = await make_forum(uploads_per_day=2)
    token = await site.token(await site.user("lea"))
    for n in range(2):
        await uploaded(site.client, token, f"n{n}.txt", f"note {n}".encode())
    response = await upload(site.client, token, "n3.txt", b"note 3")
    assert response.status == 429 and response.headers["Retry-After"]
    fast = await make_forum(uploads_per_minute=1)
    token = await fast.token(await fast.user("tom"))
    await uploaded(fast.client, token, "a.txt", b"a")
    assert (await upload(fast.client, token, "b.txt", b"b")).status == 429


async def test_visitors_cannot_upload(client):
    response = await upload(client, None, "a.txt", b"hello")
    assert response.status == 401


async def test_upload_with_session_cookie_needs_the_csrf_token(forum, client, member):
    await log_in(client, "lea")
    response = await upload(client, None, "a.txt", b"hello")
    assert response.status == 403 and leftovers(forum) == []
    token = await csrf_token(client, "/")
    response = await upload(client, None, "a.txt", b"hello", headers={"X-CSRF-Token": token})
    assert response.status == 201


# Names and storage. ---------------------------------------------------------------------------

@pytest.mark.parametrize(("sent", "kept"), [
    ("../../etc/passwd.txt", "passwd.txt"),
    ("C:\\Users\\jean\\notes.txt", "notes.txt"),
    ("photo\u202egpj.txt", "photogpj.txt"),  # the override that shows "phototxt.jpg"
    ("a\u200bb\u2066c\u2069.txt", "abc.txt"),
    ("notes", "notes.txt"),
    ("...", "document.txt"),
    ("é" * 300 + ".txt", "é" * 125 + ".txt"),  # 255 bytes in UTF-8 at most
])
async def test_file_names_are_cleaned(client, member, sent, kept):
    body = await uploaded(client, member["token"], sent, b"hello")
    assert body["filename"] == kept
    assert len(body["filename"].encode()) <= 255


async def test_same_content_is_stored_once(forum, client, member):
    first = await uploaded(client, member["token"], "a.txt", b"same words")
    tom = await forum.token(await forum.user("tom"))
    second = await uploaded(client, tom, "b.txt", b"same words")
    assert first["sha256"] == second["sha256"] and first["id"] != second["id"]
    assert len(stored_files(forum)) == 1


async def test_unattached_uploads_are_purged_after_the_delay(make_forum):
    site = await make_forum(orphan_upload_hours=0)
    lea = await site.user("lea")
    token = await site.token(lea)
    kept = await uploaded(site.client, token, "kept.jpg", jpeg_with_gps((50, 50)))
    lost = await uploaded(site.client, token, "lost.png", png_with_text())
    board = await site.board("Metz")
    thread_id, _ = await site.thread(board, lea)
    response = await site.client.post(f"{V1}/threads/{thread_id}/posts", json={
        "body": "Photo.", "attachments": [kept["id"]]}, headers={
        "Authorization": f"Bearer {token}"})
    assert response.status == 201, await response.text()
    assert await site.app[keys.UPLOADER].purge(site.db) == 1
    assert not stored_path(site, lost["sha256"]).exists()
    assert stored_path(site, kept["sha256"]).exists()
    # The kept photo, its thumbnail and its one smaller copy (its own width: issue 16).
    assert len(stored_files(site)) == 3


# Serving. -------------------------------------------------------------------------------------

async def post_with(forum: Forum, client: TestClient, token: str, thread_id: int,
                    ids: list[int]) -> dict[str, Any]:
    response = await client.post(f"{V1}/threads/{thread_id}/posts", json={
        "body": "Voir les fichiers.", "attachments": ids}, headers={
        "Authorization": f"Bearer {token}"})
    assert response.status == 201, await response.text()
    return await response.json()


async def test_files_are_served_with_safe_headers(forum, client, member):
    board = await forum.board("Metz")
    thread_id, _ = await forum.thread(board, member["user"])
    photo = await uploaded(client, member["token"], "Café de la gare.jpg", jpeg_with_gps())
    doc = await uploaded(client, member["token"], "notes.docx", docx_with_author())
    await post_with(forum, client, member["token"], thread_id, [photo["id"], doc["id"]])
    response = await client.get(photo["url"])  # a visitor: the post is public
    data = await response.read()
    assert response.status == 200 and response.headers["Content-Type"] == "image/jpeg"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Content-Security-Policy"] == "default-src 'none'; sandbox"
    assert response.headers["Content-Disposition"] == (
        "inline; filename=\"Caf_ de la gare.jpg\"; filename*=UTF-8''Caf%C3%A9%20de%20la%20gare.jpg")
    assert data == stored_path(forum, photo["sha256"]).read_bytes()
    etag = response.headers["ETag"]
    again = await client.get(photo["url"], headers={"If-None-Match": etag})
    assert again.status == 304
    part = await client.get(photo["url"], headers={"Range": "bytes=0-99"})
    assert part.status == 206 and await part.read() == data[:100]
    response = await client.get(doc["url"])
    assert response.headers["Content-Type"] == (
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document")
    assert response.headers["Content-Disposition"].startswith("attachment;")
    assert (await client.get(f"/files/{doc['id']}/autre-nom.docx")).status == 404
    assert (await client.get(f"/files/{doc['id']}/thumb")).status == 404  # none for documents
    thumb = await client.get(photo["thumbnail_url"])
    assert thumb.status == 200 and thumb.headers["Content-Type"] == "image/jpeg"
    page = await (await client.get(f"/t/{thread_id}")).text()
    # A photo shows in its post from its smaller copies (issue 16); a document is listed.
    assert f'src="/files/{photo["id"]}/sizes/' in page and "notes.docx" in page


async def browser_of(forum: Forum, name: str) -> TestClient:
    """Another browser, logged in as `name` (files are read with the session cookie)."""
    visitor = await forum.visitor()
    await log_in(visitor, name)
    return visitor


async def test_unattached_file_is_visible_to_its_owner_only(forum, client, member):
    body = await uploaded(client, member["token"], "a.jpg", jpeg_with_gps((40, 40)))
    lea = await browser_of(forum, "lea")
    assert (await lea.get(body["url"])).status == 200
    await forum.user("tom")
    for reader in (client, await browser_of(forum, "tom")):
        for url in (body["url"], body["thumbnail_url"]):
            assert (await reader.get(url)).status == 404
    assert (await client.get("/files/999/a.jpg")).status == 404
    assert (await client.get("/files/abc/a.jpg")).status == 404


async def pending_photo(forum, client) -> dict[str, Any]:
    """A photo in a post that newcomer "nouvelle" sent to Lea's thread, waiting for a decision."""
    board = await forum.board("Metz")
    lea = await forum.user("lea")
    thread_id, _ = await forum.thread(board, lea)
    newcomer = await forum.user("nouvelle", trusted=False)
    token = await forum.token(newcomer)
    photo = await uploaded(client, token, "p.jpg", jpeg_with_gps((40, 40)))
    post = await post_with(forum, client, token, thread_id, [photo["id"]])
    assert post["status"] == "pending"
    return photo


async def test_file_of_a_pending_post_is_404_for_others(forum, client):
    photo = await pending_photo(forum, client)
    await forum.user("modo", role="moderator")
    for reader, status in ((client, 404), (await browser_of(forum, "lea"), 404),
                           (await browser_of(forum, "nouvelle"), 200),
                           (await browser_of(forum, "modo"), 200)):
        for url in (photo["url"], photo["thumbnail_url"]):
            assert (await reader.get(url)).status == status, url
    # The moderator decides with the file in view: the queue lists it.
    queue = await (await (await browser_of(forum, "modo")).get("/moderation")).text()
    assert photo["url"] in queue and photo["sizes"][0]["url"] in queue  # shown (issue 16)


async def test_file_of_a_deleted_post_is_404_but_for_moderators(forum, client, member):
    board = await forum.board("Metz")
    thread_id, _ = await forum.thread(board, member["user"])
    photo = await uploaded(client, member["token"], "p.jpg", jpeg_with_gps((40, 40)))
    post = await post_with(forum, client, member["token"], thread_id, [photo["id"]])
    assert (await client.get(photo["url"])).status == 200
    async with forum.db.transaction() as tx:
        await posts.delete(tx, await posts.get(tx, post["id"]), member["user"])
    await forum.user("modo", role="moderator")
    assert (await client.get(photo["url"])).status == 404
    assert (await (await browser_of(forum, "lea")).get(photo["url"])).status == 404
    assert (await (await browser_of(forum, "modo")).get(photo["url"])).status == 200


# Attaching. -----------------------------------------------------------------------------------

async def test_member_cannot_attach_someone_elses_upload(forum, client, member):
    board = await forum.board("Metz")
    thread_id, _ = await forum.thread(board, member["user"])
    photo = await uploaded(client, member["token"], "p.jpg", jpeg_with_gps((40, 40)))
    tom = await forum.token(await forum.user("tom"))
    response = await client.post(f"{V1}/threads/{thread_id}/posts", json={
        "body": "Volée.", "attachments": [photo["id"]]}, headers={"Authorization": f"Bearer {tom}"})
    assert response.status == 404  # as if it did not exist: another member's file
    assert (await response.json())["error"]["field"] == "attachments"
    async with forum.db.read() as conn:
        assert await conn.value("select count(*) from posts where body_source = 'Volée.'") == 0


async def test_a_file_is_attached_to_one_post_only(forum, client, member):
    board = await forum.board("Metz")
    thread_id, _ = await forum.thread(board, member["user"])
    photo = await uploaded(client, member["token"], "p.jpg", jpeg_with_gps((40, 40)))
    await post_with(forum, client, member["token"], thread_id, [photo["id"]])
    response = await client.post(f"{V1}/threads/{thread_id}/posts", json={
        "body": "Encore.", "attachments": [photo["id"]]}, headers={
        "Authorization": f"Bearer {member['token']}"})
    assert response.status == 404


async def test_attachments_are_limited_per_post(make_forum):
    site = await make_forum(upload_post_max_files=2, upload_post_max_bytes=MB)
    lea = await site.user("lea")
    token = await site.token(lea)
    board = await site.board("Metz")
    files = [await uploaded(site.client, token, f"{n}.txt", b"x" * 400_000) for n in range(3)]
    for ids, status in (([f["id"] for f in files], 422), ([files[0]["id"]], 201)):
        response = await site.client.post(f"{V1}/boards/{board.slug}/threads", json={
            "title": "Trois", "body": "Fichiers.", "attachments": ids}, headers={
            "Authorization": f"Bearer {token}"})
        assert response.status == status, await response.text()
    over = await make_forum(upload_post_max_bytes=MB)
    token = await over.token(await over.user("lea"))
    board = await over.board("Metz")
    files = [await uploaded(over.client, token, f"{n}.txt", b"x" * 600_000) for n in range(2)]
    response = await over.client.post(f"{V1}/boards/{board.slug}/threads", json={
        "title": "Deux", "body": "Trop.", "attachments": [f["id"] for f in files]},
        headers={"Authorization": f"Bearer {token}"})
    assert response.status == 413


@pytest.mark.parametrize("value", ["1", [0], [True], [1, 1], [2 ** 70], [{"id": 1}]])
async def test_malformed_attachments_are_422(forum, client, member, value):
    board = await forum.board("Metz")
    response = await client.post(f"{V1}/boards/{board.slug}/threads", json={
        "title": "T", "body": "B", "attachments": value}, headers={
        "Authorization": f"Bearer {member['token']}"})
    assert response.status == 422


# Pages: forms with files, without JavaScript. -------------------------------------------------

async def lea_replying(forum, client, member) -> tuple[int, str]:
    """Lea, logged in on `client`, at the reply form of her thread in Metz: (the thread's id,
    the form's CSRF token)."""
    board = await forum.board("Metz")
    thread_id, _ = await forum.thread(board, member["user"])
    await log_in(client, "lea")
    return thread_id, await csrf_token(client, f"/t/{thread_id}/reply")


def post_form(token: str, body: str, action: str, files: list[tuple[str, bytes]] = (),
              kept: list[int] = (), title: str | None = None) -> aiohttp.FormData:
    form = aiohttp.FormData()
    form.add_field("csrf_token", token)  # first, as the page's form sends it
    if title is not None:
        form.add_field("title", title)
    form.add_field("body", body)
    form.add_field("attachments_shown", "1")
    for upload_id in kept:
        form.add_field("attachment", str(upload_id))
    for name, data in files:
        form.add_field("files", data, filename=name, content_type="application/octet-stream")
    form.add_field("action", action)
    return form


async def test_reply_form_previews_then_publishes_a_photo(forum, client, member):
    thread_id, token = await lea_replying(forum, client, member)
    response = await client.post(f"/t/{thread_id}/reply", data=post_form(
        token, "Voici la place.", "preview", [("place.jpg", jpeg_with_gps())]))
    page = await response.text()
    assert response.status == 200, page
    upload_id = int(re.search(r'name="attachment" value="(\d+)" checked', page).group(1))
    assert "place.jpg" in page and "GPS" in page  # told what was removed
    assert f"![place.jpg](/files/{upload_id}/place.jpg)" in page
    response = await client.post(f"/t/{thread_id}/reply", data=post_form(
        token, f"Voici la place.\n\n![place.jpg](/files/{upload_id}/place.jpg)", "publish",
        kept=[upload_id]), allow_redirects=False)
    assert response.status == 303, await response.text()
    page = await (await client.get(f"/t/{thread_id}")).text()
    assert f'<img src="/files/{upload_id}/place.jpg" alt="place.jpg"' in page  # inline image
    # Shown once: the text shows it, so it is not repeated under the post (issue 16).
    assert f'src="/files/{upload_id}/sizes/' not in page


async def test_new_thread_form_publishes_files_at_once(forum, client, member):
    board = await forum.board("Metz")
    await log_in(client, "lea")
    token = await csrf_token(client, f"/b/{board.slug}/new")
    response = await client.post(f"/b/{board.slug}/new", data=post_form(
        token, "Le rapport.", "publish", [("rapport.pdf", pdf_with_author()),
                                          ("liste.csv", b"rue;n\nA;1\n")], title="Rapport"),
        allow_redirects=False)
    assert response.status == 303, await response.text()
    page = await (await client.get(response.headers["Location"])).text()
    assert "rapport.pdf" in page and "liste.csv" in page
    assert "Removed before it was stored" in page or "Retiré" in page  # the author is told


async def test_refused_file_shows_the_form_again_with_the_text_kept(forum, client, member):
    thread_id, token = await lea_replying(forum, client, member)
    response = await client.post(f"/t/{thread_id}/reply", data=post_form(
        token, "Mon texte.", "publish", [("carte.svg", REFUSED["svg"][1]),
                                         ("ok.txt", b"fine")]))
    page = await response.text()
    assert response.status == 422
    assert "carte.svg" in page and "Mon texte." in page and 'role="alert"' in page
    assert re.search(r'name="attachment" value="\d+" checked', page)  # ok.txt is kept
    async with forum.db.read() as conn:
        assert await conn.value("select count(*) from posts where body_source = 'Mon texte.'") == 0


async def test_form_without_its_token_stores_no_file(forum, client, member):
    board = await forum.board("Metz")
    thread_id, _ = await forum.thread(board, member["user"])
    await log_in(client, "lea")
    for token in ("forged", None):
        form = aiohttp.FormData()
        if token:
            form.add_field("csrf_token", token)
        form.add_field("body", "x")
        form.add_field("files", b"hello", filename="a.txt", content_type="text/plain")
        response = await client.post(f"/t/{thread_id}/reply", data=form)
        assert response.status == 403
    assert leftovers(forum) == []


async def test_form_cannot_attach_someone_elses_upload(forum, client, member):
    other = await uploaded(client, await forum.token(await forum.user("tom")), "t.txt", b"tom's")
    thread_id, token = await lea_replying(forum, client, member)
    response = await client.post(f"/t/{thread_id}/reply", data=post_form(
        token, "Vol.", "publish", kept=[other["id"]]), allow_redirects=False)
    assert response.status == 422
    async with forum.db.read() as conn:
        assert await conn.value("select count(*) from post_attachments") == 0


async def test_edit_keeps_adds_and_drops_files(forum, client, member):
    board = await forum.board("Metz")
    thread_id, _ = await forum.thread(board, member["user"])
    first = await uploaded(client, member["token"], "a.txt", b"a")
    second = await uploaded(client, member["token"], "b.txt", b"b")
    post = await post_with(forum, client, member["token"], thread_id, [first["id"], second["id"]])
    await log_in(client, "lea")
    page = await (await client.get(f"/p/{post['id']}/edit")).text()
    assert page.count('name="attachment"') == 2 and 'enctype="multipart/form-data"' in page
    token = await csrf_token(client, f"/p/{post['id']}/edit")
    response = await client.post(f"/p/{post['id']}/edit", data=post_form(
        token, "Voir les fichiers.", "publish", [("c.txt", b"c")], kept=[second["id"]]),
        allow_redirects=False)
    assert response.status == 303, await response.text()
    async with forum.db.read() as conn:
        names = [row[0] for row in await conn.all(
            "select filename from uploads join post_attachments on upload_id = uploads.id"
            " where post_id = ? order by position", (post["id"],))]
    assert names == ["b.txt", "c.txt"]


def test_control_characters_leave_file_names():
    assert names.clean_filename("a\x00b\x1fc\u202e.txt\n") == "a b c.txt"
    assert names.final_name("thumb", KINDS["jpeg"]) == "thumb.jpg"


async def test_office_package_checks_run_without_extracting():
    """check_sizes() reads the directory only: a 64 MB declared part costs no memory."""
    with zipfile.ZipFile(io.BytesIO(zip_bomb_docx())) as package, pytest.raises(
            Refused, match="zip bomb"):
        office.check_sizes(package)


async def test_the_api_lists_a_posts_files_to_those_who_may_see_them(forum, client, member):
    board = await forum.board("Metz")
    thread_id, _ = await forum.thread(board, member["user"])
    photo = await uploaded(client, member["token"], "p.jpg", jpeg_with_gps((40, 40)))
    post = await post_with(forum, client, member["token"], thread_id, [photo["id"]])
    shown = await (await client.get(f"{V1}/posts/{post['id']}")).json()
    assert [f["url"] for f in shown["attachments"]] == [photo["url"]]
    page = await (await client.get(f"{V1}/threads/{thread_id}")).json()
    assert [p.get("attachments") for p in page["posts"]][-1][0]["id"] == photo["id"]
    assert "removed" not in shown["attachments"][0]  # what was removed is the owner's business
