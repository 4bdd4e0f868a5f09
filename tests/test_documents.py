"""Text inside attached files is searchable (issue 18): PDF pages, office documents, text.

Files go through the real upload worker (cleaning, then the text reader's own process); the
searches are the real /search page and API, read as a visitor, a member, the author and a
moderator would. Bombs are real files that declare or inflate to huge sizes.
"""
from __future__ import annotations

import io
import re
import time
import zipfile
import zlib

import pikepdf
import pytest

from forum.cli import reindex_files
from forum.models import documents, drops, moderation, posts
from forum.uploads import text
from tests.conftest import Forum, log_in, submit
from tests.storages import STORAGES, storage_url
from tests.test_drop import moderator_of, send_drop
from tests.test_uploads import V1, docx_with_author, post_with, uploaded

pytestmark = pytest.mark.both_stores

EN = {"Accept-Language": "en"}
ODF = "urn:oasis:names:tc:opendocument:xmlns"


# Documents --------------------------------------------------------------------------------------

def pdf_pages(*pages: str, font: bool = True) -> bytes:
    """A PDF with one line of text per page (Helvetica), or drawings only (font=False)."""
    pdf = pikepdf.new()
    helvetica = pdf.make_indirect(pikepdf.Dictionary(
        Type=pikepdf.Name.Font, Subtype=pikepdf.Name.Type1, BaseFont=pikepdf.Name.Helvetica))
    for line in pages:
        pdf.add_blank_page(page_size=(595, 842))
        page = pdf.pages[-1]
        if font:
            page.Resources = pikepdf.Dictionary(Font=pikepdf.Dictionary(F1=helvetica))
            escaped = line.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")
            page.Contents = pdf.make_stream(
                b"BT /F1 12 Tf 72 700 Td (" + escaped.encode("cp1252") + b") Tj ET")
        else:  # a "scanned" page: something drawn, no text
            page.Contents = pdf.make_stream(b"0.2 g 72 72 400 600 re f")
    out = io.BytesIO()
    pdf.save(out)
    return out.getvalue()

@pytest.fixture(params=STORAGES)
def files_url(request: pytest.FixtureRequest) -> str:
    """Every test here runs with files in the data folder, then in a bucket."""
    return storage_url(request)



def docx_saying(*paragraphs: str) -> bytes:
    body = "".join(f"<w:p><w:r><w:t>{p}</w:t></w:r></w:p>" for p in paragraphs)
    return docx_with_author(document=(
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<w:document xmlns:w='
        '"http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body>'
        f"{body}</w:body></w:document>"))


def odt_saying(*paragraphs: str) -> bytes:
    body = "".join(f"<text:p>{p}</text:p>" for p in paragraphs)
    content = (f'<?xml version="1.0" encoding="UTF-8"?><office:document-content '
               f'xmlns:office="{ODF}:office:1.0" xmlns:text="{ODF}:text:1.0" '
               f'office:version="1.3"><office:body><office:text>{body}</office:text>'
               "</office:body></office:document-content>")
    manifest = (f'<?xml version="1.0" encoding="UTF-8"?><manifest:manifest '
                f'xmlns:manifest="{ODF}:manifest:1.0" manifest:version="1.3">'
                '<manifest:file-entry manifest:full-path="/" manifest:media-type='
                '"application/vnd.oasis.opendocument.text"/><manifest:file-entry '
                'manifest:full-path="content.xml" manifest:media-type="text/xml"/>'
                "</manifest:manifest>")
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as package:
        package.writestr(zipfile.ZipInfo("mimetype"), "application/vnd.oasis.opendocument.text")
        package.writestr("content.xml", content)
        package.writestr("META-INF/manifest.xml", manifest)
    return out.getvalue()


