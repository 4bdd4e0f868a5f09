"""A member deletes their account (RGPD: the right to leave).

What is personal goes: sessions, API tokens, e-mail address, settings, follows, two-factor keys,
notifications, invitations, exports, waiting mails. What they wrote either stays, signed
"membre parti", or is erased too (their choice): then each post leaves a tombstone so that the
conversation still reads, its versions are emptied, its files go with it, and their findings
(public facts with sources) lose their notes. Text that was never public (a waiting or refused
version, a finding never approved) is erased in both cases. The users row stays, emptied,
so that what remains keeps an author; the pseudonym is retired for a while.
"""
from __future__ import annotations

from dataclasses import dataclass

from forum import clock, permissions
from forum.confusables import pseudonym_skeleton
from forum.db import Conn, Transaction
from forum.errors import Conflict
from forum.models import invitations, posts
from forum.models.users import User, close_all_sessions
from forum.text import pseudonym_key

DEPARTED_NAME = "membre parti"  # what shows where the pseudonym was (issue 17's own words)
ERASED_TITLE = "—"  # the title of a thread whose opening post its author erased
NEVER_PUBLIC = (posts.PENDING, posts.REFUSED, posts.SUPERSEDED, posts.CORRECTED)


@dataclass(frozen=True)
class Departure:
    """What the request must finish after the commit: files no post refers to any more."""
    file_shas: frozenset[str]
    export_files: tuple[str, ...]


async def is_last_admin(conn: Conn, user: User) -> bool:
    if user.role != "admin":
        return False
    others = await conn.value(
        "select count(*) from users where role = 'admin' and id <> ? and left_at is null",
        (user.id,))
    return not others


async def leave(tx: Transaction, user: User, erase_posts: bool, retire_days: int) -> Departure:
    """Delete this account, in the caller's transaction (password and code checked before)."""
    if await is_last_admin(tx, user):
        raise Conflict("You are the last administrator: make another member an administrator"
                       " first, then you can leave.")
    await close_all_sessions(tx, user.id)  # through the model: its cache follows
    for table in ("pending_logins", "api_tokens", "follows", "notifications", "two_factor",
                  "recovery_codes", "password_resets", "board_moderators", "board_members",
                  "drafts", "thread_reads", "board_reads"):
        await tx.execute(f"delete from {table} where user_id = ?", (user.id,))
    await tx.execute("delete from invitations where inviter_id = ? and used_at is null",
                     (user.id,))
    exports = await tx.all("select file_name from account_exports where user_id = ?"
                           " and file_name is not null", (user.id,))
    await tx.execute("delete from account_exports where user_id = ?", (user.id,))
    if user.email:
        await tx.execute("delete from outbox where to_address = ? collate nocase", (user.email,))
    shas = await _erase_writing(tx, user, erase_posts)
    await _retire_pseudonym(tx, user, retire_days)
    await invitations.record(tx, "left", user.id)
    tx.changed("all", None)  # the pseudonym was on many cached pages
    return Departure(frozenset(shas), tuple(row[0] for row in exports))


async def _retire_pseudonym(tx: Transaction, user: User, retire_days: int) -> None:
    key = pseudonym_key(user.name)
    await tx.execute(
        "insert into retired_pseudonyms (name_key, name_skeleton, until) values (?, ?, ?)"
        " on conflict (name_key) do update set until = excluded.until",
        (key, pseudonym_skeleton(user.name), clock.later(days=retire_days)))
    # The row stays (posts keep an author) but says nothing of the person any more. Its name_key
    # holds a ':' that no pseudonym may hold, and lookups by name skip departed accounts.
    await tx.execute(
        "update users set name = ?, name_key = ?, name_skeleton = null, email = null,"
        " password_hash = '!', role = 'member', locale = null, trust_override = null,"
        " login_notices = 0, email_notifications = 'never', digest_sent_at = null,"
        " follow_on_post = 0, registration_answer = null, suspension_reason = null,"
        " left_at = ? where id = ?",
        (DEPARTED_NAME, f"left:{user.id}", clock.now(), user.id))


async def _erase_writing(tx: Transaction, user: User, erase_posts: bool) -> set[str]:
    """Empty the versions never made public (and, when asked, every post); returns the file
    contents whose uploads were deleted (the files go once nothing refers to them)."""
    own = "post_id in (select id from posts where author_id = ?)"
    which, params = ((permissions.EVERYTHING, ()) if erase_posts
                     else ("state in (?, ?, ?, ?)", NEVER_PUBLIC))
    texts = await tx.all(f"select post_id, body_source from post_revisions where {own}"
                         f" and body_source <> '' and {which}", (user.id, *params))
    await tx.execute(
        "update post_revisions set body_source = '', body_html = '', note = '', state = ?"
        f" where {own} and {which}", (posts.PURGED, user.id, *params))
    erased = "author_id = ?" if erase_posts else "author_id = ? and status <> 'published'"
    rows = await tx.all(f"select id, thread_id, body_source from posts where {erased}",
                        (user.id,))
    shas = await _delete_files(tx, user, erased)
    now = clock.now()
    for row in rows:
        # A tombstone: the thread keeps its place for the message, none of its words.
        await tx.execute(
            "update posts set body_source = '', body_html = '', delete_reason = null,"
            " deleted_at = coalesce(deleted_at, ?), deleted_by = coalesce(deleted_by, ?)"
            " where id = ?", (now, user.id, row["id"]))
        tx.changed("thread", row["thread_id"])
        tx.changed("post", row["id"])
    await tx.execute(f"delete from post_mentions where post_id in (select id from posts"
                     f" where {erased})", (user.id,))
    await tx.execute(f"delete from post_quotes where post_id in (select id from posts"
                     f" where {erased})", (user.id,))
    copied = [(row[0], row[1]) for row in texts]
    copied += [(row["id"], row["body_source"]) for row in rows if row["body_source"]]
    await _erase_copies(tx, copied)
    await _erase_findings(tx, user, erase_posts)
    if erase_posts:
        await _erase_titles(tx, user)
        # Her flags still count (a post others flagged too stays hidden), her words go.
        await tx.execute("update flags set reason = '' where user_id = ?", (user.id,))
    return shas


