"""Moderation: decisions on pending posts, flags, sanctions, and the public journal."""
from __future__ import annotations

from dataclasses import dataclass

from forum import clock, permissions, stems
from forum.cache import ALL
from forum.config import Config
from forum.db import Conn, Transaction
from forum.errors import Conflict, Contradiction, Forbidden, Invalid, NotFound
from forum.i18n import N_
from forum.models import boards, drops, notifications, posts, threads, users
from forum.models.boards import Board
from forum.models.threads import Thread
from forum.models.users import User
from forum.permissions import can, publication_status

REASON_MAX = 500
# Reasons a moderator picks from; a written reason is always possible too.
REJECT_REASONS = (
    N_("Reveals someone's identity or private life"),
    N_("Accusation against a person without a source"),
    N_("Insulting or aggressive"),
    N_("Off topic for this board"),
    N_("Advertising or spam"),
    N_("Duplicate of another message"),
)
BAN_UNTIL = "9999-12-31T00:00:00.000Z"
TRUST_THRESHOLD = Config.trust_threshold


@dataclass(frozen=True)
class Flag:
    user_name: str
    reason: str
    created_at: str


@dataclass(frozen=True)
class QueueItem:
    post: posts.Post
    thread_title: str
    board_name: str
    previous: posts.Post | None  # the message it answers
    author_approved: int
    author_rejected: int
    author_since: str
    flags: list[Flag]
    pending_edit: posts.Revision | None = None  # an edit of a public post, waiting


@dataclass(frozen=True)
class JournalEntry:
    id: int
    moderator_name: str
    action: str
    target_kind: str
    target_id: int
    board_name: str | None
    reason: str  # empty when the reason is private
    created_at: str


def clean_reason(reason: str, required: bool = True) -> str:
    reason = " ".join(reason.split())[:REASON_MAX]
    if required and not reason:
        raise Invalid("Please give a reason.", field="reason")
    return reason


async def queue(conn: Conn, moderator: User, board_id: int | None = None,
                limit: int = 50) -> list[QueueItem]:
    """Pending posts, edits waiting and flagged posts in this moderator's boards, oldest
    first."""
    waiting, params = permissions.post_queue_filter(moderator)
    extra, extra_params = ("and threads.board_id = ?", (board_id,)) if board_id else ("", ())
    rows = await conn.all(
        f"{posts.SELECT} where {waiting} {extra} order by posts.id limit ?",
        (*params, *extra_params, limit))
    found = [posts.Post.from_row(row) for row in rows]
    if not found:
        return []
    # What each item shows besides its post, read for all of them at once: four queries a
    # page, not four per item (a queue of 40 spent more in SQL than in its render).
    ids = [post.id for post in found]
    marks = ", ".join("?" * len(ids))
    context = {row[0]: tuple(row[1:]) for row in await conn.all(
        "select posts.id, threads.title, boards.name, users.approved_count,"
        " users.rejected_count, users.created_at from posts"
        " join threads on threads.id = posts.thread_id join boards on boards.id = threads.board_id"
        f" join users on users.id = posts.author_id where posts.id in ({marks})", ids)}
    answered = {row[0]: row[1] for row in await conn.all(
        "select item.id, (select max(posts.id) from posts join threads"
        " on threads.id = posts.thread_id where posts.thread_id = item.thread_id"
        f" and posts.id < item.id and {permissions.readable_post()}) from posts as item"
        f" where item.id in ({marks})", ids)}
    previous_ids = sorted({post_id for post_id in answered.values() if post_id is not None})
    previous = {row["id"]: posts.Post.from_row(row) for row in await conn.all(
        f"{posts.SELECT} where posts.id in ({', '.join('?' * len(previous_ids))})",
        previous_ids)} if previous_ids else {}
    flags: dict[int, list[Flag]] = {}
    for row in await conn.all(
            "select flags.post_id, users.name, reason, flags.created_at from flags"
            f" join users on users.id = user_id where post_id in ({marks})"
            " and resolved_at is null order by flags.id", ids):
        flags.setdefault(row[0], []).append(Flag(*row[1:]))
    items = []
    for post in found:
        title, board_name, approved, rejected, since = context[post.id]
        items.append(QueueItem(
            post, title, board_name, previous.get(answered[post.id] or 0), approved, rejected,
            since, flags.get(post.id, []),
            await posts.pending_edit(conn, post.id) if post.edit_pending else None))
    return items


