"""Photos in posts (issue 16): smaller copies made at upload, shown inline with a srcset, the
viewer page with previous and next, the backfill of older images, and files kept with drafts."""
from __future__ import annotations

import io
import re
from pathlib import Path

import aiohttp
import pytest
from PIL import Image, PngImagePlugin

from forum import keys, markdown
from forum.cli import make_thumbnails
from forum.uploads import images
from forum.uploads.kinds import KINDS
from forum.uploads.sizes import INLINE_WIDTH, SIZE_WIDTHS, size_widths, sized_path
from tests.conftest import csrf_token, log_in, submit
from tests.storages import STORAGES, storage_url
from tests.test_uploads import (
    SECRET_NAME,
    V1,
    jpeg_with_gps,
    leaks,
    stored_path,
    uploaded,
)

pytestmark = pytest.mark.both_stores
POSTGRESQL_STORAGES = ("bucket",)  # a PostgreSQL site's servers share files in a bucket

EN = {"Accept-Language": "en"}
WIDE = (1600, 1200)  # wider than every size: a copy of each width

@pytest.fixture(params=STORAGES)
def files_url(request: pytest.FixtureRequest) -> str:
    """Every test here runs with files in the data folder, then in a bucket."""
    return storage_url(request)



def png_with_secrets(size: tuple[int, int] = WIDE) -> bytes:
    img = Image.new("RGBA", size, (0, 128, 0, 128))
    info = PngImagePlugin.PngInfo()
    info.add_text("Author", SECRET_NAME)
    exif = Image.Exif()
    exif[0x013B] = SECRET_NAME
    out = io.BytesIO()
    img.save(out, "PNG", pnginfo=info, exif=exif)
    return out.getvalue()


def webp_with_secrets(size: tuple[int, int] = WIDE) -> bytes:
    img = Image.new("RGB", size, "blue")
    exif = Image.Exif()
    exif[0x013B], exif[0x0110] = SECRET_NAME, "EOS 5D Mark IV"
    exif[0x8825] = {1: "N", 2: (48.0, 51.0, 29.0), 3: "E", 4: (2.0, 17.0, 40.0)}
    out = io.BytesIO()
    img.save(out, "WEBP", exif=exif.tobytes(), xmp=b"<x:xmpmeta>" + SECRET_NAME.encode()
             + b"</x:xmpmeta>")
    return out.getvalue()


def widths_of(srcset: str) -> list[int]:
    return [int(w) for w in re.findall(r" (\d+)w", srcset)]


# The copies, in the cleaning code itself. -----------------------------------------------------

def test_size_widths_are_those_smaller_than_the_image_or_its_own():
    assert size_widths(4000) == list(SIZE_WIDTHS)
    assert size_widths(700) == [320, 640]
    assert size_widths(320) == [320] and size_widths(200) == [200]


@pytest.mark.parametrize(("kind", "data"), [
    ("jpeg", jpeg_with_gps(WIDE[::-1])), ("png", png_with_secrets()),
    ("webp", webp_with_secrets())])
def test_copies_of_each_kind_have_their_sizes_and_no_metadata(tmp_path, kind, data):
    src = tmp_path / f"sent.{kind}"
    src.write_bytes(data)
    prefix = tmp_path / "sizes"
    width, height, removed, made = images.clean_image(
        src, tmp_path / "clean", tmp_path / "thumb", KINDS[kind], 50_000_000, prefix)
    assert removed  # the test's files carry something
    assert [w for w, _h in made] == list(SIZE_WIDTHS)
    for copy_width, copy_height in made:
        path = sized_path(prefix, copy_width)
        with Image.open(path) as img:
            assert img.format == "JPEG" and img.size == (copy_width, copy_height)
            assert not img.getexif() and "icc_profile" not in img.info and not img.app.get("COM")
        assert copy_height == round(height * copy_width / width)
        assert leaks(path) == {}, (kind, copy_width)
        assert SECRET_NAME.encode() not in path.read_bytes()


