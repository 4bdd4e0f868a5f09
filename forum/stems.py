"""French stems for search: "drone" finds "drones", "oeuvre" finds "œuvre" (table stem_search).

FTS5's unicode61 tokenizer folds case and accents but knows no French: it takes "drones" and
"drone" for two words, "œuvre" and "oeuvre" too. SQLite cannot run a Snowball stemmer inside a
trigger without a function registered on every connection (a connection without it, a shell at
a prompt, would then fail to write a post), so the triggers of 0024_comfort.sql only queue the
ids of changed search_docs rows, and `index_waiting` stems them in Python inside the same
transaction, just before its COMMIT (db.Database.transaction): the stems commit with the post.
"""
from __future__ import annotations

import functools
import re
import unicodedata
from typing import TYPE_CHECKING

import Stemmer

if TYPE_CHECKING:
    from forum.db import Transaction

_STEMMER = Stemmer.Stemmer("french")
_WORD = re.compile(r"[^\W_]+")  # what FTS5's unicode61 tokenizer takes for a word
_TERM = re.compile(r'"([^"]*)"|(\S+)')  # as models.search parses a query
# Ligatures that no Unicode normalisation splits: people type "oeuvre" for "œuvre".
_LIGATURES = str.maketrans({"œ": "oe", "Œ": "oe", "æ": "ae", "Æ": "ae", "ﬁ": "fi", "ﬂ": "fl",
                            "ﬀ": "ff", "ﬃ": "ffi", "ﬄ": "ffl", "ß": "ss"})
PREFIX_MIN = 3  # as models.search.PREFIX_MIN: shorter prefixes match half the dictionary
WORD_CACHE = 50_000  # words whose stems are kept: the vocabulary of a forum is small


# French words made on these (vidéoprotection, vidéosurveillance, télésurveillance): each such
# word is also indexed as its two parts, so that "video" finds "vidéoprotection". Only forms
# that surveillance vocabulary uses, so as not to cut ordinary words ("biographie" is no "bio").
COMPOUND_HEADS = ("video", "tele", "cyber", "photo", "audio", "radio")
_COMPOUND_TAIL_MIN = 4  # letters after the head: "video" + "s" is no compound


def words(text: str) -> list[str]:
    """The words of `text`, lower case, ligatures spelt out (accents kept for the stemmer)."""
    return _WORD.findall(text.translate(_LIGATURES).lower())


@functools.lru_cache(maxsize=WORD_CACHE)
def _bare(word: str) -> str:
    """The word without its accents ("caméras" -> "cameras")."""
    if word.isascii():
        return word
    return "".join(char for char in unicodedata.normalize("NFKD", word)
                   if not unicodedata.combining(char))


@functools.lru_cache(maxsize=WORD_CACHE)
def _word_stems(word: str) -> tuple[tuple[str, ...], str]:
    """(the stems that take the word's place, its stem as typed when it differs or "").

    The first is the stem of the word without accents, followed for a compound by the stems of
    its parts ("vidéoprotection" -> videoprotect video protect). The second is the stem of the
    word as typed, accents then removed as the tokenizer does: the stemmer cuts words by their
    accents ("caméras" -> "camer", "cameras" -> "cam"; "installées" -> "install", "installees"
    -> "installe"), so both are kept when they differ, and only then.
    """
    bare = _bare(word)
    place = [bare]
    head = next((head for head in COMPOUND_HEADS if bare.startswith(head)
                 and len(bare) >= len(head) + _COMPOUND_TAIL_MIN), None)
    if head is not None:
        place += [head, bare[len(head):]]
    place_stems = tuple(_STEMMER.stemWords(place))
    typed = _bare(_STEMMER.stemWord(word)) if bare != word else place_stems[0]
    return place_stems, "" if typed == place_stems[0] else typed


def _spellings(text: str) -> list[str]:
    """The stems of `text` as typed, then (when they differ) as typed without accents, each
    without accents (the tokenizer removes them): the alternatives of a query term.

    The stemmer cuts words by their accents: "caméras" -> "camer" but "cameras" -> "cam",
    "sécurité" -> "sécur" but "securite" -> "securit". People type queries without accents, so
    a query term matches either (a text holds both, `stems`).
    """
    typed = words(text)
    stemmed = " ".join(_bare(stem) for stem in _STEMMER.stemWords(typed))
    # A compound's parts follow it in a text: a phrase has them too, a lone word needs not.
    parts = slice(None) if len(typed) > 1 else slice(1)
    bare = " ".join(stem for word in typed for stem in _word_stems(word)[0][parts])
    return [stemmed] if bare == stemmed else [stemmed, bare]


