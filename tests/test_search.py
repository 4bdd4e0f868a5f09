"""Full-text search: French words, phrases, titles, filters, pages, snippets, and what is never
found (pending, refused, hidden, deleted), kept in step by the index's triggers."""
from __future__ import annotations

import re
import sqlite3
from datetime import date
from pathlib import Path

import pytest

from forum import migrate, permissions
from forum.db import Conn
from forum.errors import Invalid, NotFound
from forum.models import moderation, posts, search, threads
from tests.conftest import log_in

pytestmark = pytest.mark.both_stores

# Every piece of FTS5 syntax a reader might type, on purpose or not.
FTS_SYNTAX = ['"', '""', "*", "caméra*", "NEAR(", "NEAR(a b", "title:", "tags:b1", "-",
              "AND OR", "AND", "NOT caméra", "caméra OR", "(", ")", "^caméra", "{title}: a",
              "a + b", "'", "caméras\"", '"caméras', "\x00", "…", "   ", "b1 u1", "*caméra",
              "\ud800", ":", "rowid:1", "title : caméra", "caméras:", '"a" "b"*']


def stem_id(conn: Conn) -> str:
    """The id of a stem_search row: FTS5's rowid on SQLite, a column on PostgreSQL."""
    return "rowid" if conn.dialect == "sqlite" else "id"


async def found(conn: Conn, query: str, **filters: object) -> list[int]:
    """Post ids of the first page of results."""
    results = await search.search(conn, query, search.Filters(**filters))
    return [hit.post_id for hit in results.hits]


async def read_found(forum, query: str, **filters: object) -> list[int]:
    async with forum.db.read() as conn:
        return await found(conn, query, **filters)


# Words, phrases, titles ------------------------------------------------------------------------

async def test_accents_and_case_do_not_matter(forum, metz, camille):
    _, post_id = await forum.thread(metz, camille, "Inventaire",
                                    "L'Équipement compte douze CAMÉRAS piétons.")
    for query in ("equipement", "ÉQUIPEMENT", "Equipement", "cameras", "CAMERAS", "caméras",
                  "l'équipement", "L’equipement"):
        assert await read_found(forum, query) == [post_id], query


async def test_phrase_needs_its_words_together_bare_words_anywhere(forum, metz, camille):
    _, together = await forum.thread(metz, camille, "Un", "La reconnaissance faciale arrive.")
    _, apart = await forum.thread(metz, camille, "Deux",
                                  "Une reconnaissance du terrain, une analyse faciale.")
    assert await read_found(forum, '"reconnaissance faciale"') == [together]
    assert await read_found(forum, '"Reconnaissance  FACIALE"') == [together]
    assert sorted(await read_found(forum, "reconnaissance faciale")) == [together, apart]
    assert await read_found(forum, "reconnaissance faciale terrain") == [apart]


async def test_a_word_ending_with_a_star_is_a_prefix(forum, metz, camille):
    _, post_id = await forum.thread(metz, camille, "Un", "Des caméras partout.")
    # ("cam" would: the stem of "cameras", as typed without accents; test_comfort_search.)
    assert await read_found(forum, "part") == []
    assert await read_found(forum, "partou*") == [post_id]
    assert await read_found(forum, "camer*") == [post_id]
    # Too short a prefix is an ordinary word, not half the dictionary.
    assert await read_found(forum, "ca*") == []


async def test_thread_titles_are_searched_on_the_first_post(forum, metz, camille):
    thread_id, first = await forum.thread(metz, camille, "Vidéoverbalisation à la gare",
                                          "Des chiffres ?")
    reply = await forum.reply(thread_id, camille, "Cinq mille amendes, dit la mairie.")
    assert await read_found(forum, "videoverbalisation") == [first]
    async with forum.db.read() as conn:
        results = await search.search(conn, "gare")
        hit = results.hits[0]
        assert hit.opens_thread and hit.title_html == (
            "Vidéoverbalisation à la <mark>gare</mark>")
        (reply_hit,) = (await search.search(conn, "amendes")).hits
    assert reply_hit.post_id == reply and not reply_hit.opens_thread
    assert reply_hit.title_html == "Vidéoverbalisation à la gare"


async def test_title_matches_come_first_then_the_newest(forum, metz, camille):
    titled_thread, titled = await forum.thread(metz, camille, "Drones au marché", "Vus hier.")
    _, older = await forum.thread(metz, camille, "Un", "Un drone ? Non, des drones.")
    newer = await forum.reply(titled_thread, camille, "Encore des drones ce matin.")
    assert await read_found(forum, "drones") == [titled, newer, older]


