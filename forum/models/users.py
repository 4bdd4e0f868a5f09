"""Members: accounts, password checks, server-side sessions and API tokens."""
from __future__ import annotations

import asyncio
import hashlib
import secrets
from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from forum import clock
from forum.confusables import pseudonym_skeleton
from forum.db import Conn, Row, Transaction
from forum.errors import Conflict, Invalid, NotFound
from forum.i18n import LOCALES
from forum.models import existing
from forum.text import clean_line, email_problem, pseudonym_key, pseudonym_problem

ROLES = ("member", "moderator", "admin")
BANNED = "9999"  # a ban is a suspension until the year 9999 (moderation.BAN_UNTIL)
PASSWORD_MIN, PASSWORD_MAX = 10, 1024
_hasher = PasswordHasher()  # argon2id with the library's current recommended parameters
# Verified against when the pseudonym is unknown, so both answers take the same time.
_DUMMY_HASH = _hasher.hash(secrets.token_hex(16))


@dataclass(frozen=True)
class User:
    id: int
    name: str
    role: str
    email: str | None = None
    locale: str | None = None
    post_count: int = 0
    created_at: str = ""
    approved_count: int = 0
    trust_override: int | None = None
    suspended_until: str | None = None
    suspension_reason: str | None = None
    moderated_boards: frozenset[int] = frozenset()
    member_boards: frozenset[int] = frozenset()  # the closed boards they are a member of

    @property
    def is_moderator(self) -> bool:
        """A global moderator (or an admin): moderates every board. A ban ends every power."""
        return self.role in ("moderator", "admin") and not self.is_banned

    @property
    def is_admin(self) -> bool:
        return self.role == "admin" and not self.is_banned

    @property
    def holds_moderator_role(self) -> bool:
        """The role as given, banned or not: who may sanction this member (or lift a ban)."""
        return self.role in ("moderator", "admin")

    def moderates(self, board_id: int) -> bool:
        return self.is_moderator or board_id in self.moderated_boards

    @property
    def moderates_any(self) -> bool:
        return self.is_moderator or bool(self.moderated_boards)

    def is_trusted(self, threshold: int) -> bool:
        """Trusted members publish at once in a-posteriori boards."""
        if self.trust_override is not None:
            return bool(self.trust_override)
        return self.is_moderator or self.approved_count >= threshold

    @property
    def is_suspended(self) -> bool:
        return self.suspended_until is not None and self.suspended_until > clock.now()

    @property
    def is_banned(self) -> bool:
        return self.suspended_until is not None and self.suspended_until.startswith(BANNED)

    @classmethod
    def from_row(cls, row: Row) -> User:
        # A banned member moderates no board any more (every SQL filter reads this set).
        moderated = None if (row["suspended_until"] or "").startswith(BANNED) else row["moderated"]
        return cls(row["id"], row["name"], row["role"], row["email"], row["locale"],
                   row["post_count"], row["created_at"], row["approved_count"],
                   row["trust_override"], row["suspended_until"], row["suspension_reason"],
                   frozenset(int(b) for b in moderated.split(",")) if moderated else frozenset(),
                   _ids(row["member_of"]))


COLUMNS = (
    "users.id, users.name, users.role, users.email, users.locale, users.post_count,"
    " users.created_at, users.approved_count, users.trust_override, users.suspended_until,"
    " users.suspension_reason, (select group_concat(board_id) from board_moderators"
    " where board_moderators.user_id = users.id) as moderated,"
    " (select group_concat(board_id) from board_members"
    " where board_members.user_id = users.id) as member_of"
)


def _ids(joined: str | None) -> frozenset[int]:
    return frozenset(int(part) for part in joined.split(",")) if joined else frozenset()


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def check_password(password: str) -> None:
    if len(password) < PASSWORD_MIN:
        raise Invalid("A password has at least 10 characters.", field="password")
    if len(password) > PASSWORD_MAX:
        raise Invalid("This password is too long.", field="password")