async def queue_size(conn: Conn, moderator: User) -> int:
    """How many posts, findings and drops wait in this moderator's queue: the header's badge,
    counted with the queue's own conditions (queue(), findings.pending(),
    findings.pending_corrections() and the drops tab's drops awaiting an answer)."""
    if not moderator.moderates_any:
        return 0
    waiting_posts, post_params = permissions.post_queue_filter(moderator)
    waiting_findings, finding_params = permissions.finding_queue_filter(moderator)
    corrections, correction_params = permissions.finding_correction_queue_filter(moderator)
    # Records requests waiting (requests.pending(), the queue's requests tab).
    waiting_requests, request_params = permissions.request_queue_filter(moderator, "r")
    return int(await conn.value(
        "select (select count(*) from posts join threads on threads.id = posts.thread_id"
        f" where {waiting_posts}) + (select count(*) from findings where {waiting_findings})"
        f" + (select count(*) from findings where {corrections})"
        f" + (select count(*) from records_requests as r where {waiting_requests})",
        (*post_params, *finding_params, *correction_params, *request_params))) + (
            await drops.waiting_for(conn, moderator))


async def log(tx: Transaction, moderator: User, action: str, target_kind: str, target_id: int,
              board_id: int | None, reason: str = "", private: bool = False) -> None:
    """Write the journal row, in the same transaction as the action itself."""
    await tx.execute(
        "insert into moderation_log (moderator_id, action, target_kind, target_id, board_id,"
        " reason, reason_private, created_at) values (?, ?, ?, ?, ?, ?, ?, ?)",
        (moderator.id, action, target_kind, target_id, board_id, reason, int(private),
         clock.now()))
    tx.changed("journal", None)


async def approve(tx: Transaction, post: posts.Post, moderator: User,
                  correction: str = "") -> None:
    """Publish a pending post in place, with its original time, or the edit waiting on a
    public post; tells its author (`correction`: the note of a correction, see
    correct_and_approve)."""
    if post.status == "published":
        if not post.edit_pending:  # approved by someone first: say who
            raise await already_decided(tx, post.id)
        await posts.publish_edit(tx, post)  # 409 when nothing waits
        await log(tx, moderator, "approve", "post", post.id, post.board_id)
        await notifications.add(tx, post.author_id, "approved", post_id=post.id,
                                thread_id=post.thread_id, actor_id=moderator.id,
                                text=correction)
        return
    decided = await tx.update(
        "update posts set status = 'published', decided_by = ?, decided_at = ?"
        " where id = ? and status = 'pending' and deleted_at is null",
        (moderator.id, clock.now(), post.id))
    if not decided:
        raise await already_decided(tx, post.id)
    await posts.decide_versions(tx, post.id, posts.PUBLIC)
    await posts.publish(tx, post)
    await tx.execute("update users set approved_count = approved_count + 1 where id = ?",
                     (post.author_id,))
    await log(tx, moderator, "approve", "post", post.id, post.board_id)
    await notifications.add(tx, post.author_id, "approved", post_id=post.id,
                            thread_id=post.thread_id, actor_id=moderator.id, text=correction)


async def already_decided(conn: Conn, post_id: int) -> Conflict:
    """The 409 of a decision someone took first: who decided and what (issue 16)."""
    row = await conn.one(
        "select posts.status, posts.deleted_at, users.name from posts"
        " left join users on users.id = posts.decided_by where posts.id = ?", (post_id,))
    if row is None or row["name"] is None or row["deleted_at"] is not None:
        return Conflict("Another moderator has already decided on this message.")
    if row["status"] == "published":
        return Conflict("%(name)s has already approved this message.", name=row["name"])
    return Conflict("%(name)s has already refused this message.", name=row["name"])


