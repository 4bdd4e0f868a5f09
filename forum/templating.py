"""Jinja2 set-up (autoescape, gettext, helpers) and render(): a page for a request."""
from __future__ import annotations

import hashlib
from functools import lru_cache
from pathlib import Path
from typing import Any

import aiohttp_jinja2
import jinja2
from aiohttp import web
from markupsafe import Markup
from yarl import URL

from forum import csrf, fragments, i18n, keys, markdown, permissions, watch
from forum.cache import Tags
from forum.models.users import User

ROOT = Path(__file__).resolve().parent.parent
TEMPLATES = ROOT / "templates"
STATIC = ROOT / "static"


def _static_versions() -> dict[str, str]:
    """A short content hash per static file, so they can be cached for a long time."""
    versions = {}
    for path in STATIC.rglob("*"):
        if path.is_file():
            rel = path.relative_to(STATIC).as_posix()
            versions[rel] = hashlib.sha256(path.read_bytes()).hexdigest()[:10]
    return versions


@jinja2.pass_eval_context
def _template_gettext(eval_ctx: jinja2.nodes.EvalContext, string: str, /,
                      **variables: Any) -> str:
    """jinja2's newstyle gettext (its ext._make_new_gettext) without its indirections: the
    text in the current locale, marked safe when autoescaping, always formatted (so "%%")."""
    text = i18n.gettext(string)
    if eval_ctx.autoescape:
        text = Markup(text)
    return text % variables


def setup(app: web.Application) -> jinja2.Environment:
    env = aiohttp_jinja2.setup(
        app,
        loader=jinja2.FileSystemLoader(TEMPLATES),
        autoescape=jinja2.select_autoescape(("html", "xml")),
        extensions=["jinja2.ext.i18n"],
        trim_blocks=True,
        lstrip_blocks=True,
        undefined=jinja2.StrictUndefined,
        auto_reload=False,  # templates are read once: no file checks on every render
    )
    # A method jinja2.ext.i18n adds to the environment, unknown to jinja2's types.
    env.install_gettext_callables(  # type: ignore[attr-defined]
        i18n.gettext, i18n.ngettext, newstyle=True)
    # `_("...")` straight to the catalog, as jinja2's newstyle gettext does it: its `_` goes
    # through an alias and three context calls per text, a third of a page's shell render.
    env.globals["_"] = env.globals["gettext"] = _template_gettext
    versions = _static_versions()

    def static_url(path: str) -> str:
        return f"/static/{path}?v={versions.get(path, '0')}"

    @lru_cache(maxsize=65_536)
    def path(route_: str, parts: tuple[tuple[str, Any], ...]) -> str:
        # Addresses never change while the app runs; a member's pages build hundreds each.
        return str(app.router[route_].url_for(**{k: str(v) for k, v in parts}))

    @lru_cache(maxsize=4096)
    def with_query(built: str, query: tuple[tuple[str, Any], ...]) -> str:
        # Pages link to the log-in, the sign-up and the other language with their own address.
        return str(URL(built, encoded=True).with_query(dict(query)))

    def url(route_: str, query_: dict[str, Any] | None = None, **parts: Any) -> str:
        # Keyed by the values themselves (ids, names: all hashable), not by their text: a page
        # without cache builds a hundred addresses, two per post.
        built = path(route_, tuple(parts.items()))
        if query_:
            query = tuple((k, v) for k, v in query_.items() if v is not None)
            try:
                return with_query(built, query)
            except TypeError:  # a value that cannot be a key (a list: a repeated parameter)
                return str(URL(built, encoded=True).with_query(dict(query)))
        return built

    env.globals.update(static_url=static_url, url=url, locales=i18n.LOCALES,
                       can=permissions.can)
    env.filters["when"] = i18n.format_when
    env.filters["files_shown"] = markdown.files_shown  # photos a post's text already shows
    # Findings (forum/watch.py): "250 000 €", "novembre 2014", "en service", a kind's name.
    env.filters["quantity"] = watch.format_figure  # a change is signed: "+3", "-2"
    env.filters["scope_label"] = watch.scope_label
    env.filters["observed"] = watch.format_observed
    env.filters["status_label"] = watch.status_label
    env.filters["kind_label"] = lambda label: i18n.gettext(label)
    env.filters["kind_label_for"] = watch.kind_label_for  # "1 caméra", "148 caméras"
    return env


def render(request: web.Request, template: str, context: dict[str, Any] | None = None,
           status: int = 200, form: bool = False) -> web.Response:
    """Render a page; `form=True` when it holds a form (it then carries a CSRF token)."""
    user = request.get(keys.USER)
    body = render_string(request, template, context, form)
    response = web.Response(text=body, status=status, content_type="text/html",
                            charset="utf-8")
    if user is not None or form:
        response.headers["Cache-Control"] = "private, no-store"
    return response


def render_string(request: web.Request, template: str, context: dict[str, Any] | None = None,
                  form: bool = False) -> str:
    """A page's HTML for this request (render() without the response)."""
    user = request.get(keys.USER)
    base = {
        "request": request,
        "user": user,
        "session": request.get(keys.SESSION),
        "locale": request.get(keys.LOCALE, i18n.current_locale.get()),
        "config": request.app[keys.CONFIG],
        # Visitors' pages without forms carry no token, so that they can be cached for all.
        "csrf_token": csrf.token_for(request) if (user is not None or form) else "",
    }
    base.update(context or {})
    return aiohttp_jinja2.render_string(template, request, base)


