"""Registering, logging in and out, choosing the language, and members' public profiles."""
from __future__ import annotations

from typing import Any

from aiohttp import web

from forum import auth, i18n, keys
from forum.config import Config
from forum.errors import Forbidden, ForumError, Invalid, NotFound, TooManyRequests
from forum.i18n import N_
from forum.models import findings, invitations, moderation, posts, two_factor, users
from forum.permissions import can
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
from forum.views import two_factor as views_two_factor

LOGIN_FAILED = N_("Wrong pseudonym or password.")


async def register(request: web.Request) -> web.Response:
    """Sign up, as the registration mode allows: open, with an invitation link, or closed."""
    config = request.app[keys.CONFIG]
    invitation = request.query.get("invitation", "")[:200]
    async with request.app[keys.DB].read() as conn:
        rules = await invitations.registration(conn, config)
        invited = bool(invitation) and await invitations.inviter_of(conn, invitation) is not None
    context: dict[str, Any] = {
        "name": "", "email": "", "answer": "", "next": local_path(request.query.get("next")),
               "errors": {}, "mode": rules.mode, "question": rules.question,
               "invitation": invitation, "invited": invited}
    if request.method == "POST":
        form = await request.post()
        context.update(name=text_field(form, "name").strip(), email=text_field(form, "email"),
                       answer=text_field(form, "answer"), next=local_path(text_field(form, "next")),
                       invitation=text_field(form, "invitation")[:200])
        password = text_field(form, "password")
        await check_rate(request, f"register:{client_address(request)}",
                         config.registrations_per_hour, 3600)
        try:
            if password != text_field(form, "password_again"):
                raise Invalid("The two passwords differ.", field="password_again")
            user = await _create_account(request, rules, context, password)
        except ForumError as error:
            return form_error(request, "accounts/register.html", context, error)
        response = see_other(context["next"])
        await auth.log_in(request, response, user)
        raise response
    return render(request, "accounts/register.html", context, form=True)


async def _create_account(request: web.Request, rules: invitations.Registration,
                          context: dict[str, Any],
                          password: str) -> users.User:
    """The account, its answer and the invitation it spends, in one transaction."""
    if rules.mode == "closed":
        raise Forbidden("Registration is closed.")
    if rules.mode == "invitation" and not context["invitation"]:
        raise Forbidden("Registration is by invitation only: ask a member for a link.")
    answer = invitations.clean_answer(context["answer"], rules.question)
    async with request.app[keys.DB].transaction() as tx:
        user = await users.create(tx, context["name"], password, email=context["email"])
        inviter = None
        if rules.mode == "invitation":
            inviter = await invitations.use(tx, context["invitation"], user.id)
        if answer is not None:
            await invitations.keep_answer(tx, user.id, answer)
        await invitations.record(tx, "registered", user.id, inviter)
    return user


async def login(request: web.Request) -> web.Response:
    config = request.app[keys.CONFIG]
    context: dict[str, Any] = {"name": "", "next": local_path(request.query.get("next")),
                               "errors": {},
               "expired": request.query.get("expired") == "1"}  # a code asked for too late
    if request.method == "POST":
        form = await request.post()
        name = text_field(form, "name").strip()
        context.update(name=name, next=local_path(text_field(form, "next")))
        limiter = request.app[keys.LIMITER]
        counted = _login_limits(config, client_address(request), pseudonym_key(name))
        # Checked before the password; only failures count (a success takes its hit back).
        # Counting first, not after, keeps a burst of parallel guesses inside the limits.
        wait = max([await limiter.retry_after(key, limit, config.login_window)
                    for key, limit in counted])
        if wait:
            raise TooManyRequests("Too many attempts. Please wait a little and try again.",
                                  retry_after=wait)
        for key, _limit in counted:
            await limiter.hit(key, config.login_window)
        async with request.app[keys.DB].read() as conn:
            user = await users.authenticate(conn, name, text_field(form, "password"))
        if user is None:
            return form_error(request, "accounts/login.html", context,
                              ForumError(LOGIN_FAILED))
        await limiter.clear(counted[0][0])  # the owner's own mistakes are forgiven
        for key, _limit in counted[1:]:
            await limiter.unhit(key)
        async with request.app[keys.DB].read() as conn:
            second_step = await two_factor.is_enabled(conn, user.id)
        if second_step:
            response = see_other(url_for(request, "login_code"))
            await views_two_factor.ask_for_code(request, response, user, context["next"])
            raise response
        response = see_other(context["next"])
        await auth.log_in(request, response, user)
        raise response
    return render(request, "accounts/login.html", context, form=True)


def _login_limits(config: Config, address: str, name_key: str) -> list[tuple[str, int]]:
    """Failed logins are counted per pseudonym and per address, never site-wide.

    One address guessing many names is stopped (the address, not the others); many addresses
    guessing one name are slowed down; the owner elsewhere keeps the pair limit's room.
    """
    return [(f"login:{address}:{name_key}", config.login_attempts),
            (f"login-address:{address}", config.login_attempts * 6),
            (f"login-name:{name_key}", config.login_attempts * 10)]


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
        # Tabs "published / pending / refused": the last two for the author and moderators.
        tabs = (list(posts.AUTHOR_TABS) if viewer is not None
                and (viewer.id == member.id or viewer.moderates_any) else ["published"])
        tab = request.query.get("tab", "published")
        if tab not in tabs:
            raise NotFound()
        recent = await posts.list_for_author(conn, member.id, viewer, limit=20, tab=tab)
        counts = await posts.count_for_author(conn, member.id, viewer)
        record = await findings.by_author(conn, member.id, viewer, limit=20)
        # Their reasons may be private: only for those who may sanction this member.
        sanctions = (await moderation.sanctions_of(conn, member.id)
                     if can(viewer, "sanction", member) else [])
        # The answer given at sign-up and the inviter: for the same eyes only.
        arrival = (await invitations.arrival_of(conn, member.id)
                   if can(viewer, "sanction", member) else None)
    return render(request, "accounts/profile.html",
                  {"member": member, "posts": recent, "findings": record,
                   "sanctions": sanctions, "arrival": arrival, "tabs": tabs, "tab": tab,
                   "counts": counts})