def test_copies_are_upright_as_the_exif_orientation_said(tmp_path):
    src = tmp_path / "sent.jpg"
    src.write_bytes(jpeg_with_gps(WIDE))  # orientation 6: the photo is 1200 × 1600
    _w, _h, _removed, made = images.clean_image(src, tmp_path / "clean", tmp_path / "thumb",
                                                KINDS["jpeg"], 50_000_000, tmp_path / "s")
    assert made == [[320, 427], [640, 853]]  # 1280 is not smaller than 1200: not made
    with Image.open(sized_path(tmp_path / "s", 320)) as img:
        # The left half was blue: upright, it is the top.
        assert img.getpixel((160, 40))[2] > 200 and img.getpixel((160, 380))[0] > 200


def test_a_small_image_gets_one_copy_of_its_own_width(tmp_path):
    src = tmp_path / "small.png"
    src.write_bytes(png_with_secrets((200, 100)))
    *_rest, made = images.clean_image(src, tmp_path / "c", tmp_path / "t", KINDS["png"],
                                      50_000_000, tmp_path / "s")
    assert made == [[200, 100]]


# In posts. -----------------------------------------------------------------------------------

@pytest.fixture
async def metz(forum):
    return await forum.board("Metz")


@pytest.fixture
async def lea(forum):
    return await forum.user("lea")


async def post_with(client, token: str, thread_id: int, ids: list[int], body: str = "Photo."):
    response = await client.post(f"{V1}/threads/{thread_id}/posts", json={
        "body": body, "attachments": ids}, headers={"Authorization": f"Bearer {token}"})
    assert response.status == 201, await response.text()
    return await response.json()


async def test_a_photo_shows_inline_with_srcset_and_opens_the_viewer(forum, client, metz, lea):
    token = await forum.token(lea)
    thread_id, _ = await forum.thread(metz, lea, "Caméras du marché")
    photo = await uploaded(client, token, "Marché couvert.jpg", jpeg_with_gps(WIDE), "image/jpeg")
    assert [s["width"] for s in photo["sizes"]] == [320, 640]
    post = await post_with(client, token, thread_id, [photo["id"]])
    shown = post["attachments"][0]
    assert shown["viewer_url"] == f"/photos/{photo['id']}"
    assert (shown["width"], shown["height"]) == (1200, 1600)
    base = f"/files/{photo['id']}/sizes"
    assert shown["sizes"] == [{"width": 320, "height": 427, "url": f"{base}/320"},
                              {"width": 640, "height": 853, "url": f"{base}/640"}]
    page = await (await client.get(f"/t/{thread_id}")).text()
    img = re.search(r'<figure class="photo">.*?<img ([^>]*)>', page, re.S)
    assert img, page
    attrs = img.group(1)
    assert f'src="/files/{photo["id"]}/sizes/{INLINE_WIDTH}"' in attrs
    assert widths_of(re.search(r'srcset="([^"]*)"', attrs).group(1)) == [320, 640]
    assert 'width="640" height="853"' in attrs and 'loading="lazy"' in attrs
    assert 'alt="Marché couvert"' in attrs
    assert f'href="/photos/{photo["id"]}"' in page
    for size in shown["sizes"]:
        response = await client.get(size["url"])
        assert response.status == 200 and response.content_type == "image/jpeg"
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert "sandbox" in response.headers["Content-Security-Policy"]
        path = forum.config.data_dir.parent / f"copy-{size['width']}.jpg"
        path.write_bytes(await response.read())
        assert leaks(path) == {}
    assert (await client.get(f"/files/{photo['id']}/sizes/1280")).status == 404
    viewer = await (await client.get(f"/photos/{photo['id']}", headers=EN)).text()
    assert f'src="{photo["url"]}"' in viewer and 'width="1200" height="1600"' in viewer
    assert f'href="/t/{thread_id}"' in viewer and f'href="/p/{post["id"]}"' in viewer


