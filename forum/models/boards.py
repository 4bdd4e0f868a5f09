"""City boards: the home of each town's threads."""
from __future__ import annotations

from dataclasses import dataclass

from forum import clock, permissions
from forum.cache import ALL
from forum.db import Conn, Row, Transaction
from forum.errors import Conflict, Invalid, NotFound
from forum.models import existing
from forum.models.users import User
from forum.permissions import can
from forum.text import clean_input, clean_line, pseudonym_key, slugify

NAME_MAX, REGION_MAX, DESCRIPTION_MAX = 80, 120, 1000
MODERATION_MODES = ("a-priori", "a-posteriori")


@dataclass(frozen=True)
class Board:
    id: int
    slug: str
    name: str
    region: str
    description: str
    thread_count: int
    post_count: int
    last_post_at: str | None
    moderation_mode: str = "a-posteriori"
    is_city: bool = True  # a city has a watch page and findings; a national board does not
    closed: bool = False  # read by its members and moderators only (issue 17)

    @property
    def board_closed(self) -> bool:
        """As posts, threads and findings name it (permissions reads it on any of them)."""
        return self.closed

    @classmethod
    def from_row(cls, row: Row) -> Board:
        return cls(row["id"], row["slug"], row["name"], row["region"], row["description"],
                   row["thread_count"], row["post_count"], row["last_post_at"],
                   row["moderation_mode"], bool(row["is_city"]), bool(row["closed"]))


COLUMNS = ("id, slug, name, region, description, thread_count, post_count, last_post_at,"
           " moderation_mode, is_city, closed")


def check_mode(mode: str) -> str:
    if mode not in MODERATION_MODES:
        raise Invalid("Unknown moderation mode.", field="moderation_mode")
    return mode


async def list_all(conn: Conn) -> list[Board]:
    """Every board, closed ones included (administration, the command line)."""
    rows = await conn.all(f"select {COLUMNS} from boards order by position, name")
    return [Board.from_row(row) for row in rows]


async def list_readable(conn: Conn, viewer: User | None) -> list[Board]:
    """The boards `viewer` may read, in the order of the home page (closed ones only for their
    members and moderators)."""
    return [board for board in await list_all(conn) if can(viewer, "see_board", board)]


async def get(conn: Conn, board_id: int) -> Board:
    row = await conn.one(f"select {COLUMNS} from boards where id = ?", (board_id,))
    return Board.from_row(existing(row, NotFound("This board does not exist.")))


async def created_at(conn: Conn, board_id: int) -> str:
    """When the board was opened (an empty feed's date)."""
    return str(await conn.value("select created_at from boards where id = ?", (board_id,)))


async def get_by_slug(conn: Conn, slug: str) -> Board:
    """The board with this slug, or with this former slug (the caller may redirect)."""
    row = await conn.one(f"select {COLUMNS} from boards where slug = ?", (slug,))
    if row is None:
        row = await conn.one(
            f"select {COLUMNS} from boards where id ="
            " (select board_id from board_aliases where slug = ?)", (slug,))
    return Board.from_row(existing(row, NotFound("This board does not exist.")))


async def get_readable(conn: Conn, slug: str, viewer: User | None) -> Board:
    """As get_by_slug, for a reader: a closed board they may not read does not exist."""
    board = await get_by_slug(conn, slug)
    if not can(viewer, "see_board", board):
        raise NotFound("This board does not exist.")
    return board


def _clean(name: str, slug: str, region: str, description: str) -> tuple[str, str, str, str]:
    name = clean_line(name)
    if not name or len(name) > NAME_MAX:
        raise Invalid("A board name has 1 to 80 characters.", field="name")
    slug = slugify(slug or name)
    if not slug or len(slug) > NAME_MAX:
        raise Invalid("The address of a board uses letters a-z, digits and dashes.", field="slug")
    region = clean_line(region)[:REGION_MAX]
    description = clean_input(description).strip()  # also from the command line
    if len(description) > DESCRIPTION_MAX:
        raise Invalid("The description is too long.", field="description")
    return name, slug, region, description


async def create(tx: Transaction, name: str, slug: str = "", region: str = "",
                 description: str = "", moderation_mode: str = "a-posteriori",
                 is_city: bool = True, closed: bool = False) -> Board:
    name, slug, region, description = _clean(name, slug, region, description)
    check_mode(moderation_mode)
    taken = await tx.value(
        "select 1 from boards where slug = ? union select 1 from board_aliases where slug = ?",
        (slug, slug))
    if taken:
        raise Conflict("A board already uses this address.", field="slug")
    position = await tx.value("select coalesce(max(position), 0) + 1 from boards")
    board_id = await tx.insert(
        "insert into boards (slug, name, region, description, moderation_mode, is_city,"
        " closed, position, created_at) values (?, ?, ?, ?, ?, ?, ?, ?, ?) returning id",
        (slug, name, region, description, moderation_mode, int(is_city), int(closed),
         position, clock.now()))
    tx.changed("boards", None)
    tx.changed("watch", None)
    return await get(tx, board_id)


