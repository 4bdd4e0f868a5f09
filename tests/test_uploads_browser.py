"""Attaching files in a real browser (Debian's Chromium): without JavaScript, the form carries
the files; with it, they are sent as soon as chosen or dropped, and listed before publishing."""
from __future__ import annotations

import re

import pytest
from playwright.async_api import expect

from tests.test_browser import MESSAGE, PUBLISH, log_in_with_form, new_context
from tests.test_uploads import jpeg_with_gps, png_with_text

pytestmark = [pytest.mark.browser, pytest.mark.both_stores]

ATTACH = re.compile("Joindre|Attach")
SHOW_IN_TEXT = re.compile("Afficher dans le texte|Show it in the text")


async def test_member_attaches_a_photo_to_a_reply_without_javascript(browser, site, forum,
                                                                     tmp_path):
    board = await forum.board("Metz")
    lea = await forum.user("lea")
    await forum.user("karim.mtz")
    thread_id, _ = await forum.thread(board, lea, "Caméras du centre")
    photo = tmp_path / "camera-rue-serpenoise.jpg"
    photo.write_bytes(jpeg_with_gps())
    context = await new_context(browser, site, javascript=False)
    page = await context.new_page()
    await log_in_with_form(page, "karim.mtz")
    await page.goto(f"/t/{thread_id}")

    await page.get_by_label(MESSAGE).fill("La caméra de la rue Serpenoise.")
    await page.get_by_label(ATTACH).set_input_files(photo)
    await page.get_by_role("button", name=PUBLISH).click()

    await expect(page).to_have_url(re.compile(rf"/t/{thread_id}#p\d+$"))
    post = page.locator(f"article#p{page.url.rpartition('#p')[2]}")
    link = post.get_by_role("link", name="camera-rue-serpenoise.jpg")
    await expect(link).to_be_visible()
    thumbnail = post.locator("figure.photo img")  # a photo shows in its post (issue 16)
    await expect(thumbnail).to_be_visible()  # a broken image with alt="" has no size
    box = await thumbnail.bounding_box()
    assert box and box["width"] > 50 and box["height"] > 50
    src = await thumbnail.get_attribute("src")
    assert src and "/sizes/" in src
    response = await context.request.get(src)
    assert response.status == 200 and response.headers["content-type"] == "image/jpeg"
    await expect(post).to_contain_text("GPS")  # its author is told what was removed
    await context.close()


async def test_files_are_sent_as_chosen_or_dropped_with_javascript(browser, site, forum,
                                                                   tmp_path):
    board = await forum.board("Metz")
    lea = await forum.user("lea")
    thread_id, _ = await forum.thread(board, lea, "Plans")
    photo = tmp_path / "place.jpg"
    photo.write_bytes(jpeg_with_gps())
    context = await new_context(browser, site)
    page = await context.new_page()
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    await log_in_with_form(page, "lea")
    await page.goto(f"/t/{thread_id}/reply")

    await page.get_by_label(ATTACH).set_input_files(photo)
    kept = page.get_by_role("checkbox", name="place.jpg")
    await expect(kept).to_be_checked()
    await expect(page.locator("fieldset.attachments-picker")).to_contain_text("GPS")
    await page.get_by_role("button", name=SHOW_IN_TEXT).click()
    await expect(page.get_by_label(MESSAGE)).to_have_value(
        re.compile(r"!\[place\.jpg\]\(/files/\d+/place\.jpg\)"))

    png = list(png_with_text())
    drop = await page.evaluate_handle(
        """bytes => { const data = new DataTransfer();
                      data.items.add(new File([new Uint8Array(bytes)], "plan.png",
                                              {type: "image/png"}));
                      return data; }""", png)
    await page.dispatch_event("fieldset.attachments-picker", "drop", {"dataTransfer": drop})
    await expect(page.get_by_role("checkbox", name="plan.png")).to_be_checked()

    await page.get_by_role("button", name=PUBLISH).click()
    await expect(page).to_have_url(re.compile(rf"/t/{thread_id}#p\d+$"))
    post = page.locator(f"article#p{page.url.rpartition('#p')[2]}")
    await expect(post.locator(".post-body img")).to_be_visible()  # the photo, in the text
    # place.jpg is shown once, in the text; plan.png, only attached, under the post (issue 16)
    await expect(post.locator("figure.photo, ul.attachments li")).to_have_count(1)
    await expect(post.locator("figure.photo, ul.attachments li")).to_contain_text("plan.png")
    assert not [e for e in errors if "Content Security Policy" in e], errors
    await context.close()
