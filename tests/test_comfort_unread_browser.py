"""Unread tracking in Debian's Chromium (issue 16), with and without JavaScript, on a desktop
screen and a 390 px phone: a member reads a thread, another posts, the first sees the count on
the board and lands on the "new messages" marker; marking the city as read clears it."""
from __future__ import annotations

import pytest
from playwright.async_api import Browser

from tests.test_axe_browser import sign_in
from tests.test_browser import new_context
from tests.test_comfort_browser import DESKTOP, PHONE

pytestmark = [pytest.mark.browser, pytest.mark.both_stores]


@pytest.mark.parametrize("javascript", [True, False], ids=["js", "no-js"])
@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
async def test_the_count_leads_to_the_marker_and_marking_read_clears_it(
        browser: Browser, site: str, forum, javascript: bool, viewport: dict) -> None:
    metz = await forum.board("Metz")
    await forum.user("lea")
    paul = await forum.user("paul")
    thread_id, _ = await forum.thread(metz, paul, "Caméras du centre-ville")
    for n in range(6):  # long enough for the marker to be scrolled to
        await forum.reply(thread_id, paul, f"Message {n}.\n\n" + "Texte. " * 80)
    context = await new_context(browser, site, javascript=javascript, viewport=viewport,
                                is_mobile=viewport is PHONE)
    await sign_in(forum, context, "lea")
    page = await context.new_page()
    await page.goto(f"/t/{thread_id}")  # read to the end
    first_new = await forum.reply(thread_id, paul, "Deux caméras de plus rue Serpenoise.")
    await forum.reply(thread_id, paul, "Et un drone le samedi.")
    await page.goto(f"/b/{metz.slug}")
    count = page.locator(f'a.unread-count[href="/t/{thread_id}/unread"]')
    assert "2" in await count.inner_text()
    await count.click()
    await page.wait_for_url(f"**/t/{thread_id}#unread")
    marker = page.locator("#unread")
    assert await marker.is_visible()
    box = await marker.bounding_box()
    assert box is not None and 0 <= box["y"] < viewport["height"]  # scrolled to it
    following = page.locator("#unread + article")
    assert await following.get_attribute("id") == f"p{first_new}"
    await page.goto(f"/b/{metz.slug}")
    assert await page.locator("a.unread-count").count() == 0  # read now
    await forum.reply(thread_id, paul, "Encore une.")
    await page.goto(f"/b/{metz.slug}")
    assert await page.locator("a.unread-count").count() == 1
    await page.locator("form.mark-read button").click()
    await page.wait_for_url(f"**/b/{metz.slug}")
    assert await page.locator("a.unread-count").count() == 0
    scroll = await page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    assert scroll, "the board page scrolls sideways"
    await context.close()
