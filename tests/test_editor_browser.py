"""The editor's progressive enhancements, in Chromium with JavaScript on."""
from __future__ import annotations

import re

import pytest
from playwright.async_api import expect

from tests.test_browser import MESSAGE, log_in_with_form, new_context

pytestmark = [pytest.mark.browser, pytest.mark.both_stores]
QUOTE = re.compile("^(Citer|Quote)$")


async def test_typing_at_suggests_pseudonyms(browser, site, forum):
    board = await forum.board("Metz")
    await forum.user("lea")
    await forum.user("leonie")
    karim = await forum.user("karim")
    thread_id, _ = await forum.thread(board, karim, "Caméras de la gare")
    context = await new_context(browser, site, javascript=True)
    page = await context.new_page()
    await log_in_with_form(page, "karim")
    await page.goto(f"/t/{thread_id}")
    box = page.get_by_label(MESSAGE)
    await box.press_sequentially("Merci @le")
    options = page.get_by_role("option")
    await expect(options).to_have_count(2)
    await page.get_by_role("option", name="@leonie").click()
    await expect(box).to_have_value("Merci @leonie ")
    await context.close()


async def test_quoting_a_selection_fills_the_reply_box(browser, site, forum):
    board = await forum.board("Metz")
    lea = await forum.user("lea")
    await forum.user("karim")
    thread_id, first = await forum.thread(
        board, lea, "Metz - équipement et utilisation",
        "Le centre de supervision compte huit agents. Les images sont gardées quinze jours.")
    context = await new_context(browser, site, javascript=True)
    page = await context.new_page()
    await log_in_with_form(page, "karim")
    await page.goto(f"/t/{thread_id}")
    body = page.locator(f"#p{first} .post-body p")
    await body.evaluate("""p => {
        const text = p.firstChild, range = document.createRange();
        range.setStart(text, 0); range.setEnd(text, text.data.indexOf('.') + 1);
        const selection = window.getSelection();
        selection.removeAllRanges(); selection.addRange(range);
    }""")
    await page.locator(f"#p{first}").get_by_role("link", name=QUOTE).click()
    value = await page.get_by_label(MESSAGE).input_value()
    assert f"(/p/{first})" in value and "@lea" in value
    assert "> Le centre de supervision compte huit agents." in value
    assert "quinze jours" not in value  # only the selection
    assert re.search(rf"/t/{thread_id}$", page.url)  # stayed on the thread page
    await context.close()