async def test_viewer_goes_through_the_thread_photos_the_reader_may_see(forum, client, metz, lea):
    token = await forum.token(lea)
    tom = await forum.user("tom", trusted=False)  # his posts wait for a moderator
    tom_token = await forum.token(tom)
    thread_id, _ = await forum.thread(metz, lea, "Caméras")
    ids = []
    for name in ("un.jpg", "deux.png"):
        data = jpeg_with_gps() if name.endswith("jpg") else png_with_secrets((500, 400))
        ids.append((await uploaded(client, token, name, data))["id"])
    await post_with(client, token, thread_id, ids)
    pending = (await uploaded(client, tom_token, "attente.jpg", jpeg_with_gps(WIDE)))["id"]
    await post_with(client, tom_token, thread_id, [pending], "En attente.")
    last = (await uploaded(client, token, "trois.webp", webp_with_secrets((700, 500))))["id"]
    await post_with(client, token, thread_id, [last], "Encore.")

    first = await (await client.get(f"/photos/{ids[0]}", headers=EN)).text()
    assert f'href="/photos/{ids[1]}" rel="next"' in first and 'rel="prev"' not in first
    assert "Photo 1 of 3" in first
    second = await (await client.get(f"/photos/{ids[1]}", headers=EN)).text()
    # The pending photo is skipped for a visitor: from the second to the third (the last).
    assert f'href="/photos/{ids[0]}" rel="prev"' in second
    assert f'href="/photos/{last}" rel="next"' in second
    for path in (f"/photos/{pending}", f"/files/{pending}/sizes/320"):
        assert (await client.get(path)).status == 404
    # Its author sees it, in its place.
    author = await forum.visitor()
    await log_in(author, "tom")
    own = await (await author.get(f"/photos/{pending}", headers=EN)).text()
    assert "Photo 3 of 4" in own and f'href="/photos/{last}" rel="next"' in own
    assert (await author.get(f"/files/{pending}/sizes/320")).status == 200
    # A file that is no photo has no viewer page.
    text = await uploaded(client, token, "notes.txt", b"Notes du conseil.", "text/plain")
    await post_with(client, token, thread_id, [text["id"]], "Notes.")
    assert (await client.get(f"/photos/{text['id']}")).status == 404
    assert (await client.get("/photos/999999")).status == 404


async def test_a_photo_taken_off_by_a_moderator_leaves_the_cached_page(forum, client, metz, lea):
    token = await forum.token(lea)
    await forum.user("modo", role="moderator")
    thread_id, _ = await forum.thread(metz, lea, "Caméras")
    photo = await uploaded(client, token, "photo.jpg", jpeg_with_gps())
    post = await post_with(client, token, thread_id, [photo["id"]])
    visitor = await forum.visitor()
    assert f"/photos/{photo['id']}" in await (await visitor.get(f"/t/{thread_id}")).text()
    reader = await forum.visitor()
    await forum.user("paul")
    await log_in(reader, "paul")
    assert f"/photos/{photo['id']}" in await (await reader.get(f"/t/{thread_id}")).text()
    await log_in(client, "modo")
    response = await submit(client, f"/p/{post['id']}/edit", {
        "body": "Photo.", "attachments_shown": "1", "reason": "Visage reconnaissable"})
    assert response.status == 303, await response.text()
    for who in (visitor, reader):
        page = await (await who.get(f"/t/{thread_id}")).text()
        assert f"/photos/{photo['id']}" not in page and f"/files/{photo['id']}/sizes" not in page
        assert (await who.get(f"/photos/{photo['id']}")).status == 404
        assert (await who.get(f"/files/{photo['id']}/sizes/320")).status == 404


def images_of(page: str, upload_id: int) -> int:
    """How many times a page shows a file as an image: in a post's text or in its gallery."""
    return len(re.findall(rf'<img [^>]*src="/files/{upload_id}/', page))


