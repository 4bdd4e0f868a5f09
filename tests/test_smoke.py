"""The forum starts on an empty data folder and shows its boards."""
from __future__ import annotations

import pytest

from tests.conftest import log_in, submit

pytestmark = pytest.mark.both_stores


async def test_home_lists_city_boards(forum, client):
    await forum.board("Metz", region="Moselle (57)")
    response = await client.get("/")
    text = await response.text()
    assert response.status == 200
    assert "Metz" in text and "Moselle (57)" in text


async def test_member_replies_and_reads_it_back(forum, client):
    board = await forum.board("Metz")
    lea = await forum.user("lea")
    thread_id, _ = await forum.thread(board, lea, "Metz - équipement et utilisation")
    await log_in(client, "lea")
    response = await submit(client, f"/t/{thread_id}/reply",
                            {"body": "148 caméras en **2020**.", "action": "publish"},
                            form_page=f"/t/{thread_id}")
    assert response.status == 303
    page = await client.get(response.headers["Location"])
    html = await page.text()
    assert "<strong>2020</strong>" in html
