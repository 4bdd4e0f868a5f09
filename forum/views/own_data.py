"""One's own data: the export (a ZIP prepared in the background), leaving (deleting one's
account), and the privacy page that says what the forum keeps."""
from __future__ import annotations

from typing import Any

from aiohttp import web

from forum import account_export, auth, keys
from forum.errors import ForumError, NotFound
from forum.models import leaving as leaving_model
from forum.models import outbox, two_factor, uploads, users
from forum.templating import render
from forum.views import (
    check_rate,
    form_error,
    int_param,
    require_user,
    see_other,
    text_field,
    url_for,
)
from forum.views.two_factor import _with_code

LEAVE = "accounts/leave.html"
EXPORTS_PER_DAY = 5  # a ZIP costs a full read of the member's data


async def request_export(request: web.Request) -> web.Response:
    user = require_user(request)
    await check_rate(request, f"export:{user.id}", EXPORTS_PER_DAY, 86400)
    async with request.app[keys.DB].transaction() as tx:
        await account_export.request(tx, user.id)
    account_export.wake(request.app)
    raise see_other(url_for(request, "settings", query={"saved": "export"}, fragment="export"))


async def download_export(request: web.Request) -> web.StreamResponse:
    """The ZIP, for its owner only (404 for anyone else, and once expired)."""
    user = require_user(request)
    async with request.app[keys.DB].read() as conn:
        export = await account_export.get_own(conn, user.id, int_param(request, "id"))
    if export.file_name is None or export.ready_at is None:  # still being made
        raise NotFound()
    storage = request.app[keys.UPLOADER].storage
    return await storage.response(request, account_export.key(export.file_name), {
        "Content-Type": "application/zip", "Cache-Control": "private, no-store",
        "Content-Disposition": f'attachment; filename="vigie-{export.ready_at[:10]}.zip"'})


async def _leave_context(request: web.Request, user: users.User) -> dict[str, Any]:
    async with request.app[keys.DB].read() as conn:
        return {"errors": {}, "erase": False,
                "two_factor_on": await two_factor.is_enabled(conn, user.id),
                "last_admin": await leaving_model.is_last_admin(conn, user),
                "retired_days": request.app[keys.CONFIG].pseudonym_retired_days}


async def leave(request: web.Request) -> web.Response:
    """GET: what leaving erases, and the confirmation form; POST: leave for good."""
    user = require_user(request)
    context = await _leave_context(request, user)
    if request.method != "POST":
        return render(request, LEAVE, context, form=True)
    form = await request.post()
    context["erase"] = text_field(form, "posts") == "erase"
    config = request.app[keys.CONFIG]
    try:
        await check_rate(request, f"leave:{user.id}", config.login_attempts, config.login_window)
        async with request.app[keys.DB].read() as conn:
            await users.check_current_password(conn, user.id, text_field(form, "current"))
        if context["two_factor_on"]:
            await _with_code(request, user)
        async with request.app[keys.DB].transaction() as tx:
            departure = await leaving_model.leave(tx, user, context["erase"],
                                                  config.pseudonym_retired_days)
    except ForumError as error:
        return form_error(request, LEAVE, context, error)
    await _remove_files(request, departure)
    request[keys.SESSION] = None  # ended with the account
    response = see_other(url_for(request, "index"))
    response.del_cookie(auth.SESSION_COOKIE, path="/")
    raise response


async def _remove_files(request: web.Request, departure: leaving_model.Departure) -> None:
    """After the commit: stored files no upload refers to any more, and old exports."""
    await account_export.remove_files(request.app, departure.export_files)
    if not departure.file_shas:
        return
    store = request.app[keys.UPLOADER].store
    async with request.app[keys.DB].transaction() as tx:
        for sha in await uploads.unused(tx, set(departure.file_shas)):
            await store.remove(sha)


async def privacy(request: web.Request) -> web.Response:
    """/confidentialite: what is stored, for how long, who sees it; from the configuration."""
    return render(request, "accounts/privacy.html", {"sent_mail_days": outbox.KEEP_SENT_DAYS})