async def reject(tx: Transaction, post: posts.Post, moderator: User, reason: str,
                 private: bool = False) -> None:
    """Refuse a pending post, or the edit waiting on a public post (which keeps its text); the
    author still sees it and may edit and resubmit it. The reason reaches only the author,
    the moderators, and the public journal unless `private`."""
    reason = clean_reason(reason)
    if post.status == "published":
        if not post.edit_pending:  # approved (or refused) by someone first: say who
            raise await already_decided(tx, post.id)
        await posts.refuse_edit(tx, post, reason)  # 409 when nothing waits
        await log(tx, moderator, "reject", "post", post.id, post.board_id, reason, private)
        await notifications.add(tx, post.author_id, "rejected", post_id=post.id,
                                thread_id=post.thread_id, actor_id=moderator.id, text=reason)
        return
    decided = await tx.update(
        "update posts set status = 'rejected', decided_by = ?, decided_at = ?, reject_reason = ?"
        " where id = ? and status = 'pending' and deleted_at is null",
        (moderator.id, clock.now(), reason, post.id))
    if not decided:
        raise await already_decided(tx, post.id)
    await posts.decide_versions(tx, post.id, posts.REFUSED, reason)
    await tx.execute("update users set rejected_count = rejected_count + 1 where id = ?",
                     (post.author_id,))
    if await posts.is_first_of_thread(tx, post):
        await tx.execute("update threads set status = 'rejected' where id = ?",
                         (post.thread_id,))
    posts.changed(tx, post.thread_id, post.board_id)
    await log(tx, moderator, "reject", "post", post.id, post.board_id, reason, private)
    await notifications.add(tx, post.author_id, "rejected", post_id=post.id,
                            thread_id=post.thread_id, actor_id=moderator.id, text=reason)


async def flag(tx: Transaction, post: posts.Post, member: User, reason: str,
               trusted_flags_to_hide: int, trust_threshold: int) -> bool:
    """Record a member's flag; hide the post once enough trusted members flagged it.

    Returns True when this flag hid the post.
    """
    reason = clean_reason(reason)
    # Flags of one post one at a time (several servers): two trusted flags at once must not
    # each count only itself and leave the post shown.
    await tx.lock([f"flags:{post.id}"])
    if await tx.value("select 1 from flags where post_id = ? and user_id = ?",
                      (post.id, member.id)):
        raise Conflict("You have already flagged this message.")
    await tx.execute(
        "insert into flags (post_id, user_id, reason, created_at) values (?, ?, ?, ?)",
        (post.id, member.id, reason, clock.now()))
    trusted = await tx.value(
        "select count(*) from flags join users on users.id = flags.user_id"
        " where post_id = ? and resolved_at is null and (users.trust_override = 1 or"
        " (users.trust_override is null and users.approved_count >= ?)"
        " or users.role in ('moderator', 'admin'))", (post.id, trust_threshold))
    if trusted < trusted_flags_to_hide or post.hidden or post.status != "published":
        return False
    # Conditional: two flags at once (two servers) hide it, and count it out, once.
    if not await tx.update("update posts set hidden = 1 where id = ? and hidden = 0",
                           (post.id,)):
        return False
    await posts.count_public(tx, post, -1)
    return True


async def dismiss_flags(tx: Transaction, post: posts.Post, moderator: User,
                        reason: str = "") -> None:
    """The flags were unfounded: close them and show the post again."""
    closed = await tx.update(
        "update flags set resolved_at = ?, resolved_by = ? where post_id = ?"
        " and resolved_at is null", (clock.now(), moderator.id, post.id))
    if not closed and not post.hidden:
        raise Conflict("Another moderator has already decided on this message.")
    if post.hidden and await tx.update("update posts set hidden = 0 where id = ? and hidden = 1",
                                       (post.id,)):
        await posts.count_public(tx, post, +1)
    await log(tx, moderator, "dismiss_flags", "post", post.id, post.board_id,
              clean_reason(reason, required=False))


async def resolve_flags(tx: Transaction, post: posts.Post, moderator: User) -> None:
    await tx.execute(
        "update flags set resolved_at = ?, resolved_by = ? where post_id = ?"
        " and resolved_at is null", (clock.now(), moderator.id, post.id))


