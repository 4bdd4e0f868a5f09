"""The only module that imports markdown-it or bleach: Markdown text -> safe HTML, once."""
from __future__ import annotations

import asyncio
import multiprocessing
import re
import signal
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import TYPE_CHECKING, Any, TypeVar
from urllib.parse import quote

import bleach
from markdown_it import MarkdownIt
from markdown_it.rules_core import StateCore
from markdown_it.rules_inline import StateInline
from markdown_it.token import Token

from forum import priority
from forum.text import clean_body, pseudonym_key

if TYPE_CHECKING:  # bleach's stubs name its vendored html5lib as html5lib
    from html5lib.filters.base import Filter

    _TokenFilter = Filter[dict[str, Any]]
else:
    from bleach.html5lib_shim import Filter as _TokenFilter

ALLOWED_TAGS = frozenset({
    "p", "br", "hr", "h1", "h2", "h3", "h4", "h5", "h6", "strong", "em", "del", "s", "code",
    "pre", "blockquote", "ul", "ol", "li", "a", "img", "table", "thead", "tbody", "tr", "th",
    "td",
})
ALLOWED_PROTOCOLS = frozenset({"http", "https", "mailto"})
LINK_REL = "nofollow ugc noopener"
# A fence's info string as CommonMark gives it ("language-föö" too): one word, so it can only
# ever be one class, and the "language-" prefix keeps it off the site's own classes.
_LANGUAGE_CLASS = re.compile(r"^language-\S{1,40}$")
# A URL's scheme as a browser reads it (after dropping tabs and line breaks, which markdown-it
# has already percent-encoded); a URL without one stays on this site.
_SCHEME = re.compile(r"^([a-z][a-z0-9+.-]*):", re.IGNORECASE)


_ALIGN_STYLE = re.compile(r'<(th|td) style="text-align:(left|right|center)">')
_ALIGN_CLASSES = frozenset({"align-left", "align-right", "align-center"})


def _allowed_link(url: str) -> bool:
    """Links and autolinks of other schemes stay text (markdown-it asks before making one):
    an <a> that the sanitizer would leave without its href helps nobody."""
    match = _SCHEME.match(url)
    return match is None or match.group(1).lower() in ALLOWED_PROTOCOLS


def _on_this_site(url: str) -> bool:
    """A path or a relative address, never another host: not "//host", nor "/\\host",
    which browsers read as "//host"."""
    return not (_SCHEME.match(url) or url.startswith("//") or "\\" in url
                or any(char.isspace() for char in url))


def _allowed_attribute(tag: str, name: str, value: str) -> bool:
    if tag == "a":
        return name in ("href", "title") or (name == "class" and value == "mention")
    if tag == "img":
        # Only our own files: a remote image would tell a third party who reads the thread.
        if name == "src":
            return _on_this_site(value)
        return name in ("alt", "title")
    if tag == "ol":
        return name == "start" and value.isdigit()
    if tag == "code":
        return name == "class" and bool(_LANGUAGE_CLASS.match(value))
    if tag in ("th", "td"):
        return name == "class" and value in _ALIGN_CLASSES
    return False


class _LinkRel(_TokenFilter):
    """rel="nofollow ugc noopener" on every link, after sanitizing.

    Not bleach's LinkifyFilter: it decodes entities in text again ("&amp;copy;" came out as
    "&copy;", so "\\&copy;" showed "©"), and markdown-it already turns bare URLs into links.
    """

    def __iter__(self) -> Iterator[dict[str, Any]]:
        for token in super().__iter__():
            if token["type"] == "StartTag" and token["name"] == "a":
                token["data"] = {**token["data"], (None, "rel"): LINK_REL}
            yield token


# @pseudonym: letters (accents too), digits, _ - . ; not after a letter (e-mail addresses).
MENTION = re.compile(r"(?<![\w@.])@([^\W_][\w.-]{0,29})")
QUOTE_LINK = re.compile(r"^/p/(\d{1,18})$")


def _outside_quotes_code_and_links(tokens: list[Token]
                                   ) -> Iterator[tuple[list[Token], int, Token]]:
    """Yield (an inline token's children, child index, child) for text children a mention may
    live in."""
    quote_depth = 0
    for token in tokens:
        if token.type == "blockquote_open":
            quote_depth += 1
        elif token.type == "blockquote_close":
            quote_depth -= 1
        elif token.type == "inline" and quote_depth == 0 and token.children:
            link_depth = 0
            for index, child in enumerate(token.children):
                if child.type == "link_open":
                    link_depth += 1
                elif child.type == "link_close":
                    link_depth -= 1
                elif child.type == "text" and link_depth == 0:
                    yield token.children, index, child