def reader_response(request: web.Request, body: bytes, etag: str) -> web.Response:
    """A member's page (forum/fragments.py: ReaderPage) with its per-reader validator.

    Still `no-store`: once they log out, the browser must not show it again from its history;
    a client that keeps it anyway may ask again with If-None-Match and get a 304."""
    if request.headers.get("If-None-Match") == etag:
        response = web.Response(status=304)
    else:
        response = web.Response(body=body, content_type="text/html", charset="utf-8")
    response.headers["ETag"] = etag
    response.headers["Cache-Control"] = "private, no-store"
    return response


# Members' pages kept and assembled per reader (forum/fragments.py: ReaderPage). -------------


def kept_member_page(request: web.Request, own: bool = False) -> fragments.ReaderPage | None:
    """The page kept for this member at this address, if any: for their class (the page
    cache), or with `own`, one kept with their session (dropped at the next write)."""
    known = request.get(keys.KNOWN_SESSION)
    if known is None or request.method != "GET":
        return None
    locale = request[keys.LOCALE]
    if own:
        page: fragments.ReaderPage | None = known.memo.get(
            ("page", request.path_qs, locale, i18n.CATALOGS[locale]))
        return page
    return fragments.kept_page(request.app[keys.PAGE_CACHE], request.path_qs, locale,
                               _member(request))


def member_page(request: web.Request, template: str, context: dict[str, Any],
                bits: dict[str, str], tags: Tags | None, epoch: int,
                personal: frozenset[int] = frozenset(),
                viewed_thread: int | None = None, subject: Any = None) -> web.Response:
    """A member's page: rendered with marks where their bits go, kept for their class under
    `tags` (page cache, read at `epoch` before the data), or with `tags` None with their session
    alone; then assembled for them. Only for a GET with a kept session (kept_member_page)."""
    body = _marked(request, template, context)
    locale = request[keys.LOCALE]
    known = request[keys.KNOWN_SESSION]
    user = _member(request)
    if tags is None:
        kept = fragments.ReaderPage.of(body, frozenset({user.id}), viewed_thread, subject)
        known.memo[("page", request.path_qs, locale, i18n.CATALOGS[locale])] = kept
    else:
        kept = fragments.ReaderPage.of(body, personal, viewed_thread, subject)
        fragments.keep_page(request.app[keys.PAGE_CACHE], request.path_qs, locale,
                            user, kept, tags, epoch)
    return assembled(request, kept, bits)


def _marked(request: web.Request, template: str, context: dict[str, Any]) -> str:
    """A member's page with marks where their bits go (fragments.ReaderPage.of)."""
    return render_string(request, template, {
        **context, "slots": fragments.SLOT_MARKUP, "csrf_token": fragments.CSRF_MARK,
        "follow_html": fragments.SLOT_MARKUP["follow"], "keyed_slot": fragments.keyed_slot})


def page_by_value(request: web.Request, template: str, context: dict[str, Any], tags: Tags,
                  epoch: int, own: bool = False) -> web.Response:
    """A member's page kept by what it shows (its context, by value), for every member of their
    class (`own`: for them alone), then assembled with their bits. For pages that many writes
    change, which no tag would drop exactly (the moderation queue): the data is read at every
    request, the render is not. Kept in FragmentCache.pages, one per address and class (a new
    version replaces the old), under `tags` (its posts and findings: a purge drops it at once);
    `epoch`: that table's, read before the data. Only for a GET with a kept session."""
    cache = request.app[keys.FRAGMENTS]
    locale = request[keys.LOCALE]
    user = _member(request)
    shown = hashlib.blake2b(repr(sorted(context.items())).encode(), digest_size=16).digest()
    address = (template, request.path_qs, locale, cache.catalog_number(locale),
               fragments.reader_class(user), user.id if own else None)
    found = cache.pages.get(address)
    if found is not None and found[0] == shown:
        kept: fragments.ReaderPage = found[1]
    else:
        kept = fragments.ReaderPage.of(_marked(request, template, context), frozenset(), None)
        cache.pages.put(address, (shown, kept), tags, epoch)
    return assembled(request, kept, {})


def _member(request: web.Request) -> User:
    """The member of a request with a kept session (auth_middleware sets both together)."""
    user = request[keys.USER]
    if user is None:
        raise RuntimeError("a member's page asked for without a member")
    return user


def assembled(request: web.Request, kept: fragments.ReaderPage,
              bits: dict[str, str]) -> web.Response:
    """A kept member's page with this reader's bits (and `bits`: a follow form...)."""
    all_bits = fragments.reader_bits(request.app[keys.FRAGMENTS],
                                     request.app[aiohttp_jinja2.APP_KEY],
                                     request[keys.KNOWN_SESSION], request[keys.LOCALE],
                                     bits.items())
    body, etag = kept.assemble(all_bits, request[keys.KNOWN_SESSION].memo)
    return reader_response(request, body, etag)
