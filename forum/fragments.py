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
bits go (CSRF token, header links and counters, suspension notice, follow form) and places for
their bits about its items (keyed_slot: unread counts, the "new messages" marker); members for whom
the page differs (personal_readers: they wrote on it, or own something in the thread only they
see) get one of their own. Those pages are not keyed by value: the page cache drops them with the
tags of each commit, as visitors' pages; with several processes, each one's page cache must hear
every commit's tags (forum/cache.py). The reader's bits are kept with their session
(forum/auth.py: SessionCache), dropped whole at every commit.
"""
from __future__ import annotations

import functools
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
# token, the header's links and counters, a suspension notice, the follow form, whether their
# reply will wait for a moderator (their trust is not part of the class). Secret too.
SLOTS = {"csrf": CSRF_MARK, **{name: f"{name}-{secrets.token_hex(16)}"
                               for name in ("nav", "notice", "follow", "wait")}}
SLOT_MARKUP = {name: Markup(mark) for name, mark in SLOTS.items()}
_SLOT_NAMES = {mark: name for name, mark in SLOTS.items()}
# Bits of a reader kept per item of a page (issue 16: unread tracking): a thread's unread count
# on a board, a board's on the home page, the "new messages" marker before a post. Their mark is
# this secret followed by ":kind:id;", and their name in the page "kind:id" (keyed_slot).
KEYED_MARK = "keyed-" + secrets.token_hex(16)
_SPLIT = re.compile("(" + "|".join(SLOTS.values()) + f"|{KEYED_MARK}:[a-z]+:[0-9]+;)")


def keyed_slot(kind: str, key: int) -> Markup:
    """The mark of a reader's bit about one item of a kept page (its name: "kind:key")."""
    return Markup(f"{KEYED_MARK}:{kind}:{int(key)};")


