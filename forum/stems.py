"""French stems for search: "drone" finds "drones", "oeuvre" finds "œuvre" (table stem_search).

FTS5's unicode61 tokenizer folds case and accents but knows no French: it takes "drones" and
"drone" for two words, "œuvre" and "oeuvre" too. SQLite cannot run a Snowball stemmer inside a
trigger without a function registered on every connection (a connection without it, a shell at
a prompt, would then fail to write a post), so the triggers of 0024_comfort.sql only queue the
ids of changed search_docs rows, and `index_waiting` stems them in Python inside the same
transaction, just before its COMMIT (db.Database.transaction): the stems commit with the post.
"""
from __future__ import annotations

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


# French words made on these (vidéoprotection, vidéosurveillance, télésurveillance): each such
# word is also indexed as its two parts, so that "video" finds "vidéoprotection". Only forms
# that surveillance vocabulary uses, so as not to cut ordinary words ("biographie" is no "bio").
COMPOUND_HEADS = ("video", "tele", "cyber", "photo", "audio", "radio")
_COMPOUND_TAIL_MIN = 4  # letters after the head: "video" + "s" is no compound


def words(text: str) -> list[str]:
    """The words of `text`, lower case, ligatures spelt out (accents kept for the stemmer)."""
    return _WORD.findall(text.translate(_LIGATURES).lower())


def _bare(word: str) -> str:
    """The word without its accents ("caméras" -> "cameras")."""
    return "".join(char for char in unicodedata.normalize("NFKD", word)
                   if not unicodedata.combining(char))


def _bare_words(typed: list[str]) -> list[str]:
    """The words without accents, each compound followed by its parts."""
    bare = []
    for word in map(_bare, typed):
        bare.append(word)
        head = next((head for head in COMPOUND_HEADS if word.startswith(head)
                     and len(word) >= len(head) + _COMPOUND_TAIL_MIN), None)
        if head is not None:
            bare += [head, word[len(head):]]
    return bare


def _spellings(text: str) -> list[str]:
    """The stems of `text` as typed, then (when they differ) as typed without accents.

    The stemmer cuts words by their accents: "caméras" -> "camer" but "cameras" -> "cam",
    "sécurité" -> "sécur" but "securite" -> "securit". People type queries without accents, so
    both are kept: a text is indexed with both, a query matches either.
    """
    typed = words(text)
    stemmed = " ".join(_STEMMER.stemWords(typed))
    bare = " ".join(_STEMMER.stemWords(_bare_words(typed)))
    return [stemmed] if bare == stemmed else [stemmed, bare]


def stems(text: str) -> str:
    """The stems of `text`, space separated, in order (phrases still match as phrases); then,
    when they differ, the stems of the same words without accents (and compounds' parts).

    The tokenizer of stem_search then removes the accents, so a stem matches whatever accents
    the query had, as long as the stemmer cut both words alike.
    """
    return " ".join(_spellings(text))


def query_terms(query: str, joiner: str = " AND ") -> str:
    """The FTS5 expression over stem_search for a (cleaned, checked) query; "" if none.

    Each word becomes its quoted stem, each "phrase" the phrase of its stems, and a word ending
    with * the prefix of its stem ("drones*" -> "dron"*). Terms are all required, as in
    models.search.parse_query, which has already checked the limits (`joiner` " OR ": any).
    """
    terms: dict[str, str] = {}
    for match in _TERM.finditer(query):
        phrase, word = match[1], match[2]
        text = phrase if phrase is not None else word or ""
        prefix = word is not None and word.endswith("*")
        spellings = [spelling for spelling in _spellings(text.rstrip("*") if prefix else text)
                     if spelling]
        if not spellings:
            continue
        # Stems are letters and digits only: nothing to escape.
        quoted = ['"' + spelling + '"' + ("*" if prefix and len(spelling) >= PREFIX_MIN else "")
                  for spelling in spellings]
        term = quoted[0] if len(quoted) == 1 else "(" + " OR ".join(quoted) + ")"
        terms.setdefault(term, term)
    return joiner.join(terms)


def highlight_terms(query: str) -> list[str]:
    """Prefixes that mark a stem-found word in a snippet ("drone" marks "drones")."""
    found = {stem for stem in stems(query).split() if len(stem) >= PREFIX_MIN}
    return [f'"{stem}"*' for stem in sorted(found)]


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
    await tx.execute("delete from stem_search where rowid in (select id from stem_queue)")
    await tx.conn.executemany(
        "insert into stem_search (rowid, title, body, tags, context) values (?, ?, ?, ?, ?)",
        [(row["id"], stems(row["title"]), stems(row["body"]), row["tags"],
          stems(row["context"])) for row in rows])
    await tx.execute("delete from stem_queue")