def _mention_names(text: str) -> list[str]:
    return [match.group(1).rstrip(".-") for match in MENTION.finditer(text)]


def _link_mentions(state: StateCore) -> None:
    """Turn @pseudonym of known members into links, from tokens (never from HTML)."""
    known: dict[str, str] = state.env.get("mentions") or {}
    if not known:
        return
    for children, index, child in reversed(list(_outside_quotes_code_and_links(state.tokens))):
        pieces = _split_mentions(child.content, known)
        if pieces is not None:
            children[index:index + 1] = pieces


def _split_mentions(text: str, known: dict[str, str]) -> list[Token] | None:
    out: list[Token] = []
    last = 0
    for match in MENTION.finditer(text):
        raw = match.group(1).rstrip(".-")
        name = known.get(pseudonym_key(raw))
        if name is None:
            continue
        start, end = match.start(), match.start() + 1 + len(raw)
        out.append(_text(text[last:start]))
        link = Token("link_open", "a", 1)
        link.attrs = {"href": "/u/" + quote(name), "class": "mention"}
        out.extend([link, _text("@" + name), Token("link_close", "a", -1)])
        last = end
    if not out:
        return None
    out.append(_text(text[last:]))
    return [piece for piece in out if piece.type != "text" or piece.content]


def _text(content: str) -> Token:
    token = Token("text", "", 0)
    token.content = content
    return token


# A bare address is read from slices of the text. markdown-it's own linkify rule searches the
# whole pending text for a scheme, and hands the linkifier the whole rest of the text, at each
# "://": quadratic, 1 to 2 s on "a://" or "http://a" repeated over one body, during which the
# event loop serves nobody. A longer address is linked up to LINK_MAX characters.
LINK_MAX = 2000
SCHEME_MAX = 32  # "https", "mailto"…; a scheme is searched in the last SCHEME_MAX characters
_SCHEME_AT_END = re.compile(r"(?:^|[^a-z0-9.+-])([a-z][a-z0-9.+-]*)$", re.IGNORECASE)


def _bounded_linkify(state: StateInline, silent: bool) -> bool:
    """markdown-it's linkify rule (rules_inline/linkify.py, MIT), on bounded slices."""
    pos = state.pos
    if state.linkLevel > 0 or state.src[pos:pos + 3] != "://":
        return False
    match = _SCHEME_AT_END.search(state.pending[-SCHEME_MAX:])
    if not match:
        return False
    proto = match.group(1)
    linkify = state.md.linkify
    if linkify is None:  # linkify-it-py missing: no bare URL becomes a link
        return False
    link = linkify.match_at_start(state.src[pos - len(proto):pos + LINK_MAX])
    if not link:
        return False
    url = link.url.rstrip("*")  # a final * closes emphasis
    full_url = state.md.normalizeLink(url)
    if not state.md.validateLink(full_url):
        return False
    if not silent:
        state.pending = state.pending[:-len(proto)]
        token = state.push("link_open", "a", 1)
        token.attrs = {"href": full_url}
        token.markup, token.info = "linkify", "auto"
        token = state.push("text", "", 0)
        token.content = state.md.normalizeLinkText(url)
        token = state.push("link_close", "a", -1)
        token.markup, token.info = "linkify", "auto"
    state.pos += len(url) - len(proto)
    return True


class _Parser(MarkdownIt):
    """markdown-it asks its parser whether a link may be made: ours says _allowed_link."""

    def validateLink(self, url: str) -> bool:
        return _allowed_link(url)


_parser = _Parser("commonmark", {"html": False, "linkify": True, "typographer": False})
_parser.enable(["table", "strikethrough", "linkify"])
_parser.inline.ruler.at("linkify", _bounded_linkify)
_parser.core.ruler.push("mentions", _link_mentions)
_cleaner = bleach.Cleaner(
    tags=ALLOWED_TAGS,
    attributes=_allowed_attribute,
    protocols=ALLOWED_PROTOCOLS,
    strip=True,
    strip_comments=True,
    filters=[_LinkRel],
)


def references(source: str) -> tuple[set[str], set[int]]:
    """The @names (as typed) and the quoted post ids (/p/N links) a text holds.

    Mentions and quote links inside quotes, code or links do not count: quoting a quote
    tells nobody twice.
    """
    tokens = _parser.parse(clean_body(source))
    names: set[str] = set()
    for _token, _index, child in _outside_quotes_code_and_links(tokens):
        names.update(_mention_names(child.content))
    quoted: set[int] = set()
    depth = 0
    for token in tokens:
        depth += {"blockquote_open": 1, "blockquote_close": -1}.get(token.type, 0)
        for child in (token.children or []) if depth == 0 else []:
            match = QUOTE_LINK.match(str(child.attrs.get("href", ""))) \
                if child.type == "link_open" else None
            if match:
                quoted.add(int(match.group(1)))
    return names, quoted