async def delete_post(tx: Transaction, post: posts.Post, moderator: User, reason: str,
                      private: bool = False) -> None:
    reason = clean_reason(reason)
    if post.is_deleted:
        raise Conflict("This message is already deleted.")
    await posts.delete(tx, post, moderator, reason)
    await resolve_flags(tx, post, moderator)
    await log(tx, moderator, "delete", "post", post.id, post.board_id, reason, private)
    if moderator.id != post.author_id:
        await notifications.add(tx, post.author_id, "deleted", post_id=post.id,
                                thread_id=post.thread_id, actor_id=moderator.id, text=reason)


async def edit_as(tx: Transaction, post_id: int, user: User, body: str, body_max: int,
                  mentions_max: int = posts.MENTIONS_MAX,
                  trust_threshold: int = TRUST_THRESHOLD, note: str = "") -> posts.Post:
    """Edit as the author, or as a moderator (then in the journal); checked in the transaction.

    An edit of a public post waits for the moderators wherever a new post would (an a-priori
    board, a member not trusted yet); the public version stays shown meanwhile.
    """
    post = await _live_post(tx, post_id, user)
    if not can(user, "edit_post", post):
        raise Forbidden("You may not edit this message.")
    wait = await edit_waits(tx, user, post, trust_threshold)
    await posts.edit(tx, post, user, body, body_max, mentions_max, wait=wait,
                     note=clean_reason(note, required=False))
    if user.id != post.author_id:
        await log(tx, user, "edit", "post", post.id, post.board_id)
    return await posts.get(tx, post.id)


async def edit_waits(conn: Conn, user: User, post: posts.Post,
                     trust_threshold: int = TRUST_THRESHOLD) -> bool:
    """Whether this member's edit of this public post waits: where a new post would."""
    mode = await conn.value("select moderation_mode from boards where id = ?", (post.board_id,))
    return (post.status == "published"
            and publication_status(user, post.board_id, mode, trust_threshold) == "pending")


async def correct_and_approve(tx: Transaction, post_id: int, moderator: User, body: str,
                              body_max: int, mentions_max: int = posts.MENTIONS_MAX,
                              note: str = "") -> posts.Post:
    """Correct a pending post (or the edit waiting on a public one), then publish it.

    The version corrected stays in the history, marked, for the author and moderators only.
    Rolled back with the edit when another moderator decided first (409).
    """
    post = await _live_post(tx, post_id, moderator)
    if not can(moderator, "moderate", post):
        raise Forbidden("You do not moderate this board.")
    if post.status != "pending" and not post.edit_pending:
        raise await already_decided(tx, post.id)
    waiting = await posts.pending_edit(tx, post.id)
    if body == (waiting.body_source if waiting else post.body_source):  # nothing corrected
        await approve(tx, post, moderator)
        return await posts.get(tx, post.id)
    edited = await edit_as(tx, post_id, moderator, body, body_max, mentions_max, note=note)
    # The approval's text tells the author their text was corrected (the page of the post's
    # history shows what changed): the note, or a space when the moderator left none.
    correction = note.strip() or " "
    if post.status == "pending":
        await approve(tx, edited, moderator, correction)
    else:  # the correction itself was published over the waiting edit
        await log(tx, moderator, "approve", "post", post.id, post.board_id)
        await notifications.add(tx, post.author_id, "approved", post_id=post.id,
                                thread_id=post.thread_id, actor_id=moderator.id,
                                text=correction)
    return await posts.get(tx, post.id)


async def delete_as(tx: Transaction, post_id: int, user: User, reason: str,
                    private: bool = False) -> None:
    """The author deletes their post; a moderator must give a reason, journaled and told."""
    post = await _live_post(tx, post_id, user)
    if not can(user, "delete_post", post):
        raise Forbidden("You may not delete this message.")
    if user.id == post.author_id:
        await posts.delete(tx, post, user, reason.strip())
        await resolve_flags(tx, post, user)  # nothing left to review
    else:
        await delete_post(tx, post, user, reason, private)


