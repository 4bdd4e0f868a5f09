"""Thread posts rendered once and shared: a page is its shell, rendered per reader, plus these.

A post's HTML depends on the post version (every column the page shows), its files and the
findings drawn from it, the locale and its catalog, and what the reader may do with it
(permissions.post_controls: nothing, reply and quote, edit as author, moderate...). The key of a
fragment is all of that, by value: a fragment can only be found by a reader whose page would
render exactly the same HTML, so an edit, a decision, a purge, a file change, a rename, a
moderator added or removed or a catalog change all give new keys at once, and no reader can get
a fragment made for another role. Writes also drop their thread's fragments (tags), so that a
purged text does not even linger in memory.

The page around the posts (Shell) is kept the same way, by value (the thread row, page, address,
locale, catalog, the reader's class). Each worker process keeps its own posts and shells: keys
are built from data read from the database, so a process never serves a stale one, whatever the
other processes wrote; sharing them between processes would save renders but add I/O.

A member's whole page (ReaderPage) is kept in the page cache, for every member of a capability
class (reader_class: role, suspension, ban, boards moderated), with marks where each reader's
bits go (CSRF token, header links and counters, suspension notice, follow form); members for whom
the page differs (personal_readers: they wrote on it, or own something in the thread only they
see) get one of their own. Those pages are not keyed by value: the page cache drops them with the
tags of each commit, as visitors' pages; with several processes, each one's page cache must hear
every commit's tags (forum/cache.py). The reader's bits are kept with their session
(forum/auth.py: SessionCache), dropped whole at every commit.
"""
from __future__ import annotations

import hashlib
import re
import secrets
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

import jinja2
from markupsafe import Markup

from forum import i18n, permissions
from forum.cache import ALL, Tag, TaggedLRU, Tags
from forum.db import Conn
from forum.models.users import User

# Where the reader's CSRF token goes in a shared fragment (a moderator's "Restore" form): secret,
# so that no text in a post can ask for the token to be written into it.
CSRF_MARK = "csrf-" + secrets.token_hex(16)
TEMPLATE = "macros/post.html"
FORMS = "macros/forms.html"
READER = "macros/reader.html"
# Where a member's page kept for their whole class (ReaderPage) has its reader's bits: the CSRF
# token, the header's links and counters, a suspension notice, the follow form. Secret too.
SLOTS = {"csrf": CSRF_MARK, **{name: f"{name}-{secrets.token_hex(16)}"
                               for name in ("nav", "notice", "follow")}}
SLOT_MARKUP = {name: Markup(mark) for name, mark in SLOTS.items()}
_SLOT_NAMES = {mark: name for name, mark in SLOTS.items()}
_SPLIT = re.compile("(" + "|".join(SLOTS.values()) + ")")


class FileOwner(NamedTuple):
    """The reader as attachments.html sees them: only who owns the files (their cleaning note)."""

    id: int


class _EmptyPicker(NamedTuple):
    """The files block of an empty editor (views.uploads.Picker with no file yet)."""

    files: list[Any]
    accept: str
    max_mb: int