async def test_every_word_must_appear(forum, metz, camille):
    _, both = await forum.thread(metz, camille, "Un", "Caméras près du lycée.")
    await forum.thread(metz, camille, "Deux", "Caméras près du parc.")
    assert await read_found(forum, "caméras lycée") == [both]


# Filters and pages ------------------------------------------------------------------------------

async def test_board_author_and_date_filters(forum, metz, camille):
    nancy = await forum.board("Nancy")
    dominique = await forum.user("dominique")
    async with forum.db.transaction() as tx:
        # 23:30 in Paris on 14 March 2025 is still 14 March there (22:30 UTC).
        _, in_nancy = await threads.create(tx, nancy, camille, "Deux", "Mât de caméra.",
                                           150, 20_000, at="2025-03-14T22:30:00.000Z")
    _, in_metz = await forum.thread(metz, camille, "Un", "Mât de caméra.")
    _, by_dominique = await forum.thread(metz, dominique, "Trois", "Mât de caméra.")
    assert await read_found(forum, "mât", board_id=metz.id) == [by_dominique, in_metz]
    assert await read_found(forum, "mât", author_id=dominique.id) == [by_dominique]
    assert await read_found(forum, "mât", board_id=nancy.id, author_id=dominique.id) == []
    assert await read_found(forum, "mât", until=date(2025, 3, 14)) == [in_nancy]
    assert await read_found(forum, "mât", since=date(2025, 3, 15)) == [by_dominique, in_metz]
    assert await read_found(forum, "mât", since=date(2025, 3, 14), until=date(2025, 3, 14)) == [
        in_nancy]
    assert await read_found(forum, "mât", since=date(2025, 3, 15),
                            until=date(2025, 3, 15)) == []
    # Days no post can have are no bound, not an overflow.
    assert len(await read_found(forum, "mât", since=date(1, 1, 1), until=date(9999, 12, 31))) == 3


async def test_filters_by_name_in_the_page_and_the_api(forum, client, metz, camille):
    nancy = await forum.board("Nancy")
    await forum.thread(metz, camille, "Un", "Boîtier gris.")
    _, in_nancy = await forum.thread(nancy, camille, "Deux", "Boîtier gris.")
    page = await (await client.get("/search", params={"q": "boitier", "board": "nancy",
                                                      "author": "CAMILLE"})).text()
    assert page.count('<li>') == 1 and f'href="/p/{in_nancy}"' in page
    api = await (await client.get("/api/v1/search", params={"q": "boitier", "board": "nancy",
                                                            "author": "camille"})).json()
    assert [hit["post_id"] for hit in api["results"]] == [in_nancy]
    for params, status, field in (({"board": "nowhere"}, 404, "board"),
                                  ({"board": ""}, 404, "board"),
                                  ({"author": "personne"}, 404, "author"),
                                  ({"since": "14/03/2025"}, 422, "since"),
                                  ({"until": ""}, 422, "until")):
        response = await client.get("/api/v1/search", params={"q": "boitier", **params})
        assert response.status == status, params
        assert (await response.json())["error"]["field"] == field
    # The page shows the form again with the message beside the field.
    page = await client.get("/search", params={"q": "boitier", "author": "personne"})
    assert page.status == 404 and 'id="author-error"' in await page.text()


async def test_results_are_paginated(forum, client, metz, camille):
    thread_id, _ = await forum.thread(metz, camille, "Relevé", "Premier relevé.")
    for number in range(search.PAGE_SIZE + 4):
        await forum.reply(thread_id, camille, f"Relevé numéro {number}.")
    async with forum.db.read() as conn:
        first = await search.search(conn, "releve")
        second = await search.search(conn, "releve", page=2)
    assert (first.total, first.pages, first.more) == (search.PAGE_SIZE + 5, 2, False)
    assert len(first.hits) == search.PAGE_SIZE and len(second.hits) == 5
    assert not {h.post_id for h in first.hits} & {h.post_id for h in second.hits}
    page = await (await client.get("/search", params={"q": "releve", "board": ""})).text()
    assert 'href="/search?q=releve&amp;page=2"' in page  # empty filters are left out
    api = await (await client.get("/api/v1/search?q=releve&page=2")).json()
    assert (api["page"], api["pages"], len(api["results"])) == (2, 2, 5)
    assert (await client.get("/search?q=releve&page=3")).status == 404
    assert (await client.get("/api/v1/search?q=releve&page=3")).status == 404


