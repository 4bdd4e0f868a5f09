"""Password-reset links: single use, expiring; the table keeps only their tokens' SHA-256."""
from __future__ import annotations

import secrets

from forum import clock
from forum.db import Conn, Row, Transaction
from forum.models.users import token_hash
from forum.text import clean_line, pseudonym_key

ACCOUNTS_PER_ADDRESS = 5  # several pseudonyms may share an address: each gets its own link


async def accounts_for(conn: Conn, identifier: str) -> list[Row]:
    """The accounts a "forgot my password" form names (pseudonym or address) that have e-mail."""
    identifier = clean_line(identifier)
    if not identifier:
        return []
    if "@" in identifier:
        return await conn.all(
            "select id, name, email, locale from users where email = ? collate nocase"
            " order by id limit ?", (identifier, ACCOUNTS_PER_ADDRESS))
    return await conn.all(
        "select id, name, email, locale from users where name_key = ? and email is not null",
        (pseudonym_key(identifier),))


async def create(tx: Transaction, user_id: int, minutes: int) -> str:
    """A new link's token (only its hash is stored)."""
    token = secrets.token_urlsafe(32)
    await tx.execute(
        "insert into password_resets (token_hash, user_id, created_at, expires_at)"
        " values (?, ?, ?, ?)",
        (token_hash(token), user_id, clock.now(), clock.later(minutes=minutes)))
    return token


async def user_for(conn: Conn, token: str) -> int | None:
    """The member a token resets, if it is unused and has not expired."""
    return await conn.value(
        "select user_id from password_resets where token_hash = ? and used_at is null"
        " and expires_at > ?", (token_hash(token), clock.now()))


async def use(tx: Transaction, token: str) -> int | None:
    """Spend a token (once: the check and the mark are one statement); returns its member.

    Every other link of that member stops working too: one reset ends them all.
    """
    now = clock.now()
    user_id = await tx.value(
        "update password_resets set used_at = ? where token_hash = ? and used_at is null"
        " and expires_at > ? returning user_id", (now, token_hash(token), now))
    if user_id is not None:
        await tx.execute("update password_resets set used_at = ? where user_id = ?"
                         " and used_at is null", (now, user_id))
    return user_id


async def purge(tx: Transaction) -> None:
    """Forget links that expired more than a day ago."""
    await tx.execute("delete from password_resets where expires_at < ?",
                     (clock.later(days=-1),))