def stems(text: str) -> str:
    """What stem_search indexes for `text`: one stem per word, without accents, in order
    (phrases still match as phrases), compounds followed by their parts; then, once each, the
    stems as typed that differ from those ("caméras": cam ... camer).

    Each word's stem as typed is thus found by a single word, and a phrase by the stems of its
    words without accents, as queries are mostly typed. (Until 0027 the text was indexed twice,
    as typed then without accents: twice the terms, and searches twice as costly.)
    """
    place: list[str] = []
    typed: dict[str, None] = {}
    for word in words(text):
        place_stems, typed_stem = _word_stems(word)
        place += place_stems
        if typed_stem:
            typed[typed_stem] = None
    present = set(place)
    return " ".join([*place, *(stem for stem in typed if stem not in present)])


def query_spellings(query: str) -> list[tuple[tuple[str, ...], bool]]:
    """The terms of a (cleaned, checked) query by their stems: for each, its spellings (each a
    word's stem or a phrase's stems, space-separated) and whether it is a prefix ("drones*").
    A term given twice counts once."""
    terms: dict[tuple[tuple[str, ...], bool], None] = {}
    for match in _TERM.finditer(query):
        phrase, word = match[1], match[2]
        text = phrase if phrase is not None else word or ""
        prefix = word is not None and word.endswith("*")
        spellings = tuple(spelling for spelling in
                          _spellings(text.rstrip("*") if prefix else text) if spelling)
        if spellings:
            terms.setdefault((spellings, prefix), None)
    return list(terms)


def query_terms(query: str, joiner: str = " AND ") -> str:
    """The FTS5 expression over stem_search for a (cleaned, checked) query; "" if none.

    Each word becomes its quoted stem, each "phrase" the phrase of its stems, and a word ending
    with * the prefix of its stem ("drones*" -> "dron"*). Terms are all required, as in
    models.search.parse_query, which has already checked the limits (`joiner` " OR ": any).
    """
    terms: dict[str, str] = {}
    for spellings, prefix in query_spellings(query):
        # Stems are letters and digits only: nothing to escape.
        quoted = ['"' + spelling + '"' + ("*" if prefix and len(spelling) >= PREFIX_MIN else "")
                  for spelling in spellings]
        term = quoted[0] if len(quoted) == 1 else "(" + " OR ".join(quoted) + ")"
        terms.setdefault(term, term)
    return joiner.join(terms)


def highlight_prefixes(query: str) -> tuple[str, ...]:
    """The stems whose words a snippet marks ("drone": dron, which marks "drones")."""
    return tuple(sorted({stem for stem in stems(query).split() if len(stem) >= PREFIX_MIN}))


def bare(word: str) -> str:
    """A word as post_search's tokenizer keeps it: lower case, no accents (ligatures kept)."""
    return _bare(word.lower())


def tokens(text: str) -> set[str]:
    """The words of `text` as post_search's tokenizer keeps them: lower case, no accents."""
    return {_bare(word) for word in set(_WORD.findall(text.lower()))}


async def index_waiting(tx: Transaction) -> None:
    """Stem the search_docs rows this transaction changed (queued by triggers) into stem_search.

    Runs before every COMMIT of the writer; a write that touched no post costs one small read.
    Rows queued by another process (the CLI writes without this hook) are taken up here too.
    """
    if await tx.one("select 1 from stem_queue limit 1") is None:
        return
    rows = await tx.all(
        "select search_docs.id, search_docs.title, search_docs.body, search_docs.tags,"
        " threads.title || ' ' || boards.name as context from search_docs"
        " join posts on posts.id = search_docs.id join threads on threads.id = posts.thread_id"
        " join boards on boards.id = threads.board_id"
        " where search_docs.id in (select id from stem_queue)")
    if tx.dialect == "postgresql":  # a plain table there, its tsvector generated (0028)
        await tx.execute("delete from stem_search where id in (select id from stem_queue)")
        await tx.execute(
            "insert into stem_search (id, title, body, context) select * from unnest("
            "cast(? as bigint[]), cast(? as text[]), cast(? as text[]), cast(? as text[]))",
            ([row["id"] for row in rows], [stems(row["title"]) for row in rows],
             [stems(row["body"]) for row in rows], [stems(row["context"]) for row in rows]))
    else:
        await tx.execute("delete from stem_search where rowid in (select id from stem_queue)")
        await tx.conn.executemany(
            "insert into stem_search (rowid, title, body, tags, context) values (?, ?, ?, ?, ?)",
            [(row["id"], stems(row["title"]), stems(row["body"]), row["tags"],
              stems(row["context"])) for row in rows])
    await tx.execute("delete from stem_queue")