def many_pages(count: int) -> bytes:
    """A real PDF of `count` pages sharing one drawing: 100 000 pages in 16 MB, written fast."""
    objects = [b"<< /Type /Catalog /Pages 2 0 R >>", b"",
               b"<< /Length 36 >>\nstream\nBT /F1 12 Tf 72 720 Td (page) Tj ET\nendstream",
               b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>"]
    kids = b" ".join(b"%d 0 R" % (5 + number) for number in range(count))
    objects[1] = b"<< /Type /Pages /Count %d /Kids [%s] >>" % (count, kids)
    objects += [b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 3 0 R"
                b" /Resources << /Font << /F1 4 0 R >> >> >>"] * count
    return _pdf_file(objects)


def inflating_stream(size: int = 1024 ** 3) -> bytes:
    """A one-page PDF whose text stream inflates to `size` bytes (7 MB for 1 GB)."""
    line = (b"(surveillance) Tj T* " * 50 + b"\n") * 1000
    deflater, chunks, total = zlib.compressobj(1), [], 0
    chunks.append(deflater.compress(b"BT /F1 12 Tf 72 720 Td 14 TL "))
    while total < size:
        chunks.append(deflater.compress(line))
        total += len(line)
    data = b"".join([*chunks, deflater.compress(b" ET"), deflater.flush()])
    objects = [b"<< /Type /Catalog /Pages 2 0 R >>",
               b"<< /Type /Pages /Count 1 /Kids [5 0 R] >>",
               b"<< /Length %d /Filter /FlateDecode >>\nstream\n%s\nendstream" % (len(data), data),
               b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
               b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 3 0 R"
               b" /Resources << /Font << /F1 4 0 R >> >> >>"]
    return _pdf_file(objects)


def _pdf_file(objects: list[bytes]) -> bytes:
    out, offsets, size = [b"%PDF-1.7\n"], [], 9
    for number, body in enumerate(objects, 1):
        chunk = b"%d 0 obj\n%s\nendobj\n" % (number, body)
        offsets.append(size)
        out.append(chunk)
        size += len(chunk)
    out.append(b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1))
    out += [b"%010d 00000 n \n" % offset for offset in offsets]
    out.append(b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n"
               % (len(objects) + 1, size))
    return b"".join(out)


# Helpers ----------------------------------------------------------------------------------------

async def search_page(client, query: str, kind: str = "") -> str:
    params = {"q": query, **({"type": kind} if kind else {})}
    response = await client.get("/search", params=params, headers=EN)
    assert response.status == 200, await response.text()
    return await response.text()


async def search_api(client, query: str, kind: str = "", token: str | None = None) -> dict:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    params = {"q": query, **({"type": kind} if kind else {})}
    response = await client.get(f"{V1}/search", params=params, headers=headers)
    assert response.status == 200, await response.text()
    return await response.json()


async def upload_row(forum: Forum, upload_id: int) -> tuple[str, str]:
    async with forum.db.read() as conn:
        row = await conn.one("select text_status, text_note from uploads where id = ?",
                             (upload_id,))
    return row[0], row[1]


async def as_member(forum: Forum, name: str):
    browser = await forum.visitor()
    await log_in(browser, name)
    return browser


# Found once public, never before ----------------------------------------------------------------

