"""Search knows French (issue 16): plurals and other endings by their Snowball stems, ligatures
spelt out, the thread's title and board on every post, accents still ignored; what the index
holds stays exactly what a visitor may read."""
from __future__ import annotations

import contextlib
import sqlite3

import pytest

from forum import stems
from forum.models import moderation, posts, search, threads
from tests.conftest import SQLITE_FILE
from tests.test_search import found, migrated_from, read_found, stem_id

pytestmark = pytest.mark.both_stores


async def test_a_word_finds_its_plural_and_the_plural_the_word(forum, metz, camille):
    _, drones = await forum.thread(metz, camille, "Survols", "Des drones au-dessus du marché.")
    _, drone = await forum.thread(metz, camille, "Un seul", "Un drone de la police.")
    assert sorted(await read_found(forum, "drone")) == sorted([drones, drone])
    assert sorted(await read_found(forum, "DRONES")) == sorted([drones, drone])
    assert await read_found(forum, "caméra") == []
    _, installed = await forum.thread(metz, camille, "Pose", "Caméras installées en 2024.")
    assert await read_found(forum, "caméra installée") == [installed]


async def test_ligatures_match_their_spelt_out_letters(forum, metz, camille):
    _, post_id = await forum.thread(metz, camille, "Bilan", "Une Œuvre de surveillance.")
    assert await read_found(forum, "oeuvre") == [post_id]
    assert await read_found(forum, "œuvres") == [post_id]
    _, spelt = await forum.thread(metz, camille, "Autre", "Les oeuvres du préfet.")
    assert sorted(await read_found(forum, "œuvre")) == sorted([post_id, spelt])


async def test_accents_still_do_not_matter(forum, metz, camille):
    _, post_id = await forum.thread(metz, camille, "Inventaire", "Douze caméras piétons.")
    for query in ("cameras", "CAMÉRAS", "piéton", "pietons"):
        assert await read_found(forum, query) == [post_id], query


async def test_metz_drones_finds_the_metz_thread_about_drones(forum, metz, camille):
    nancy = await forum.board("Nancy")
    thread_id, first = await forum.thread(metz, camille, "Vidéosurveillance à Metz",
                                          "La mairie annonce un plan.")
    reply = await forum.reply(thread_id, camille, "Et maintenant des drones.")
    _, elsewhere = await forum.thread(nancy, camille, "Nancy aussi", "Des drones à Nancy.")
    _, board_only = await forum.thread(metz, camille, "Survols", "Un drone le soir.")
    found = await read_found(forum, "Metz drones")
    assert reply in found and board_only in found and elsewhere not in found
    assert first not in found  # its text says nothing of drones
    assert await read_found(forum, "Metz drones", board_id=nancy.id) == []


async def test_phrases_prefixes_and_every_word_still_hold(forum, metz, camille):
    _, together = await forum.thread(metz, camille, "Un", "Les caméras piétons arrivent.")
    _, apart = await forum.thread(metz, camille, "Deux", "Des piétons, une caméra.")
    assert await read_found(forum, '"caméra piéton"') == [together]
    assert sorted(await read_found(forum, "caméra piéton")) == sorted([together, apart])
    assert sorted(await read_found(forum, "camér*")) == sorted([together, apart])
    assert await read_found(forum, "caméra drone") == []


async def test_snippets_mark_the_word_found_by_its_stem(forum, client, metz, camille):
    await forum.thread(metz, camille, "Survols", "Des <b>drones</b> au-dessus du marché.")
    page = await (await client.get("/search", params={"q": "drone"})).text()
    assert "<mark>drones</mark>" in page and "<b>" not in page
    await forum.thread(metz, camille, "Bilan", "Une œuvre <i>étrange</i>.")
    page = await (await client.get("/search", params={"q": "oeuvre"})).text()
    assert "œuvre &lt;i&gt;étrange" in page  # found by stem only: the text's start, escaped


