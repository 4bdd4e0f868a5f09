"""A fresh demo site: city boards, members and French threads from demo_content."""
from __future__ import annotations

import asyncio
import secrets
from datetime import UTC, date, datetime, timedelta
from typing import Any

from forum import clock
from forum.config import Config
from forum.db import Database, Transaction
from forum.demo_content import (
    BOARDS,
    FINDINGS,
    INSEE,
    MEMBERS,
    POPULATION_NOTE,
    POPULATIONS,
    REQUESTS,
    THREADS,
)
from forum.migrate import migrate
from forum.models import boards, finding_drafts, findings, posts, request_drafts, threads, users
from forum.models import requests as records

MARKER = ".vigie-demo"
# Metz moderates before publication, as the local forum in the reference material does.
A_PRIORI_BOARDS = {"metz": "a-priori"}
NATIONAL_BOARDS = {"general"}  # no watch page: not a city


def _reset(config: Config) -> None:
    """Start from an empty data folder, refusing to wipe one that is not a demo's."""
    folder = config.data_dir
    if folder.exists() and any(folder.iterdir()) and not (folder / MARKER).exists():
        raise SystemExit(f"{folder} holds a forum that is not a demo: not touching it.")
    folder.mkdir(parents=True, exist_ok=True)
    (folder / MARKER).write_text("This folder is rebuilt by `vigie demo`.\n")
    for path in folder.glob(config.db_path.name + "*"):
        path.unlink()


def build(config: Config) -> dict[str, str]:
    """Build the demo site; prints and returns the members' passwords."""
    _reset(config)
    migrate(config.db_path)
    passwords = {name: secrets.token_urlsafe(9) for name, _role in MEMBERS}
    asyncio.run(_fill(config, passwords))
    print("Demo accounts (pseudonym / password):")
    for name, role in MEMBERS:
        if name in ("admin", "moderatrice", "lea"):
            print(f"  {name:<12} {passwords[name]:<14} ({role})")
    return passwords


async def _fill(config: Config, passwords: dict[str, str]) -> None:
    db = Database(config.db_path, readers=1)
    await db.open()
    now = datetime.now(UTC)
    try:
        async with db.transaction() as tx:
            members: dict[str, users.User] = {}
            for name, role in MEMBERS:
                members[name] = await users.create(tx, name, passwords[name], role)
            by_slug: dict[str, boards.Board] = {}
            for spec in BOARDS:
                by_slug[spec["slug"]] = await boards.create(
                    tx, spec["name"], spec["slug"], spec["region"], spec["description"],
                    A_PRIORI_BOARDS.get(spec["slug"], config.moderation_default),
                    is_city=spec["slug"] not in NATIONAL_BOARDS)
            # Threads in the order of their first post, so ids follow time as in real life.
            post_ids: dict[tuple[str, int], int] = {}
            for spec in sorted(THREADS, key=lambda t: -t["posts"][0][2]):
                (author, body, days_ago), *replies = spec["posts"]
                at = clock.iso(now - timedelta(days=days_ago))
                thread_id, post_ids[spec["title"], 0] = await threads.create(
                    tx, by_slug[spec["board"]], members[author], spec["title"], body,
                    config.title_max, config.body_max, at=at)
                for index, (author, body, days_ago) in enumerate(replies, start=1):
                    post_ids[spec["title"], index] = await posts.create(
                        tx, thread_id, by_slug[spec["board"]].id, members[author], body,
                        config.body_max, at=clock.iso(now - timedelta(days=days_ago)))
            # Their demo history counts as approved: they publish at once where the board allows.
            await tx.execute("update users set approved_count = post_count")
            await tx.execute(
                "insert into board_moderators (board_id, user_id) select boards.id, users.id"
                " from boards, users where boards.slug = 'metz' and users.name = 'Bastien_57'")
            await _findings(tx, by_slug, members, post_ids)
            await _populations(tx, by_slug, members["moderatrice"])
            await _pending_example(tx, config, by_slug["metz"])
            await _requests(tx, by_slug, members)
    finally:
        await db.close()


Boards = dict[str, boards.Board]  # by slug
Members = dict[str, users.User]  # by pseudonym