async def _live_post(tx: Transaction, post_id: int, user: User) -> posts.Post:
    """Read inside the write transaction, so a deletion that just happened wins."""
    post = await posts.get(tx, post_id)
    if not can(user, "see_post", post):
        raise NotFound()
    if post.is_deleted:
        raise Conflict("This message was deleted.")
    return post


async def purge_post_version(tx: Transaction, post: posts.Post, moderator: User,
                             revision_id: int) -> None:
    """Erase a version that must disappear (someone's address, a name): the revision's text,
    and its copies in the search index, notifications and unsent or sent mails. The journal
    says a version was purged, never what it held."""
    if not can(moderator, "purge", post):
        raise Forbidden("You do not moderate this board.")
    erased = await posts.purge_version(tx, post, revision_id)
    await erase_copies(tx, erased, post_id=post.id)
    await log(tx, moderator, "purge", "post", post.id, post.board_id)


async def erase_copies(tx: Transaction, texts: list[str], post_id: int | None = None,
                       finding_id: int | None = None) -> None:
    """Remove purged texts from the notifications and mails about this post or finding (a
    mail names it by its address), from the journal's reasons about it (a public refusal
    reason may quote what it refused), and from the search index's free segments."""
    column, target, link = (("post_id", post_id, f"/p/{post_id}") if post_id is not None
                            else ("finding_id", finding_id, f"/f/{finding_id}"))
    kind = "post" if post_id is not None else "finding"
    for text in texts:
        if await tx.update("update moderation_log set reason = '' where target_kind = ?"
                           " and target_id = ? and instr(reason, ?) > 0", (kind, target, text)):
            tx.changed("journal", None)
        await tx.execute(f"update notifications set text = '' where {column} = ?"
                         " and instr(text, ?) > 0", (target, text))
        await tx.execute(
            "delete from outbox where instr(text_body || html_body, ?) > 0"
            " and (instr(text_body, ?) > 0 or instr(html_body, ?) > 0"
            " or instr(subject, ?) > 0)", (link, text, text, text))
    if tx.dialect != "sqlite":  # PostgreSQL's tsvectors are columns, replaced with their rows
        return
    # The full-text index keeps the words of replaced rows in its segments until they merge:
    # merge them now, so that nothing of the text stays in the database file.
    await tx.execute("insert into post_search (post_search) values ('optimize')")
    await tx.execute("insert into title_search (title_search) values ('optimize')")
    await stems.index_waiting(tx)  # the stems of the purged text too (forum/stems.py), now
    await tx.execute("insert into stem_search (stem_search) values ('optimize')")


async def restore_post(tx: Transaction, post: posts.Post, moderator: User, reason: str) -> None:
    if not post.is_deleted:
        raise Conflict("This message is not deleted.")
    await posts.restore(tx, post)
    await log(tx, moderator, "restore", "post", post.id, post.board_id,
              clean_reason(reason, required=False))


async def set_thread_state(tx: Transaction, thread: Thread, moderator: User, action: str,
                           reason: str = "") -> None:
    """lock, unlock, pin, unpin, hide or show a thread (already so: nothing changes, nothing
    is logged)."""
    if action in ("hide", "show"):
        # Whatever became of its first post: hiding is how a thread (and its title) goes.
        if await (threads.hide if action == "hide" else threads.unhide)(tx, thread):
            await log(tx, moderator, "hide" if action == "hide" else "restore", "thread",
                      thread.id, thread.board_id, clean_reason(reason, required=False))
        return
    column, value = {"lock": ("locked", 1), "unlock": ("locked", 0), "pin": ("pinned", 1),
                     "unpin": ("pinned", 0)}[action]
    if not await tx.update(f"update threads set {column} = ? where id = ? and {column} <> ?",
                           (value, thread.id, value)):
        return
    posts.changed(tx, thread.id, thread.board_id)
    await log(tx, moderator, action, "thread", thread.id, thread.board_id,
              clean_reason(reason, required=False))


