"""The moderation queue in a browser without JavaScript: approve and refuse from the page."""
from __future__ import annotations

import re

import pytest
from playwright.async_api import expect

from tests.test_browser import (  # noqa: F401  (fixtures)
    browser,
    log_in_with_form,
    new_context,
    site,
)

pytestmark = pytest.mark.browser

APPROVE = re.compile("^(Approuver|Approve)$")
REFUSE = re.compile("^(Refuser|Refuse)$")
REASON = re.compile("^(Motif|Reason)")


async def test_moderator_decides_from_the_queue_without_javascript(browser, site, forum):  # noqa: F811
    board = await forum.board("Metz")
    veteran = await forum.user("veteran")
    newcomer = await forum.user("nouvelle", trusted=False)
    await forum.user("moderatrice", role="moderator")
    thread_id, _ = await forum.thread(board, veteran, "Metz - équipement et utilisation")
    good = await forum.reply(thread_id, newcomer, "Quatre caméras gare", status="pending")
    bad = await forum.reply(thread_id, newcomer, "Adresse d'un policier", status="pending")
    context = await new_context(browser, site, javascript=False)
    page = await context.new_page()
    await log_in_with_form(page, "moderatrice")
    await page.goto("/moderation")
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


async def test_keyboard_approves_without_leaving_the_queue(browser, site, forum):  # noqa: F811
    board = await forum.board("Metz")
    veteran = await forum.user("veteran")
    newcomer = await forum.user("nouvelle", trusted=False)
    await forum.user("moderatrice", role="moderator")
    thread_id, _ = await forum.thread(board, veteran, "Drones")
    first = await forum.reply(thread_id, newcomer, "Premier signalement", status="pending")
    second = await forum.reply(thread_id, newcomer, "Second signalement", status="pending")
    context = await new_context(browser, site, javascript=True)
    page = await context.new_page()
    await log_in_with_form(page, "moderatrice")
    await page.goto("/moderation")
    url = page.url
    await page.keyboard.press("a")  # approves the first item, in place
    await expect(page.locator(f"#q{first}")).to_have_count(0)
    await expect(page.locator(f"#q{second}")).to_be_focused()
    assert page.url == url
    async with forum.db.read() as conn:
        assert await conn.value("select status from posts where id = ?", (first,)) == "published"
        assert await conn.value("select status from posts where id = ?", (second,)) == "pending"
    await context.close()
