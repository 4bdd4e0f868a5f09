"""can(user, action, target): the one place for who may see or do what. Pure, no I/O.

`user` is a models.users.User or None (an anonymous reader); targets are model dataclasses
(a post, a thread, a board) — each carries the `board_id` (or `id` for a board) that decides
which moderators may act on it. They stay `Any`: a rule reads only what its target has, and a
post's PostState stands in for the post.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Literal, NamedTuple, TypeGuard

if TYPE_CHECKING:
    from forum.models.users import User

# What can() decides: one name per rule of RULES (a typo is a type error, not a KeyError).
Action = Literal[
    "see_thread", "see_post", "see_deleted_text", "see_revisions", "see_attachments", "reply",
    "rename_thread", "start_thread", "see_board", "manage_members", "edit_post", "delete_post",
    "flag_post", "moderate", "moderate_any", "sanction", "see_finding", "propose_finding",
    "edit_finding", "delete_finding", "manage_kinds", "manage_boards", "see_private_versions",
    "purge", "see_request", "record_request", "update_request",
]
Rule = Callable[["User | None", Any], bool]
# An SQL condition and its parameters, to paste into a query's `where`.
Filter = tuple[str, tuple[object, ...]]

# The visibility rule, as SQL. Every query that lists or counts posts, threads, findings,
# their files, notifications or search results takes its condition from the builders below,
# given the aliases it uses ("posts", "p"…): never spelt out again in a query.
#
# One exception: the search index is kept by SQL triggers (migrations/0003_search.sql, view
# search_source), which cannot call Python. Their condition is indexed_post() with the
# default aliases (closed boards included: models/search.py leaves out those a reader may not
# read); tests/test_leak_matrix.py checks that the index holds exactly the posts
# indexed_post() selects, for every state a post can be in.


# Closed boards (issue 17): only their members, their moderators, global moderators and
# admins read them; for anyone else they do not exist. Their content is never "public" (feeds,
# exports, caches and public API answers rely on it), and a reader's filters add back the
# closed boards they may read.
CLOSED_BOARDS = "(select id from boards where closed = 1)"
# The conditions that hold for every row and for none, written so that both SQLite and
# PostgreSQL read them as truth values (PostgreSQL refuses a bare 1 or 0 as a condition).
EVERYTHING = "(1 = 1)"
NOTHING = "(1 = 0)"


def open_board(column: str) -> str:
    """SQL on a board id `column`: a board anyone may read (not closed)."""
    return f"({column} not in {CLOSED_BOARDS})"


def readable_board_filter(user: User | None, column: str) -> Filter:
    """SQL on a board id `column`: the boards `user` may read (open ones, closed ones they are
    a member of or moderate)."""
    if user is None:
        return open_board(column), ()
    scope, params = moderated_board_filter(user, column)
    if scope == EVERYTHING:
        return EVERYTHING, ()
    return (f"({open_board(column)} or {column} in (select board_id from board_members"
            f" where user_id = ?) or {scope})", (user.id, *params))


def shown_post(posts: str = "posts") -> str:
    """SQL on `posts` alone: the post's own state lets it be shown (published, not hidden by
    flags); its thread decides the rest. What a thread's post counter counts."""
    return f"({posts}.status = 'published' and {posts}.hidden = 0)"


def published_post(posts: str = "posts", threads: str = "threads") -> str:
    """SQL on `posts` joined with `threads`: public by its own state and its thread's, in any
    board. What the counters of boards and members count (a closed board's counts are read by
    those who read the board)."""
    return f"({shown_post(posts)} and {threads}.status = 'published')"


def public_post(posts: str = "posts", threads: str = "threads") -> str:
    """SQL on `posts` joined with `threads`: a post anyone may see in a thread (its tombstone
    included): published, not hidden by flags, in a published thread of an open board."""
    return f"({published_post(posts, threads)} and {open_board(f'{threads}.board_id')})"