def _slot_name(mark: str) -> str:
    return _SLOT_NAMES.get(mark) or mark[len(KEYED_MARK) + 1:-1]


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
        # A number per catalog ever used, for the keys of posts: a key holding the catalog
        # itself (or the Post, a named tuple) stays tracked by the garbage collector, and tens
        # of thousands of them lengthened every full collection (pauses of 50-150 ms in the
        # mixed run). The catalogs are kept here, so that a number is never given twice.
        self._catalogs: dict[object, int] = {}
        self._editors: dict[tuple[str, object, str, str, int], Markup] = {}
        # Pages around their posts (Shell), keyed by all they show, like posts; dropped with
        # their thread's tag so that nothing renamed or purged lingers.
        self.shells = TaggedLRU(max(1, max_entries // 10) if max_entries > 0 else 0)
        # Follow forms (follow_html), keyed by value, their CSRF token a mark.
        self.forms = TaggedLRU(max(1, max_entries // 10) if max_entries > 0 else 0)
        # Members' follow states of threads, (member, thread) -> 'follow', 'mute' or None:
        # read for every member page. Kept across writes (unlike a session's memo, dropped at
        # every commit), dropped by the only writes that change them: models/follows.py tags
        # each with ("follows", member), from any process (db.catch_up).
        self.follow_states = TaggedLRU(max_entries)
        # Members' pages kept by value (templating.page_by_value: the moderation queue), one
        # per address and class: a page tens of kilobytes long, replaced when what it shows
        # changes rather than kept beside its older versions; its posts' and findings' tags
        # drop it (a purge).
        self.pages = TaggedLRU(max(1, max_entries // 100) if max_entries > 0 else 0)

    def invalidate(self, tags: set[Tag]) -> None:
        """After a commit (db.after_commit): drop the fragments of the posts it names."""
        if ALL in tags:
            self.reset()
            self.shells.reset()
            self.forms.clear()
            self.follow_states.reset()
            self.pages.reset()
            return
        self.follow_states.forget(tag for tag in tags if tag[0] == "follows")
        self.shells.forget(tag for tag in tags if tag[0] in ("thread", "board_meta"))
        self.forget(tag for tag in tags if tag[0] in ("post", "finding"))
        self.pages.forget(tag for tag in tags if tag[0] in ("post", "finding"))

    def catalog_number(self, locale: str) -> int:
        """The number of the locale's current catalog: a new catalog gets a new one."""
        catalog = i18n.CATALOGS[locale]
        number = self._catalogs.get(catalog)
        if number is None:
            number = self._catalogs[catalog] = len(self._catalogs) + 1
        return number

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
                 epoch: int, marked: bool = False) -> Markup:
    """The posts of a page for this reader, each from the cache or rendered once and kept;
    `marked`: each one after a mark for a bit of its reader's ("before:id", the "new messages"
    marker of the first post new to them)."""
    catalog = cache.catalog_number(locale)
    module = None
    parts = []
    decided: dict[permissions.PostState, tuple[str, ...]] = {}
    # Run for every post of every page rendered: most posts have no files and no findings.
    for post in items:
        post_files = tuple(files[post.id]) if post.id in files else ()
        owner = None
        if post_files and viewer is not None and any(f.owner_id == viewer.id
                                                     for f in post_files):
            owner = FileOwner(viewer.id)
        state = permissions.PostState.of(post, viewer)
        controls = decided.get(state)
        if controls is None:
            controls = decided[state] = permissions.post_controls(viewer, state)
        # The post's values as a plain tuple: the collector stops tracking the key (above).
        key = (tuple(post), post_files, tuple(drawn[post.id]) if post.id in drawn else (),
               locale, catalog, controls, thread_title, propose_url, owner)
        html = cache.get(key)
        if html is None:
            module = module or cache.module(env, locale)
            html = str(module.post_card(post, controls, thread_title, post_files,
                                        key[2], propose_url, owner))
            tags = frozenset([("post", post.id), *(("finding", f.id) for f in key[2])])
            cache.put(key, html, tags, epoch)
        if marked:
            parts.append(keyed_slot("before", post.id))
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
    # Where bits about items go (keyed_slot): name -> (index of a text in parts, byte offset).
    # Not slots: a page may have one per post, and a reader bits for a few (an unread count,
    # one marker), so that a request costs the bits it has, not one step per item.
    anchors: tuple[tuple[str, tuple[int, int]], ...] = ()
    # A thread's last page: nothing the class may see comes after its last post (so a member who
    # read up to there has nothing new in the thread: forum/views/unread.py, marker_bits).
    last_page: bool = False

    @classmethod
    def of(cls, body: str, personal: frozenset[int], viewed_thread: int | None,
           subject: Any = None, last_page: bool = False) -> ReaderPage:
        pieces = _SPLIT.split(body)
        parts: list[bytes | str] = [pieces[0].encode()]
        anchors = []
        for mark, text in zip(pieces[1::2], pieces[2::2], strict=True):
            name = _slot_name(mark)
            if ":" in name:  # an item's: a place in the text around it
                anchors.append((name, (len(parts) - 1, len(parts[-1]))))
                parts[-1] += text.encode()  # type: ignore[operator]
            else:
                parts += [name, text.encode()]
        return cls(tuple(parts), personal,
                   hashlib.blake2b(body.encode(), digest_size=16).hexdigest(), viewed_thread,
                   subject, tuple(anchors), last_page)

    @functools.cached_property
    def _places(self) -> dict[str, tuple[int, int]]:
        return dict(self.anchors)

    @functools.cached_property
    def _keyed(self) -> dict[str, list[int]]:
        """Kind -> the ids of the items the page has bits for (keyed_slot), in page order."""
        found: dict[str, list[int]] = {}
        for name, _place in self.anchors:
            kind, _colon, key = name.partition(":")
            found.setdefault(kind, []).append(int(key))
        return found

    def keyed_ids(self, kind: str) -> list[int]:
        """The ids of the items of a kind the page has bits for (keyed_slot): not to change."""
        return self._keyed.get(kind, [])

    def assemble(self, bits: dict[str, str],
                 memo: dict[object, Any] | None = None) -> tuple[bytes, str]:
        """The page for one reader and its validator (the kept page's and the reader's bits).
        A bit about an item (keyed_slot) that the reader has nothing for is empty. `memo`: the
        reader's session memo (forum/auth.py: KnownSession, dropped at every write), where their
        bits' bytes and digest are kept: the same at every page until the next write, they were
        encoded and hashed anew for each (a fifth of a member's page in its handler)."""
        key = ("encoded_bits", tuple(bits.items()))
        found = None if memo is None else memo.get(key)
        if found is None:
            found = _encoded(bits)
            if memo is not None:
                memo[key] = found
        encoded, digest = found
        parts: list[Any] = list(self.parts)
        parts[1::2] = [encoded[name] for name in parts[1::2]]
        if self.anchors:
            places = self._places
            inserted = sorted(((places[name], value) for name, value in encoded.items()
                               if value and name in places), key=lambda found: found[0],
                              reverse=True)  # from the end: the places before stay right
            for (index, offset), value in inserted:
                text = memoryview(parts[index])
                parts[index:index + 1] = [text[:offset], value, text[offset:]]
        etag = hashlib.blake2b(digest, digest_size=16, key=self.etag.encode()).hexdigest()
        return b"".join(parts), f'"{etag}"'


def _encoded(bits: dict[str, str]) -> tuple[dict[str, bytes], bytes]:
    """A reader's bits as bytes, and a digest of them all (ReaderPage.assemble)."""
    encoded = {name: value.encode() for name, value in bits.items()}
    reader = b"\0".join([*(encoded[name] for name in SLOTS if name in encoded),
                         *(name.encode() + b"=" + encoded[name]
                           for name in sorted(encoded) if ":" in name)])
    return encoded, hashlib.blake2b(reader, digest_size=32).digest()


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
                           files: dict[int, list[Any]],
                           sourced: Sequence[int] | None = None) -> frozenset[int]:
    """Members whose view of this thread page is not their class's: the thread's author, the
    authors of its posts on the page, of any post of the thread that only its author and the
    moderators see (it would be listed, and move the pages), of findings drawn from these
    posts that are not public, and the owners of their files. `sourced`: the ids of the posts
    on the page that findings are drawn from, when known (posts.page_for_thread)."""
    ids = {thread.author_id, *(post.author_id for post in items),
           *(f.owner_id for post_files in files.values() for f in post_files)}
    rows = await conn.all(
        "select distinct posts.author_id from posts join threads on threads.id = posts.thread_id"
        f" where posts.thread_id = ? and not {permissions.PUBLIC_POST}", (thread.id,))
    ids.update(row[0] for row in rows)
    post_ids = [post.id for post in items] if sourced is None else list(sourced)
    if post_ids:
        marks = ", ".join("?" * len(post_ids))
        rows = await conn.all(
            "select distinct findings.author_id from findings join finding_sources"
            " on finding_sources.finding_id = findings.id"
            f" where finding_sources.post_id in ({marks}) and not {permissions.PUBLIC_FINDING}",
            post_ids)
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


def wait_html(cache: FragmentCache, env: jinja2.Environment, known: Any, locale: str,
              will_wait: bool) -> str:
    """The notice of a reply form saying that this member's message will wait for a moderator
    (permissions.publication_status), or nothing: kept with their session like the form."""
    key = ("wait_html", will_wait, locale, i18n.CATALOGS[locale])
    html = known.memo.get(key)
    if html is None:
        html = known.memo[key] = str(cache.module(env, locale, READER).wait_notice(will_wait))
    return html


def follow_html(cache: FragmentCache, env: jinja2.Environment, known: Any, locale: str,
                kind: str, target: Any, following: str | None) -> str:
    """The follow form of a thread (its id) or a board (the Board): the state is the reader's,
    kept with their session like the form."""
    key = ("follow_html", kind, target, following, locale, i18n.CATALOGS[locale])
    html = known.memo.get(key)
    if html is None:
        # The form itself is the same for every member in this state, their token aside: it is
        # rendered once and shared (keyed by all it shows, like the posts), since each write
        # drops the session's memo and a member reading many threads would render it anew.
        shared = cache.forms.get(key)
        if shared is None:
            module = cache.module(env, locale, READER)
            form = module.follow_form if kind == "thread" else module.board_follow_form
            shared = str(form(kind, target, following, CSRF_MARK))
            cache.forms.put(key, shared, frozenset(), cache.forms.epoch)
        html = known.memo[key] = shared.replace(CSRF_MARK, known.session.csrf_token)
    return html