async def test_a_photo_the_text_shows_is_not_repeated_in_the_gallery(forum, client, metz, lea):
    token = await forum.token(lea)
    thread_id, _ = await forum.thread(metz, lea, "Caméras")
    shown = await uploaded(client, token, "marché.jpg", jpeg_with_gps())
    other = await uploaded(client, token, "gare.jpg", jpeg_with_gps())
    # The uploader's button inserts this text (static/js/uploads.js): the file's own address.
    post = await post_with(client, token, thread_id, [shown["id"], other["id"]],
                           f"La caméra :\n\n![marché]({shown['url']})")
    visitor = await forum.visitor()
    reader = await forum.visitor()
    await forum.user("paul")
    await log_in(reader, "paul")
    for who in (visitor, reader):
        page = await (await who.get(f"/t/{thread_id}")).text()
        assert images_of(page, shown["id"]) == 1, page
        assert f'href="/photos/{shown["id"]}"' not in page
        assert images_of(page, other["id"]) == 1 and f'href="/photos/{other["id"]}"' in page
    # Still one of the thread's photos: the viewer goes through it, and serves it.
    viewer = await (await visitor.get(f"/photos/{other['id']}", headers=EN)).text()
    assert f'href="/photos/{shown["id"]}" rel="prev"' in viewer and "Photo 2 of 2" in viewer
    assert (await visitor.get(f"/photos/{shown['id']}")).status == 200
    # Taken out of the text, it is back in the gallery, for readers whose page was kept too.
    await log_in(client, "lea")
    response = await submit(client, f"/p/{post['id']}/edit", {
        "body": "La caméra.", "attachments_shown": "1",
        "attachment": [str(shown["id"]), str(other["id"])]})
    assert response.status == 303, await response.text()
    for who in (visitor, reader):
        page = await (await who.get(f"/t/{thread_id}")).text()
        assert images_of(page, shown["id"]) == 1, page
        assert f'href="/photos/{shown["id"]}"' in page
        assert images_of(page, other["id"]) == 1


async def test_older_images_get_their_copies_from_the_command(forum, client, metz, lea):
    token = await forum.token(lea)
    thread_id, _ = await forum.thread(metz, lea, "Caméras")
    photo = await uploaded(client, token, "ancienne.jpg", jpeg_with_gps(WIDE))
    await post_with(client, token, thread_id, [photo["id"]])
    visitor = await forum.visitor()
    assert "sizes/640" in await (await visitor.get(f"/t/{thread_id}")).text()  # kept page
    async with forum.db.transaction() as tx:  # as stored before 0026_photos
        await tx.execute("delete from upload_sizes")
        tx.changed("thread", thread_id)
    page = await (await visitor.get(f"/t/{thread_id}")).text()
    assert "sizes/640" not in page and f"/files/{photo['id']}/thumb" in page  # listed, as before
    said: list[str] = []
    assert await make_thumbnails(forum.config, said.append) == 1
    assert said[-1] == "1 image(s) given their smaller copies."
    page = await (await visitor.get(f"/t/{thread_id}")).text()
    assert f"/files/{photo['id']}/sizes/640" in page  # the page heard the command's commit
    response = await visitor.get(f"/files/{photo['id']}/sizes/640")
    assert response.status == 200
    assert await make_thumbnails(forum.config, said.append) == 0  # nothing left to do


async def test_purge_and_backup_know_the_copies(forum, client, lea):
    token = await forum.token(lea)
    photo = await uploaded(client, token, "seule.jpg", jpeg_with_gps(WIDE))
    async with forum.db.read() as conn:
        shas = [r[0] for r in await conn.all("select sha256 from upload_sizes")]
    assert len(shas) == 2 and all(stored_path(forum, sha).is_file() for sha in shas)
    async with forum.db.transaction() as tx:
        await tx.execute("update uploads set created_at = '2000-01-01T00:00:00Z'")
    assert await forum.app[keys.UPLOADER].purge(forum.db) == 1
    assert not any(stored_path(forum, sha).exists() for sha in shas)
    assert not stored_path(forum, photo["sha256"]).exists()


# Drafts keep their files. --------------------------------------------------------------------