async def test_past_the_candidates_the_most_recent_are_ranked(forum, metz, camille,
                                                              monkeypatch):
    monkeypatch.setattr(search, "CANDIDATES", 3)
    thread_id, _ = await forum.thread(metz, camille, "Un", "Panneau absent.")
    newest = [await forum.reply(thread_id, camille, "Panneau absent.") for _ in range(3)]
    async with forum.db.read() as conn:
        results = await search.search(conn, "panneau")
    assert results.more and results.total == 3
    assert [hit.post_id for hit in results.hits] == newest[::-1]


# Snippets ---------------------------------------------------------------------------------------

async def test_snippets_are_escaped_and_matches_marked(forum, client, metz, camille):
    await forum.thread(metz, camille, "<b>Titre</b> & caméra",
                       "Voici `<script>alert(1)</script>` et une **caméra** <img src=x "
                       "onerror=alert(2)> près du \x02marché\x03.")
    page = await (await client.get("/search?q=camera")).text()
    assert "<script>alert" not in page and "<img src=x" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "<mark>caméra</mark>" in page and "**" not in page  # Markdown marks left out
    assert "&lt;b&gt;Titre&lt;/b&gt; &amp; <mark>caméra</mark>" in page
    api = await (await client.get("/api/v1/search?q=marche")).json()
    snippet = api["results"][0]["snippet_html"]
    # Bytes 2 and 3 in a post cannot pose as the markers of a match.
    assert "\x02" not in snippet and snippet.count("<mark>") == snippet.count("</mark>") == 1


async def test_snippet_marks_are_balanced_and_the_only_tags(forum, metz, camille):
    words = " ".join(f"mot{n}" for n in range(200))
    await forum.thread(metz, camille, "Long", f"{words} drone {words} drone <i>x</i>")
    async with forum.db.read() as conn:
        (hit,) = (await search.search(conn, "drone")).hits
    tags = re.findall(r"</?[a-z]+>", hit.snippet_html)
    assert tags and set(tags) == {"<mark>", "</mark>"} and tags.count("<mark>") == tags.count(
        "</mark>")


# Input that is not a search ---------------------------------------------------------------------

@pytest.mark.parametrize("query", FTS_SYNTAX)
async def test_fts_syntax_in_the_input_is_only_text(forum, client, metz, camille, query):
    await forum.thread(metz, camille, "Caméra", "Une caméra, des caméras.")
    page = await client.get("/search", params={"q": query})
    assert page.status == 200, await page.text()
    api = await client.get("/api/v1/search", params={"q": query})
    assert api.status == 200 and isinstance((await api.json())["results"], list)


async def test_punctuation_only_finds_nothing_and_is_not_an_error(forum, metz, camille):
    await forum.thread(metz, camille, "Un", "Texte - * ( ) \" : ^.")
    for query in ("", "   ", "- * ( )", '"', '" "', "*"):
        assert search.parse_query(query) == ""
        assert await read_found(forum, query) == []


def test_the_match_expression_quotes_every_term():
    assert search.parse_query('caméras NEAR(a) "vie privée" title:x AND') == (
        '"caméras" AND "NEAR(a)" AND "vie privée" AND "title:x" AND "AND"')
    assert search.parse_query('dit "il" a"b') == '"dit" AND "il" AND "a""b"'
    assert search.parse_query("vidéo*") == '"vidéo"*'


async def test_search_limits(forum, client):
    too_long = "a" * (search.QUERY_MAX + 1)
    too_many = " ".join(f"mot{n}" for n in range(search.TERMS_MAX + 1))
    for query, field in ((too_long, "q"), (too_many, "q")):
        with pytest.raises(Invalid):
            search.parse_query(query)
        response = await client.get("/api/v1/search", params={"q": query})
        assert response.status == 422 and (await response.json())["error"]["field"] == field
        page = await client.get("/search", params={"q": query})
        assert page.status == 422 and 'id="q-error"' in await page.text()
    assert search.parse_query("a" * search.QUERY_MAX) == '"' + "a" * search.QUERY_MAX + '"'
    assert (await client.get("/api/v1/search")).status == 400  # q is required


# Who finds what -------------------------------------------------------------------------------

