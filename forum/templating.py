"""Jinja2 set-up (autoescape, gettext, helpers) and render(): a page for a request."""
from __future__ import annotations

import hashlib
from functools import lru_cache
from pathlib import Path
from typing import Any

import aiohttp_jinja2
import jinja2
from aiohttp import web
from yarl import URL

from forum import csrf, i18n, keys, permissions, watch

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
    env.install_gettext_callables(i18n.gettext, i18n.ngettext, newstyle=True)
    versions = _static_versions()

    def static_url(path: str) -> str:
        return f"/static/{path}?v={versions.get(path, '0')}"

    @lru_cache(maxsize=65_536)
    def path(route_: str, parts: tuple[tuple[str, str], ...]) -> str:
        # Addresses never change while the app runs; a member's pages build hundreds each.
        return str(app.router[route_].url_for(**dict(parts)))

    def url(route_: str, query_: dict[str, Any] | None = None, **parts: Any) -> str:
        built = path(route_, tuple((k, str(v)) for k, v in parts.items()))
        if query_:
            query = {k: v for k, v in query_.items() if v is not None}
            return str(URL(built, encoded=True).with_query(query))
        return built

    env.globals.update(static_url=static_url, url=url, locales=i18n.LOCALES,
                       can=permissions.can)
    env.filters["when"] = i18n.format_when
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
    body = aiohttp_jinja2.render_string(template, request, base)
    response = web.Response(text=body, status=status, content_type="text/html",
                            charset="utf-8")
    if user is not None or form:
        response.headers["Cache-Control"] = "private, no-store"
    return response