async def test_pdf_docx_and_odt_words_are_found_with_page_and_snippet_once_public(forum, client):
    board = await forum.board("Metz", slug="metz")
    lea = await forum.user("lea")
    thread_id, _ = await forum.thread(board, lea, title="Marché de vidéoprotection")
    newcomer = await forum.user("nouvelle", trusted=False)
    modo = await forum.user("modo", role="moderator")
    token = await forum.token(newcomer)
    pdf = await uploaded(client, token, "marche.pdf", pdf_pages(
        "Conseil municipal du 3 mars", "Le prestataire Serpenoisepdf equipera la ville",
        "Annexe Serpenoisepdf"))
    docx = await uploaded(client, token, "cctp.docx", docx_saying(
        "Cahier des charges", "Équipement fourni par Serpenoisedocx à Metz"))
    odt = await uploaded(client, token, "deliberation.odt", odt_saying(
        "Délibération", "Le maire signe avec <text:span>Serpenoiseodt</text:span> demain"))
    for made in (pdf, docx, odt):
        assert (await upload_row(forum, made["id"])) == ("indexed", "")
    post = await post_with(forum, client, token, thread_id, [pdf["id"], docx["id"], odt["id"]])
    assert post["status"] == "pending"
    words = {"serpenoisepdf": pdf, "serpenoisedocx": docx, "serpenoiseodt": odt}

    # Pending: nobody but its author and moderators finds them, by page or API.
    member = await as_member(forum, "lea")
    for word, made in words.items():
        for reader in (client, member):
            assert made["url"] not in await search_page(reader, word)
            assert made["url"] not in await search_page(reader, word, "documents")
        assert (await search_api(client, word))["documents"] == []
        assert (await search_api(client, word, token=await forum.token(lea)))["documents"] == []
        assert made["url"] in await search_page(await as_member(forum, "modo"), word)
        assert (await search_api(client, word, "documents", token))["documents_total"] == 1

    async with forum.db.transaction() as tx:
        await moderation.approve(tx, await posts.get(tx, post["id"]), modo)

    html = await search_page(client, "serpenoisepdf", "documents")
    assert f'href="{pdf["url"]}#page=2"' in html and "page 2" in html  # the first page found
    assert f'href="{pdf["url"]}#page=3"' in html  # "also on pages 3"
    assert "<mark>Serpenoisepdf</mark> equipera" in html
    assert f'href="/p/{post["id"]}"' in html and "Marché de vidéoprotection" in html
    found = await search_api(client, "serpenoisepdf", "documents")
    hit = found["documents"][0]
    assert hit["upload_id"] == pdf["id"] and hit["page"] == 2 and hit["other_pages"] == [3]
    assert hit["url"] == f"{pdf['url']}#page=2" and hit["post_id"] == post["id"]
    assert "<mark>Serpenoisepdf</mark>" in hit["snippet_html"] and found["results"] == []
    # Accents and capitals do not matter; a document without pages has page 0, no #page.
    hit = (await search_api(client, "equipement SERPENOISEDOCX"))["documents"][0]
    assert hit["page"] == 0 and hit["url"] == docx["url"]
    assert "<mark>Équipement</mark>" in hit["snippet_html"]
    hit = (await search_api(client, "serpenoiseodt"))["documents"][0]
    assert hit["filename"] == "deliberation.odt" and "<mark>Serpenoiseodt</mark> demain" in (
        hit["snippet_html"])
    # The default search shows documents beside messages; type=posts leaves them out.
    assert docx["url"] in await search_page(client, "serpenoisedocx")
    assert docx["url"] not in await search_page(client, "serpenoisedocx", "posts")
    assert (await search_api(client, "serpenoisedocx", "posts"))["documents"] == []


async def test_files_of_deleted_or_refused_posts_are_found_by_nobody_else(forum, client):
    board = await forum.board("Metz", slug="metz")
    lea = await forum.user("lea")
    thread_id, _ = await forum.thread(board, lea)
    token = await forum.token(lea)
    made = await uploaded(client, token, "notes.txt", b"Le mot Zorglubdeleted.")
    post = await post_with(forum, client, token, thread_id, [made["id"]])
    assert (await search_api(client, "zorglubdeleted"))["documents_total"] == 1
    async with forum.db.transaction() as tx:
        await posts.delete(tx, await posts.get(tx, post["id"]), lea)
    await forum.user("tom")
    for reader in (client, await as_member(forum, "tom")):
        assert made["url"] not in await search_page(reader, "zorglubdeleted")
    assert (await search_api(client, "zorglubdeleted", "documents"))["documents"] == []


async def test_a_file_attached_to_no_post_is_found_by_nobody(forum, client):
    lea = await forum.user("lea")
    token = await forum.token(lea)
    await uploaded(client, token, "brouillon.csv", b"ville;mot\nMetz;Zorglubalone\n")
    assert (await search_api(client, "zorglubalone", token=token))["documents"] == []


async def test_the_type_parameter_is_checked_by_the_api(client):
    response = await client.get(f"{V1}/search", params={"q": "metz", "type": "tout"})
    assert response.status == 422
    assert (await response.json())["error"]["field"] == "type"


# Scanned documents and bombs --------------------------------------------------------------------