async def test_pending_post_is_found_by_nobody_until_approved(forum, client, metz):
    veteran = await forum.user("veteran")
    thread_id, _ = await forum.thread(metz, veteran, "Relevé de Metz", "Bienvenue.")
    await forum.user("nouvelle", trusted=False)
    moderator = await forum.user("moderatrice", role="moderator")
    await log_in(client, "nouvelle")
    token = await client.get(f"/t/{thread_id}")
    assert token.status == 200
    from tests.test_moderation import post_id_from, reply_via_web
    post_id = post_id_from(await reply_via_web(client, thread_id, "Un boîtier Hikvision."))
    assert await status_of(forum, post_id) == "pending"
    reader = await forum.visitor()
    watcher = await forum.visitor()
    await log_in(watcher, "moderatrice")
    for who in (client, reader, watcher):  # the author, a visitor, a moderator
        page = await (await who.get("/search?q=hikvision")).text()
        assert f"/p/{post_id}" not in page and 'id="search-scope"' in page
        api = await (await who.get("/api/v1/search?q=hikvision")).json()
        assert api["results"] == [] and api["total"] == 0
    async with forum.db.transaction() as tx:
        post = await posts.get(tx, post_id)
        await moderation.approve(tx, post, moderator)
        # In the decision's own transaction: the index changed with the post.
        assert await found(tx, "hikvision") == [post_id]
    page = await (await reader.get("/search?q=hikvision")).text()
    assert f'href="/p/{post_id}"' in page and "<mark>Hikvision</mark>" in page


async def status_of(forum, post_id: int) -> str:
    async with forum.db.read() as conn:
        return await conn.value("select status from posts where id = ?", (post_id,))


async def test_pending_thread_title_and_posts_are_never_found(forum, metz):
    newcomer = await forum.user("nouveau", trusted=False)
    moderator = await forum.user("moderateur", role="moderator")
    async with forum.db.transaction() as tx:
        _, post_id = await threads.create(tx, metz, newcomer, "Drones secrets",
                                          "Un survol de nuit.", 150, 20_000, status="pending")
    assert await read_found(forum, "drones") == []
    assert await read_found(forum, "survol") == []
    async with forum.db.transaction() as tx:
        await moderation.approve(tx, await posts.get(tx, post_id), moderator)
        assert await found(tx, "drones") == [post_id]
    assert await read_found(forum, "survol") == [post_id]


async def test_rejected_post_and_its_thread_are_never_found(forum, metz):
    newcomer = await forum.user("nouveau", trusted=False)
    moderator = await forum.user("moderateur", role="moderator")
    async with forum.db.transaction() as tx:
        _, post_id = await threads.create(tx, metz, newcomer, "Accusation", "Nom et adresse.",
                                          150, 20_000, status="pending")
        await moderation.reject(tx, await posts.get(tx, post_id), moderator, "Vie privée")
    assert await read_found(forum, "accusation") == []
    # The author corrects it: back to pending, still not found.
    async with forum.db.transaction() as tx:
        await posts.edit(tx, await posts.get(tx, post_id), newcomer, "Sans nom cette fois.",
                         20_000)
    assert await status_of(forum, post_id) == "pending"
    assert await read_found(forum, "fois") == []


async def test_deleted_post_leaves_the_index_in_its_transaction(forum, metz, camille):
    thread_id, _ = await forum.thread(metz, camille, "Un", "Début.")
    post_id = await forum.reply(thread_id, camille, "Une adresse personnelle ici.")
    moderator = await forum.user("moderateur", role="moderator")
    async with forum.db.transaction() as tx:
        await moderation.delete_post(tx, await posts.get(tx, post_id), moderator, "Vie privée")
        assert await found(tx, "adresse") == []
    assert await read_found(forum, "adresse") == []
    async with forum.db.transaction() as tx:
        await moderation.restore_post(tx, await posts.get(tx, post_id), moderator, "")
    assert await read_found(forum, "adresse") == [post_id]


