"""Search on PostgreSQL (migrations/postgresql/0028_pgsearch.sql): what FTS5 does on SQLite.

models/search.py, models/documents.py and models/finding_search.py come here when their
connection's dialect is PostgreSQL; the rest (parsing and limits, filters, ranking, pages,
what a hit holds) is theirs. The same behaviour as on SQLite: words without accents or
capitals, "phrases", prefixes (min 3 letters), every term required, French stems
(forum/stems.py, stored in stem_search), the CANDIDATES most recent matches ranked, titles
first, snippets with their matches between MARK_OPEN and MARK_CLOSE.

User input never reaches to_tsquery as syntax: the query is cut into words of letters and
digits (forum/stems.py's _WORD, FTS5's unicode61 words), each written as a quoted lexeme;
operators and weights are ours. Snippets are cut here, in Python, on the page's rows only:
ts_headline would drop what PostgreSQL's parser takes for HTML tags from the text shown.
"""
from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from forum import permissions, stems
from forum.db import Conn, Row
from forum.models import search  # attributes read at call time: it imports this module
from forum.models.users import User
from forum.text import clean_line

WORDS = "'vigie_words'"  # the configuration of words (0028): unaccent, lower case
STEMS = "'pg_catalog.simple'"  # stems are already lower case, without accents
_TERM = re.compile(r'"([^"]*)"|(\S+)')  # as models.search parses a query
_WORD = re.compile(r"[^\W_]+")  # FTS5's unicode61 words; never a quote, colon or operator
FINDING_TEXT = ("vigie_words(findings.place || ' ' || findings.note)"
                f" @@ to_tsquery({WORDS}, ?)")

Term = tuple[tuple[str, ...], bool]  # its words (a phrase: several), whether a prefix


# Queries -------------------------------------------------------------------------------------

def term(phrase: str | None, word: str | None) -> Term | None:
    """One term as models.search._fts_term reads it; None when it holds no word."""
    text = phrase if phrase is not None else word or ""
    prefix = word is not None and word.endswith("*")
    if prefix:
        text = text.rstrip("*")
        prefix = sum(char.isalnum() for char in text) >= search.PREFIX_MIN
    words = tuple(found.lower() for found in _WORD.findall(text))
    return (words, prefix) if words else None


def terms(cleaned: str) -> list[Term]:
    """The terms of a cleaned query, each once."""
    found = (term(match[1], match[2]) for match in _TERM.finditer(cleaned))
    return list(dict.fromkeys(item for item in found if item is not None))


def _operand(word: str, prefix: bool, weights: str) -> str:
    label = ("*" if prefix else "") + weights
    return f"'{word}'" + (f":{label}" if label else "")


def _phrase(words: list[str] | tuple[str, ...], prefix: bool, weights: str) -> str:
    """Words in a row (a prefix: the last one), as tsquery text."""
    last = len(words) - 1
    return "(" + " <-> ".join(_operand(word, prefix and at == last, weights)
                              for at, word in enumerate(words)) + ")"


def words_query(found: list[Term], weights: str = "", joiner: str = " & ") -> str:
    """tsquery text over the words (search_docs.words: title A, body D)."""
    return joiner.join(_phrase(words, prefix, weights) for words, prefix in found)


def term_query(phrase: str | None, word: str | None) -> str:
    """One term's tsquery text ("" if it holds no word): finding_search's terms."""
    found = term(phrase, word)
    return words_query([found]) if found else ""


def stems_query(found: list[tuple[tuple[str, ...], bool]], weights: str,
                joiner: str = " & ") -> str:
    """tsquery text over stem_search.stems (title A, body B, context C): each term one of its
    spellings (stems.query_spellings)."""
    return joiner.join(
        "(" + " | ".join(_phrase(spelling.split(), prefix and len(spelling) >= stems.PREFIX_MIN,
                                 weights) for spelling in spellings) + ")"
        for spellings, prefix in found)


# Snippets ------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Marks:
    """What a snippet marks: these words (lower case, no accents), and words beginning so."""

    words: frozenset[str]
    prefixes: tuple[str, ...]

    def match(self, word: str) -> bool:
        bare = stems.bare(word)
        return bare in self.words or bare.startswith(self.prefixes)


def marks(found: list[Term], cleaned: str = "") -> Marks:
    """The words of the terms, their prefixes, and the stems of the query (`cleaned`: "drone"
    marks "drones"), as models.search._marking_expression marks them on SQLite."""
    words: set[str] = set()
    prefixes = set(stems.highlight_prefixes(cleaned)) if cleaned else set()
    for term_words, prefix in found:
        bare = [stems.bare(word) for word in term_words]
        words.update(bare[:-1] if prefix else bare)
        if prefix:
            prefixes.add(bare[-1])
    return Marks(frozenset(words), tuple(sorted(prefixes)))


