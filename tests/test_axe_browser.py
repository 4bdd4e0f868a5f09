"""axe-core in Debian's Chromium: no serious or critical accessibility violation on any page
type, as a visitor, a member, a moderator and an administrator see it.

One site per store, built once for the module (the tests only read it; signing in adds a
session), and one browser; one context (one signed-in profile) and one tab per role, reused from
page to page. A failure lists every rule broken, where (page and CSS selector) and axe's
explanation.
"""
from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import date

import pytest
import pytest_asyncio
from axe_playwright_python.base import AXE_SCRIPT
from playwright.async_api import Browser, Page

from forum.i18n import CATALOGS
from forum.models import (
    boards,
    drops,
    moderation,
    notifications,
    posts,
    requests,
    threads,
    uploads,
    users,
)
from tests.conftest import Forum, chromium, shared_forum
from tests.test_browser import new_context

pytestmark = [pytest.mark.browser, pytest.mark.both_stores,
              pytest.mark.asyncio(loop_scope="module")]

BLOCKING = ("serious", "critical")
# What axe checks: WCAG 2.1 A and AA, and its best practices (landmarks, headings...).
AXE_OPTIONS = {"resultTypes": ["violations"],
               "runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a",
                                                     "wcag21aa", "best-practice"]}}


@dataclass
class World:
    thread_id: int
    first_post: int  # lea's, with a file
    reply: int  # karim's, edited once (it has revisions) and flagged
    pending_post: int
    finding_id: int
    request_id: int
    drop_id: int


async def build(forum: Forum) -> World:
    """A city with a thread, replies, a file, findings, a pending post and finding, a flag,
    notifications and a journal: every element a page may show."""
    metz = await forum.board("Metz", region="Moselle (57)", description="Vidéosurveillance")
    nancy = await forum.board("Nancy")
    lea = await forum.user("lea")
    karim = await forum.user("karim", trusted=False)
    mod = await forum.user("vigile", role="moderator")
    await forum.user("admin", role="admin")
    bea = await forum.user("bea")
    thread_id, first = await forum.thread(metz, lea, "Caméras du centre-ville",
                                          "Le rapport du CSU donne **148 caméras**.")
    reply = await forum.reply(thread_id, karim, "Merci @lea, et les drones ?")
    async with forum.db.transaction() as tx:
        await posts.edit(tx, await posts.get(tx, reply), karim, "Merci @lea : et les drones ?",
                         forum.config.body_max)
        upload = await uploads.insert(tx, lea.id, "b" * 64, "rapport-csu.pdf", "pdf",
                                      "application/pdf", 2048, None, None, None, [])
        await uploads.attach(tx, first, lea.id, [upload.id], 5, 10**8)
        pending = await posts.create(tx, thread_id, metz.id, karim, "Un message en attente.",
                                     forum.config.body_max, status="pending")
        await moderation.flag(tx, await posts.get(tx, reply), lea, "Hors sujet", 99, 3)
        await notifications.add(tx, lea.id, "reply", post_id=reply, thread_id=thread_id,
                                actor_id=karim.id)
        await moderation.set_thread_state(tx, await threads.get(tx, thread_id), mod, "pin",
                                          "Fil de référence")
        gone = await posts.create(tx, thread_id, metz.id, lea, "Un doublon.",
                                  forum.config.body_max)
        await moderation.delete_post(tx, await posts.get(tx, gone), mod, "Doublon")
        await moderation.add_board_moderator(tx, metz, bea)  # the admin page lists her
    finding_id = await forum.finding(metz, lea, post_id=first)
    await forum.finding(metz, lea, quantity="72", observed="2014-11")
    for quantity, observed in (("20", "2008"), ("64", "2014-11")):  # compare draws both
        await forum.finding(nancy, lea, quantity=quantity, observed=observed)
    await forum.finding(metz, karim, review="pending", kind="drones", quantity="2")
    # Populations: rates per 10 000 inhabitants, and Nancy placed on the map at its town hall.
    await forum.finding(metz, lea, kind="population", quantity="121 000", observed="2021")
    await forum.finding(nancy, lea, kind="population", quantity="104 000", observed="2021",
                        latitude="48.6936", longitude="6.1832")
    # A records request (one public, one waiting) and a drop from a source.
    sent = requests.NewRequest("Police municipale de Metz", "Le registre des caméras", "email",
                               date(2025, 3, 1), None)
    async with forum.db.transaction() as tx:
        request_id = await requests.create(tx, metz, lea, sent, "published")
        await requests.create(tx, metz, karim, sent, "pending")
        await drops.create(tx, metz.id, "Le plan des caméras du quartier.", [])
        drop_id = await tx.value("select max(id) from drops")
        await boards.add_member(tx, metz, "karim", mod)  # the members page lists him
    return World(thread_id, first, reply, pending, finding_id, request_id, drop_id)


