"""Phone and browser comfort (issue 16), in Debian's Chromium: no horizontal scrolling on any
page type at 390 px (visitor, member, moderator), /watch fits at 1280 px, drafts come back after
the tab is closed, the pending notice before sending; screenshots for docs/."""
from __future__ import annotations

import os
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from playwright.async_api import Browser, Page, expect

from tests.test_axe_browser import PAGES, build, sign_in
from tests.test_browser import new_context

pytestmark = [pytest.mark.browser, pytest.mark.both_stores]
# What the browser draws or loads of a page, the same whichever store filled it: on SQLite only
# (CI's time); what members write through the browser runs on both.
DRAWN = pytest.mark.sqlite_only(reason="what the browser draws or loads of a page, the same "
                                "whichever store filled it")

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 800}
DOCS = Path(__file__).parent.parent / "docs"
# The screenshots of docs/ are remade by `VIGIE_SCREENSHOTS=1 pytest tests/test_comfort_browser.py`.
SCREENSHOTS = {"thread": "phone-thread.png", "national watch": "phone-watch.png",
               "moderation queue": "phone-queue.png"}

OVERFLOW = """() => {
  const width = window.innerWidth;
  const name = (node) => node.tagName.toLowerCase() + "." + String(node.className).split(" ")[0];
  const all = [...document.querySelectorAll("body *")];
  const wide = all.filter((node) => node.getBoundingClientRect().right > width + 1)
    .slice(0, 5).map(name);
  // A table in a box that scrolls sideways is sideways scrolling too (code blocks excepted).
  const boxes = all.filter((node) =>
    ["auto", "scroll"].includes(getComputedStyle(node).overflowX)
    && node.scrollWidth > node.clientWidth + 1 && !node.closest("pre, .post-body"))
    .map((node) => "scrolling " + name(node));
  return {scroll: document.documentElement.scrollWidth, width, wide: [...boxes, ...wide],
          boxes: boxes.length};
}"""


async def overflow(page: Page, name: str, path: str) -> str | None:
    response = await page.goto(path)
    assert response is not None
    measured = await page.evaluate(OVERFLOW)
    if measured["scroll"] <= measured["width"] and not measured["boxes"]:
        return None
    return f"{name} ({path}): {measured['scroll']} > {measured['width']} px, {measured['wide']}"


@pytest.mark.parametrize("role", [None, "lea", "vigile"],
                         ids=["visitor", "member", "moderator"])
@DRAWN
async def test_no_page_scrolls_sideways_on_a_phone(browser: Browser, site: str, forum,
                                                   role):
    world = await build(forum)
    context = await new_context(browser, site, viewport=PHONE, is_mobile=True)
    await sign_in(forum, context, role)
    page = await context.new_page()
    wide = [found for name, path in PAGES.items()
            if (found := await overflow(page, name, path(world))) is not None]
    if role == "vigile" and os.environ.get("VIGIE_SCREENSHOTS"):
        for name, file in SCREENSHOTS.items():
            await page.goto(PAGES[name](world))
            await page.screenshot(path=str(DOCS / file), full_page=False)
    await context.close()
    assert not wide, "pages wider than a 390 px phone:\n" + "\n".join(wide)


@DRAWN
async def test_the_watch_table_fits_a_1280_px_screen(browser: Browser, site: str,
                                                     forum):
    world = await build(forum)
    context = await new_context(browser, site, viewport=DESKTOP)
    page = await context.new_page()
    for name in ("national watch", "city watch", "compare"):
        assert await overflow(page, name, PAGES[name](world)) is None
    await context.close()


async def draft_on_other_devices(browser: Browser, site: str, forum, page: Page,
                                 name: str, text: str) -> tuple[Page, Page]:
    """`name` types `text` in the reply box of the thread `page` shows; the draft is saved
    (204) and the tab closed. The text is back in the same thread opened on another device,
    and in its reply page on a third without JavaScript: (those two pages)."""
    path = urlsplit(page.url).path
    await page.locator("form#reply textarea#body").fill(text)
    async with page.expect_response(lambda response: "/reply/draft" in response.url
                                    and response.request.method == "POST") as saved:
        pass
    assert (await saved.value).status == 204
    await page.close()
    pages = []
    for javascript, opened in ((True, path), (False, f"{path}/reply")):
        device = await new_context(browser, site, javascript=javascript)
        await sign_in(forum, device, name)
        pages.append(await device.new_page())
        await pages[-1].goto(opened)
        await expect(pages[-1].locator("textarea#body")).to_have_value(text)
    return pages[0], pages[1]


async def test_a_draft_comes_back_after_the_tab_is_closed(browser: Browser, site: str,
                                                          forum):
    world = await build(forum)
    context = await new_context(browser, site)
    await sign_in(forum, context, "lea")
    page = await context.new_page()
    await page.goto(f"/t/{world.thread_id}")
    again, form_page = await draft_on_other_devices(browser, site, forum, page, "lea",
                                                    "Un brouillon tapé sur le téléphone")
    # Without JavaScript, the button keeps a new one.
    await form_page.locator("textarea#body").fill("Version sans JavaScript")
    await form_page.locator("button[name=action][value=draft]").click()
    await form_page.goto(f"/t/{world.thread_id}/reply")
    assert await form_page.locator("textarea#body").input_value() == "Version sans JavaScript"
    for opened in (context, again.context, form_page.context):
        await opened.close()


async def test_leaving_with_unsaved_text_asks_first(browser: Browser, site: str, forum):
    await build(forum)
    context = await new_context(browser, site)
    await sign_in(forum, context, "lea")
    page = await context.new_page()
    await page.goto("/b/metz/new")
    await page.locator("textarea#body").press_sequentially("Pas encore")  # real key presses
    asked: list[str] = []

    async def answer(dialog) -> None:
        asked.append(dialog.type)
        await dialog.dismiss()

    page.on("dialog", answer)
    await page.close(run_before_unload=True)
    await page.wait_for_timeout(300)
    assert asked == ["beforeunload"]
    await context.close()


async def test_the_pending_explanation_before_and_after_sending(browser: Browser, site: str,
                                                                forum):
    world = await build(forum)
    context = await new_context(browser, site, javascript=False, viewport=PHONE)
    await sign_in(forum, context, "karim")  # a newcomer: his messages wait
    page = await context.new_page()
    # The reply page says it (the thread page's inline form too, each reader's own notice).
    await page.goto(f"/t/{world.thread_id}/reply")
    before = page.locator("form.reply .pending-before")
    assert await before.is_visible()
    await page.locator("form.reply textarea#body").fill("Ma question sur les drones")
    await page.locator("form.reply button[name=action][value=publish]").click()
    mine = page.locator("article.pending", has_text="Ma question sur les drones")
    assert await mine.locator(".pending-after").is_visible()
    await context.close()