async def test_a_scanned_pdf_is_marked_text_not_available(forum, client):
    board = await forum.board("Metz")
    lea = await forum.user("lea")
    thread_id, _ = await forum.thread(board, lea)
    token = await forum.token(lea)
    made = await uploaded(client, token, "scan.pdf", pdf_pages("", "", font=False))
    assert await upload_row(forum, made["id"]) == ("scanned", "")
    await post_with(forum, client, token, thread_id, [made["id"]])
    page = await (await client.get(f"/t/{thread_id}", headers=EN)).text()
    assert "text not available (scanned document)" in page


async def test_a_pdf_of_too_many_pages_is_kept_without_text(forum, client):
    lea = await forum.user("lea")
    token = await forum.token(lea)
    made = await uploaded(client, token, "registre.pdf", many_pages(text.MAX_PAGES + 1))
    assert await upload_row(forum, made["id"]) == ("stopped", text.TOO_MANY_PAGES)
    assert made["thumbnail_url"]  # the first page is still drawn
    browser = await as_member(forum, "lea")
    assert (await browser.get(made["url"])).status == 200  # the file itself is kept


@pytest.mark.slow
async def test_a_pdf_of_100000_pages_is_stopped_quickly(tmp_path):
    path = tmp_path / "bomb.pdf"
    path.write_bytes(many_pages(100_000))
    started = time.monotonic()
    found = text.extract(path, "pdf")
    assert found["status"] == text.STOPPED and found["note"] == text.TOO_MANY_PAGES
    assert found["params"]["pages"] == 100_000 and found["pages"] == []
    assert time.monotonic() - started < text.SECONDS


async def test_a_text_stream_inflating_to_1_gb_is_stopped_and_the_file_kept(forum, client):
    board = await forum.board("Metz")
    lea = await forum.user("lea")
    thread_id, _ = await forum.thread(board, lea)
    token = await forum.token(lea)
    started = time.monotonic()
    made = await uploaded(client, token, "bombe.pdf", inflating_stream())
    assert time.monotonic() - started < 60
    assert await upload_row(forum, made["id"]) == ("stopped", text.STREAM_BOMB)
    assert made["thumbnail_url"] is None  # PDFium never drew it
    await post_with(forum, client, token, thread_id, [made["id"]])
    assert (await client.get(made["url"])).status == 200
    page = await (await client.get(f"/t/{thread_id}", headers=EN)).text()
    assert "text not available: a page of this document inflates to more than 64 MB" in page
    async with forum.db.read() as conn:
        assert await documents.pages_of(conn, made["id"]) == []


