"""The one place where SQLite's SQL and PostgreSQL's differ: the models write SQLite's.

The models' SQL stays plain (lowercase, `?` parameters, SQLite's few functions); on
PostgreSQL each statement is translated once, here, and the translation is kept.

Translated: `?` -> `$n`; `limit ?` (SQLite's -1: all); `is ?` -> `is not distinct from ?`;
`insert or ignore` -> `on conflict do nothing`; `group_concat`, `json_extract`, `json_set`
(of a text), `julianday`, `instr`, and max()/min() of several arguments -> their PostgreSQL
spellings. Needing no translation: `collate nocase` (the baseline creates an ICU collation of
that name), upserts (`on conflict ... do update`, with the table named in its `set`),
`returning`. What is not translated is written portably in the models: `id` rather than
`rowid`, `(1 = 1)` rather than a bare 1 as a condition, typed parameters where PostgreSQL
cannot infer them (`cast(? as integer)` in a `values` list), `count(case ... end)` rather
than a sum of truth values.
"""
from __future__ import annotations

import re
from functools import lru_cache

# A quoted literal or identifier, or a `?` outside them.
_TOKENS = re.compile(r"'(?:[^']|'')*'|\"(?:[^\"]|\"\")*\"|\?")
_OR_IGNORE = re.compile(r"\binsert\s+or\s+ignore\s+into\b", re.IGNORECASE)
_RETURNING = re.compile(r"\s+returning\s", re.IGNORECASE)
# Functions taking one argument without parentheses inside (all their uses in forum/).
_GROUP_CONCAT = re.compile(r"\bgroup_concat\(([^()]*)\)", re.IGNORECASE)
_JSON_EXTRACT = re.compile(r"\bjson_extract\(([^(),]+),\s*'\$\.(\w+)'\)", re.IGNORECASE)
_INSTR = re.compile(r"\binstr\(", re.IGNORECASE)
_JULIANDAY = re.compile(r"\bjulianday\(", re.IGNORECASE)
_EXTREME = re.compile(r"\b(max|min)\(", re.IGNORECASE)
# SQLite reads a negative limit as none (the models pass -1 for "all"); PostgreSQL refuses it
# and reads a null one as none.
_LIMIT = re.compile(r"\blimit \?", re.IGNORECASE)
# SQLite's `is` compares anything, null included; PostgreSQL's takes only null, true, false.
_IS_PARAMETER = re.compile(r"\bis (not )?\?", re.IGNORECASE)
_JSON_SET = re.compile(r"\bjson_set\(([^(),]+),\s*'\$\.(\w+)',\s*([^(),]+)\)", re.IGNORECASE)


def _arguments_end(sql: str, start: int) -> tuple[int, bool]:
    """Where the call whose arguments start at `start` ends (after its `)`), and whether it
    has several arguments (a comma outside inner parentheses)."""
    depth, end, several = 1, start, False
    while depth:
        char = sql[end]
        depth += {"(": 1, ")": -1}.get(char, 0)
        several = several or (char == "," and depth == 1)
        end += 1
    return end, several


def _balanced_calls(sql: str, start: re.Pattern[str], wrap: str) -> str:
    """Replace each `f(` ... `)` found by `start` with `wrap` formatted with its argument."""
    while (match := start.search(sql)) is not None:
        end, _ = _arguments_end(sql, match.end())
        sql = sql[:match.start()] + wrap.format(sql[match.end():end - 1]) + sql[end:]
    return sql


def _scalar_extremes(sql: str) -> str:
    """SQLite's max(a, b) and min(a, b) of several arguments: greatest() and least()."""
    out, at = [], 0
    for match in _EXTREME.finditer(sql):
        if match.start() < at:
            continue
        _, several = _arguments_end(sql, match.end())
        if several:
            out.append(sql[at:match.start()])
            out.append("greatest(" if match.group(1).lower() == "max" else "least(")
            at = match.end()
    return "".join(out) + sql[at:]


@lru_cache(maxsize=4096)
def postgresql(sql: str) -> str:
    """`sql` as SQLite reads it, written for PostgreSQL (cached: the models' SQL is constant)."""
    if _OR_IGNORE.search(sql):
        sql = _OR_IGNORE.sub("insert into", sql)
        returning = _RETURNING.search(sql)
        at = returning.start() if returning else len(sql.rstrip().rstrip(";"))
        sql = sql[:at] + " on conflict do nothing" + sql[at:]
    sql = _GROUP_CONCAT.sub(r"string_agg((\1)::text, ',')", sql)
    sql = _JSON_EXTRACT.sub(r"(\1::jsonb ->> '\2')", sql)
    sql = _JSON_SET.sub(r"jsonb_set(\1::jsonb, '{\2}', to_jsonb((\3)::text))::text", sql)
    sql = _INSTR.sub("strpos(", sql)
    sql = _scalar_extremes(sql)
    sql = _LIMIT.sub("limit nullif(?, -1)", sql)
    sql = _IS_PARAMETER.sub(lambda m: "is distinct from ?" if m.group(1) else
                            "is not distinct from ?", sql)
    # Days between dates: julianday() of a 'YYYY-MM-DD' text is its Julian day number.
    sql = _balanced_calls(sql, _JULIANDAY, "extract(julian from ({})::date)::float8")
    count = 0

    def number(match: re.Match[str]) -> str:
        nonlocal count
        if match.group(0) != "?":
            return match.group(0)
        count += 1
        return f"${count}"

    return _TOKENS.sub(number, sql)


def skip_locked(dialect: str) -> str:
    """The end of a claim's inner select: on PostgreSQL, rows another server is claiming at
    this moment are skipped, neither waited for nor claimed twice (READ COMMITTED would
    not run the select again after the wait). SQLite's single writer claims one at a time."""
    return " for update skip locked" if dialect == "postgresql" else ""


def is_postgresql(url: str) -> bool:
    """Whether a FORUM_DATABASE_URL names a PostgreSQL database."""
    return url.startswith(("postgresql://", "postgres://"))
