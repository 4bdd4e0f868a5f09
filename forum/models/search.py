"""Full-text search over public posts and thread titles (FTS5 table post_search, 0003_search.sql;
on PostgreSQL forum/search_postgresql.py, with the same behaviour).

The index holds public posts only (its triggers decide, in the writer's transaction), so a
search never needs a visibility check and never finds what a reader may not see. User input
never reaches MATCH as syntax: every word or "phrase" becomes a quoted FTS5 string.
"""
from __future__ import annotations

import html
import re
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta
from typing import Any, TypeVar

from markupsafe import Markup

from forum import clock, permissions, stems
from forum.db import Conn, Database, Row
from forum.errors import Invalid, NotFound
from forum.i18n import N_, TIMEZONE
from forum.models import boards, users
from forum.permissions import can
from forum.text import clean_line

T = TypeVar("T")
PAGE_SIZE = 20
QUERY_MAX = 200  # characters
TERMS_MAX = 10  # words and "phrases"
# Words in all the terms together: FTS5 reads a word's whole index entry once per occurrence in
# a phrase, so "de de de … de" (66 times) read the index of "de" 66 times (11 to 31 s).
WORDS_MAX = 12
# Wall-clock seconds a search may take, waiting for a reader included (db.budgeted_read); past
# it the reader is freed and the visitor asked to narrow the search. Searches take < 20 ms.
TIME_BUDGET = 1.0
CLIENT_CUTS = 3  # costly searches in db.LONG_MEMORY before all a client's go to the long lane
TOO_SLOW = N_("This search takes too long right now. Try rarer words, fewer words, or narrow"
              " it to a board or to dates.")
PREFIX_MIN = 3  # letters before a final * (shorter prefixes match half the dictionary)
# A search ranks at most this many matches, the most recent ones: ranking every post that
# holds a common word would cost time in proportion to the forum (bench/search.py).
CANDIDATES = 1000
SNIPPET_TOKENS = 30
FIRST_DAY, LAST_DAY = date(2000, 1, 1), date(9000, 1, 1)  # date filters beyond are no filter
# Snippet markers: bytes 2 and 3 never occur in indexed text (search_source replaces them).
MARK_OPEN, MARK_CLOSE = "\x02", "\x03"
_TERM = re.compile(r'"([^"]*)"|(\S+)')
_WORD = re.compile(r"[^\W_]+")  # what FTS5's unicode61 tokenizer takes for a word
# Markdown punctuation that only clutters a snippet (emphasis, code, headings, quotes, tables).
_MARKDOWN_NOISE = re.compile(r"\*+|~~|`+|(?:^|(?<=\s))[#>|]+(?=\s|$)")


# Search on another store than SQLite, by its dialect: forum/search_postgresql.py, which builds
# on this module, adds itself when imported (forum/db_postgresql.py imports it).
OTHER_ENGINES: dict[str, Callable[..., Awaitable[Results]]] = {}


@dataclass(frozen=True)
class Filters:
    """What narrows a search: a board, an author, and calendar days in Paris time."""

    board_id: int | None = None
    author_id: int | None = None
    since: date | None = None  # from this day on
    until: date | None = None  # up to this day, included
    # The closed boards the reader may not read: the index holds their public posts (its
    # triggers cannot tell who reads), every search leaves them out, counts included.
    unread_boards: tuple[int, ...] = ()


@dataclass(frozen=True)
class Window:
    """Where matches may lie: a rowid range FTS5 can seek to, and exact times (UTC)."""

    low_id: int | None = None
    high_id: int | None = None
    since: str | None = None  # created_at >= since
    before: str | None = None  # created_at < before
    fresh_stems: bool = False  # stem_search only: rows whose stems are up to date

    def sql(self, table: str) -> tuple[str, list[object]]:
        """Conditions to add to a query on `table` (post_search or title_search)."""
        sql = ""
        params: list[object] = []
        times: list[str] = []
        for condition, value in (("rowid >= ?", self.low_id), ("rowid <= ?", self.high_id)):
            if value is not None:
                sql, params = f"{sql} and {condition}", [*params, value]
        for condition, moment in (("created_at >= ?", self.since), ("created_at < ?",
                                                                    self.before)):
            if moment is not None:
                times, params = [*times, condition], [*params, moment]
        if self.fresh_stems:
            sql += f" and {table}.rowid not in (select id from stem_queue)"
        if times:
            # From search_docs, a small row read by id: FTS5 would read its whole content row.
            sql += (f" and (select {' and '.join(times)} from search_docs"
                    f" where id = {table}.rowid)")
        return sql, params