async def move_thread(tx: Transaction, thread: Thread, board: Board, moderator: User,
                      reason: str = "") -> None:
    """Move a thread and its counters to another board."""
    if board.id == thread.board_id:
        raise Invalid("The thread is already in this board.", field="board")
    await tx.execute("update threads set board_id = ? where id = ?", (board.id, thread.id))
    if thread.status == "published":
        for board_id, sign in ((thread.board_id, -1), (board.id, 1)):
            await tx.execute(
                "update boards set thread_count = thread_count + ?, post_count = post_count + ?,"
                " last_post_at = (select max(last_post_at) from threads where board_id = ?"
                f" and {permissions.published_thread()}) where id = ?",
                (sign, sign * thread.post_count, board_id, board_id))
            tx.changed("board", board_id)
    posts.changed(tx, thread.id, board.id)
    if thread.board_closed or board.closed:
        # Into or out of a closed board: its posts, files and titles join or leave every
        # public page, feed and export at once, and its authors' public counts.
        await boards.recount_authors(tx, "posts.thread_id = ?", thread.id)
        tx.changed(*ALL)
    await log(tx, moderator, "move", "thread", thread.id, board.id,
              clean_reason(reason, required=False))


class NotConfirmed(Conflict):
    """A move out of a closed board into an open one, before its moderator saw what becomes
    public (the page shows it; the API answers it with the 409)."""

    def __init__(self) -> None:
        super().__init__(N_("Moving this thread out of its closed board makes it public: send"
                            " confirm true to move it."), field="confirm")


async def move_thread_to(tx: Transaction, thread: Thread, slug: str, moderator: User,
                         reason: str = "", exposure_seen: bool = False) -> Board:
    """Move a thread to the board with this address, which the moderator must moderate too
    (403 otherwise; 404 for no such board); the board it went to. Out of a closed board into
    an open one only once the moderator has seen what becomes public (`exposure_seen`)."""
    board = await boards.get_readable(tx, slug, moderator)
    if not can(moderator, "moderate", board):
        raise Forbidden("You do not moderate this board.")
    if thread.board_closed and not board.closed and not exposure_seen:
        raise NotConfirmed()
    await move_thread(tx, thread, board, moderator, reason)
    return board


async def rename_thread(tx: Transaction, thread: Thread, editor: User, title: str,
                        title_max: int, reason: str = "") -> None:
    """A new title (the old one kept for moderators); a moderator's rename is in the journal,
    which never shows either title."""
    if not await threads.rename(tx, thread, editor, title, title_max):
        return
    if editor.moderates(thread.board_id):
        await log(tx, editor, "edit", "thread", thread.id, thread.board_id,
                  clean_reason(reason, required=False))


async def sanction(tx: Transaction, member: User, moderator: User, kind: str, reason: str,
                   until: str | None = None, private: bool = True) -> None:
    """warn, suspend (until a date), ban, or lift what is in force; the member is told.

    A private reason reaches only the member and moderators: the public journal shows the
    action without it.
    """
    reason = clean_reason(reason)
    if member.holds_moderator_role and not moderator.is_admin:
        raise Invalid("Only an administrator can sanction a moderator.", field="kind")
    if kind == "suspend":
        if not until:
            raise Invalid("A suspension needs an end date in the future.", field="until")
        if until <= clock.now():  # well formed, but past by now: 409 in the API
            raise Contradiction("A suspension needs an end date in the future.",
                                field="until")
    elif kind == "ban":
        until = BAN_UNTIL
    elif kind in ("warn", "lift"):
        until = None
    else:
        raise Invalid("Unknown sanction.", field="kind")
    await tx.execute(
        "insert into sanctions (user_id, moderator_id, kind, until, reason, created_at)"
        " values (?, ?, ?, ?, ?, ?)", (member.id, moderator.id, kind, until, reason, clock.now()))
    if kind in ("suspend", "ban", "lift"):
        await tx.execute(
            "update users set suspended_until = ?, suspension_reason = ? where id = ?",
            (until, reason if until else None, member.id))
    await log(tx, moderator, kind, "user", member.id, None, reason, private=private)
    await notifications.add(tx, member.id, kind, actor_id=moderator.id, text=reason)


@dataclass(frozen=True)
class Sanction:
    kind: str
    until: str | None
    reason: str
    moderator_name: str
    created_at: str