async def create(tx: Transaction, name: str, password: str, role: str = "member",
                 email: str | None = None) -> User:
    """Register a member; raises Invalid or Conflict (pseudonym taken, case ignored)."""
    name = name.strip()
    problem = pseudonym_problem(name)
    if problem:
        raise Invalid(problem, field="name")
    check_password(password)
    if role not in ROLES:
        raise Invalid("Unknown role.", field="role")
    email = clean_email(email)
    key = pseudonym_key(name)
    if await tx.value("select 1 from users where name_key = ?", (key,)):
        raise Conflict("This pseudonym is already taken.", field="name")
    look = pseudonym_skeleton(name)  # UTS #39: "аdmin" with a Cyrillic а looks like "admin"
    look_alike = await tx.value("select name from users where name_skeleton = ?", (look,))
    if look_alike:
        raise Conflict("This pseudonym looks too much like that of %(name)s: choose another one.",
                       field="name", name=look_alike)
    if await tx.value("select 1 from retired_pseudonyms where (name_key = ? or name_skeleton = ?)"
                      " and until > ?", (key, look, clock.now())):
        # A member who left: nobody may speak under their name (or a look-alike) for a while.
        raise Conflict("This pseudonym belonged to a member who left; it cannot be taken yet.",
                       field="name")
    password_hash = await asyncio.to_thread(_hasher.hash, password)
    user_id = await tx.insert(
        "insert into users (name, name_key, name_skeleton, email, password_hash, role,"
        " created_at) values (?, ?, ?, ?, ?, ?, ?) returning id",
        (name, key, look, email, password_hash, role, clock.now()),
    )
    return User(user_id, name, role, email)


async def get(conn: Conn, user_id: int) -> User:
    row = await conn.one(f"select {COLUMNS} from users where id = ?", (user_id,))
    return User.from_row(existing(row, NotFound("This member does not exist.")))


async def get_by_name(conn: Conn, name: str) -> User:
    row = await conn.one(f"select {COLUMNS} from users where name_key = ? and left_at is null",
                         (pseudonym_key(name),))
    return User.from_row(existing(row, NotFound("This member does not exist.")))


async def authenticate(conn: Conn, name: str, password: str) -> User | None:
    """The member if the password matches; None otherwise, in the same time either way."""
    row = await conn.one(f"select {COLUMNS}, password_hash from users where name_key = ?"
                         " and left_at is null", (pseudonym_key(name.strip()),))
    stored = row["password_hash"] if row else _DUMMY_HASH
    try:
        await asyncio.to_thread(_hasher.verify, stored, password[:PASSWORD_MAX])
    except (VerificationError, InvalidHashError):
        return None
    return User.from_row(row) if row else None


async def set_password(tx: Transaction, user_id: int, password: str) -> None:
    """Change a password (by the member or through a reset link) and end every session and
    API token of that member: whoever had the old password may have made one."""
    check_password(password)
    password_hash = await asyncio.to_thread(_hasher.hash, password)
    await tx.execute("update users set password_hash = ? where id = ?", (password_hash, user_id))
    await tx.execute("delete from sessions where user_id = ?", (user_id,))
    # The old password, typed a moment ago on another device, no longer leads to a code.
    await tx.execute("delete from pending_logins where user_id = ?", (user_id,))
    await tx.execute("update api_tokens set revoked_at = ? where user_id = ?"
                     " and revoked_at is null", (clock.now(), user_id))


async def set_role(tx: Transaction, user_id: int, role: str) -> None:
    """Change a role; the member's sessions end so the new rights start from a fresh login."""
    if role not in ROLES:
        raise Invalid("Unknown role.", field="role")
    await tx.execute("update users set role = ? where id = ?", (role, user_id))
    await tx.execute("delete from sessions where user_id = ?", (user_id,))


def clean_email(email: str | None) -> str | None:
    """An address as given (spaces around it aside), None for none; Invalid when the mailer
    could not send to it (forum.text.email_problem)."""
    email = (email or "").strip()
    problem = email_problem(email) if email else None
    if problem:
        raise Invalid(problem, field="email")
    return email or None


async def set_email(tx: Transaction, user_id: int, email: str) -> None:
    await tx.execute("update users set email = ? where id = ?", (clean_email(email), user_id))