@dataclass(frozen=True)
class Hit:
    post_id: int
    thread_id: int
    thread_title: str
    title_html: Markup  # the thread title, its matches in <mark> when it was searched
    snippet_html: Markup  # a piece of the text around the matches, escaped, matches in <mark>
    board_slug: str
    board_name: str
    author_name: str
    created_at: str
    opens_thread: bool


@dataclass(frozen=True)
class Results:
    hits: list[Hit]
    total: int  # matches ranked (at most CANDIDATES)
    more: bool  # more than CANDIDATES matched: the most recent ones were ranked
    page: int
    pages: int


def encodable(text: str) -> str:
    """Text SQLite can take: a query string may carry lone surrogates ("%ED%A0%80")."""
    return text.encode("utf-8", "replace").decode("utf-8")


def parse_query(query: str) -> str:
    """The FTS5 expression for what a member typed: quoted words and phrases, all required.

    Returns "" when nothing searchable is left (only punctuation, say). A term given twice
    counts once ("caméra Caméra"). Raises Invalid past QUERY_MAX characters, TERMS_MAX terms
    or WORDS_MAX words.
    """
    if len(query) > QUERY_MAX:  # as typed: the limit the form and the API schema announce
        raise Invalid("A search has at most %(max)s characters.", field="q", max=QUERY_MAX)
    query = clean_line(encodable(query))
    terms = [_fts_term(match[1], match[2]) for match in _TERM.finditer(query)]
    unique: dict[str, str] = {}
    for term in terms:
        if term:
            unique.setdefault(term.casefold(), term)
    terms = list(unique.values())
    if len(terms) > TERMS_MAX:
        raise Invalid("A search has at most %(max)s words or phrases.", field="q",
                      max=TERMS_MAX)
    if sum(len(_WORD.findall(term)) for term in terms) > WORDS_MAX:
        raise Invalid("A search has at most %(max)s words, phrases included.", field="q",
                      max=WORDS_MAX)
    return " AND ".join(terms)


def _fts_term(phrase: str | None, word: str | None) -> str:
    """One FTS5 string ("…", inner quotes doubled), a prefix if a word ends with *."""
    text = phrase if phrase is not None else word or ""
    prefix = word is not None and word.endswith("*")
    if prefix:
        text = text.rstrip("*")
        prefix = sum(char.isalnum() for char in text) >= PREFIX_MIN
    if not any(char.isalnum() for char in text):
        return ""  # a string without a word would match nothing and hide the other terms
    return '"' + text.replace('"', '""') + '"' + ("*" if prefix else "")


def match_expression(terms: str, filters: Filters, columns: str = "title body") -> str:
    """Terms searched in `columns`; the board and author as tokens of `tags`."""
    expression = f"{{{columns}}} : ({terms})"
    if filters.board_id is not None:
        expression += f' AND tags : "b{int(filters.board_id)}"'
    if filters.author_id is not None:
        expression += f' AND tags : "u{int(filters.author_id)}"'
    return without_unread_boards(expression, filters)


def without_unread_boards(expression: str, filters: Filters) -> str:
    """An FTS5 expression on an index whose `tags` hold "b<board id>", without the closed
    boards the reader may not read (Filters.unread_boards): found, and counted, by nobody."""
    if not filters.unread_boards:
        return expression
    left_out = " OR ".join(f'"b{int(board_id)}"' for board_id in filters.unread_boards)
    return f"({expression}) NOT (tags : ({left_out}))"


def day_start(day: date) -> str:
    """Midnight in Paris at the start of `day`, as stored (UTC)."""
    return clock.iso(datetime.combine(day, time(), TIMEZONE))


def parse_day(text: str | None, field: str) -> date | None:
    """A day typed in a form or a query ('2025-03-31'); None when not given."""
    if text is None:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise Invalid("Write a date as YYYY-MM-DD.", field=field) from None