async def sanctions_of(conn: Conn, member_id: int, limit: int = 20) -> list[Sanction]:
    """A member's sanctions, newest first, with their reasons: for moderators' eyes only."""
    rows = await conn.all(
        "select kind, until, reason, users.name, sanctions.created_at from sanctions"
        " join users on users.id = moderator_id where user_id = ?"
        " order by sanctions.id desc limit ?", (member_id, limit))
    return [Sanction(*row) for row in rows]


SANCTIONS = ("warn", "suspend", "ban", "lift")
TRUST = ("trust", "distrust")


async def decide_on_member(tx: Transaction, member: User, moderator: User, kind: str,
                           reason: str, until_day: str = "", private: bool = False) -> None:
    """A moderator's decision about a member, from their profile or the API: a sanction
    (warn, suspend until the end of `until_day`, ban, lift) or granting or withdrawing trust."""
    if not can(moderator, "sanction", member):
        raise Forbidden()
    if kind in TRUST:
        await set_trust(tx, member, moderator, kind == "trust", reason, private=private)
        return
    await sanction(tx, member, moderator, kind, reason,
                   end_of_day(until_day) if until_day else None, private=private)


def end_of_day(date_text: str) -> str:
    """'2026-12-01' (a date field) -> the end of that day, as stored."""
    try:
        return clock.iso(clock.parse(date_text + "T23:59:59+00:00"))
    except ValueError as error:
        raise Invalid("This date is not valid.", field="until") from error


async def set_trust(tx: Transaction, member: User, moderator: User, trusted: bool,
                    reason: str = "", private: bool = False) -> None:
    await tx.execute("update users set trust_override = ? where id = ?",
                     (int(trusted), member.id))
    await log(tx, moderator, "trust" if trusted else "distrust", "user", member.id, None,
              clean_reason(reason, required=False), private=private)


async def journal(conn: Conn, page: int, per_page: int) -> list[JournalEntry]:
    """The public journal, newest first; private reasons are left out."""
    rows = await conn.all(
        "select moderation_log.id, users.name, action, target_kind, target_id, boards.name,"
        " case when reason_private = 1 then '' else reason end, moderation_log.created_at"
        " from moderation_log join users on users.id = moderator_id"
        " left join boards on boards.id = moderation_log.board_id"
        f" where {_JOURNAL_PUBLIC}"
        " order by moderation_log.id desc limit ? offset ?", (per_page, (page - 1) * per_page))
    return [JournalEntry(*row) for row in rows]


# A closed board's actions are not public (its name, its threads' ids, the reasons).
_JOURNAL_PUBLIC = (f"(moderation_log.board_id is null"
                   f" or {permissions.open_board('moderation_log.board_id')})")


async def journal_size(conn: Conn) -> int:
    return int(await conn.value(f"select count(*) from moderation_log where {_JOURNAL_PUBLIC}"))


async def get_board_moderators(conn: Conn, board_id: int) -> list[str]:
    rows = await conn.all(
        "select users.name from board_moderators join users on users.id = user_id"
        " where board_id = ? order by users.name", (board_id,))
    return [row[0] for row in rows]


async def add_board_moderator(tx: Transaction, board: Board, member: User) -> None:
    await tx.execute("insert or ignore into board_moderators (board_id, user_id) values (?, ?)",
                     (board.id, member.id))
    await tx.execute("delete from sessions where user_id = ?", (member.id,))


async def remove_board_moderator(tx: Transaction, board: Board, member: User) -> None:
    removed = await tx.update("delete from board_moderators where board_id = ? and user_id = ?",
                              (board.id, member.id))
    if not removed:
        raise NotFound("This member does not moderate this board.")
    await tx.execute("delete from sessions where user_id = ?", (member.id,))


async def appoint(tx: Transaction, board: Board, name: str, appointed: bool) -> User:
    """Make the member with this pseudonym a moderator of the board, or no longer one (404
    if they were not); their sessions end, so that their powers change at once."""
    member = await users.get_by_name(tx, name)
    if appointed:
        await add_board_moderator(tx, board, member)
    else:
        await remove_board_moderator(tx, board, member)
    return member