async def test_pending_and_deleted_posts_are_not_found_by_their_stems(forum, metz, camille):
    newcomer = await forum.user("nouveau", trusted=False)
    async with forum.db.transaction() as tx:
        _, hidden = await threads.create(tx, metz, newcomer, "Attente", "Des drones cachés.",
                                         150, 20_000, status="pending")
    _, gone = await forum.thread(metz, camille, "Effacé", "Des drones effacés.")
    async with forum.db.transaction() as tx:
        await moderation.delete_as(tx, gone, camille, "")
    assert await read_found(forum, "drone") == []
    async with forum.db.read() as conn:
        stemmed = {row[0] for row in await conn.all(f"select {stem_id(conn)} from stem_search")}
        indexed = {row[0] for row in await conn.all("select id from search_docs")}
    assert stemmed == indexed and hidden not in stemmed and gone not in stemmed


async def test_stems_follow_edits_renames_and_moves(forum, metz, camille):
    nancy = await forum.board("Nancy")
    thread_id, post_id = await forum.thread(metz, camille, "Survols", "Des drones.")
    async with forum.db.transaction() as tx:
        await moderation.edit_as(tx, post_id, camille, "Des ballons.", 20_000)
    assert await read_found(forum, "drone") == []
    assert await read_found(forum, "ballon") == [post_id]
    admin = await forum.user("modo", role="admin")
    async with forum.db.transaction() as tx:
        await moderation.move_thread(tx, await threads.get(tx, thread_id), nancy, admin)
        # Inside the transaction the stems are not recomputed yet: words only, never stale.
        assert await _found_in(tx, "ballons", metz.id) == []
    assert await read_found(forum, "ballon", board_id=nancy.id) == [post_id]
    assert await read_found(forum, "ballon Nancy") == [post_id]


async def _found_in(conn, query: str, board_id: int) -> list[int]:
    return await found(conn, query, board_id=board_id)


@SQLITE_FILE
async def test_a_purge_leaves_no_stem_of_the_text(forum, metz, camille):
    moderator = await forum.user("modo", role="admin")
    _, post_id = await forum.thread(metz, camille, "Nom", "Madame Zorglubienne habite ici.")
    async with forum.db.transaction() as tx:
        await moderation.edit_as(tx, post_id, camille, "Plus de nom, elle habite ailleurs.", 20_000)
    async with forum.db.read() as conn:
        revisions = await conn.all("select id, body_source from post_revisions"
                                   " where post_id = ? order by id", (post_id,))
    first = next(row["id"] for row in revisions if "Zorglub" in row["body_source"])
    async with forum.db.transaction() as tx:
        await moderation.purge_post_version(tx, await posts.get(tx, post_id), moderator, first)
    path = forum.config.db_path
    with contextlib.closing(sqlite3.connect(path)) as conn:  # as the leak matrix does
        conn.execute("pragma wal_checkpoint(truncate)")
    stored = b"".join(file.read_bytes() for file in path.parent.iterdir()
                      if file.name.startswith(path.name)).lower()
    assert b"habite" in stored  # the check can see the text's other words
    assert b"zorglub" not in stored  # neither the word nor its stem ("zorglubien")


async def test_migration_stems_what_was_already_indexed(tmp_path, monkeypatch):
    db_path = migrated_from(tmp_path, monkeypatch, 24, "Survols", """
        select 1 as id, 'Des drones.' as body, '2024-01-01T00:00:00.000Z' as at,
               'published' as status""")
    conn = sqlite3.connect(db_path)
    rows = conn.execute("select rowid from stem_search where stem_search match 'dron'")
    assert rows.fetchall() == [(1,)]
    assert conn.execute("select count(*) from stem_queue").fetchone() == (0,)
    conn.close()


@SQLITE_FILE
async def test_a_write_from_another_process_is_stemmed_by_the_next_write(forum, metz, camille):
    _, post_id = await forum.thread(metz, camille, "Survols", "Des ballons.")
    with sqlite3.connect(forum.config.db_path) as other:  # the CLI, without the hook
        other.execute("update posts set body_source = 'Des drones.' where id = ?", (post_id,))
    assert await read_found(forum, "drones") == [post_id]  # by its words meanwhile
    assert await read_found(forum, "drone") == []
    await forum.thread(metz, camille, "Autre", "Rien.")
    assert await read_found(forum, "drone") == [post_id]


