"""A fresh demo site: city boards, members and French threads from demo_content."""
from __future__ import annotations

import asyncio
import secrets
from datetime import UTC, datetime, timedelta

from forum import clock
from forum.config import Config
from forum.db import Database
from forum.demo_content import BOARDS, MEMBERS, THREADS
from forum.migrate import migrate
from forum.models import boards, posts, threads, users

MARKER = ".vigie-demo"
# Metz moderates before publication, as the local forum in the reference material does.
A_PRIORI_BOARDS = {"metz": "a-priori"}


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
            members = {}
            for name, role in MEMBERS:
                members[name] = await users.create(tx, name, passwords[name], role)
            by_slug = {}
            for spec in BOARDS:
                by_slug[spec["slug"]] = await boards.create(
                    tx, spec["name"], spec["slug"], spec["region"], spec["description"],
                    A_PRIORI_BOARDS.get(spec["slug"], config.moderation_default))
            # Threads in the order of their first post, so ids follow time as in real life.
            for spec in sorted(THREADS, key=lambda t: -t["posts"][0][2]):
                (author, body, days_ago), *replies = spec["posts"]
                at = clock.iso(now - timedelta(days=days_ago))
                thread_id, _ = await threads.create(
                    tx, by_slug[spec["board"]], members[author], spec["title"], body,
                    config.title_max, config.body_max, at=at)
                for author, body, days_ago in replies:
                    await posts.create(tx, thread_id, by_slug[spec["board"]].id,
                                       members[author], body, config.body_max,
                                       at=clock.iso(now - timedelta(days=days_ago)))
            # Their demo history counts as approved: they publish at once where the board allows.
            await tx.execute("update users set approved_count = post_count")
            await tx.execute(
                "insert into board_moderators (board_id, user_id) select boards.id, users.id"
                " from boards, users where boards.slug = 'metz' and users.name = 'Bastien_57'")
            await _pending_example(tx, config, by_slug["metz"])
    finally:
        await db.close()


async def _pending_example(tx, config: Config, board) -> None:
    """A newcomer's message waiting in the moderation queue, so the queue is not empty."""
    newcomer = await users.create(tx, "nouveau.venu", secrets.token_urlsafe(12))
    thread_id = await tx.value(
        "select id from threads where board_id = ? order by post_count desc limit 1", (board.id,))
    await posts.create(
        tx, thread_id, board.id, newcomer,
        "Bonjour, j'habite près de la gare : j'ai compté **quatre caméras** nouvelles sur le"
        " parvis cette semaine. Quelqu'un sait-il si elles figurent dans la délibération ?",
        config.body_max, status="pending")
