"""One-click unsubscribe (RFC 8058): the signed link of every notification mail."""
from __future__ import annotations

from aiohttp import web

from forum import keys, mail
from forum.errors import NotFound
from forum.models import users
from forum.templating import render

TEMPLATE = "accounts/unsubscribe.html"


async def unsubscribe(request: web.Request) -> web.Response:
    """GET: a page with a button (a GET changes nothing); POST: no more mail, no login needed.

    The POST needs no CSRF token (see forum/csrf.py): mail providers send it from the
    List-Unsubscribe-Post header with no cookie; the signed link is the credential, and all it
    can do is stop mail. It answers 200 rather than 303: providers do not follow redirects.
    """
    token = request.match_info["token"]
    user_id = mail.user_for_unsubscribe(request.app[keys.MAIL].secret, token)
    if user_id is None:
        raise NotFound()
    if request.method == "POST":
        async with request.app[keys.DB].transaction() as tx:
            await users.set_email_notifications(tx, user_id, "never")
        choice = "never"
    else:
        async with request.app[keys.DB].read() as conn:
            choice = await users.email_notifications(conn, user_id)
    response = render(request, TEMPLATE, {"token": token, "done": choice == "never"})
    response.headers["Referrer-Policy"] = "no-referrer"  # the URL is the credential
    response.headers["Cache-Control"] = "private, no-store"
    return response