async def resolve_filters(conn: Conn, board: str | None = None, author: str | None = None,
                          since: str | None = None, until: str | None = None,
                          viewer: users.User | None = None) -> Filters:
    """Filters from what `viewer` gave: a board's address, a pseudonym, two days (None: none).

    An unknown board (or a closed one they may not read) or member (even "") is NotFound, a
    malformed day Invalid, each with its field.
    """
    board_id = author_id = None
    unread = tuple(candidate.id for candidate in await boards.list_all(conn)
                   if not can(viewer, "see_board", candidate))
    if board is not None:
        try:
            board_id = (await boards.get_readable(conn, encodable(board), viewer)).id
        except NotFound as error:
            error.field = "board"
            raise
    if author is not None:
        try:
            author_id = (await users.get_by_name(conn, encodable(author))).id
        except NotFound as error:
            error.field = "author"
            raise
    return Filters(board_id, author_id, parse_day(since, "since"), parse_day(until, "until"),
                   unread)


async def _time_window(conn: Conn, filters: Filters) -> Window | None:
    """The Window of the date filters; None when no post can match.

    The rowid range from search_days lets FTS5 skip straight to the right days instead of
    reading every match of a common word to test its date.
    """
    window = Window()
    # Days outside FIRST_DAY..LAST_DAY hold no post: no bound (and no datetime overflow).
    if filters.since is not None and filters.since > FIRST_DAY:
        since = day_start(filters.since)
        first = await conn.value("select min(first_id) from search_days where day >= ?",
                                 (since[:10],))
        if first is None:
            return None
        window = replace(window, low_id=first, since=since)
    if filters.until is not None and filters.until < LAST_DAY:
        before = day_start(filters.until + timedelta(days=1))
        last = await conn.value("select max(last_id) from search_days where day <= ?",
                                (before[:10],))
        if last is None:
            return None
        window = replace(window, high_id=last, before=before)
    return window


async def run(db: Database, query: str, client: str, page: int = 1,
              viewer: users.User | None = None, **filters: str | None) -> Results:
    """search() with the filters a reader gave (resolve_filters), within TIME_BUDGET.

    Through db.budgeted: a query that proves costly, and for a while any query of the same
    terms or from the same `client` (its address), runs in the long lane, one at a time, so
    that costly searches wait for each other and never for long hold readers that cheap
    searches and pages need. The address stays in memory only (db.LONG_MEMORY).
    """
    async def messages(conn: Conn, resolved: Filters) -> Results:
        return await search(conn, query, resolved, page, viewer=viewer)

    return await run_with(db, query, client, messages, viewer, **filters)


async def run_with(db: Database, query: str, client: str,
                   work: Callable[[Conn, Filters], Awaitable[T]],
                   viewer: users.User | None = None, **filters: str | None) -> T:
    """`work(conn, filters)` (messages, documents, findings of `query`) with the filters a
    reader gave, in the lanes of `run`."""
    terms = parse_query(query)  # Invalid before any reading

    async def budgeted(conn: Conn) -> T:
        return await work(conn, await resolve_filters(conn, viewer=viewer, **filters))

    return await db.budgeted(budgeted, TIME_BUDGET, keys=lane_keys(terms, client))


def lane_keys(terms: str, client: str) -> dict[tuple[str, str], int]:
    """What sends a search to the long lane (db.budgeted): its words once they proved costly,
    its client after CLIENT_CUTS costly searches (one may be bad luck; several are a pattern)."""
    return {("terms", terms.casefold()): 1, ("client", client): CLIENT_CUTS}


