"""Invitation links (members with approved posts, moderators) and the moderators' journal of
accounts: who invited whom, the answers given at sign-up, departures."""
from __future__ import annotations

from aiohttp import web

from forum import keys
from forum.errors import NotFound
from forum.models import invitations
from forum.templating import render
from forum.views import (
    int_param,
    page_count,
    page_number,
    require_user,
    require_writer,
    see_other,
    url_for,
)

TEMPLATE = "accounts/invitations.html"


async def index(request: web.Request) -> web.Response:
    """GET: one's links and a button for a new one; POST: make one and show it once."""
    user = require_user(request)
    config = request.app[keys.CONFIG]
    new_link = None
    if request.method == "POST":
        user = require_writer(request)
        async with request.app[keys.DB].transaction() as tx:
            token = await invitations.create(tx, user, config)
        new_link = invitations.link(config, token)
    async with request.app[keys.DB].read() as conn:
        rules = await invitations.registration(conn, config)
        made = await invitations.list_for(conn, user.id)
    return render(request, TEMPLATE, {
        "invitations": made, "new_link": new_link, "mode": rules.mode,
        "may_invite": invitations.may_invite(user, config),
        "min_posts": config.invitation_min_posts, "days": config.invitation_days,
        "limit": None if user.moderates_any else config.invitations_per_member,
        "window": invitations.LIMIT_WINDOW_DAYS}, form=True)


async def withdraw(request: web.Request) -> web.Response:
    user = require_user(request)
    async with request.app[keys.DB].transaction() as tx:
        await invitations.withdraw(tx, user.id, int_param(request, "id"))
    raise see_other(url_for(request, "invitations"))


async def journal(request: web.Request) -> web.Response:
    """Moderators only (404 for others, as every moderation page): new accounts with their
    inviter and answer, and accounts that left."""
    user = require_user(request)
    if not user.moderates_any:
        raise NotFound()
    page = page_number(request)
    per_page = request.app[keys.CONFIG].journal_per_page
    async with request.app[keys.DB].read() as conn:
        events = await invitations.journal(conn, page, per_page)
        total = await invitations.journal_size(conn)
    return render(request, "accounts/account_journal.html",
                  {"events": events, "page": page, "pages": page_count(total, per_page)})