def readable_post(posts: str = "posts", threads: str = "threads") -> str:
    """SQL: a post anyone may read on its own (a source, a notification, a feed, a search
    result): public and not a tombstone."""
    return f"({public_post(posts, threads)} and {posts}.deleted_at is null)"


def indexed_post(posts: str = "posts", threads: str = "threads") -> str:
    """SQL: what the search index holds (migrations/0003_search.sql spells it for its
    triggers): published, not a tombstone, in any board. models/search.py leaves out the
    closed boards a reader may not read."""
    return f"({published_post(posts, threads)} and {posts}.deleted_at is null)"


def published_finding(findings: str = "findings") -> str:
    """SQL on `findings`: approved (or published at once) and not deleted, in any board."""
    return f"({findings}.review = 'published' and {findings}.deleted_at is null)"


def public_finding(findings: str = "findings") -> str:
    """SQL on `findings`: a finding anyone may see: published, in an open board."""
    return f"({published_finding(findings)} and {open_board(f'{findings}.board_id')})"


def published_thread(threads: str = "threads") -> str:
    """SQL on `threads`: its first post was published, in any board (a board's counter)."""
    return f"({threads}.status = 'published')"


def public_thread(threads: str = "threads") -> str:
    """SQL on `threads`: a thread anyone may see (published, in an open board)."""
    return f"({published_thread(threads)} and {open_board(f'{threads}.board_id')})"


def member_reads_board(user: str, board: str) -> str:
    """SQL: the member whose id is in `user` may read the board whose id is in `board` (open,
    or closed and they are in its group, moderate it, or are a global moderator or admin not
    banned). For what is told to many at once: notifications and mails. `user` must name its
    table ("follows.user_id"): a bare column would be read inside the subqueries."""
    unbanned = "coalesce(reader.suspended_until, '') not like '9999%'"
    return (f"({open_board(board)}"
            f" or exists (select 1 from board_members as reader"
            f" where reader.board_id = {board} and reader.user_id = {user})"
            f" or exists (select 1 from board_moderators as moderating join users as reader"
            f" on reader.id = moderating.user_id where moderating.board_id = {board}"
            f" and moderating.user_id = {user} and {unbanned})"
            f" or exists (select 1 from users as reader where reader.id = {user}"
            f" and reader.role in ('moderator', 'admin') and {unbanned}))")


# The default-alias forms, for queries on the plain table names.
PUBLIC_POST = public_post()
READABLE_POST = readable_post()
PUBLIC_FINDING = public_finding()


def moderated_board_filter(user: User | None, column: str) -> Filter:
    """SQL condition on a board id `column`: the boards this member moderates (EVERYTHING
    for a global moderator, NOTHING for a member who moderates none). The one copy of a
    moderator's scope."""
    if user is None:
        return NOTHING, ()
    if user.is_moderator:
        return EVERYTHING, ()
    boards = tuple(sorted(user.moderated_boards))
    if not boards:
        return NOTHING, ()
    return f"{column} in ({', '.join('?' * len(boards))})", boards


def _public_or_own(user: User | None, published: str, author: str, board: str,
                   own_extra: str = "") -> Filter:
    """What is published or the member's own, in a board they may read (a closed board: its
    members only); or anything in a board they moderate."""
    if user is None:
        return f"({published} and {open_board(board)})", ()
    scope, params = moderated_board_filter(user, board)
    if scope == EVERYTHING:
        return EVERYTHING, ()
    return (f"((({published}) or ({author} = ?{own_extra})) and ({open_board(board)}"
            f" or {board} in (select board_id from board_members where user_id = ?))"
            f" or {scope})", (user.id, user.id, *params))


def post_filter(user: User | None, posts: str = "posts", threads: str = "threads",
                tombstones: bool = False) -> Filter:
    """SQL condition on `posts` joined with `threads`: the posts this user may see in a list.

    Pending, rejected and hidden posts, and those of a pending thread, exist only for their
    author and the board's moderators. Tombstones (deleted posts) are left out unless
    `tombstones` (a thread page shows where they stood; their text is decided by can()).
    """
    visible, params = _public_or_own(user, published_post(posts, threads), f"{posts}.author_id",
                                     f"{threads}.board_id")
    if not tombstones:
        visible = f"({visible} and {posts}.deleted_at is null)"
    return visible, params