def _marked(text: str, words: list[re.Match[str]], marking: Marks) -> str:
    """The text from the first of `words` to the last (its end: to the text's end), the
    marked words between MARK_OPEN and MARK_CLOSE."""
    out: list[str] = []
    at = words[0].start()
    for word in words:
        out.append(text[at:word.start()])
        out.append(search.MARK_OPEN + word[0] + search.MARK_CLOSE if marking.match(word[0])
                   else word[0])
        at = word.end()
    return "".join(out)


def highlight(text: str, marking: Marks) -> str:
    """The whole text, its matches marked (FTS5's highlight())."""
    words = list(_WORD.finditer(text))
    if not words:
        return text
    return text[:words[0].start()] + _marked(text, words, marking) + text[words[-1].end():]


def snippet(text: str, marking: Marks) -> str:
    """About SNIPPET_TOKENS words around the first match (the text's start without one),
    marked."""
    size = search.SNIPPET_TOKENS
    words = list(_WORD.finditer(text))
    if not words:
        return ""
    first = next((at for at, word in enumerate(words) if marking.match(word[0])), 0)
    start = max(0, min(first - size // 4, len(words) - size))
    end = min(len(words), start + size)
    piece = _marked(text, words[start:end], marking)
    return ("…" if start else "") + piece + (text[words[-1].end():] if end == len(words)
                                             else "…")


# Posts ---------------------------------------------------------------------------------------

def _filters(filters: search.Filters) -> tuple[str, list[object]]:
    """Conditions on search_docs for the filters (dates: midnight in Paris, as on SQLite)."""
    sql, params = "", list[object]()
    for column, value in (("board_id", filters.board_id), ("author_id", filters.author_id)):
        if value is not None:
            sql, params = f"{sql} and search_docs.{column} = ?", [*params, value]
    if filters.unread_boards:
        ids = ", ".join(str(int(board)) for board in filters.unread_boards)
        sql += f" and search_docs.board_id not in ({ids})"
    if filters.since is not None and filters.since > search.FIRST_DAY:
        sql, params = (f"{sql} and search_docs.created_at >= ?",
                       [*params, search.day_start(filters.since)])
    if filters.until is not None and filters.until < search.LAST_DAY:
        sql, params = (f"{sql} and search_docs.created_at < ?",
                       [*params, search.day_start(filters.until + timedelta(days=1))])
    return sql, params


async def _ids(conn: Conn, sql: str, params: list[object]) -> list[int]:
    return [row[0] for row in await conn.all(sql, params)]


async def _by_words(conn: Conn, query: str, where: str, params: list[object]) -> list[int]:
    return await _ids(conn, "select id from search_docs"
                            f" where words @@ to_tsquery({WORDS}, ?){where}"
                            " order by id desc limit ?",
                      [query, *params, search.CANDIDATES + 1])


async def _by_stems(conn: Conn, query: str, where: str, params: list[object]) -> list[int]:
    """Stems not yet recomputed (this transaction's own writes) are left out, as on SQLite:
    those posts are found by their words only."""
    return await _ids(conn, "select search_docs.id from stem_search"
                            " join search_docs on search_docs.id = stem_search.id"
                            f" where stem_search.stems @@ to_tsquery({STEMS}, ?){where}"
                            " and stem_search.id not in (select id from stem_queue)"
                            " order by search_docs.id desc limit ?",
                      [query, *params, search.CANDIDATES + 1])


async def search_posts(conn: Conn, query: str, fts_terms: str, filters: search.Filters,
                       page: int, per_page: int, viewer: User | None) -> search.Results:
    """models.search.search on PostgreSQL (`fts_terms`: its parse_query, not empty)."""
    cleaned = clean_line(search.encodable(query))
    found = terms(cleaned)
    where, params = _filters(filters)
    stemmed = stems.query_spellings(cleaned)
    recent: list[int] = []
    if not stemmed or not await search._stems_cover_words(conn, fts_terms):
        recent = await _by_words(conn, words_query(found), where, params)
    if stemmed:
        own = stems_query(stemmed, "AB", " | ")
        expression = (stems_query(stemmed, "AB") if len(stemmed) == 1
                      else f"({stems_query(stemmed, 'ABC')}) & ({own})")
        recent = search._newest(recent, await _by_stems(conn, expression, where, params))
    more = len(recent) > search.CANDIDATES
    recent = recent[:search.CANDIDATES]
    ranked = await _titles_first(conn, found, stemmed, recent)
    pages = max(1, -(-len(ranked) // per_page))
    chosen = ranked[(page - 1) * per_page:page * per_page]
    hits = await _hits(conn, marks(found, cleaned), chosen, viewer)
    return search.Results(hits, len(ranked), more, page, pages)


async def _titles_first(conn: Conn, found: list[Term],
                        stemmed: list[tuple[tuple[str, ...], bool]],
                        recent: list[int]) -> list[int]:
    """The matches, those whose thread title matches moved first (each part newest first)."""
    if not recent:
        return []
    titled = set(await _ids(conn, "select id from search_docs where id = any(cast(? as"
                                  f" bigint[])) and words @@ to_tsquery({WORDS}, ?)",
                            [recent, words_query(found, "A")]))
    if stemmed:
        titled |= set(await _ids(
            conn, "select id from stem_search where id = any(cast(? as bigint[]))"
                  f" and stems @@ to_tsquery({STEMS}, ?)"
                  " and id not in (select id from stem_queue)",
            [recent, stems_query(stemmed, "A")]))
    return ([post_id for post_id in recent if post_id in titled]
            + [post_id for post_id in recent if post_id not in titled])


async def _hits(conn: Conn, marking: Marks, post_ids: list[int],
                viewer: User | None) -> list[search.Hit]:
    """The chosen posts in the order given, their title and snippet marked."""
    if not post_ids:
        return []
    board_scope, params = permissions.readable_board_filter(viewer, "threads.board_id")
    rows = await conn.all(
        "select search_docs.id, posts.thread_id, threads.title as thread_title,"
        " search_docs.title, search_docs.body, boards.slug, boards.name as board_name,"
        " users.name as author_name, posts.created_at from search_docs"
        " join posts on posts.id = search_docs.id"
        " join threads on threads.id = posts.thread_id"
        " join boards on boards.id = threads.board_id join users on users.id = posts.author_id"
        " where search_docs.id = any(cast(? as bigint[]))"
        # The index holds readable posts only (its triggers); checked again on the rows shown.
        f" and {permissions.indexed_post()} and {board_scope}", (post_ids, *params))
    by_id = {row["id"]: search._hit(_snippets(row, marking, "title", "body"))
             for row in rows}
    return [by_id[post_id] for post_id in post_ids if post_id in by_id]


def _snippets(row: Row | Mapping[str, Any], marking: Marks, title: str | None,
              text: str) -> dict[str, Any]:
    """The row, with `title_marked` (the title column highlighted) and `snippet`."""
    made = {**dict(row), "snippet": snippet(row[text], marking)}
    if title is not None:
        made["title_marked"] = highlight(row[title], marking)
    return made


# Documents -----------------------------------------------------------------------------------

_DOCUMENT_POSTS = (" join post_attachments on post_attachments.upload_id"
                   " = document_pages.upload_id join posts on posts.id = post_attachments.post_id")


async def document_ids(conn: Conn, tokens: tuple[str, ...], query: str,
                       filters: search.Filters, dates: str, values: list[object]) -> list[int]:
    """The ids of the CANDIDATES + 1 most recent pages matching `query` whose tags hold one of
    `tokens` (documents.visible_tokens), within the filters (`dates` on posts); newest first."""
    tags = "string_to_array(document_pages.tags, ' ')"
    sql = f" and {tags} && cast(? as text[])"
    params: list[object] = [list(tokens)]
    for prefix, value in (("b", filters.board_id), ("u", filters.author_id)):
        if value is not None:
            sql, params = f"{sql} and ? = any({tags})", [*params, f"{prefix}{int(value)}"]
    if filters.unread_boards:
        sql += f" and not ({tags} && cast(? as text[]))"
        params.append([f"b{int(board)}" for board in filters.unread_boards])
    return await _ids(
        conn, "select document_pages.id from document_pages"
              f"{_DOCUMENT_POSTS if dates else ''}"
              f" where document_pages.words @@ to_tsquery({WORDS}, ?){sql}{dates}"
              " order by document_pages.id desc limit ?",
        [words_query(terms(clean_line(search.encodable(query)))), *params, *values,
         search.CANDIDATES + 1])


async def document_rows(conn: Conn, visible: str, params: tuple[object, ...], query: str,
                        page_ids: list[int]) -> list[dict[str, Any]]:
    """The rows documents._hit reads for these pages, if their post is `visible`
    (permissions.post_filter: the tags are not trusted alone), their snippets marked."""
    rows = await conn.all(
        "select document_pages.upload_id, document_pages.page, document_pages.text,"
        " uploads.filename, uploads.kind, posts.id as post_id, posts.thread_id,"
        " threads.title, boards.slug, boards.name as board_name, users.name as author_name,"
        f" posts.created_at from document_pages{_DOCUMENT_POSTS}"
        " join threads on threads.id = posts.thread_id"
        " join uploads on uploads.id = document_pages.upload_id"
        " join boards on boards.id = threads.board_id join users on users.id = posts.author_id"
        f" where document_pages.id = any(cast(? as bigint[])) and {visible}",
        (page_ids, *params))
    marking = marks(terms(clean_line(search.encodable(query))))
    return [_snippets(row, marking, None, "text") for row in rows]


search.OTHER_ENGINES["postgresql"] = search_posts
