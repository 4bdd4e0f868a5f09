"""Findings found by /search: by their kind, place, note or city, each word required.

A separate result type from the messages (models/search.py): a finding is matched on its
place and note through the `findings_text` index (migration 0020; on PostgreSQL an index of
0028_pgsearch.sql; accents and capitals ignored as for messages), and on its kind's and city's
names as the reader sees them (translated kinds: "caméras" finds the built-in
"Video-surveillance cameras"). Who sees which finding is decided by permissions.public_finding:
search is a public channel, where nothing pending, refused or deleted is ever found, by anyone
(moderators have their queue, authors their profile), as for messages.
"""
from __future__ import annotations

from dataclasses import dataclass

from forum import i18n, permissions, search_postgresql
from forum.db import Conn
from forum.models import findings
from forum.models.findings import Finding
from forum.models.search import _TERM, Filters, _fts_term, encodable, parse_query
from forum.text import clean_line, sort_key

FINDING_TEXT = "findings.id in (select rowid from findings_text where findings_text match ?)"
SHOWN = 20  # findings listed above the messages; the count says how many matched


@dataclass(frozen=True)
class FoundFindings:
    findings: list[Finding]  # the most recent observations first, at most SHOWN
    total: int


async def search_findings(conn: Conn, query: str, filters: Filters | None = None,
                          limit: int = SHOWN) -> FoundFindings:
    """The public findings whose kind, place, note or city holds every word."""
    if not parse_query(query):  # the same limits (422) and the same "nothing to search"
        return FoundFindings([], 0)
    names = await _names(conn)
    parts: list[str] = []
    params: list[object] = []
    for match in _TERM.finditer(clean_line(encodable(query))):
        term = _fts_term(match[1], match[2])
        if not term:
            continue
        typed = sort_key((match[1] if match[1] is not None else match[2]).rstrip("*"))
        kinds = [kind_id for kind_id, name in names["kinds"] if typed in name]
        cities = [board_id for board_id, name in names["cities"] if typed in name]
        if conn.dialect == "postgresql":  # its own index (0028_pgsearch.sql)
            text, param = search_postgresql.FINDING_TEXT, search_postgresql.term_query(
                match[1], match[2])
        else:
            text, param = FINDING_TEXT, term
        parts.append(f"({text} or findings.kind_id in ({_ids(kinds)})"
                     f" or findings.board_id in ({_ids(cities)}))")
        params.append(param)
    visible, visible_params = permissions.PUBLIC_FINDING, ()
    filters = filters or Filters()
    for column, value in (("findings.board_id", filters.board_id),
                          ("findings.author_id", filters.author_id)):
        if value is not None:
            parts.append(f"{column} = ?")
            params.append(value)
    where = " and ".join(parts)
    total = int(await conn.value(
        f"select count(*) from findings where {visible} and {where}",
        (*visible_params, *params)))
    rows = await conn.all(
        f"{findings.SELECT} where {visible} and {where}"
        " order by findings.observed desc, findings.id desc limit ?",
        (*visible_params, *params, limit))
    return FoundFindings([Finding.from_row(row) for row in rows], total)


async def _names(conn: Conn) -> dict[str, list[tuple[int, str]]]:
    """Kinds and cities by the names a reader sees, folded (no accents, no capitals)."""
    kinds = [(kind.id, sort_key(f"{i18n.gettext(kind.label)} {kind.label} {kind.slug}"))
             for kind in await findings.kinds(conn, merged=True)]
    rows = await conn.all("select id, name from boards where is_city = 1")
    return {"kinds": kinds, "cities": [(row[0], sort_key(row[1])) for row in rows]}


def _ids(ids: list[int]) -> str:
    """Integers from the database, never user input: safe to write into the SQL text."""
    return ", ".join(str(int(value)) for value in ids) or "null"
