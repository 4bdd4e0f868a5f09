"""Photos and drafts with files in Debian's Chromium (issue 16): a photo shown inline, opened in
the viewer and walked through (previous, next) without JavaScript and then in the lightbox
(Escape, arrows, focus), the viewer page fits a 390 px phone with no accessibility violation,
and a draft's file comes back after the tab was closed, on another device."""
from __future__ import annotations

import io

import pytest
from axe_playwright_python.base import AXE_SCRIPT
from PIL import Image
from playwright.async_api import Browser, expect

from tests.test_axe_browser import axe_report, sign_in
from tests.test_browser import new_context
from tests.test_comfort_browser import OVERFLOW, PHONE, draft_on_other_devices
from tests.test_photos import post_with
from tests.test_uploads import jpeg_with_gps, uploaded

pytestmark = [pytest.mark.browser, pytest.mark.both_stores]


COLOURS = {"rouge": "red", "vert": "green", "bleu": "blue"}


def photo(name: str, size: tuple[int, int] = (1400, 1000)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, COLOURS[name]).save(out, "PNG")
    return out.getvalue()


async def three_photos(forum) -> tuple[int, list[int]]:
    """A thread with three photos: two in its first reply, one in the next."""
    metz = await forum.board("Metz")
    lea = await forum.user("lea")
    token = await forum.token(lea)
    thread_id, _ = await forum.thread(metz, lea, "Caméras du marché")
    client = forum.client
    ids = [(await uploaded(client, token, f"{name}.png", photo(name)))["id"]
           for name in ("rouge", "vert", "bleu")]
    await post_with(client, token, thread_id, ids[:2], "Deux photos.")
    await post_with(client, token, thread_id, ids[2:], "Une autre.")
    return thread_id, ids


async def test_photos_inline_then_the_viewer_without_javascript(
        browser: Browser, site: str, forum):
    thread_id, ids = await three_photos(forum)
    context = await new_context(browser, site, javascript=False, viewport=PHONE, is_mobile=True)
    page = await context.new_page()
    await page.goto(f"/t/{thread_id}")
    first = page.locator("figure.photo img").first
    await first.scroll_into_view_if_needed()
    await expect(first).to_have_attribute("loading", "lazy")
    await expect(first).to_have_js_property("complete", True)
    # A copy from the srcset, not the 1400 px file (its width is given for the slot it fills).
    assert f"/files/{ids[0]}/sizes/" in await first.evaluate("img => img.currentSrc")
    assert await first.evaluate("img => img.naturalWidth") > 0
    box = await first.bounding_box()
    assert box and 300 <= box["width"] <= PHONE["width"]  # readable, within the phone
    await page.locator("figure.photo a.photo-link").first.click()
    await expect(page).to_have_url(f"{site}photos/{ids[0]}")
    full = page.locator(".photo-viewer img")
    await expect(full).to_have_js_property("complete", True)
    assert await full.evaluate("img => img.naturalWidth") == 1400
    # Keyboard: the next photo's link is reached with Tab and followed with Enter.
    following = page.locator("a[rel=next]")
    for _step in range(40):
        await page.keyboard.press("Tab")
        if await following.evaluate("link => link === document.activeElement"):
            break
    async with page.expect_navigation():
        await page.keyboard.press("Enter")
    await expect(page).to_have_url(f"{site}photos/{ids[1]}")
    await page.locator("a[rel=next]").click()
    await expect(page).to_have_url(f"{site}photos/{ids[2]}")
    assert await page.locator("a[rel=next]").count() == 0  # the last one
    await page.locator("a[rel=prev]").click()
    await expect(page).to_have_url(f"{site}photos/{ids[1]}")
    await context.close()


async def test_the_lightbox_opens_navigates_and_closes(browser: Browser, site: str,
                                                       forum):
    thread_id, ids = await three_photos(forum)
    context = await new_context(browser, site)
    page = await context.new_page()
    await page.goto(f"/t/{thread_id}")
    links = page.locator("a.photo-link")
    await links.nth(1).click()
    dialog = page.locator("dialog.lightbox")
    await expect(dialog).to_be_visible()
    image = dialog.locator("img")
    await expect(image).to_have_attribute("src", f"/files/{ids[1]}/vert.png")
    assert page.url.endswith(f"/t/{thread_id}")  # the page stayed
    await page.keyboard.press("ArrowRight")
    await expect(image).to_have_attribute("src", f"/files/{ids[2]}/bleu.png")
    await page.keyboard.press("ArrowLeft")
    await page.keyboard.press("ArrowLeft")
    await expect(image).to_have_attribute("src", f"/files/{ids[0]}/rouge.png")
    await expect(dialog.locator("a")).to_have_attribute("href", f"/photos/{ids[0]}")
    await page.keyboard.press("Escape")
    await expect(dialog).to_be_hidden()
    # Focus is back on the photo it was opened from.
    assert await links.nth(1).evaluate("link => link === document.activeElement")
    await context.close()


async def test_a_draft_keeps_its_file_after_the_tab_is_closed(
        browser: Browser, site: str, forum):
    thread_id, _ids = await three_photos(forum)
    await forum.user("paul")
    context = await new_context(browser, site)
    await sign_in(forum, context, "paul")
    page = await context.new_page()
    await page.goto(f"/t/{thread_id}")
    form = page.locator("form#reply")
    await form.locator("input[type=file]").set_input_files(files=[{
        "name": "panneau.jpg", "mimeType": "image/jpeg", "buffer": jpeg_with_gps()}])
    box = form.locator("input[name=attachment]")
    await expect(box).to_have_count(1)
    upload_id = await box.get_attribute("value")
    again, reply = await draft_on_other_devices(browser, site, forum, page, "paul",
                                                "Le panneau à l'entrée du marché")
    restored = again.locator(f"form#reply input[name=attachment][value='{upload_id}']")
    await expect(restored).to_be_checked()
    # Without JavaScript, the reply page lists it too; sending it publishes the photo.
    await expect(reply.locator(f"input[name=attachment][value='{upload_id}']")).to_be_checked()
    await reply.locator("button[name=action][value=publish]").click()
    await expect(reply.locator(f"a.photo-link[href='/photos/{upload_id}']")).to_have_count(1)
    for opened in (context, again.context, reply.context):
        await opened.close()


async def test_the_viewer_page_fits_a_phone_and_passes_axe(
        browser: Browser, site: str, forum):
    _thread_id, ids = await three_photos(forum)
    context = await new_context(browser, site, viewport=PHONE, is_mobile=True)
    await context.add_init_script(AXE_SCRIPT)
    page = await context.new_page()
    for photo_id in ids:
        await page.goto(f"/photos/{photo_id}")
        measured = await page.evaluate(OVERFLOW)
        assert measured["scroll"] <= measured["width"] and not measured["boxes"], measured
        assert await axe_report(page, "photo viewer", page.url) == []
    await context.close()