async def test_hidden_post_is_not_found_until_flags_are_dismissed(forum, metz, camille):
    thread_id, _ = await forum.thread(metz, camille, "Un", "Début.")
    post_id = await forum.reply(thread_id, camille, "Un propos douteux.")
    moderator = await forum.user("moderateur", role="moderator")
    flaggers = [await forum.user(f"vigie{n}") for n in range(forum.config.flags_to_hide)]
    for flagger in flaggers:
        async with forum.db.transaction() as tx:
            hidden = await moderation.flag(tx, await posts.get(tx, post_id), flagger, "Faux",
                                           forum.config.flags_to_hide,
                                           forum.config.trust_threshold)
    assert hidden and await read_found(forum, "douteux") == []
    async with forum.db.transaction() as tx:
        await moderation.dismiss_flags(tx, await posts.get(tx, post_id), moderator)
    assert await read_found(forum, "douteux") == [post_id]


async def test_edit_updates_the_index_in_its_transaction(forum, metz, camille):
    _, post_id = await forum.thread(metz, camille, "Un", "Ancien texte sur le stade.")
    async with forum.db.transaction() as tx:
        await moderation.edit_as(tx, post_id, camille, "Nouveau texte sur la piscine.", 20_000)
        assert await found(tx, "stade") == [] and await found(tx, "piscine") == [post_id]
    assert await read_found(forum, "stade") == []
    assert await read_found(forum, "piscine") == [post_id]


async def test_moving_a_thread_moves_its_posts_in_the_board_filter(forum, metz, camille):
    nancy = await forum.board("Nancy")
    moderator = await forum.user("moderateur", role="moderator")
    thread_id, first = await forum.thread(metz, camille, "Caméras mobiles", "Sur la place.")
    reply = await forum.reply(thread_id, camille, "Caméras mobiles aussi au marché.")
    async with forum.db.transaction() as tx:
        await moderation.move_thread(tx, await threads.get(tx, thread_id), nancy, moderator)
        assert await found(tx, "mobiles", board_id=metz.id) == []
        assert sorted(await found(tx, "mobiles", board_id=nancy.id)) == [first, reply]


async def test_renamed_thread_is_found_by_its_new_title(forum, metz, camille):
    thread_id, first = await forum.thread(metz, camille, "Ancien titre", "Texte.")
    async with forum.db.transaction() as tx:
        await tx.execute("update threads set title = 'Nouvel intitulé' where id = ?",
                         (thread_id,))
    assert await read_found(forum, "ancien") == []
    assert await read_found(forum, "intitule") == [first]


async def test_a_rolled_back_post_is_not_indexed(forum, metz, camille):
    thread_id, _ = await forum.thread(metz, camille, "Un", "Début.")
    with pytest.raises(RuntimeError):
        async with forum.db.transaction() as tx:
            await posts.create(tx, thread_id, metz.id, camille, "Texte fantôme.", 20_000)
            raise RuntimeError("the request failed after the insert")
    assert await read_found(forum, "fantome") == []


async def test_index_holds_exactly_what_a_visitor_may_read(forum, metz, camille):
    """After every kind of change, the index and permissions.post_filter(None) agree."""
    newcomer = await forum.user("nouveau", trusted=False)
    moderator = await forum.user("moderateur", role="moderator")
    thread_id, _ = await forum.thread(metz, camille, "Un", "Public.")
    deleted = await forum.reply(thread_id, camille, "Effacé.")
    async with forum.db.transaction() as tx:
        await threads.create(tx, metz, newcomer, "Attente", "En attente.", 150, 20_000,
                             status="pending")
        pending = await posts.create(tx, thread_id, metz.id, newcomer, "Attente.", 20_000,
                                     status="pending")
        await posts.delete(tx, await posts.get(tx, deleted), camille)
        await moderation.approve(tx, await posts.get(tx, pending), moderator)
    visible, params = permissions.post_filter(None)
    async with forum.db.read() as conn:
        readable = {row[0] for row in await conn.all(
            "select posts.id from posts join threads on threads.id = posts.thread_id"
            f" where {visible} and threads.status = 'published' and posts.deleted_at is null",
            params)}
        indexed = {row[0] for row in await conn.all("select id from search_docs")}
        titled = {row[0] for row in await conn.all(
            "select id from search_docs where title <> ''")}
        stemmed = {row[0] for row in await conn.all(f"select {stem_id(conn)} from stem_search")}
        sqlite = conn.dialect == "sqlite"
    assert indexed == readable and pending in indexed and deleted not in indexed
    assert stemmed == indexed and len(titled) == 1  # the published thread's first post
    if not sqlite:  # on PostgreSQL the words' tsvectors are columns of search_docs
        return
    async with forum.db.read() as conn:
        title_index = {row[0] for row in await conn.all("select rowid from title_search")}
    assert title_index == titled
    async with forum.db.transaction() as tx:  # FTS5 checks its index against search_docs
        await tx.execute("insert into post_search (post_search) values ('integrity-check')")
        await tx.execute("insert into title_search (title_search) values ('integrity-check')")