def attachment_filter(user: User | None, posts: str = "posts",
                      threads: str = "threads") -> Filter:
    """SQL condition on `posts` joined with `threads`: the posts whose files this user may see
    (can "see_attachments"): those they may see, a deleted one's for its board's moderators."""
    visible, params = post_filter(user, posts, threads, tombstones=True)
    scope, scope_params = moderated_board_filter(user, f"{threads}.board_id")
    return (f"({visible} and ({posts}.deleted_at is null or {scope}))",
            (*params, *scope_params))


def thread_filter(user: User | None, threads: str = "threads") -> Filter:
    """SQL condition on `threads`: the threads this user may see (a pending one: its author and
    its board's moderators)."""
    return _public_or_own(user, published_thread(threads), f"{threads}.author_id",
                          f"{threads}.board_id")


def finding_filter(user: User | None, findings: str = "findings") -> Filter:
    """SQL condition on `findings`: those this user may see in a list, page or export.

    As posts: pending and refused findings exist only for their author and the city's
    moderators; deleted ones only for moderators (their history stays).
    """
    return _public_or_own(user, published_finding(findings), f"{findings}.author_id",
                          f"{findings}.board_id", f" and {findings}.deleted_at is null")


def post_queue_filter(user: User | None, posts: str = "posts",
                      threads: str = "threads") -> Filter:
    """SQL on `posts` joined with `threads`: posts waiting for this moderator's decision
    (pending, flagged and not yet looked at, or public with an edit waiting), in their boards.
    The queue and its count."""
    scope, params = moderated_board_filter(user, f"{threads}.board_id")
    return (f"(({posts}.status = 'pending' or {posts}.id in"
            " (select post_id from flags where resolved_at is null)"
            f" or ({posts}.status = 'published' and {posts}.id in"
            " (select post_id from post_revisions where state = 'pending')))"
            f" and {posts}.deleted_at is null and {scope})", params)


def finding_queue_filter(user: User | None, findings: str = "findings") -> Filter:
    """SQL on `findings`: findings waiting for this moderator's decision, in their cities."""
    scope, params = moderated_board_filter(user, f"{findings}.board_id")
    return (f"({findings}.review = 'pending' and {findings}.deleted_at is null and {scope})",
            params)


def finding_correction_queue_filter(user: User | None, findings: str = "findings") -> Filter:
    """SQL on `findings`: public findings whose correction waits for this moderator."""
    scope, params = moderated_board_filter(user, f"{findings}.board_id")
    return (f"({findings}.review = 'published' and {findings}.deleted_at is null and {scope}"
            f" and {findings}.id in (select finding_id from finding_revisions"
            " where state = 'pending'))", params)


def publication_status(user: User, board_id: int, board_mode: str,
                       trust_threshold: int) -> str:
    """'published' or 'pending' for a new post or thread by `user` in a board.

    Untrusted members always wait, whatever their post holds (links, later attachments).
    """
    if user.moderates(board_id):
        return "published"
    if board_mode == "a-priori" or not user.is_trusted(trust_threshold):
        return "pending"
    return "published"


def _board_of(target: Any) -> int:
    return target.board_id if hasattr(target, "board_id") else target.id


def _moderates(user: User | None, target: Any) -> TypeGuard[User]:
    return user is not None and user.moderates(_board_of(target))


def _read_board(user: User | None, target: Any) -> bool:
    """Whether `user` may read the board of `target` (a post, thread, finding or the board
    itself): any open board; a closed one for its members and moderators only."""
    if not target.board_closed:
        return True
    return user is not None and (_moderates(user, target)
                                 or _board_of(target) in user.member_boards)


def _active(user: User | None) -> TypeGuard[User]:
    """A member who may write: logged in and not suspended or banned."""
    return user is not None and not user.is_suspended


