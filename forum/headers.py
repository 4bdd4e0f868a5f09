"""Security headers on every response: a strict CSP with no inline script, no framing."""
from __future__ import annotations

from aiohttp import web
from aiohttp.typedefs import Handler

from forum import i18n, keys

CONTENT_SECURITY_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "
    "font-src 'self'; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; "
    "base-uri 'none'"
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=(), interest-cohort=()",
    "Cross-Origin-Opener-Policy": "same-origin",
}


@web.middleware
async def security_headers_middleware(request: web.Request,
                                      handler: Handler) -> web.StreamResponse:
    response = await handler(request)
    for name, value in SECURITY_HEADERS.items():
        response.headers.setdefault(name, value)
    # Here rather than in the locale middleware, so that error pages carry them too.
    if response.content_type == "text/html" and not response.prepared:
        response.headers.setdefault("Content-Language",
                                    request.get(keys.LOCALE, i18n.current_locale.get()))
        response.headers.setdefault("Vary", "Accept-Language, Cookie")
    return response
