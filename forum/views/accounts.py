"""Registering, logging in and out, choosing the language, and members' public profiles."""
from __future__ import annotations

from aiohttp import web

from forum import auth, i18n, keys
from forum.errors import ForumError, Invalid, NotFound
from forum.i18n import N_
from forum.models import findings, posts, users
from forum.templating import render
from forum.text import pseudonym_key
from forum.views import (
    check_rate,
    client_address,
    form_error,
    local_path,
    see_other,
    text_field,
    url_for,
)

LOGIN_FAILED = N_("Wrong pseudonym or password.")


async def register(request: web.Request) -> web.Response:
    config = request.app[keys.CONFIG]
    context = {"name": "", "email": "", "next": local_path(request.query.get("next")),
               "errors": {}}
    if request.method == "POST":
        form = await request.post()
        context.update(name=text_field(form, "name").strip(), email=text_field(form, "email"),
                       next=local_path(text_field(form, "next")))
        password = text_field(form, "password")
        check_rate(request, f"register:{client_address(request)}",
                   config.registrations_per_hour, 3600)
        try:
            if password != text_field(form, "password_again"):
                raise Invalid("The two passwords differ.", field="password_again")
            async with request.app[keys.DB].transaction() as tx:
                user = await users.create(tx, context["name"], password,
                                          email=context["email"])
        except ForumError as error:
            return form_error(request, "accounts/register.html", context, error)
        response = see_other(context["next"])
        await auth.log_in(request, response, user)
        raise response
    return render(request, "accounts/register.html", context, form=True)


async def login(request: web.Request) -> web.Response:
    config = request.app[keys.CONFIG]
    context = {"name": "", "next": local_path(request.query.get("next")), "errors": {}}
    if request.method == "POST":
        form = await request.post()
        name = text_field(form, "name").strip()
        context.update(name=name, next=local_path(text_field(form, "next")))
        address = client_address(request)
        # Per pseudonym *and* address: a stranger elsewhere cannot lock the owner out.
        pair_key = f"login:{address}:{pseudonym_key(name)}"
        check_rate(request, pair_key, config.login_attempts, config.login_window)
        check_rate(request, f"login:{address}", config.login_attempts * 6, config.login_window)
        async with request.app[keys.DB].read() as conn:
            user = await users.authenticate(conn, name, text_field(form, "password"))
        if user is None:
            return form_error(request, "accounts/login.html", context,
                              ForumError(LOGIN_FAILED))
        request.app[keys.LIMITER].clear(pair_key)
        response = see_other(context["next"])
        await auth.log_in(request, response, user)
        raise response
    return render(request, "accounts/login.html", context, form=True)


async def logout(request: web.Request) -> web.Response:
    response = see_other(url_for(request, "index"))
    await auth.log_out(request, response)
    raise response


async def language(request: web.Request) -> web.Response:
    """GET: the choice; POST: remember it (cookie, and the account for members)."""
    if request.method == "POST":
        form = await request.post()
        choice = text_field(form, "locale")
        if choice not in i18n.LOCALES:
            raise Invalid("Unknown language.", field="locale")
        user = request.get(keys.USER)
        if user is not None:
            async with request.app[keys.DB].transaction() as tx:
                await users.set_locale(tx, user.id, choice)
        response = see_other(local_path(text_field(form, "next")))
        response.set_cookie(i18n.LOCALE_COOKIE, choice, max_age=365 * 86400, path="/",
                            samesite="Lax", secure=request.app[keys.CONFIG].secure_cookies)
        raise response
    return render(request, "accounts/language.html",
                  {"next": local_path(request.query.get("next"))}, form=True)


async def profile(request: web.Request) -> web.Response:
    viewer = request.get(keys.USER)
    async with request.app[keys.DB].read() as conn:
        member = await users.get_by_name(conn, request.match_info["name"])
        if member.name != request.match_info["name"]:
            raise NotFound()
        recent = await posts.list_for_author(conn, member.id, viewer, limit=20)
        record = await findings.by_author(conn, member.id, viewer, limit=20)
    return render(request, "accounts/profile.html",
                  {"member": member, "posts": recent, "findings": record})