async def check_current_password(conn: Conn, user_id: int, password: str) -> None:
    stored = await conn.value("select password_hash from users where id = ?", (user_id,))
    try:
        await asyncio.to_thread(_hasher.verify, stored, password[:PASSWORD_MAX])
    except (VerificationError, InvalidHashError):
        raise Invalid("Your current password is not this one.", field="current") from None


async def locale_of(conn: Conn, user_id: int) -> str | None:
    """The language a member chose (None: their browser's)."""
    return await conn.value("select locale from users where id = ?", (user_id,))


async def set_locale(tx: Transaction, user_id: int, locale: str | None) -> None:
    if locale is not None and locale not in LOCALES:
        raise Invalid("Unknown language.", field="locale")
    await tx.execute("update users set locale = ? where id = ?", (locale, user_id))


# Sessions ------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Session:
    user: User
    csrf_token: str
    token_hash: str
    unread: int = 0  # notifications not yet read
    waiting: int = 0  # for moderators: what waits in their queue (moderation.queue_size)
    last_used_on: str | None = None  # a day: written at most once a day (forum/auth.py)
    expires_at: str | None = None  # its end: a session kept in memory (forum/auth.py) ends too


async def open_session(tx: Transaction, user_id: int, days: int,
                       device: tuple[str, str] = ("", "")) -> str:
    """Start a session; returns the token for the cookie (the table keeps only its hash).

    `device`: (browser family, system) from forum.auth.device_summary, never the agent itself.
    """
    token = secrets.token_urlsafe(32)
    now = clock.now()
    await tx.execute(
        "insert into sessions (id, user_id, csrf_token, created_at, expires_at, browser, os,"
        " last_used_on) values (?, ?, ?, ?, ?, ?, ?, ?)",
        (token_hash(token), user_id, secrets.token_urlsafe(32), now,
         clock.later(days=days), device[0], device[1], now[:10]),
    )
    return token


async def load_session(conn: Conn, token: str) -> Session | None:
    digest = token_hash(token)
    row = await conn.one(
        f"select {COLUMNS}, sessions.csrf_token, sessions.last_used_on, sessions.expires_at,"
        f" {_UNREAD} from sessions"
        " join users on users.id = user_id where sessions.id = ? and expires_at > ?",
        (digest, clock.now()),
    )
    if row is None:
        return None
    return Session(User.from_row(row), row["csrf_token"], digest, row["unread"],
                   last_used_on=row["last_used_on"], expires_at=row["expires_at"])


# The header's unread count, read with the session in the same query (the queue's count:
# moderation.queue_size, from the queue's own conditions).
_UNREAD = ("(select count(*) from notifications where notifications.user_id = users.id"
           " and read_at is null) as unread")


async def close_session(tx: Transaction, digest: str) -> None:
    await tx.execute("delete from sessions where id = ?", (digest,))


async def close_all_sessions(tx: Transaction, user_id: int) -> int:
    """Revoke every session of a member; returns how many were open."""
    count = await tx.value("select count(*) from sessions where user_id = ?", (user_id,))
    await tx.execute("delete from sessions where user_id = ?", (user_id,))
    return int(count)


async def login_notices(conn: Conn, user_id: int) -> bool:
    """Whether the member wants a mail at each new log-in."""
    return bool(await conn.value("select login_notices from users where id = ?", (user_id,)))


async def set_login_notices(tx: Transaction, user_id: int, wanted: bool) -> None:
    await tx.execute("update users set login_notices = ? where id = ?", (int(wanted), user_id))


async def purge_expired_sessions(tx: Transaction) -> None:
    await tx.execute("delete from sessions where expires_at <= ?", (clock.now(),))


# API tokens ----------------------------------------------------------------------------------

async def create_token(tx: Transaction, user_id: int, label: str = "") -> str:
    token = "vigie_" + secrets.token_urlsafe(32)
    await tx.execute(
        "insert into api_tokens (user_id, token_hash, label, created_at) values (?, ?, ?, ?)",
        (user_id, token_hash(token), clean_line(label)[:100], clock.now()),
    )
    return token


@dataclass(frozen=True)
class ApiToken:
    """What a member sees of a token: never the token itself (only its hash is kept)."""
    id: int
    label: str
    created_at: str
    last_used_on: str | None