async def _findings(tx: Transaction, by_slug: Boards, members: Members,
                    post_ids: dict[tuple[str, int], int]) -> None:
    """The watch record: each finding proposed by the author of its first source post and,
    as in a real a-priori city, approved by the city's moderator (in the journal)."""
    moderators = {"metz": members["Bastien_57"]}
    for spec in FINDINGS:
        sources = [post_ids[source] for source in spec["sources"]]
        fields = {key: value for key, value in spec.items() if key not in ("board", "sources")}
        raw = finding_drafts.RawFinding(**fields, posts=sources)
        board = by_slug[spec["board"]]
        draft = await finding_drafts.check(tx, board, raw, date.today())
        author_id = await tx.value("select author_id from posts where id = ?", (sources[0],))
        author = next(member for member in members.values() if member.id == author_id)
        at = clock.iso(datetime.now(UTC) - timedelta(days=_days_since(spec)))
        moderator = moderators.get(spec["board"], members["moderatrice"])
        if author.id == moderator.id:
            await findings.create(tx, board, author, draft, "published", at=at)
            continue
        finding_id = await findings.create(tx, board, author, draft, "pending", at=at)
        # The record is entered oldest first: 35 then 72 cameras is a real move, confirmed.
        await findings.approve(tx, await findings.get(tx, finding_id), moderator,
                               confirmed=True)


async def _populations(tx: Transaction, by_slug: Boards, moderator: users.User) -> None:
    """Each city's population, sourced (INSEE) and placed at its town hall: the rates per
    10 000 inhabitants and the national map read them."""
    for spec in POPULATIONS:
        raw = finding_drafts.RawFinding(
            kind="population", quantity=spec["quantity"], unit="count", scope="total",
            observed="2021", status="in-use", place="Commune (hôtel de ville)",
            latitude=spec["latitude"], longitude=spec["longitude"], note=POPULATION_NOTE,
            links=[INSEE])
        board = by_slug[spec["board"]]
        draft = await finding_drafts.check(tx, board, raw, date.today())
        await findings.create(tx, board, moderator, draft, "published")


def _days_since(spec: dict[str, Any]) -> float:
    """Proposed a day after its source post was written (the demo's posts are dated)."""
    return max(0.5, _POST_AGE.get(spec["sources"][0], 1.0) - 1)


_POST_AGE = {(spec["title"], index): post[2] for spec in THREADS
             for index, post in enumerate(spec["posts"])}


async def _pending_example(tx: Transaction, config: Config, board: boards.Board) -> None:
    """A newcomer's message waiting in the moderation queue, so the queue is not empty."""
    newcomer = await users.create(tx, "nouveau.venu", secrets.token_urlsafe(12))
    thread_id = await tx.value(
        "select id from threads where board_id = ? order by post_count desc limit 1", (board.id,))
    await posts.create(
        tx, thread_id, board.id, newcomer,
        "Bonjour, j'habite près de la gare : j'ai compté **quatre caméras** nouvelles sur le"
        " parvis cette semaine. Quelqu'un sait-il si elles figurent dans la délibération ?",
        config.body_max, status="pending")
    # And a finding of theirs: a newcomer's figures wait for a moderator too.
    raw = finding_drafts.RawFinding(
        kind="cameras", quantity="4", unit="count", scope="part",  # one square, not Metz
        observed=str(date.today().year),
        status="installed", place="Parvis de la gare",
        links=[("https://example.org/photos/metz-parvis-gare", "Photos du parvis")],
        note="Comptées sur place ; à vérifier dans les délibérations.")
    draft = await finding_drafts.check(tx, board, raw, date.today())
    await findings.create(tx, board, newcomer, draft, "pending")


async def _requests(tx: Transaction, by_slug: Boards, members: Members) -> None:
    """Records requests at every stage, approved by the city's moderator where one is needed
    (in the journal), and one newcomer's request waiting in Metz's queue."""
    today = date.today()
    for spec in REQUESTS:
        board, author = by_slug[spec["board"]], members[spec["author"]]
        day = (today - timedelta(days=spec["sent"])).isoformat()
        received = spec.get("received")
        checked = request_drafts.check_new({
            "administration": spec["administration"], "documents": spec["documents"],
            "channel": spec["channel"], "sent_on": day,
            "received_on": (today - timedelta(days=received)).isoformat() if received else ""},
            today)
        moderator = members["Bastien_57"] if spec["board"] == "metz" else members["moderatrice"]
        review = "published" if author.id == moderator.id else "pending"
        request_id = await records.create(tx, board, author, checked, review)
        if review == "pending":
            await records.approve(tx, await records.get(tx, request_id), moderator)
        for status, days_ago, note in spec["events"]:
            item = await records.get(tx, request_id)
            status, on, note = request_drafts.check_change(
                item, status, (today - timedelta(days=days_ago)).isoformat(), note, today)
            await records.change_status(tx, item, author, status, on, note)
    newcomer = await users.get_by_name(tx, "nouveau.venu")
    checked = request_drafts.check_new({
        "administration": "Mairie de Metz", "channel": "email",
        "documents": "Délibération sur les caméras du parvis de la gare",
        "sent_on": (today - timedelta(days=3)).isoformat()}, today)
    await records.create(tx, by_slug["metz"], newcomer, checked, "pending")