def render(source: str, mentions: dict[str, str] | None = None) -> str:
    """Cook a post: CommonMark + tables, strikethrough and autolinks, then the allow-list.

    `mentions` maps pseudonym keys to members' names: those @names become profile links.
    """
    html = _parser.render(clean_body(source), {"mentions": mentions or {}})
    # Column alignment comes as a style attribute, which the CSP and the sanitizer refuse:
    # markdown-it writes it (raw HTML is off, so no user text can), we make it a class.
    html = _ALIGN_STYLE.sub(r'<\1 class="align-\2">', html)
    return _cleaner.clean(html).strip()


# An image of ours in cooked HTML: markdown-it writes src first, and the sanitizer escapes every
# quote inside attribute values and every "<" in text, so only a real <img> tag matches.
_OWN_IMAGE = re.compile(r'<img src="/files/([0-9]{1,18})[/"?#]')


def files_shown(body_html: str) -> frozenset[int]:
    """The ids of our files that a cooked post shows as images in its text (/files/ID/...,
    its smaller copies and thumbnail too): its gallery leaves those out, as Discourse does."""
    return frozenset(int(found) for found in _OWN_IMAGE.findall(body_html))


# Cooking in other processes. A hostile body (nested brackets or emphasis, thousands of
# mentions) holds the parser and sanitizer 0.3 to 0.8 s of pure Python: on the event loop every
# request waits that long, and in a thread it still takes the GIL from the loop (readers' p99
# 0.5 s in bench/hostile.py). Workers are spawned (a fork would copy the database threads).
COOKS = 2
# The most one text may take to cook, counted in its cook from the start of its work (not its
# wait behind other texts, nor the workers' start): bodies are bounded (FORUM_BODY_MAX) and the
# worst found take 0.8 s; past this the text is refused, and the cook goes on with the next one.
COOK_SECONDS = 10.0
# What the cook's own alarm cannot stop (a step in C code runs to its end before a signal is
# handled), or a queue of texts that long: past this from its submission, the workers are
# killed and the text refused.
STUCK_SECONDS = 60.0
_cooks: ProcessPoolExecutor | None = None
R = TypeVar("R")


class TooComplex(Exception):
    """A text took more than COOK_SECONDS to cook."""


def _timed(seconds: float, function: Callable[..., R], *args: Any) -> R:
    """In a cook: function(*args), TooComplex once it has run `seconds` (an alarm in this
    process, which cooks one text at a time on its main thread)."""
    def expire(_signum: int, _frame: object) -> None:
        raise TooComplex()

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        return function(*args)
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


async def in_worker(function: Callable[..., R], *args: Any) -> R:
    """Run references() or render() in a worker process, off the event loop.

    TooComplex when it works more than COOK_SECONDS (the worker then takes the next text), or
    when nothing came back within STUCK_SECONDS (the workers are replaced): a text waiting
    behind slow ones is not refused for their time.
    """
    global _cooks
    for attempt in (1, 2):
        if _cooks is None:
            # At a lower CPU priority (forum/priority.py): a hostile body's 0.8 s of CPU then
            # waits for the readers' pages and searches when every core is busy.
            _cooks = ProcessPoolExecutor(COOKS, mp_context=multiprocessing.get_context("spawn"),
                                         initializer=priority.lower)
        cooks = _cooks
        try:
            return await asyncio.wait_for(
                asyncio.get_running_loop().run_in_executor(
                    cooks, _timed, COOK_SECONDS, function, *args),
                STUCK_SECONDS)
        except TimeoutError:
            _stop_cooks(cooks)
            raise TooComplex() from None
        except BrokenProcessPool:
            # A worker died (killed, out of memory): new workers, or no post could be cooked
            # again until a restart.
            _cooks = None
            if attempt == 2:
                raise
    raise AssertionError("unreachable")


def _stop_cooks(cooks: ProcessPoolExecutor) -> None:
    """Kill the workers (one is stuck on a text); the next cook starts new ones."""
    global _cooks
    if _cooks is cooks:
        _cooks = None
    for process in list(getattr(cooks, "_processes", {}).values()):  # no public way to kill
        process.kill()
    cooks.shutdown(wait=False, cancel_futures=True)