async def test_autosaved_draft_keeps_its_files_on_another_device(forum, client, metz, lea):
    token = await forum.token(lea)
    paul = await forum.user("paul")
    theirs = (await uploaded(client, await forum.token(paul), "autre.jpg", jpeg_with_gps()))["id"]
    thread_id, _ = await forum.thread(metz, lea, "Caméras")
    photo = await uploaded(client, token, "brouillon.jpg", jpeg_with_gps())
    await log_in(client, "lea")
    url = f"/t/{thread_id}/reply/draft"
    form_token = await csrf_token(client, f"/t/{thread_id}")
    response = await client.post(url, data=[
        ("body", "À finir"), ("attachments_shown", "1"), ("attachment", str(photo["id"])),
        ("attachment", str(theirs))], headers={"X-CSRF-Token": form_token})
    assert response.status == 204
    other = await forum.visitor()
    await log_in(other, "lea")
    draft = await (await other.get(url)).json()
    assert draft["body"] == "À finir"
    assert [f["id"] for f in draft["attachments"]] == [photo["id"]]  # not another's file
    assert draft["attachments"][0]["thumbnail_url"] == f"/files/{photo['id']}/thumb"
    # Without JavaScript, the reply page lists it, checked.
    page = await (await other.get(f"/t/{thread_id}/reply")).text()
    assert f'name="attachment" value="{photo["id"]}" checked' in page
    # An autosave without the files block leaves them; old enough, they are not purged.
    await client.post(url, data={"body": "À finir demain"}, headers={"X-CSRF-Token": form_token})
    async with forum.db.transaction() as tx:
        await tx.execute("update uploads set created_at = '2000-01-01T00:00:00Z'")
    assert await forum.app[keys.UPLOADER].purge(forum.db) == 1  # paul's, attached to nothing
    draft = await (await other.get(url)).json()
    assert [f["id"] for f in draft["attachments"]] == [photo["id"]]
    assert (await other.get(photo["url"])).status == 200
    # Sent: the draft goes, the file is the post's.
    response = await submit(other, f"/t/{thread_id}/reply", {
        "body": "Fini", "attachments_shown": "1", "attachment": str(photo["id"]),
        "action": "publish"})
    assert response.status == 303
    async with forum.db.read() as conn:
        assert await conn.value("select count(*) from draft_attachments") == 0
        assert await conn.value("select count(*) from post_attachments") == 1


async def test_save_draft_button_keeps_a_file_sent_with_the_form(forum, client, metz, lea):
    thread_id, _ = await forum.thread(metz, lea, "Caméras")
    await log_in(client, "lea")
    page = f"/t/{thread_id}/reply"
    form = aiohttp.FormData()
    form.add_field("csrf_token", await csrf_token(client, page))
    form.add_field("body", "")
    form.add_field("action", "draft")
    form.add_field("attachments_shown", "1")
    form.add_field("files", jpeg_with_gps(), filename="sans-texte.jpg",
                   content_type="image/jpeg")
    response = await client.post(page, data=form)
    assert response.status == 200, await response.text()
    async with forum.db.read() as conn:
        upload_id = await conn.value("select upload_id from draft_attachments")
    assert upload_id is not None  # a draft with a file and no text is kept
    other = await forum.visitor()
    await log_in(other, "lea")
    shown = await (await other.get(page)).text()
    assert f'name="attachment" value="{upload_id}" checked' in shown
    assert "sans-texte.jpg" in shown


def test_sized_path_sits_beside_its_prefix(tmp_path):
    assert sized_path(Path("/x/tmp/abc"), 640) == Path("/x/tmp/abc.640")


def test_files_shown_are_the_images_of_the_cooked_text_only():
    html = markdown.render("![a](/files/12/a%20b.jpg) ![b](/files/13/sizes/640 \"t\")"
                           " [lien](/files/14/c.pdf) `![c](/files/15/c.jpg)`"
                           " <img src=\"/files/16/d.jpg\"> ![e](/files/17)"
                           " ![f](https://ailleurs.example/files/18/f.jpg) ![g](/files/1x/g.jpg)")
    assert markdown.files_shown(html) == {12, 13, 17}