def _see_thread(user: User | None, thread: Any) -> bool:
    if not _read_board(user, thread):
        return False
    if thread.status == "published":
        return True
    return user is not None and (user.id == thread.author_id or _moderates(user, thread))


def _see_post(user: User | None, post: Any) -> bool:
    if not _read_board(user, post):
        return False
    if post.status == "published" and not post.hidden and post.thread_status == "published":
        return True
    return user is not None and (user.id == post.author_id or _moderates(user, post))


def _change_own_post(user: User | None, post: Any) -> bool:
    if not _active(user) or post.is_deleted or not _see_post(user, post):
        return False
    if _moderates(user, post):
        return True
    return user.id == post.author_id and not post.thread_locked


def _reply(user: User | None, thread: Any) -> bool:
    if not _active(user) or not _see_thread(user, thread) or thread.status != "published":
        return False
    return not thread.locked or _moderates(user, thread)


def _rename_thread(user: User | None, thread: Any) -> bool:
    """Its board's moderators, whatever became of its first post (a title can name someone);
    its author only while the thread is not public: a public title changed by its author
    would skip moderation."""
    if not _active(user) or not _see_thread(user, thread):
        return False
    return _moderates(user, thread) or (
        user.id == thread.author_id and thread.status != "published" and not thread.locked)


def _see_finding(user: User | None, finding: Any) -> bool:
    if not _read_board(user, finding):
        return False
    if finding.is_public:
        return True
    if user is None:
        return False
    return _moderates(user, finding) or (user.id == finding.author_id and not finding.is_deleted)


def _change_finding(user: User | None, finding: Any) -> bool:
    """Its author corrects or withdraws it, the city's moderators too."""
    return (_active(user) and not finding.is_deleted and _see_finding(user, finding)
            and (user.id == finding.author_id or _moderates(user, finding)))


def _flag(user: User | None, post: Any) -> bool:
    return (_active(user) and user.id != post.author_id and post.status == "published"
            and not post.is_deleted and _see_post(user, post))


RULES: dict[Action, Rule] = {
    "see_thread": _see_thread,
    "see_post": _see_post,
    "see_deleted_text": _moderates,
    "see_revisions": lambda user, post: _see_post(user, post) and (
        not post.is_deleted or _moderates(user, post)),
    # A post's files: as its text (a deleted post's only for its board's moderators).
    "see_attachments": lambda user, post: _see_post(user, post) and (
        not post.is_deleted or _moderates(user, post)),
    "reply": _reply,
    "rename_thread": _rename_thread,
    "start_thread": lambda user, board: _active(user) and (
        board is None or _read_board(user, board)),
    "see_board": _read_board,
    # A closed board's members: its moderators add and remove them.
    "manage_members": lambda user, board: _active(user) and _moderates(user, board),
    "edit_post": _change_own_post,
    "delete_post": _change_own_post,
    "flag_post": _flag,
    "moderate": lambda user, target: _active(user) and _moderates(user, target),
    "moderate_any": lambda user, target: _active(user) and user.moderates_any,
    "sanction": lambda user, member: _active(user) and user.is_moderator and (
        user.is_admin or not member.holds_moderator_role) and user.id != member.id,
    "see_finding": _see_finding,
    "propose_finding": lambda user, board: _active(user) and board.is_city and _read_board(
        user, board),
    "edit_finding": _change_finding,
    "delete_finding": _change_finding,
    "manage_kinds": lambda user, target: user is not None and user.is_admin,
    "manage_boards": lambda user, target: user is not None and user.is_admin,
    # Versions never public (waiting, refused, corrected), refusal reasons, edits waiting:
    # for the item's author and its moderators only (a post or a finding).
    "see_private_versions": lambda user, item: _author_or_moderator(user, item),
    "purge": lambda user, item: _active(user) and _moderates(user, item),
}


def can(user: User | None, action: Action, target: Any = None) -> bool:
    """Whether `user` (None for an anonymous reader) may do `action` on `target`."""
    return RULES[action](user, target)


