"""Registration: the mode and question admins set, invitation links, and the moderators'
journal of accounts (who invited whom, who left)."""
from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from urllib.parse import urlencode

from forum import clock
from forum.config import REGISTRATION_MODES, Config
from forum.db import Conn, Transaction
from forum.errors import Forbidden, Invalid, NotFound
from forum.i18n import N_
from forum.models.users import User
from forum.text import clean_line, required_line

QUESTION_MAX = 200
ANSWER_MAX = 500
LIMIT_WINDOW_DAYS = 30  # Config.invitations_per_member counts the links of this many days


@dataclass(frozen=True)
class Registration:
    """How accounts are created now: the admins' choice, else the FORUM_ defaults."""
    mode: str  # open | invitation | closed
    question: str  # empty: none


async def registration(conn: Conn, config: Config) -> Registration:
    rows: dict[str, str] = {name: value for name, value in await conn.all(
        "select name, value from site_settings")}
    return Registration(rows.get("registration_mode", config.registration_mode),
                        rows.get("registration_question", config.registration_question))


async def set_registration(tx: Transaction, mode: str, question: str) -> Registration:
    """Change the mode and the question (an admin, or the command line)."""
    if mode not in REGISTRATION_MODES:
        raise Invalid("Unknown registration mode.", field="mode")
    question = clean_line(question).strip()
    if len(question) > QUESTION_MAX:
        raise Invalid("This question is too long (at most %(max)s characters).",
                      field="question", max=QUESTION_MAX)
    now = clock.now()
    for name, value in (("registration_mode", mode), ("registration_question", question)):
        await tx.execute(
            "insert into site_settings (name, value, updated_at) values (?, ?, ?)"
            " on conflict (name) do update set value = excluded.value,"
            " updated_at = excluded.updated_at", (name, value, now))
    tx.changed("all", None)  # the header's "register" link and the register page
    return Registration(mode, question)


def clean_answer(answer: str, question: str) -> str | None:
    """The sign-up answer: required when a question is set, one line, bounded."""
    if not question:
        return None
    return required_line(answer, "answer", ANSWER_MAX, N_("Please answer the question."),
                         N_("This answer is too long (at most %(max)s characters)."))


async def keep_answer(tx: Transaction, user_id: int, answer: str) -> None:
    """Store a new member's sign-up answer, for the moderators (their profile shows it)."""
    await tx.execute("update users set registration_answer = ? where id = ?",
                     (answer, user_id))


# Invitations ---------------------------------------------------------------------------------

def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def may_invite(user: User, config: Config) -> bool:
    """Moderators (of any board) and members with enough approved posts; never a suspended
    member."""
    if user.is_suspended:
        return False
    return user.moderates_any or user.approved_count >= config.invitation_min_posts


@dataclass(frozen=True)
class Invitation:
    id: int
    created_at: str
    expires_at: str
    used_at: str | None
    used_by_name: str | None

    @property
    def is_live(self) -> bool:
        return self.used_at is None and self.expires_at > clock.now()


async def create(tx: Transaction, inviter: User, config: Config) -> str:
    """A new single-use link's token (shown once; only its hash is kept)."""
    if not may_invite(inviter, config):
        raise Forbidden("You may invite once %(num)s of your messages have been approved.",
                        num=config.invitation_min_posts)
    if not inviter.moderates_any:
        # Counted then written: two servers must not both find one invitation left.
        await tx.lock([f"invitations:{inviter.id}"])
        since = clock.later(days=-LIMIT_WINDOW_DAYS)
        made = await tx.value("select count(*) from invitations where inviter_id = ?"
                              " and created_at > ?", (inviter.id, since))
        if made >= config.invitations_per_member:
            raise Forbidden("You have created %(num)s invitations in %(days)s days: that is the"
                            " limit.", num=config.invitations_per_member,
                            days=LIMIT_WINDOW_DAYS)
    token = secrets.token_urlsafe(24)
    await tx.execute(
        "insert into invitations (token_hash, inviter_id, created_at, expires_at)"
        " values (?, ?, ?, ?)",
        (_hash(token), inviter.id, clock.now(), clock.later(days=config.invitation_days)))
    return token


