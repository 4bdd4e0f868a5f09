"""The moderation queue in a browser without JavaScript: approve and refuse from the page."""
from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.async_api import expect

from tests.test_browser import log_in_with_form, new_context

pytestmark = [pytest.mark.browser, pytest.mark.both_stores]

APPROVE = re.compile("^(Approuver|Approve)$")
REFUSE = re.compile("^(Refuser|Refuse)$")
REASON = re.compile("^(Motif|Reason)")


async def queue_of(browser, site, forum, title: str, bodies: list[str],
                   javascript: bool) -> tuple[Any, Any, int, list[int]]:
    """A newcomer's replies waiting under a veteran's thread in Metz, and the queue's page
    open for "moderatrice": (browser context, page, thread, replies)."""
    board = await forum.board("Metz")
    veteran = await forum.user("veteran")
    newcomer = await forum.user("nouvelle", trusted=False)
    await forum.user("moderatrice", role="moderator")
    thread_id, _ = await forum.thread(board, veteran, title)
    waiting = [await forum.reply(thread_id, newcomer, body, status="pending") for body in bodies]
    context = await new_context(browser, site, javascript=javascript)
    page = await context.new_page()
    await log_in_with_form(page, "moderatrice")
    await page.goto("/moderation")
    return context, page, thread_id, waiting


async def test_moderator_decides_from_the_queue_without_javascript(browser, site, forum):
    context, page, thread_id, (good, bad) = await queue_of(
        browser, site, forum, "Metz - équipement et utilisation",
        ["Quatre caméras gare", "Adresse d'un policier"], javascript=False)
    first, second = page.locator(f"#q{good}"), page.locator(f"#q{bad}")
    await expect(first).to_contain_text("Quatre caméras gare")
    await expect(first).to_contain_text("Metz - équipement et utilisation")
    await first.get_by_role("button", name=APPROVE).click()
    await expect(page).to_have_url(re.compile(r"/moderation$"))
    await expect(page.locator(f"#q{good}")).to_have_count(0)
    await second.get_by_placeholder(REASON).fill("Expose une personne")
    await second.get_by_role("button", name=REFUSE).click()
    await expect(page.locator(f"#q{bad}")).to_have_count(0)
    reader = await (await new_context(browser, site, javascript=False)).new_page()
    await reader.goto(f"/t/{thread_id}")
    await expect(reader.locator(f"article#p{good}")).to_contain_text("Quatre caméras gare")
    await expect(reader.locator(f"article#p{bad}")).to_have_count(0)
    await reader.goto("/moderation/journal")
    await expect(reader.get_by_role("table")).to_contain_text("Expose une personne")
    await context.close()


async def test_keyboard_approves_without_leaving_the_queue(browser, site, forum):
    context, page, _thread_id, (first, second) = await queue_of(
        browser, site, forum, "Drones", ["Premier signalement", "Second signalement"],
        javascript=True)
    url = page.url
    await page.keyboard.press("a")  # approves the first item, in place
    await expect(page.locator(f"#q{first}")).to_have_count(0)
    await expect(page.locator(f"#q{second}")).to_be_focused()
    assert page.url == url
    async with forum.db.read() as conn:
        assert await conn.value("select status from posts where id = ?", (first,)) == "published"
        assert await conn.value("select status from posts where id = ?", (second,)) == "pending"
    await context.close()
