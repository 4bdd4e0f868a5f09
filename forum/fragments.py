"""Thread posts rendered once and shared: a page is its shell, rendered per reader, plus these.

A post's HTML depends on the post version (every column the page shows), its files and the
findings drawn from it, the locale and its catalog, and what the reader may do with it
(permissions.post_controls: nothing, reply and quote, edit as author, moderate...). The key of a
fragment is all of that, by value: a fragment can only be found by a reader whose page would
render exactly the same HTML, so an edit, a decision, a purge, a file change, a rename, a
moderator added or removed or a catalog change all give new keys at once, and no reader can get
a fragment made for another role. Writes also drop their thread's fragments (tags), so that a
purged text does not even linger in memory.

Each worker process keeps its own fragments: a page's data is read from the database on every
request, and keys are built from that data, so a process never serves a stale fragment, whatever
the other processes wrote; sharing them between processes would save renders but add I/O.
"""
from __future__ import annotations

import secrets
from collections.abc import Sequence
from typing import Any, NamedTuple

import jinja2
from markupsafe import Markup

from forum import i18n, permissions
from forum.cache import ALL, Tag, TaggedLRU

# Where the reader's CSRF token goes in a shared fragment (a moderator's "Restore" form): secret,
# so that no text in a post can ask for the token to be written into it.
CSRF_MARK = "csrf-" + secrets.token_hex(16)
TEMPLATE = "macros/post.html"
FORMS = "macros/forms.html"


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
        self._modules: dict[tuple[str, object], Any] = {}
        self._editors: dict[tuple, Markup] = {}

    def invalidate(self, tags: set[Tag]) -> None:
        """After a commit (db.after_commit): drop the fragments of the posts it names."""
        if ALL in tags:
            self.epoch += 1
            self.clear()
            return
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
            module = env.get_template(FORMS).make_module({"locale": locale})
            found = Markup(str(module.editor("", {}, None, submit_label,
                                             _EmptyPicker([], accept, max_mb))))
            self._editors[key] = found
        return found

    def module(self, env: jinja2.Environment, locale: str) -> Any:
        """The post template's macros for a locale (its labels translated once)."""
        catalog = i18n.CATALOGS[locale]
        found = self._modules.get((locale, catalog))
        if found is None:
            found = env.get_template(TEMPLATE).make_module(
                {"locale": locale, "csrf_token": CSRF_MARK})
            self._modules[(locale, catalog)] = found
        return found


def render_posts(cache: FragmentCache, env: jinja2.Environment, locale: str, viewer: Any,
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