async def _erase_copies(tx: Transaction, texts: list[tuple[int, str]]) -> None:
    """Where the erased texts may have been copied: journal reasons and notifications about
    those posts (a refusal may quote what it refused), mails that name them, the search
    index's segments. Set-based, unlike moderation.erase_copies (one version at a time): a
    member may leave thousands of posts, and the writer is shared."""
    ids = sorted({post_id for post_id, _text in texts})
    for start in range(0, len(ids), 500):
        chunk = ids[start:start + 500]
        marks = ", ".join("?" * len(chunk))
        await tx.execute("update moderation_log set reason = '' where target_kind = 'post'"
                         f" and target_id in ({marks}) and reason <> ''", chunk)
        await tx.execute(f"update notifications set text = '' where post_id in ({marks})"
                         " and text <> ''", chunk)
    for post_id, text in texts:
        await tx.execute("delete from outbox where instr(text_body || html_body, ?) > 0"
                         " and instr(subject || text_body || html_body, ?) > 0",
                         (f"/p/{post_id}", text))
    tx.changed("journal", None)
    # The full-text index keeps the words of replaced rows in its segments until they merge.
    if tx.dialect == "sqlite":  # FTS5's (PostgreSQL's tsvectors are replaced with their rows)
        await tx.execute("insert into post_search (post_search) values ('optimize')")


async def _erase_findings(tx: Transaction, user: User, erase_notes: bool) -> None:
    """Findings are facts of the public record: the published ones stay (their note, the
    member's own words, goes when they erase their writing). Versions never published and
    findings never approved go in both cases."""
    await tx.execute(
        "update finding_revisions set data = '{}', reason = '', note = '', state = ?"
        " where editor_id = ? and state in (?, ?, ?, ?)", (posts.PURGED, user.id, *NEVER_PUBLIC))
    await tx.execute(
        "update findings set place = '', note = '', latitude = null, longitude = null,"
        " deleted_at = coalesce(deleted_at, ?), deleted_by = coalesce(deleted_by, ?)"
        " where author_id = ? and review <> 'published'", (clock.now(), user.id, user.id))
    if erase_notes:
        await tx.execute("update findings set note = '' where author_id = ?", (user.id,))
        await tx.execute(
            "update finding_revisions set reason = '', data = json_set(data, '$.note', '')"
            " where editor_id = ? and data <> '{}'", (user.id,))


async def _erase_titles(tx: Transaction, user: User) -> None:
    """Threads they opened keep their place (others answered in them) but not their title."""
    await tx.execute("delete from thread_title_revisions where thread_id in"
                     " (select id from threads where author_id = ?)", (user.id,))
    await tx.execute("update threads set title = ? where author_id = ?", (ERASED_TITLE, user.id))
    if tx.dialect == "sqlite":  # FTS5's (PostgreSQL's tsvectors are replaced with their rows)
        await tx.execute("insert into title_search (title_search) values ('optimize')")


async def _delete_files(tx: Transaction, user: User, erased: str) -> set[str]:
    """Their files never attached, and those of the posts erased (`erased`: the condition on
    posts, with the member's id as its one parameter); a finding that named one of these files
    keeps the post as its source."""
    rows = await tx.all(
        "select id, sha256, thumbnail_sha256 from uploads where owner_id = ? and"
        " (id not in (select upload_id from post_attachments) or id in (select upload_id"
        f" from post_attachments join posts on posts.id = post_id where posts.{erased}))",
        (user.id, user.id))
    shas: set[str] = set()
    for row in rows:
        # Its smaller copies (0026_photos.sql) go with it: their rows by cascade, their files here.
        shas.update(r[0] for r in await tx.all(
            "select sha256 from upload_sizes where upload_id = ?", (row["id"],)))
        await tx.execute("update finding_sources set kind = 'post', upload_id = null"
                         " where upload_id = ?", (row["id"],))
        await tx.execute("delete from post_attachments where upload_id = ?", (row["id"],))
        await tx.execute("delete from uploads where id = ?", (row["id"],))
        shas.update(sha for sha in (row["sha256"], row["thumbnail_sha256"]) if sha)
    return shas