async def update(tx: Transaction, board: Board, name: str, slug: str = "", region: str = "",
                 description: str = "", moderation_mode: str = "",
                 is_city: bool | None = None, closed: bool | None = None) -> Board:
    """Rename or describe a board; a former slug keeps redirecting to it."""
    name, slug, region, description = _clean(name, slug or board.slug, region, description)
    moderation_mode = check_mode(moderation_mode or board.moderation_mode)
    if slug != board.slug:
        taken = await tx.value(
            "select 1 from boards where slug = ? union"
            " select 1 from board_aliases where slug = ? and board_id <> ?",
            (slug, slug, board.id))
        if taken:
            raise Conflict("A board already uses this address.", field="slug")
        await tx.execute("delete from board_aliases where slug = ?", (slug,))
        await tx.execute("insert into board_aliases (slug, board_id) values (?, ?)",
                         (board.slug, board.id))
    await tx.execute(
        "update boards set name = ?, slug = ?, region = ?, description = ?, moderation_mode = ?,"
        " is_city = ? where id = ?",
        (name, slug, region, description, moderation_mode,
         int(board.is_city if is_city is None else is_city), board.id))
    tx.changed("boards", None)
    tx.changed("watch", None)
    tx.changed("watch", board.id)
    tx.changed("board", board.id)
    tx.changed("board_meta", board.id)
    tx.changed("journal", None)  # its rows name the board
    if closed is not None:
        await set_closed(tx, board, closed)
    return await get(tx, board.id)


async def set_closed(tx: Transaction, board: Board, closed: bool) -> None:
    """Close a board (only its members and moderators read it then) or open it to everyone.

    Its threads, posts, files and findings leave (or join) every public page, feed, export and
    search at once: every cached page is dropped."""
    if await tx.update("update boards set closed = ? where id = ? and closed <> ?",
                       (int(closed), board.id, int(closed))):
        await recount_authors(tx, "threads.board_id = ?", board.id)
        tx.changed(*ALL)


async def recount_authors(tx: Transaction, scope: str, scope_id: int) -> None:
    """Count again the public posts of the authors of posts in `scope` (a condition on posts
    joined with threads, one parameter): a member's count, which anyone reads on their
    profile, leaves out closed boards."""
    await tx.execute(
        "update users set post_count = (select count(*) from posts join threads"
        " on threads.id = posts.thread_id where posts.author_id = users.id"
        f" and {permissions.public_post()}) where id in (select posts.author_id from posts"
        f" join threads on threads.id = posts.thread_id where {scope})", (scope_id,))


# Members of closed boards ----------------------------------------------------------------------

@dataclass(frozen=True)
class Member:
    name: str
    added_at: str


async def members(conn: Conn, board_id: int) -> list[Member]:
    """A closed board's members by pseudonym."""
    rows = await conn.all(
        "select users.name, board_members.added_at from board_members"
        " join users on users.id = board_members.user_id where board_members.board_id = ?"
        " order by users.name_key", (board_id,))
    return [Member(row[0], row[1]) for row in rows]


async def add_member(tx: Transaction, board: Board, name: str, moderator: User) -> str:
    """Let the member with this pseudonym read the board; their pseudonym as written."""
    row = await tx.one("select id, name from users where name_key = ?",
                       (pseudonym_key(clean_line(name)),))
    if row is None:
        raise NotFound("No member has this pseudonym.", field="name")
    added = await tx.update(
        "insert into board_members (board_id, user_id, added_by, added_at) values (?, ?, ?, ?)"
        " on conflict do nothing", (board.id, row[0], moderator.id, clock.now()))
    if not added:
        raise Conflict("%(name)s is already a member of this board.", field="name",
                       name=row[1])
    return str(row[1])


async def remove_member(tx: Transaction, board: Board, name: str) -> None:
    """Take a member out of the board's group (they no longer read it)."""
    if not await tx.update(
            "delete from board_members where board_id = ? and user_id ="
            " (select id from users where name_key = ?)",
            (board.id, pseudonym_key(clean_line(name)))):
        raise NotFound("This member is not in the board's group.", field="name")


# Moving a thread out of a closed board -------------------------------------------------------

@dataclass(frozen=True)
class Exposure:
    """What everyone may read once a thread leaves its closed board for an open one."""
    posts: int  # its public posts (pending ones still wait for a moderator)
    files: tuple[str, ...]  # the names of their files
    findings_elsewhere: int  # public findings of open boards citing them: their sources show
    findings_kept: int  # findings of the closed board drawn from them: they stay closed


async def exposure(conn: Conn, thread_id: int, board_id: int) -> Exposure:
    """What a move of this thread out of the closed board `board_id` would show."""
    shown = f"{permissions.shown_post()} and posts.deleted_at is null"
    count = await conn.value(
        f"select count(*) from posts where posts.thread_id = ? and {shown}", (thread_id,))
    files = await conn.all(
        "select uploads.filename from post_attachments"
        " join posts on posts.id = post_attachments.post_id"
        " join uploads on uploads.id = post_attachments.upload_id"
        f" where posts.thread_id = ? and {shown} order by posts.id, uploads.id", (thread_id,))
    cited = await conn.all(
        "select findings.board_id = ?, count(distinct findings.id) from finding_sources"
        " join findings on findings.id = finding_sources.finding_id"
        " where finding_sources.post_id in (select id from posts where thread_id = ?)"
        f" and {permissions.published_finding()} group by 1", (board_id, thread_id))
    by_kind = {bool(row[0]): int(row[1]) for row in cited}
    return Exposure(int(count), tuple(row[0] for row in files), by_kind.get(False, 0),
                    by_kind.get(True, 0))
