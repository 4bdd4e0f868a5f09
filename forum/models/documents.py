"""The text of attached documents, and searching it (tables document_pages, document_search:
0021_documents.sql).

Whoever may see a post may find the text of its files; nobody else, whatever the file's text
says: the condition is permissions.post_filter for the reader, checked in the query that finds
the pages and again in the one that shows them. A file attached to no post is found by nobody.
Queries are parsed as for posts (search.parse_query): every word a quoted FTS5 string. On
PostgreSQL, forum/search_postgresql.py reads document_pages' own tsvector, with the same rules.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Any
from urllib.parse import quote

from markupsafe import Markup

from forum import permissions, search_postgresql
from forum.db import Conn, Row, Transaction
from forum.models import search
from forum.models.users import User
from forum.uploads.text import KINDS_WITH_TEXT

PAGE_SIZE = 20
PAGE_SLOTS = 4096  # a page's id is upload_id * PAGE_SLOTS + page (0021_documents.sql)
PREVIEW = 5  # documents shown beside the messages when a search covers both
OTHER_PAGES_SHOWN = 10  # "also on pages …"


@dataclass(frozen=True)
class DocumentHit:
    upload_id: int
    filename: str
    kind: str
    file_url: str  # the file itself
    page: int  # the first page that matches (0: a document without pages)
    other_pages: tuple[int, ...]  # further pages that match, the first OTHER_PAGES_SHOWN
    snippet_html: Markup  # escaped text around the matches, matches in <mark>
    post_id: int
    thread_id: int
    thread_title: str
    board_slug: str
    board_name: str
    author_name: str
    created_at: str  # the post's

    @property
    def url(self) -> str:
        """The file, opened at the page for a PDF (browsers' viewers read #page=N)."""
        return f"{self.file_url}#page={self.page}" if self.page else self.file_url


@dataclass(frozen=True)
class DocumentResults:
    hits: list[DocumentHit]
    total: int  # documents among the pages ranked
    more: bool  # more than search.CANDIDATES pages matched: the most recent were ranked
    page: int
    pages: int


NO_RESULTS = DocumentResults([], 0, False, 1, 1)
NO_FILTERS = search.Filters()


# Storing -------------------------------------------------------------------------------------

async def store_text(tx: Transaction, upload_id: int, result: dict[str, Any]) -> None:
    """Replace a file's text by what forum/uploads/text.py read (its JSON result)."""
    await tx.execute("delete from document_pages where upload_id = ?", (upload_id,))
    for page, text in result.get("pages", []):
        text = text.replace(search.MARK_OPEN, " ").replace(search.MARK_CLOSE, " ")
        if text.strip():
            # Tags as the triggers would set them, for a file already attached (reindex-files).
            await tx.execute(
                "insert into document_pages (id, upload_id, page, text, tags)"
                " values (?, ?, ?, ?, coalesce((select tags from document_tags"
                " where upload_id = ?), ''))",
                (upload_id * PAGE_SLOTS + int(page), upload_id, int(page), text, upload_id))
    await tx.execute("update uploads set text_status = ?, text_note = ? where id = ?",
                     (result.get("status", "none"), result.get("note", ""), upload_id))
    post_id = await tx.value("select post_id from post_attachments where upload_id = ?",
                             (upload_id,))
    if post_id is not None:  # the thread's pages show the file's note ("scanned"…)
        tx.changed("thread", await tx.value("select thread_id from posts where id = ?",
                                            (post_id,)))


async def to_read(conn: Conn, everything: bool = False) -> list[tuple[int, str, str]]:
    """(id, sha256, kind) of the files whose text is to be read: not read yet, or (everything)
    every document."""
    kinds = sorted(KINDS_WITH_TEXT)
    marks = ", ".join("?" * len(kinds))
    rows = await conn.all(
        f"select id, sha256, kind from uploads where kind in ({marks})"
        + ("" if everything else " and text_status = 'pending'") + " order by id", kinds)
    return [(row[0], row[1], row[2]) for row in rows]


async def pages_of(conn: Conn, upload_id: int) -> list[tuple[int, str]]:
    """A file's stored text, page by page."""
    rows = await conn.all("select page, text from document_pages where upload_id = ?"
                          " order by page, id", (upload_id,))
    return [(row[0], row[1]) for row in rows]


# Searching -----------------------------------------------------------------------------------

def visible_tokens(user: User | None) -> tuple[str, ...]:
    """The tags of the pages this reader may find, any one of them: the tokens the triggers of
    0021_documents.sql write for permissions.post_filter (checked again on what is shown)."""
    if user is None:
        return ("pub",)
    if user.is_moderator:
        return ("att",)  # every attached file of a post not deleted
    return ("pub", f"u{int(user.id)}",
            *(f"b{int(board)}" for board in sorted(user.moderated_boards)))


def visible_tags(user: User | None) -> str:
    """The FTS5 condition on `tags` for the pages this reader may find (visible_tokens)."""
    tokens = [f'"{token}"' for token in visible_tokens(user)]
    return f"tags : ({' OR '.join(tokens)})" if len(tokens) > 1 else f"tags : {tokens[0]}"


def _expression(user: User | None, terms: str, filters: search.Filters) -> str:
    expression = f"text : ({terms}) AND {visible_tags(user)}"
    if filters.board_id is not None:
        expression += f' AND tags : "b{int(filters.board_id)}"'
    if filters.author_id is not None:
        expression += f' AND tags : "u{int(filters.author_id)}"'
    # The tags cannot say a board is closed (its triggers know no reader): left out here, so
    # that the total counts only what the hits may show.
    return search.without_unread_boards(expression, filters)


def _dates(filters: search.Filters) -> tuple[str, list[object]]:
    """The date filters on the post, as SQL (they cannot be FTS5 tokens)."""
    sql = ""
    values: list[object] = []
    if filters.since is not None and filters.since > search.FIRST_DAY:
        sql, values = " and posts.created_at >= ?", [search.day_start(filters.since)]
    if filters.until is not None and filters.until < search.LAST_DAY:
        sql += " and posts.created_at < ?"
        values.append(search.day_start(filters.until + timedelta(days=1)))
    return sql, values


_FROM = (" from document_search join document_pages on document_pages.id = document_search.rowid"
         " join post_attachments on post_attachments.upload_id = document_pages.upload_id"
         " join posts on posts.id = post_attachments.post_id"
         " join threads on threads.id = posts.thread_id")


async def search_documents(conn: Conn, user: User | None, query: str,
                           filters: search.Filters = NO_FILTERS, page: int = 1,
                           per_page: int = PAGE_SIZE) -> DocumentResults:
    """A page of documents whose text matches `query`, among the files of the posts `user`
    may see, the most recently sent first; each with its first matching page.

    The index answers alone (its tags hold who may find a page, its ids the document and the
    page): the CANDIDATES most recent matching pages cost the same in a forum of any size.
    """
    terms = search.parse_query(query)
    if not terms:
        return DocumentResults([], 0, False, page, 1)
    postgresql = conn.dialect == "postgresql"  # its own index (0028_pgsearch.sql)
    expression = _expression(user, terms, filters)
    rows = await (search_postgresql.document_ids(conn, visible_tokens(user), query, filters,
                                                 *_dates(filters)) if postgresql
                  else _matching_ids(conn, expression, filters))
    more = len(rows) > search.CANDIDATES
    documents: dict[int, list[tuple[int, int]]] = {}  # upload -> [(page, id)], newest first
    for row_id in rows[:search.CANDIDATES]:
        documents.setdefault(row_id // PAGE_SLOTS, []).append((row_id % PAGE_SLOTS, row_id))
    pages = max(1, -(-len(documents) // per_page))
    chosen = list(documents.items())[(page - 1) * per_page:page * per_page]
    pages_of_chosen = {upload_id: sorted(found) for upload_id, found in chosen}
    hits = await (_postgresql_hits(conn, user, query, pages_of_chosen) if postgresql
                  else _hits(conn, user, expression, pages_of_chosen))
    return DocumentResults(hits, len(documents), more, page, pages)


async def _matching_ids(conn: Conn, expression: str, filters: search.Filters) -> list[int]:
    """The ids of the CANDIDATES + 1 most recent pages matching, newest first (FTS5)."""
    dates, params = _dates(filters)
    if dates:  # walks the matches with their posts until enough fall within the dates
        found = await conn.value(
            "select group_concat(id) from (select document_search.rowid as id"
            f" {_FROM} where document_search match ?{dates}"
            " order by document_search.rowid desc limit ?)",
            (expression, *params, search.CANDIDATES + 1))
    else:
        found = await conn.value(
            "select group_concat(rowid) from (select rowid from document_search"
            " where document_search match ? order by rowid desc limit ?)",
            (expression, search.CANDIDATES + 1))
    return [int(item) for item in found.split(",")] if found else []


async def _hits(conn: Conn, user: User | None, expression: str,
                chosen: dict[int, list[tuple[int, int]]]) -> list[DocumentHit]:
    """The snippet of each chosen document's first matching page, with its post, if `user`
    may see that post (post_filter: the index's tags are not trusted alone)."""
    if not chosen:
        return []
    first_rows = [found[0][1] for found in chosen.values()]
    visible, params = permissions.post_filter(user)
    rows = await conn.all(
        "select document_pages.upload_id, document_pages.page,"
        f" snippet(document_search, 0, char(2), char(3), '…', {search.SNIPPET_TOKENS})"
        " as snippet, uploads.filename, uploads.kind, posts.id as post_id, posts.thread_id,"
        " threads.title, boards.slug, boards.name as board_name, users.name as author_name,"
        f" posts.created_at {_FROM}"
        " join uploads on uploads.id = document_pages.upload_id"
        " join boards on boards.id = threads.board_id join users on users.id = posts.author_id"
        " where document_search match ? and document_search.rowid between ? and ?"
        f" and +document_search.rowid in ({', '.join('?' * len(first_rows))}) and {visible}",
        (expression, min(first_rows), max(first_rows), *first_rows, *params))
    by_upload = {row["upload_id"]: _hit(row, chosen[row["upload_id"]]) for row in rows}
    return [by_upload[upload_id] for upload_id in chosen if upload_id in by_upload]


async def _postgresql_hits(conn: Conn, user: User | None, query: str,
                           chosen: dict[int, list[tuple[int, int]]]) -> list[DocumentHit]:
    """_hits on PostgreSQL (forum/search_postgresql.py marks the snippets)."""
    if not chosen:
        return []
    visible, params = permissions.post_filter(user)
    rows = await search_postgresql.document_rows(conn, visible, params, query,
                                                 [found[0][1] for found in chosen.values()])
    by_upload = {row["upload_id"]: _hit(row, chosen[row["upload_id"]]) for row in rows}
    return [by_upload[upload_id] for upload_id in chosen if upload_id in by_upload]


def _hit(row: Row | Mapping[str, Any], found: list[tuple[int, int]]) -> DocumentHit:
    others = tuple(number for number, _id in found[1:] if number)[:OTHER_PAGES_SHOWN]
    file_url = f"/files/{row['upload_id']}/{quote(row['filename'], safe='')}"  # as Upload.url
    return DocumentHit(row["upload_id"], row["filename"], row["kind"], file_url, row["page"],
                       others, search.marked_html(row["snippet"] or ""), row["post_id"],
                       row["thread_id"], row["title"], row["slug"], row["board_name"],
                       row["author_name"], row["created_at"])