async def test_queries_without_accents_find_the_stems_of_accented_words(forum, metz, camille):
    """The stemmer cuts "caméras" to "camer" but "camera" to "cam": both are indexed."""
    _, cameras = await forum.thread(metz, camille, "Inventaire", "Quarante caméras en 2024.")
    _, protection = await forum.thread(metz, camille, "Plan", "Un plan de vidéoprotection.")
    _, security = await forum.thread(metz, camille, "Budget", "Le budget de la sécurité.")
    for query in ("camera", "cameras", "caméra", "CAMERA", "camera*"):
        assert await read_found(forum, query) == [cameras], query
    for query in ("video", "vidéo", "videoprotection", "vidéoprotection", "protection"):
        assert await read_found(forum, query) == [protection], query
    for query in ("securite", "sécurité", "securité"):
        assert await read_found(forum, query) == [security], query
    assert await read_found(forum, '"quarante cameras"') == [cameras]  # phrases too
    assert await read_found(forum, "camera budget") == []


# One term per word (issue 11: 0025 indexed every text twice, searches cost twice the CPU) -----

def _body_terms(conn: sqlite3.Connection, post_id: int) -> list[str]:
    """The terms stem_search holds for a post's body, one per position, in order."""
    conn.execute("create virtual table if not exists temp.stem_terms"
                 " using fts5vocab(main, stem_search, 'instance')")
    return [row[0] for row in conn.execute(
        "select term from temp.stem_terms where doc = ? and col = 'body' order by offset",
        (post_id,))]


@pytest.mark.sqlite_only(reason="reads FTS5's terms (fts5vocab); PostgreSQL stores the same"
                                " stems text (stems.stems), tested on its own")
async def test_a_post_is_indexed_once_with_only_the_stems_its_accents_change(forum, metz,
                                                                              camille):
    text = "Quarante caméras, des drones et un mât sur le marché."
    _, post_id = await forum.thread(metz, camille, "Inventaire", text)
    with contextlib.closing(sqlite3.connect(forum.config.db_path)) as conn:
        terms = _body_terms(conn, post_id)
    words = stems.words(text)
    # Each word once, without accents; then "caméras" as typed (camer: "cameras" gives cam),
    # the only word whose stem its accents change. Not the whole text a second time.
    assert len(terms) == len(words) + 1, terms
    assert terms[len(words):] == ["camer"] and terms.count("dron") == 1
    assert stems.stems("des drones et des cameras") == "de dron et de cam"  # no accent: no extra


async def test_a_query_word_whose_accents_change_nothing_is_one_term(forum):
    assert stems.query_terms("piéton") == '"pieton"'  # not ("piéton" OR "pieton")
    assert stems.query_terms("caméra") == '("camer" OR "cam")'


async def test_snippets_mark_stem_found_words_without_prefix_queries(forum, client, metz,
                                                                     camille):
    """A prefix ("cam"*) reads the index of every word it begins, over the whole forum."""
    _, post_id = await forum.thread(metz, camille, "Plan", "Des caméras et un camion.")
    async with forum.db.read() as conn:
        expression = await search._marking_expression(conn, '"camera"', "camera", [post_id])
    assert "*" not in expression
    page = await (await client.get("/search", params={"q": "camera"})).text()
    assert "<mark>caméras</mark>" in page  # (and "camion": it begins with "cam", as before)


async def test_migration_27_stems_each_post_once(tmp_path, monkeypatch):
    db_path = migrated_from(tmp_path, monkeypatch, 27, "Survols", """
        select 1 as id, 'Des caméras et des drones.' as body, '2024-01-01T00:00:00.000Z' as at,
               'published' as status""")
    with contextlib.closing(sqlite3.connect(db_path)) as conn:
        assert _body_terms(conn, 1) == ["de", "cam", "et", "de", "dron", "camer"]
        assert conn.execute("select count(*) from stem_queue").fetchone() == (0,)