async def search(conn: Conn, query: str, filters: Filters = Filters(), page: int = 1,
                 per_page: int = PAGE_SIZE, viewer: users.User | None = None) -> Results:
    """A page of public posts matching `query`: posts whose thread title matches first, then the
    most recent. Only the CANDIDATES most recent matches are ranked (`more` says there are more).
    """
    terms = parse_query(query)
    if terms and conn.dialect in OTHER_ENGINES:  # its own indexes (0028_pgsearch.sql)
        return await OTHER_ENGINES[conn.dialect](conn, query, terms, filters, page, per_page,
                                                 viewer)
    window = await _time_window(conn, filters) if terms else None
    if window is None:
        return Results([], 0, False, page, 1)
    cleaned = clean_line(encodable(query))
    stemmed = stems.query_terms(cleaned)
    recent: list[int] = []
    if not stemmed or not await _stems_cover_words(conn, terms):
        recent = await _match_ids(conn, "post_search", match_expression(terms, filters),
                                  window, CANDIDATES + 1)
    if stemmed:  # the same terms by their French stems: "drone" finds "drones" (issue 16)
        own = stems.query_terms(cleaned, " OR ")
        if own == stemmed:  # one term: in the post itself (searched once, not twice)
            expression = match_expression(stemmed, filters)
        else:
            # Every term in the post, its thread's title or its board ("Metz drones"), and one
            # at least in the post itself: a thread's replies are not all found by its title.
            expression = (f"{match_expression(stemmed, filters, 'title body context')}"
                          f" AND {{title body}} : ({own})")
        recent = _newest(recent, await _match_ids(conn, "stem_search", expression, window,
                                                  CANDIDATES + 1))
    more = len(recent) > CANDIDATES
    recent = recent[:CANDIDATES]
    ranked = await _titles_first(conn, terms, filters, recent, stemmed)
    pages = max(1, -(-len(ranked) // per_page))
    chosen = ranked[(page - 1) * per_page:page * per_page]
    hits = await _hits(conn, await _marking_expression(conn, terms, query, chosen), chosen,
                       viewer)
    return Results(hits, len(ranked), more, page, pages)


async def _stems_cover_words(conn: Conn, terms: str) -> bool:
    """Whether stem_search finds every post that post_search finds for `terms`.

    A word's stem is that of the same word without accents, whatever accents each side had, and
    a phrase's stems are a phrase: what matches word for word matches stem for stem, in the same
    columns and with the same filters. Not so for prefixes ("installat*" finds "installation",
    whose stem is "install"), nor for posts whose stems wait in stem_queue (written by the CLI,
    or by this transaction). Then post_search is read too: for a phrase of common words ("place
    de la") it reads as much as stem_search, 9 ms at 200 000 posts.
    """
    return "*" not in terms and await conn.value("select not exists"
                                                 " (select 1 from stem_queue)")


def _newest(first: list[int], second: list[int]) -> list[int]:
    """Two lists of ids, newest first, merged without repeats, newest first."""
    return sorted(set(first) | set(second), reverse=True)[:CANDIDATES + 1]


async def _marking_expression(conn: Conn, terms: str, query: str, post_ids: list[int]) -> str:
    """What marks the matches in snippets: the terms, and the words of the posts shown that
    begin with a stem of the query (found by stem: "drone" marks "drones").

    Those words are read from the posts themselves and marked as words: as FTS5 prefixes
    ("dron"*) each would read, for every search, the index of every word it begins over the
    whole forum ("cam"*: caméras, camion, …: 4 to 8 ms at 200 000 posts).
    """
    prefixes = stems.highlight_prefixes(clean_line(encodable(query)))
    marks = [terms]
    if prefixes and post_ids:
        rows = await conn.all(
            "select title || ' ' || body as text from search_docs"
            f" where id in ({', '.join('?' * len(post_ids))})", post_ids)
        found = {token for row in rows for token in stems.tokens(row["text"])
                 if token.startswith(prefixes)}
        # Tokens are letters and digits only: nothing to escape.
        marks += [f'"{token}"' for token in sorted(found)]
    return "{title body} : (" + " OR ".join(f"({mark})" for mark in marks) + ")"


async def _titles_first(conn: Conn, terms: str, filters: Filters,
                        recent: list[int], stemmed: str = "") -> list[int]:
    """The matches, those whose thread title matches moved first (each part newest first)."""
    if not recent:
        return []
    span = Window(low_id=recent[-1], high_id=recent[0])
    titled = await _match_ids(conn, "title_search", match_expression(terms, filters, "title"),
                              span, len(recent))
    if stemmed:
        titled = _newest(titled, await _match_ids(
            conn, "stem_search", match_expression(stemmed, filters, "title"), span, len(recent)))
    # Within the ids of `recent`, a title match is one of them (the date filters hold).
    among = set(recent)
    titled = [post_id for post_id in titled if post_id in among]
    seen = set(titled)
    return titled + [post_id for post_id in recent if post_id not in seen]


async def _match_ids(conn: Conn, table: str, expression: str, window: Window,
                     limit: int) -> list[int]:
    if table == "stem_search":
        # Stems not yet recomputed (this transaction's own writes, or the CLI's until the
        # server's next write) are out of date: those posts are found by their words only.
        window = replace(window, fresh_stems=True)
    """Ids of the `limit` most recent posts matching in `table`, newest first.

    FTS5 walks its index in rowid order and stops at the limit: a word found in every post
    costs no more than one found in a thousand. (Ranking by bm25 instead would read every
    match of every word, tens of milliseconds for a common word at a million posts.)
    """
    conditions, params = window.sql(table)
    # One string rather than a thousand rows: fetching rows one by one through aiosqlite costs
    # more than finding them.
    ids = await conn.value(
        f"select group_concat(rowid) from (select rowid from {table} where {table} match ?"
        f"{conditions} order by rowid desc limit ?)", (expression, *params, limit))
    return sorted(map(int, ids.split(",")), reverse=True) if ids else []


async def _hits(conn: Conn, expression: str, post_ids: list[int],
                viewer: users.User | None) -> list[Hit]:
    """Snippets and context of the chosen posts, in the order given.

    FTS5 walks the range of their ids once (`+` keeps the IN list from FTS5, which would
    otherwise search the index again for each id: ten times slower on a large index).
    """
    if not post_ids:
        return []
    board_scope, params = permissions.readable_board_filter(viewer, "threads.board_id")
    rows = await conn.all(
        "select post_search.rowid as id, posts.thread_id, threads.title as thread_title,"
        " highlight(post_search, 0, char(2), char(3)) as title_marked,"
        f" snippet(post_search, 1, char(2), char(3), '…', {SNIPPET_TOKENS}) as snippet,"
        " boards.slug, boards.name as board_name, users.name as author_name,"
        " posts.created_at from post_search"
        " join posts on posts.id = post_search.rowid"
        " join threads on threads.id = posts.thread_id"
        " join boards on boards.id = threads.board_id join users on users.id = posts.author_id"
        " where post_search match ? and post_search.rowid between ? and ?"
        f" and +post_search.rowid in ({', '.join('?' * len(post_ids))})"
        # The index holds readable posts only (its triggers); checked again on the rows shown,
        # so that an index out of step can never show what this reader may not read.
        f" and {permissions.indexed_post()} and {board_scope}",
        (expression, min(post_ids), max(post_ids), *post_ids, *params))
    by_id = {row["id"]: _hit(row) for row in rows}
    missing = [post_id for post_id in post_ids if post_id not in by_id]
    if missing:  # found by their stems only ("oeuvre" for "œuvre"): no mark, the text's start
        by_id.update({row["id"]: _hit(row) for row in await _unmarked_rows(conn, missing)})
    return [by_id[post_id] for post_id in post_ids if post_id in by_id]


async def _unmarked_rows(conn: Conn, post_ids: list[int]) -> list[Row]:
    """The rows _hits reads, for posts the marking expression does not match."""
    return await conn.all(
        "select search_docs.id, posts.thread_id, threads.title as thread_title,"
        " search_docs.title as title_marked,"
        f" substr(search_docs.body, 1, {SNIPPET_TOKENS * 8}) as snippet,"
        " boards.slug, boards.name as board_name, users.name as author_name,"
        " posts.created_at from search_docs"
        " join posts on posts.id = search_docs.id"
        " join threads on threads.id = posts.thread_id"
        " join boards on boards.id = threads.board_id join users on users.id = posts.author_id"
        f" where search_docs.id in ({', '.join('?' * len(post_ids))})"
        f" and {permissions.readable_post()}", post_ids)


def _hit(row: Row | Mapping[str, Any]) -> Hit:
    opens = bool(row["title_marked"])
    title = marked_html(row["title_marked"]) if opens else Markup.escape(row["thread_title"])
    return Hit(row["id"], row["thread_id"], row["thread_title"], title,
               marked_html(_MARKDOWN_NOISE.sub("", row["snippet"] or "")), row["slug"],
               row["board_name"], row["author_name"], row["created_at"], opens)


def marked_html(text: str) -> Markup:
    """Escape indexed text, then turn the snippet markers into <mark> elements.

    The order matters: user text is escaped whole first, so the only tags are ours.
    """
    escaped = html.escape(" ".join(text.split()), quote=True)
    return Markup(escaped.replace(MARK_OPEN, "<mark>").replace(MARK_CLOSE, "</mark>"))