PAGES: dict[str, Callable[[World], str]] = {
    "home": lambda w: "/",
    "board": lambda w: "/b/metz",
    "thread": lambda w: f"/t/{w.thread_id}",
    "permalink": lambda w: f"/p/{w.reply}",
    "new thread": lambda w: "/b/metz/new",
    "reply": lambda w: f"/t/{w.thread_id}/reply",
    "edit": lambda w: f"/p/{w.first_post}/edit",
    "delete": lambda w: f"/p/{w.first_post}/delete",
    "flag": lambda w: f"/p/{w.reply}/flag",
    "revisions": lambda w: f"/p/{w.reply}/revisions",
    "profile": lambda w: "/u/lea",
    "settings": lambda w: "/settings",
    "notifications": lambda w: "/notifications",
    "search": lambda w: "/search?q=cam%C3%A9ras",
    "login": lambda w: "/login",
    "register": lambda w: "/register",
    "forgotten password": lambda w: "/password/forgot",
    "moderation queue": lambda w: "/moderation",
    "moderation edit": lambda w: f"/moderation/posts/{w.pending_post}/edit",
    "journal": lambda w: "/moderation/journal",
    "admin boards": lambda w: "/admin/boards",
    "admin board": lambda w: "/admin/boards/metz",
    "admin kinds": lambda w: "/admin/kinds",
    "finding": lambda w: f"/f/{w.finding_id}",
    "propose finding": lambda w: "/b/metz/watch/new",
    "edit finding": lambda w: f"/f/{w.finding_id}/edit",
    "city watch": lambda w: "/b/metz/watch",
    "national watch": lambda w: "/watch",  # with the map of the cities
    "national watch per inhabitant": lambda w: "/watch?per=inhabitants&sort=cameras",
    "compare": lambda w: "/watch/compare?a=metz&b=nancy",
    "compare form": lambda w: "/watch/compare",
    "city watch, bad filter": lambda w: "/b/metz/watch?since=demain",
    "board members": lambda w: "/b/metz/members",
    "rename thread": lambda w: f"/t/{w.thread_id}/title",
    "delete finding": lambda w: f"/f/{w.finding_id}/delete",
    "national requests": lambda w: "/requests",
    "city requests": lambda w: "/b/metz/requests",
    "request": lambda w: f"/r/{w.request_id}",
    "new request": lambda w: "/b/metz/requests/new",
    "drop": lambda w: "/deposer",
    "city drop": lambda w: "/b/metz/deposer",
    "moderation requests": lambda w: "/moderation/requests",
    "moderation drops": lambda w: "/moderation/drops",
    "moderation drop": lambda w: f"/moderation/drops/{w.drop_id}",
    "privacy": lambda w: "/confidentialite",
    "language": lambda w: "/language",
    "reset link, expired": lambda w: "/password/reset/expired",
    "unsubscribe link, wrong": lambda w: "/unsubscribe/wrong",
    "error 404": lambda w: "/b/nowhere",
}

ADMIN_PAGES = ("home", "thread", "admin boards", "admin board", "admin kinds")
# Forms sent empty (the browser's own checks off): the page again, with its errors.
REFUSED_FORMS = {None: ("/register", "/login", "/password/forgot"),
                 "lea": ("/b/metz/new", "/b/metz/watch/new", "/settings")}


async def sign_in(forum: Forum, context, name: str | None) -> None:
    """The session cookie a login would set (the login form has its own tests)."""
    if name is None:
        return
    async with forum.db.transaction() as tx:
        user = await users.get_by_name(tx, name)
        token = await users.open_session(tx, user.id, 1)
    await context.add_cookies([{"name": "vigie_session", "value": token,
                                "url": str(forum.client.make_url("/"))}])