class FragmentCache(TaggedLRU):
    """Rendered posts, least recently used dropped first.

    Keys hold what a fragment was rendered from, so a changed post is simply not found again
    and its old fragments age out. A purge must not wait for that: its text leaves memory at
    once, through the tags of the commit ("post", id) or ("finding", id), or ("all", None).
    """

    def __init__(self, max_entries: int = 20_000) -> None:
        super().__init__(max_entries)
        # Keyed by the catalog object itself: a new catalog is a new module.
        self._modules: dict[tuple[str, str, object], Any] = {}
        self._editors: dict[tuple[str, object, str, str, int], Markup] = {}
        # Pages around their posts (Shell), keyed by all they show, like posts; dropped with
        # their thread's tag so that nothing renamed or purged lingers.
        self.shells = TaggedLRU(max(1, max_entries // 10) if max_entries > 0 else 0)

    def invalidate(self, tags: set[Tag]) -> None:
        """After a commit (db.after_commit): drop the fragments of the posts it names."""
        if ALL in tags:
            self.epoch += 1
            self.clear()
            self.shells.epoch += 1
            self.shells.clear()
            return
        threads = [tag for tag in tags if tag[0] in ("thread", "board_meta")]
        if threads:
            self.shells.epoch += 1
            for tag in threads:
                self.shells.drop_tagged(tag)
        named = [tag for tag in tags if tag[0] in ("post", "finding")]
        if named:
            self.epoch += 1
        for tag in named:
            self.drop_tagged(tag)

    def editor(self, env: jinja2.Environment, locale: str, submit_label: str, accept: str,
               max_mb: int) -> Markup:
        """An empty editor (a thread's reply form): the same for every member, so rendered once
        per locale and catalog; its form's CSRF token stays outside it, in the shell."""
        key = (locale, i18n.CATALOGS[locale], submit_label, accept, max_mb)
        found = self._editors.get(key)
        if found is None:
            # A template's macros are attributes jinja2 adds as it runs it.
            module: Any = env.get_template(FORMS).make_module({"locale": locale})
            found = Markup(str(module.editor("", {}, None, submit_label,
                                             _EmptyPicker([], accept, max_mb))))
            self._editors[key] = found
        return found

    def module(self, env: jinja2.Environment, locale: str, template: str = TEMPLATE) -> Any:
        """A template's macros for a locale (the post's, or the reader's bits: READER)."""
        catalog = i18n.CATALOGS[locale]
        found = self._modules.get((template, locale, catalog))
        if found is None:
            found = env.get_template(template).make_module(
                {"locale": locale, "csrf_token": CSRF_MARK})
            self._modules[(template, locale, catalog)] = found
        return found


def render_posts(cache: FragmentCache, env: jinja2.Environment, locale: str, viewer: User | None,
                 items: Sequence[Any], thread_title: str, files: dict[int, list[Any]],
                 drawn: dict[int, list[Any]], propose_url: str | None, csrf_token: str,
                 epoch: int) -> Markup:
    """The posts of a page for this reader, each from the cache or rendered once and kept."""
    catalog = i18n.CATALOGS[locale]
    module = None
    parts = []
    decided: dict[permissions.PostState, tuple[str, ...]] = {}
    for post in items:
        post_files = tuple(files.get(post.id, ()))
        owner = None
        if viewer is not None and any(f.owner_id == viewer.id for f in post_files):
            owner = FileOwner(viewer.id)
        state = permissions.PostState.of(post, viewer)
        controls = decided.get(state)
        if controls is None:
            controls = decided[state] = permissions.post_controls(viewer, state)
        key = (post, post_files, tuple(drawn.get(post.id, ())), locale, catalog, controls,
               thread_title, propose_url, owner)
        html = cache.get(key)
        if html is None:
            module = module or cache.module(env, locale)
            html = str(module.post_card(post, controls, thread_title, post_files,
                                        key[2], propose_url, owner))
            tags = frozenset([("post", post.id), *(("finding", f.id) for f in key[2])])
            cache.put(key, html, tags, epoch)
        parts.append(html)
    page = "".join(parts)
    if CSRF_MARK in page:
        page = page.replace(CSRF_MARK, csrf_token)
    return Markup(page)



# Where a page's posts go in its shell.
POSTS_MARK = "posts-" + secrets.token_hex(16)


class Shell(NamedTuple):
    """A page around its posts: what comes before them and after them."""

    before: str
    after: str

    @classmethod
    def of(cls, body: str) -> Shell:
        before, found, after = body.partition(POSTS_MARK)
        assert found, "the page has no place for its posts"
        return cls(before, after)

    def around(self, posts_html: str) -> str:
        return f"{self.before}{posts_html}{self.after}"


# A member's page: kept per capability class, assembled per reader. ---------------------------


@dataclass(frozen=True)
class ReaderPage:
    """A page as every member of a capability class sees it, with marks where the reader's bits
    go. `personal`: the members for whom the page would differ (they wrote something on it, or
    something in the thread only they and moderators see, or own a file on it): they get a page
    of their own, kept under their id."""

    parts: tuple[bytes | str, ...]  # UTF-8 text, slot name, UTF-8 text, ..., UTF-8 text
    personal: frozenset[int]
    etag: str  # of the kept page, marks included
    viewed_thread: int | None = None
    subject: Any = None  # what the page is about, as its bits need it (a board to follow)

    @classmethod
    def of(cls, body: str, personal: frozenset[int], viewed_thread: int | None,
           subject: Any = None) -> ReaderPage:
        parts: list[bytes | str] = list(_SPLIT.split(body))
        parts[1::2] = [_SLOT_NAMES[str(mark)] for mark in parts[1::2]]
        parts[::2] = [str(text).encode() for text in parts[::2]]
        return cls(tuple(parts), personal,
                   hashlib.blake2b(body.encode(), digest_size=16).hexdigest(), viewed_thread,
                   subject)

    def assemble(self, bits: dict[str, str]) -> tuple[bytes, str]:
        """The page for one reader and its validator (the kept page's and the reader's bits)."""
        encoded = {name: value.encode() for name, value in bits.items()}
        # Texts are bytes, slot names str (ReaderPage.of): each name gives way to its bit.
        body = b"".join([part if isinstance(part, bytes) else encoded[part] for part in self.parts])
        reader = b"\0".join(encoded[name] for name in SLOTS if name in encoded)
        etag = hashlib.blake2b(reader, digest_size=16, key=self.etag.encode()).hexdigest()
        return body, f'"{etag}"'


def reader_class(user: User) -> tuple[object, ...]:
    """All that a page reads of its member besides their id and the bits filled in per reader
    (permissions.post_controls and the page templates): members alike get the same page. The
    closed boards they read are part of it: a closed board's group sees what others do not."""
    return (user.role, user.is_suspended, user.is_banned, user.moderated_boards,
            user.member_boards)


def reader_keys(path_qs: str, locale: str,
                user: User) -> tuple[tuple[object, ...], tuple[object, ...]]:
    """The keys of a member's page in the page cache: their class's, and their own."""
    shared = ("reader", path_qs, locale, i18n.CATALOGS[locale], reader_class(user), 0)
    return shared, (*shared[:-1], user.id)


def kept_page(cache: TaggedLRU, path_qs: str, locale: str, user: User) -> ReaderPage | None:
    """The page kept for this member: their own, or their class's if it is also theirs."""
    shared, own = reader_keys(path_qs, locale, user)
    page = cache.get(shared)
    if page is not None and user.id not in page.personal:
        return page
    return cache.get(own)


def keep_page(cache: TaggedLRU, path_qs: str, locale: str, user: User, page: ReaderPage,
              tags: Tags, epoch: int) -> None:
    """Keep a page rendered for `user`: for their class unless it is personal to them."""
    shared, own = reader_keys(path_qs, locale, user)
    cache.put(own if user.id in page.personal else shared, page, tags, epoch)


async def personal_readers(conn: Conn, thread: Any, items: Sequence[Any],
                           files: dict[int, list[Any]]) -> frozenset[int]:
    """Members whose view of this thread page is not their class's: the thread's author, the
    authors of its posts on the page, of any post of the thread that only its author and the
    moderators see (it would be listed, and move the pages), of findings drawn from these
    posts that are not public, and the owners of their files."""
    ids = {thread.author_id, *(post.author_id for post in items),
           *(f.owner_id for post_files in files.values() for f in post_files)}
    rows = await conn.all(
        "select distinct posts.author_id from posts join threads on threads.id = posts.thread_id"
        f" where posts.thread_id = ? and not {permissions.PUBLIC_POST}", (thread.id,))
    ids.update(row[0] for row in rows)
    if items:
        marks = ", ".join("?" * len(items))
        rows = await conn.all(
            "select distinct findings.author_id from findings join finding_sources"
            " on finding_sources.finding_id = findings.id"
            f" where finding_sources.post_id in ({marks}) and not {permissions.PUBLIC_FINDING}",
            tuple(post.id for post in items))
        ids.update(row[0] for row in rows)
    return frozenset(ids)


class Unkept:
    """A request's session as reader_bits and follow_html read it when none is kept in memory
    (a HEAD request): nothing is remembered."""

    def __init__(self, session: Any) -> None:
        self.session = session
        self.memo: dict[object, Any] = {}


def reader_bits(cache: FragmentCache, env: jinja2.Environment, known: Any, locale: str,
                extra: Iterable[tuple[str, str]] = ()) -> dict[str, str]:
    """This reader's bits of a page (the header, a notice, the token), rendered once per session
    and locale: kept with the session (forum/auth.py: KnownSession), dropped at every write."""
    catalog = i18n.CATALOGS[locale]
    # (A suspension ends by itself, with no write: its notice goes then.)
    key = ("bits", locale, catalog, known.session.user.is_suspended)
    bits = known.memo.get(key)
    if bits is None:
        session = known.session
        module = cache.module(env, locale, READER)
        bits = {"csrf": session.csrf_token,
                "nav": str(module.account_nav(session.user, session, session.csrf_token)),
                "notice": str(module.suspension_notice(session.user))}
        known.memo[key] = bits
    return {**bits, **dict(extra)}


def follow_html(cache: FragmentCache, env: jinja2.Environment, known: Any, locale: str,
                kind: str, target: Any, following: str | None) -> str:
    """The follow form of a thread (its id) or a board (the Board): the state is the reader's,
    kept with their session like the form."""
    key = ("follow_html", kind, target, following, locale, i18n.CATALOGS[locale])
    html = known.memo.get(key)
    if html is None:
        module = cache.module(env, locale, READER)
        form = module.follow_form if kind == "thread" else module.board_follow_form
        html = known.memo[key] = str(form(kind, target, following, known.session.csrf_token))
    return html