def _author_or_moderator(user: User | None, item: Any) -> bool:
    return user is not None and (user.id == item.author_id or _moderates(user, item))


class PostState(NamedTuple):
    """All that post_controls reads of a post, for one reader: posts in the same state get the
    same controls (a page asks once per state, not once per post). A rule reading anything
    else of a post fails loudly here (AttributeError) rather than deciding on a partial copy.
    The rules only compare a post's author with the reader, so any other author is 0 here."""

    author_id: int  # the reader's id if they wrote it, else 0 (no member has id 0)
    board_id: int
    board_closed: bool
    status: str
    is_deleted: bool
    hidden: bool
    thread_status: str
    thread_locked: bool
    edit_pending: bool

    @classmethod
    def of(cls, post: Any, user: User | None) -> PostState:
        own = user is not None and post.author_id == user.id
        return cls(post.author_id if own else 0, post.board_id, post.board_closed, post.status,
                   post.is_deleted,
                   post.hidden, post.thread_status, post.thread_locked, post.edit_pending)


def post_controls(user: User | None, post: Any) -> tuple[str, ...]:
    """What `user` may see and do with `post` (a Post or its PostState) on a thread page, as
    names the post template reads.

    Readers with the same controls on a post version get the same rendered post (forum/
    fragments.py shares it between them), so the template must depend on nothing else of theirs.
    """
    shown = post.status == "published" and not post.is_deleted
    controls = (
        ("member", user is not None),
        ("own", user is not None and user.id == post.author_id),
        ("edit", can(user, "edit_post", post)),
        ("delete", can(user, "delete_post", post)),
        ("quote", shown and can(user, "start_thread")),
        ("record", shown and post.thread_status == "published" and not post.hidden
         and can(user, "start_thread")),
        ("flag", can(user, "flag_post", post)),
        ("restore", post.is_deleted and can(user, "moderate", post)),
        ("decide", post.status == "pending" and can(user, "moderate", post)),
        ("deleted_text", post.is_deleted and can(user, "see_deleted_text", post)),
        ("private_versions", post.edit_pending and can(user, "see_private_versions", post)),
        ("attachments", can(user, "see_attachments", post)),
    )
    return tuple(name for name, allowed in controls if allowed)


# Records requests (demandes CADA, models/requests.py): moderated like findings, never deleted.
# Kept together here, apart from the rules above.

def published_request(requests: str = "records_requests") -> str:
    """SQL on `records_requests`: approved, or published at once, in any board."""
    return f"({requests}.review = 'published')"


def public_request(requests: str = "records_requests") -> str:
    """SQL on `records_requests`: a request anyone may see: published, in an open board."""
    return f"({published_request(requests)} and {open_board(f'{requests}.board_id')})"


def request_filter(user: User | None, requests: str = "records_requests") -> Filter:
    """SQL condition on `records_requests`: those this user may see in a list, page or export
    (a pending or refused one: its author and the city's moderators)."""
    return _public_or_own(user, published_request(requests), f"{requests}.author_id",
                          f"{requests}.board_id")


def request_queue_filter(user: User | None, requests: str = "records_requests") -> Filter:
    """SQL on `records_requests`: requests waiting for this moderator's decision."""
    scope, params = moderated_board_filter(user, f"{requests}.board_id")
    return f"({requests}.review = 'pending' and {scope})", params


def _see_request(user: User | None, request: Any) -> bool:
    return _read_board(user, request) and (request.is_public
                                           or _author_or_moderator(user, request))


REQUEST_RULES: dict[Action, Rule] = {
    "see_request": _see_request,
    "record_request": lambda user, board: _active(user) and board.is_city,
    # Its requester records what became of it, and the city's moderators; not once refused.
    "update_request": lambda user, request: (
        _active(user) and request.review != "rejected" and _see_request(user, request)
        and (user.id == request.author_id or _moderates(user, request))),
}
RULES.update(REQUEST_RULES)