def describe(page_name: str, path: str, violation: dict) -> str:
    nodes = "\n".join(
        f"      {', '.join(map(str, node['target']))}: {node.get('failureSummary', '')}"
        .replace("\n", " ") for node in violation["nodes"][:10])
    return (f"  {page_name} ({path}): {violation['id']} [{violation['impact']}]"
            f" {violation['help']}\n{nodes}")


async def violations_on(page: Page, page_name: str, path: str, seen: set[str]) -> list[str]:
    """axe's serious and critical findings on this page; none if it led to one already seen
    (a visitor sent to the login form, a member's 403 pages)."""
    response = await page.goto(path)
    assert response is not None
    # A server error's page would be checked in its stead (and pass): the page was never drawn.
    assert response.status < 500, f"{page_name} ({path}) answered {response.status}"
    landed = page.url.split("#")[0] if response.ok else f"error {response.status}"
    if landed in seen:
        return []
    seen.add(landed)
    return await axe_report(page, page_name, path)


async def axe_report(page: Page, page_name: str, path: str) -> list[str]:
    results = await page.evaluate(f"axe.run(document, {json.dumps(AXE_OPTIONS)})")
    return [describe(page_name, path, violation) for violation in results["violations"]
            if violation["impact"] in BLOCKING]


async def refused_form(page: Page, path: str) -> list[str]:
    """Send the page's first form empty, and check the answer that shows the errors."""
    await page.goto(path)
    form = page.locator("main form[method=post]").first
    await form.evaluate("form => { form.noValidate = true; }")
    async with page.expect_navigation():
        await form.locator("button[type=submit]").last.click()
    return await axe_report(page, "refused form", path)


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def built(tmp_path_factory, module_databases) -> AsyncIterator[tuple[Forum, World]]:
    """The module's site, on the store of its tests, and what build() put in it."""
    async with shared_forum(tmp_path_factory.mktemp("axe") / "data",
                            await module_databases()) as forum:
        yield forum, await build(forum)


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def browser() -> AsyncIterator[Browser]:
    """One browser for the module (conftest's is per test, on the test's own event loop)."""
    async with chromium() as launched:
        yield launched


@pytest.mark.parametrize("role", [None, "lea", "vigile", "admin"],
                         ids=["visitor", "member", "moderator", "admin"])
async def test_no_serious_accessibility_violation_on_any_page(browser: Browser, built, role):
    forum, world = built
    context = await new_context(browser, str(forum.client.make_url("/")))
    # Loaded with every page, as its own scripts are (the page's CSP does not apply to it).
    await context.add_init_script(AXE_SCRIPT)
    await sign_in(forum, context, role)
    page = await context.new_page()
    found: list[str] = []
    seen: set[str] = set()
    for page_name, path in PAGES.items():
        if role == "admin" and page_name not in ADMIN_PAGES:
            continue  # elsewhere an administrator sees what a moderator sees
        found += await violations_on(page, page_name, path(world), seen)
    for path in REFUSED_FORMS.get(role, ()):
        found += await refused_form(page, path)
    await context.close()
    assert not found, "axe found serious or critical violations:\n" + "\n".join(found)


# Buttons styled as links were white on white: found where only members and moderators look.
LINK_BUTTONS = [("lea", "thread", "Mute"), ("lea", "notifications", "Mark as read"),
                ("vigile", "board members", "Remove"), ("admin", "admin board", "Remove")]
CONTRAST_ONLY = {"runOnly": {"type": "rule", "values": ["color-contrast"]}}


async def test_buttons_styled_as_links_can_be_read(browser: Browser, built):
    forum, world = built
    found: list[str] = []
    for role, page_name, label in LINK_BUTTONS:
        context = await new_context(browser, str(forum.client.make_url("/")))
        await context.add_init_script(AXE_SCRIPT)
        await sign_in(forum, context, role)
        page = await context.new_page()
        await page.goto(PAGES[page_name](world))
        button = page.get_by_role("button", name=CATALOGS["fr"].gettext(label), exact=True).first
        await button.wait_for(state="visible")
        results = await button.evaluate(f"b => axe.run(b, {json.dumps(CONTRAST_ONLY)})")
        found += [describe(page_name, label, violation) for violation in results["violations"]]
        await context.close()
    assert not found, "unreadable buttons:\n" + "\n".join(found)