async def user_for_token(conn: Conn, token: str) -> tuple[User, int, str | None] | None:
    """The member a live token speaks for, the token's id and the day it was last used."""
    row = await conn.one(
        f"select {COLUMNS}, api_tokens.id as token_id, api_tokens.last_used_on"
        " from api_tokens join users on users.id = user_id"
        " where token_hash = ? and revoked_at is null",
        (token_hash(token),),
    )
    return (User.from_row(row), row["token_id"], row["last_used_on"]) if row else None


async def mark_token_used(tx: Transaction, token_id: int, day: str) -> None:
    await tx.execute("update api_tokens set last_used_on = ? where id = ?", (day, token_id))


async def list_tokens(conn: Conn, user_id: int) -> list[ApiToken]:
    """A member's live tokens, newest first."""
    rows = await conn.all(
        "select id, label, created_at, last_used_on from api_tokens"
        " where user_id = ? and revoked_at is null order by id desc", (user_id,))
    return [ApiToken(*row) for row in rows]


async def revoke_token(tx: Transaction, user_id: int, token_id: int) -> None:
    """End one of this member's tokens; NotFound for another's or one already ended."""
    if not await tx.update("update api_tokens set revoked_at = ? where id = ? and user_id = ?"
                           " and revoked_at is null", (clock.now(), token_id, user_id)):
        raise NotFound("This API token does not exist.")


async def decision_counts(conn: Conn, user_ids: set[int]) -> dict[int, tuple[int, int]]:
    """(approved, refused) contributions of each of these members."""
    if not user_ids:
        return {}
    ids = sorted(user_ids)
    rows = await conn.all(
        "select id, approved_count, rejected_count from users"
        f" where id in ({', '.join('?' * len(ids))})", ids)
    return {row[0]: (row[1], row[2]) for row in rows}


async def resolve_names(conn: Conn, names: set[str]) -> dict[str, tuple[int, str]]:
    """Which of these typed @names are members: pseudonym key -> (id, name as registered)."""
    keys = sorted({pseudonym_key(name) for name in names})[:100]
    if not keys:
        return {}
    rows = await conn.all(
        "select id, name, name_key from users where left_at is null"
        f" and name_key in ({', '.join('?' * len(keys))})", keys)
    return {row["name_key"]: (row["id"], row["name"]) for row in rows}


async def names_starting_with(conn: Conn, prefix: str, limit: int = 8) -> list[str]:
    """Pseudonyms for the editor's @ suggestions (index on name_key)."""
    key = pseudonym_key(prefix)
    if not key:
        return []
    rows = await conn.all(
        "select name from users where name_key >= ? and name_key < ? and left_at is null"
        " order by name_key limit ?",
        (key, key + "\U0010ffff", limit))
    return [row[0] for row in rows]


async def follow_on_post(conn: Conn, user_id: int) -> bool:
    """Whether starting or replying to a thread follows it."""
    return bool(await conn.value("select follow_on_post from users where id = ?", (user_id,)))


async def set_follow_on_post(tx: Transaction, user_id: int, follow: bool) -> None:
    await tx.execute("update users set follow_on_post = ? where id = ?", (int(follow), user_id))


# E-mail notifications ------------------------------------------------------------------------

EMAIL_CHOICES = ("immediate", "digest", "never")


async def email_notifications(conn: Conn, user_id: int) -> str:
    """'immediate', 'digest' or 'never': which e-mails a member wants about notifications."""
    choice = await conn.value("select email_notifications from users where id = ?", (user_id,))
    if choice is None:
        raise NotFound("This member does not exist.")
    return str(choice)


async def set_email_notifications(tx: Transaction, user_id: int, choice: str) -> None:
    """Change it; a member who turns to the digest gets the first one a day later."""
    if choice not in EMAIL_CHOICES:
        raise Invalid("Unknown choice.", field="email_notifications")
    changed = await tx.update(
        "update users set digest_sent_at = case when ? = 'digest'"
        " and email_notifications <> 'digest' then ? else digest_sent_at end,"
        " email_notifications = ? where id = ?", (choice, clock.now(), choice, user_id))
    if not changed:
        raise NotFound("This member does not exist.")