def migrated_from(tmp_path, monkeypatch, before: int, title: str, posts: str) -> Path:
    """A database made by the migrations before number `before`, holding a member, a board,
    a thread titled `title` and the posts rows `posts` (id, body, created_at, status), then
    brought up to date: what a site upgraded from that version holds. Raw SQL, since the
    models write today's schema."""
    db_path = tmp_path / "old.sqlite3"
    everything = migrate.available()
    monkeypatch.setattr(migrate, "available", lambda: [m for m in everything if m[0] < before])
    migrate.migrate(db_path)
    conn = sqlite3.connect(db_path, isolation_level=None)
    conn.execute("insert into users (id, name, name_key, password_hash, created_at)"
                 " values (1, 'a', 'a', '!', '2024-01-01T00:00:00.000Z')")
    conn.execute("insert into boards (id, slug, name, created_at) values (1, 'metz', 'Metz',"
                 " '2024')")
    conn.execute("insert into threads (id, board_id, author_id, title, created_at,"
                 " last_post_at) values (1, 1, 1, ?, '2024-01-01T00:00:00.000Z', '2024')",
                 (title,))
    conn.execute("insert into posts (id, thread_id, author_id, body_source, body_html,"
                 f" created_at, status) select id, 1, 1, body, '', at, status from ({posts})")
    conn.close()
    monkeypatch.setattr(migrate, "available", lambda: everything)
    migrate.migrate(db_path)
    return db_path


async def test_migration_indexes_what_was_already_public(tmp_path, monkeypatch):
    db_path = migrated_from(tmp_path, monkeypatch, 3, "Caméras", """
        select 1 as id, 'Un mât.' as body, '2024-01-01T00:00:00.000Z' as at,
               'published' as status
        union all select 2, 'Un mât caché.', '2024-01-02T00:00:00.000Z', 'pending'""")
    conn = sqlite3.connect(db_path)
    rows = conn.execute("select rowid from post_search where post_search match 'mat'").fetchall()
    assert rows == [(1,)]
    conn.execute("insert into post_search (post_search) values ('integrity-check')")
    conn.close()


# Pages ------------------------------------------------------------------------------------------

async def test_every_page_has_a_search_form_that_works_without_javascript(forum, client, metz,
                                                                          camille):
    await forum.thread(metz, camille, "Un", "Caméra thermique.")
    home = await (await client.get("/")).text()
    form = re.search(r'<form role="search" method="get" action="/search"[^>]*>', home)
    assert form and 'name="q"' in home
    page = await client.get("/search?q=thermique")
    text = await page.text()
    assert page.status == 200 and "<mark>thermique</mark>" in text
    assert 'value="thermique"' in text  # the form keeps what was typed
    empty = await (await client.get("/search")).text()
    assert 'id="results-heading"' not in empty and 'id="q"' in empty


async def test_search_page_is_never_served_stale(forum, client, metz, camille):
    """Visitors' pages are cached; a search must see a post published a moment ago."""
    thread_id, _ = await forum.thread(metz, camille, "Un", "Début.")
    first = await (await client.get("/search?q=lampadaire")).text()
    assert "lampadaire" in first and 'href="/p/' not in first
    post_id = await forum.reply(thread_id, camille, "Une caméra sur le lampadaire.")
    again = await (await client.get("/search?q=lampadaire")).text()
    assert f'href="/p/{post_id}"' in again


async def test_a_page_past_the_last_and_a_bad_page_number_are_404(client):
    assert (await client.get("/search?q=rien&page=2")).status == 404
    assert (await client.get("/search?page=2")).status == 404
    assert (await client.get("/search?q=rien&page=x")).status == 404


async def test_unknown_filter_values_in_the_model(forum, metz):
    async with forum.db.read() as conn:
        with pytest.raises(NotFound) as error:
            await search.resolve_filters(conn, board="nulle-part")
        assert error.value.field == "board"
        with pytest.raises(Invalid):
            await search.resolve_filters(conn, since="demain")
        filters = await search.resolve_filters(conn, board="metz", since="2025-01-31")
    assert filters == search.Filters(metz.id, None, date(2025, 1, 31), None)