def test_reading_is_bounded_in_characters(tmp_path):
    path = tmp_path / "long.txt"
    path.write_text("surveillance " * (text.MAX_CHARACTERS // 10))
    found = text.extract(path, "text")
    assert found["status"] == text.PARTIAL
    assert sum(len(page) for _number, page in found["pages"]) <= text.MAX_CHARACTERS


def test_hyphenated_words_and_ligatures_are_joined():
    assert text.normalized("surveil\x02lance, quarante\x02Huit, e\ufb03cace") == (
        "surveillance, quarante-Huit, efficace")


# reindex-files ----------------------------------------------------------------------------------

@pytest.mark.sqlite_only(reason="`vigie reindex-files` opens SQLite's file (cli.py: Database("
                                "config.db_path)), not FORUM_DATABASE_URL")
async def test_reindex_files_reads_the_files_not_read_yet_with_progress(forum, client):
    board = await forum.board("Metz")
    lea = await forum.user("lea")
    thread_id, _ = await forum.thread(board, lea)
    token = await forum.token(lea)
    made = await uploaded(client, token, "ancien.pdf", pdf_pages("Ancien Zorglubold"))
    photo = await uploaded(client, token, "photo.txt", b"Rien")
    await post_with(forum, client, token, thread_id, [made["id"], photo["id"]])
    async with forum.db.transaction() as tx:  # as a file from before migration 0021
        await tx.execute("delete from document_pages")
        await tx.execute("update uploads set text_status = 'pending'")
    assert (await search_api(client, "zorglubold"))["documents"] == []
    lines: list[str] = []
    assert await reindex_files(forum.config, False, lines.append) == 2
    assert lines[0].startswith("1/2 file") and lines[1].startswith("2/2 file")
    assert lines[-1] == "2 file(s) read: 2 indexed."
    hit = (await search_api(client, "zorglubold"))["documents"][0]
    assert hit["upload_id"] == made["id"] and hit["page"] == 1
    lines.clear()
    assert await reindex_files(forum.config, False, lines.append) == 0  # nothing left
    assert await reindex_files(forum.config, True, lines.append) == 2  # --all


# Drops: the badge and the notification ----------------------------------------------------------

async def test_a_drop_counts_in_the_badge_and_is_told_to_the_citys_moderators_only(forum):
    metz = await forum.board("Metz", slug="metz")
    nancy = await forum.board("Nancy", slug="nancy")
    await moderator_of(forum, metz, "modometz")
    await moderator_of(forum, nancy, "modonancy")
    await forum.user("global", role="moderator")
    visitor = await forum.visitor()
    response = await send_drop(visitor, "metz", message="Le contrat secret de Dupont",
                               )
    assert response.status == 200, await response.text()
    async with forum.db.read() as conn:
        rows = await conn.all("select users.name, kind, text, notifications.created_at,"
                              " mailed_at from notifications join users on users.id = user_id")
    assert sorted(row[0] for row in rows) == ["global", "modometz"]
    for _name, kind, said, created_at, mailed_at in rows:
        assert kind == "drop" and said == "Metz"  # nothing of the drop itself
        assert created_at.endswith("T00:00:00.000Z") and mailed_at == created_at  # the day
    for name, waiting in (("modometz", "1"), ("global", "1"), ("modonancy", None)):
        page = await (await (await as_member(forum, name)).get("/", headers=EN)).text()
        badge = re.search(r'<span class="count" aria-label="[^"]*waiting">(\d+)</span>', page)
        assert (badge.group(1) if badge else None) == waiting, name
    page = await (await (await as_member(forum, "modometz")).get(
        "/notifications", headers=EN)).text()
    assert "A new drop for Metz." in page and "Dupont" not in page
    async with forum.db.read() as conn:
        drop = (await drops.list_for_boards(conn, None))[0]
    assert drop.awaiting_answer


async def test_a_drops_file_is_found_once_published_in_a_post_never_before(forum):
    metz = await forum.board("Metz", slug="metz")
    lea = await moderator_of(forum, metz, "lea")
    thread_id, _ = await forum.thread(metz, lea, "Le marché de 2024")
    await send_drop(forum.client, "metz", files=[
        ("contrat.odt", odt_saying("Clause Zorglubdrop du contrat"),
         "application/vnd.oasis.opendocument.text")])
    async with forum.db.read() as conn:
        drop = (await drops.list_for_boards(conn, None))[0]
        dropped = (await drops.files(conn, drop.id))[0]
        assert await conn.value("select count(*) from document_pages") == 0
    token = await forum.token(lea)
    assert (await search_api(forum.client, "zorglubdrop", token=token))["documents"] == []
    moderator = await as_member(forum, "lea")
    response = await submit(moderator, f"/moderation/drops/{drop.id}/files/{dropped.id}/publish",
                            {"thread": str(thread_id), "body": "Un document reçu."},
                            form_page=f"/moderation/drops/{drop.id}")
    assert response.status == 303, await response.text()
    hit = (await search_api(forum.client, "zorglubdrop"))["documents"][0]
    assert hit["filename"] == "contrat.odt" and hit["thread_id"] == thread_id


async def test_a_files_text_goes_with_the_file(forum, client):
    lea = await forum.user("lea")
    made = await uploaded(client, await forum.token(lea), "oubli.txt", b"Le mot Zorglubgone.")
    async with forum.db.transaction() as tx:  # as Uploader.purge() removes unattached files
        await tx.execute("delete from uploads where id = ?", (made["id"],))
    async with forum.db.read() as conn:
        assert await conn.value("select count(*) from document_pages") == 0
        if conn.dialect == "sqlite":  # FTS5's own copy (PostgreSQL's words are in the row)
            assert await conn.value("select count(*) from document_search where"
                                    " document_search match 'zorglubgone'") == 0
