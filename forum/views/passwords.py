"""A forgotten password: a single-use, expiring link by e-mail, then a new password."""
from __future__ import annotations

from aiohttp import web

from forum import auth, i18n, keys, mail
from forum.db import Row, Transaction
from forum.errors import ForumError, Invalid, NotFound
from forum.models import outbox, password_resets, users
from forum.templating import render
from forum.text import clean_line, pseudonym_key
from forum.views import check_rate, client_address, form_error, see_other, text_field, url_for

FORGOT = "accounts/password_forgot.html"
RESET = "accounts/password_reset.html"
# The reset page's URL holds the token: no page it links to may learn it.
NO_REFERRER = {"Referrer-Policy": "no-referrer"}


async def forgot(request: web.Request) -> web.Response:
    """GET: the form; POST: a link to every matching account with an address, same answer."""
    config = request.app[keys.CONFIG]
    if request.method == "POST":
        form = await request.post()
        identifier = clean_line(text_field(form, "identifier"))[:254]
        # Limits, work and answer are the same whether or not an account matches.
        await check_rate(request, f"reset:{client_address(request)}",
                         config.resets_per_hour * 4, 3600)
        await check_rate(request, f"reset:{pseudonym_key(identifier)}",
                         config.resets_per_hour, 3600)
        limiter = request.app[keys.LIMITER]
        async with request.app[keys.DB].transaction() as tx:
            for member in await password_resets.accounts_for(tx, identifier):
                # Per account too: its pseudonym, its address in any case, another account's
                # shared address… each identifier has its own count, the mailbox has one.
                account_key = f"reset-account:{member['id']}"
                if await limiter.retry_after(account_key, config.resets_per_hour, 3600):
                    continue  # silently: the answer must not tell that the account exists
                await limiter.hit(account_key, 3600)
                await _queue_reset(tx, request, member)
        raise see_other(url_for(request, "password_forgot", query={"sent": "1"}))
    return render(request, FORGOT, {"sent": request.query.get("sent") == "1",
                                    "minutes": config.reset_minutes}, form=True)


async def _queue_reset(tx: Transaction, request: web.Request, member: Row) -> None:
    if not outbox.valid_address(member["email"]):
        return
    app, config = request.app, request.app[keys.CONFIG]
    token = await password_resets.create(tx, member["id"], config.reset_minutes)
    # The configured address, never the request's Host: a forged Host must not get the token.
    url = config.base_url + str(app.router["password_reset"].url_for(token=token))
    locale = (member["locale"] if member["locale"] in i18n.LOCALES
              else request.get(keys.LOCALE, config.default_locale))
    subject, text, html = mail.render_mail(app, "password_reset", locale, url=url,
                                           name=mail.mail_text(member["name"]),
                                           minutes=config.reset_minutes)
    await outbox.enqueue(tx, member["email"], subject, text, html,
                         {"Content-Language": locale})


async def reset(request: web.Request) -> web.Response:
    """GET: the new-password form if the link still works; POST: set it, log in, go on."""
    token = request.match_info["token"]
    async with request.app[keys.DB].read() as conn:
        user_id = await password_resets.user_for(conn, token)
        member = await users.get(conn, user_id) if user_id is not None else None
    if member is None:
        response = render(request, RESET, {"valid": False}, status=404)
        response.headers.update(NO_REFERRER)
        return response
    context = {"valid": True, "token": token, "name": member.name, "errors": {}}
    if request.method == "POST":
        form = await request.post()
        password = text_field(form, "password")
        try:
            if password != text_field(form, "password_again"):
                raise Invalid("The two passwords differ.", field="password_again")
            users.check_password(password)
            async with request.app[keys.DB].transaction() as tx:
                if await password_resets.use(tx, token) != member.id:
                    raise NotFound("This link does not work any more: ask for a new one.")
                await users.set_password(tx, member.id, password)  # ends every session
        except ForumError as error:
            response = form_error(request, RESET, context, error)
            response.headers.update(NO_REFERRER)
            return response
        response = see_other(url_for(request, "settings", query={"saved": "password"}))
        await auth.log_in(request, response, member)
        raise response
    response = render(request, RESET, context, form=True)
    response.headers.update(NO_REFERRER)
    return response