def link(config: Config, token: str) -> str:
    """The sign-up address an invitation's token opens."""
    return f"{config.base_url}/register?{urlencode({'invitation': token})}"


async def list_for(conn: Conn, inviter_id: int, limit: int = 50) -> list[Invitation]:
    rows = await conn.all(
        "select invitations.id, invitations.created_at, expires_at, used_at, users.name"
        " from invitations left join users on users.id = used_by"
        " where inviter_id = ? order by invitations.id desc limit ?", (inviter_id, limit))
    return [Invitation(*row) for row in rows]


async def inviter_of(conn: Conn, token: str) -> int | None:
    """The inviter's id if this token is a live invitation (not used, not expired)."""
    return await conn.value(
        "select inviter_id from invitations where token_hash = ? and used_at is null"
        " and expires_at > ?", (_hash(token[:200]), clock.now()))


async def use(tx: Transaction, token: str, new_member_id: int) -> int:
    """Spend the invitation on the account just created (in the same transaction); returns
    the inviter's id. Invalid for a link used, expired or unknown: the account is not made."""
    row = await tx.one(
        "update invitations set used_at = ?, used_by = ? where token_hash = ?"
        " and used_at is null and expires_at > ? returning inviter_id",
        (clock.now(), new_member_id, _hash(token[:200]), clock.now()))
    if row is None:
        raise Invalid("This invitation link is not valid: it was used already, or it expired."
                      " Ask for a new one.", field="invitation")
    await tx.execute("update users set invited_by = ? where id = ?", (row[0], new_member_id))
    return int(row[0])


async def withdraw(tx: Transaction, inviter_id: int, invitation_id: int) -> None:
    """Cancel one of one's own unused links; NotFound otherwise."""
    if not await tx.update("update invitations set expires_at = ? where id = ?"
                           " and inviter_id = ? and used_at is null and expires_at > ?",
                           (clock.now(), invitation_id, inviter_id, clock.now())):
        raise NotFound("This invitation does not exist.")


# The moderators' journal of accounts ----------------------------------------------------------

@dataclass(frozen=True)
class AccountEvent:
    kind: str  # registered | left
    member_name: str
    inviter_name: str | None
    answer: str | None  # the sign-up answer (none once the member left)
    created_at: str


async def record(tx: Transaction, kind: str, user_id: int, inviter_id: int | None = None) -> None:
    await tx.execute(
        "insert into account_events (kind, user_id, inviter_id, created_at) values (?, ?, ?, ?)",
        (kind, user_id, inviter_id, clock.now()))


async def journal(conn: Conn, page: int, per_page: int) -> list[AccountEvent]:
    """Newest first; for moderators only (permissions: 'see_account_journal')."""
    rows = await conn.all(
        "select kind, member.name, inviter.name, member.registration_answer,"
        " account_events.created_at from account_events"
        " join users as member on member.id = account_events.user_id"
        " left join users as inviter on inviter.id = account_events.inviter_id"
        " order by account_events.id desc limit ? offset ?",
        (per_page, (page - 1) * per_page))
    return [AccountEvent(*row) for row in rows]


async def journal_size(conn: Conn) -> int:
    return int(await conn.value("select count(*) from account_events"))


@dataclass(frozen=True)
class Arrival:
    """How a member came: for moderators, beside the member's profile."""
    answer: str | None
    inviter_name: str | None


async def arrival_of(conn: Conn, user_id: int) -> Arrival:
    row = await conn.one(
        "select users.registration_answer, inviter.name from users"
        " left join users as inviter on inviter.id = users.invited_by where users.id = ?",
        (user_id,))
    return Arrival(*row) if row else Arrival(None, None)
