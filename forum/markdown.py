"""The only module that imports markdown-it or bleach: Markdown text -> safe HTML, once."""
from __future__ import annotations

import re
from functools import partial

import bleach
from bleach.linkifier import LinkifyFilter
from markdown_it import MarkdownIt

from forum.text import clean_body

ALLOWED_TAGS = frozenset({
    "p", "br", "hr", "h1", "h2", "h3", "h4", "h5", "h6", "strong", "em", "del", "s", "code",
    "pre", "blockquote", "ul", "ol", "li", "a", "img", "table", "thead", "tbody", "tr", "th",
    "td",
})
ALLOWED_PROTOCOLS = frozenset({"http", "https", "mailto"})
LINK_REL = "nofollow ugc noopener"
_LANGUAGE_CLASS = re.compile(r"^language-[a-z0-9_+-]{1,30}$")


_ALIGN_STYLE = re.compile(r'<(th|td) style="text-align:(left|right|center)">')
_ALIGN_CLASSES = frozenset({"align-left", "align-right", "align-center"})


def _allowed_attribute(tag: str, name: str, value: str) -> bool:
    if tag == "a":
        return name in ("href", "title")
    if tag == "img":
        # Only our own files: a remote image would tell a third party who reads the thread.
        if name == "src":
            return value.startswith("/") and not value.startswith("//")
        return name in ("alt", "title")
    if tag == "ol":
        return name == "start" and value.isdigit()
    if tag == "code":
        return name == "class" and bool(_LANGUAGE_CLASS.match(value))
    if tag in ("th", "td"):
        return name == "class" and value in _ALIGN_CLASSES
    return False


def _set_link_rel(attrs: dict, new: bool = False) -> dict:
    attrs[(None, "rel")] = LINK_REL
    return attrs


_parser = MarkdownIt("commonmark", {"html": False, "linkify": True, "typographer": False})
_parser.enable(["table", "strikethrough", "linkify"])
_cleaner = bleach.Cleaner(
    tags=ALLOWED_TAGS,
    attributes=_allowed_attribute,
    protocols=ALLOWED_PROTOCOLS,
    strip=True,
    strip_comments=True,
    filters=[partial(LinkifyFilter, callbacks=[_set_link_rel], skip_tags=["pre", "code"],
                     parse_email=False)],
)


def render(source: str) -> str:
    """Cook a post: CommonMark + tables, strikethrough and autolinks, then the allow-list."""
    html = _parser.render(clean_body(source))
    # Column alignment comes as a style attribute, which the CSP and the sanitizer refuse:
    # markdown-it writes it (raw HTML is off, so no user text can), we make it a class.
    html = _ALIGN_STYLE.sub(r'<\1 class="align-\2">', html)
    return _cleaner.clean(html).strip()

