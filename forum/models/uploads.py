"""Uploaded files and the posts they are attached to (tables uploads, post_attachments)."""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from typing import Any
from urllib.parse import quote

from forum import clock, permissions
from forum.db import Conn, Row, Transaction
from forum.errors import Invalid, NotFound, TooLarge, UnknownReference
from forum.i18n import N_
from forum.models import existing
from forum.models.users import User
from forum.uploads.kinds import KINDS
from forum.uploads.sizes import INLINE_WIDTH
from forum.uploads.text import NOTICE_PARAMS
from forum.uploads.text import notice as text_notice

# What a file carried and lost before it was stored (codes in uploads.removed), told to the
# member who sent it.
REMOVED_LABELS = {
    "gps": N_("GPS position"),
    "camera": N_("camera make and model"),
    "serial": N_("serial numbers"),
    "dates": N_("dates"),
    "author": N_("author's name"),
    "company": N_("company"),
    "software": N_("software used"),
    "exif": N_("other photo data (EXIF)"),
    "xmp": N_("XMP metadata"),
    "iptc": N_("IPTC metadata"),
    "icc": N_("colour profile (converted to sRGB)"),
    "comments": N_("comments"),
    "text_chunks": N_("text fields of the image"),
    "properties": N_("document properties (title, subject, keywords…)"),
    "revisions": N_("revision history"),
    "paths": N_("file paths of the author's computer"),
    "printer": N_("printer name"),
    "thumbnail": N_("embedded thumbnail"),
    "signatures": N_("digital signatures (they name the signer)"),
    "javascript": N_("JavaScript"),
    "actions": N_("automatic actions"),
    "embedded_files": N_("embedded files"),
    "embedded_objects": N_("embedded objects (OLE and others: they name their author and "
                           "computer)"),
    "custom_xml": N_("custom XML data"),
    "connections": N_("data connections (server, database and user names)"),
    "external_links": N_("links to files on the author's computer or network"),
    "settings": N_("application settings (printer, data sources, windows)"),
    "jpeg2000": N_("JPEG 2000 pictures, stored again without what they carried"),
    "unreadable_pictures": N_("pictures in a format that cannot be cleaned (an old metafile, or"
                              " the stand-in of an embedded object: its application draws it"
                              " again)"),
    "annotation_appearances": N_("the look of annotations (it may show their author's name;"
                                 " PDF readers draw it again)"),
}


@dataclass(frozen=True)
class Size:
    """A smaller copy of an image (table upload_sizes), served at /files/{id}/sizes/{width}."""

    upload_id: int
    width: int
    height: int

    @property
    def url(self) -> str:
        return f"/files/{self.upload_id}/sizes/{self.width}"


@dataclass(frozen=True)
class StoredFile:
    """What is kept of a cleaned file, wherever it belongs (a member's upload, a drop's file)."""

    sha256: str
    filename: str
    kind: str
    content_type: str
    size: int
    width: int | None
    height: int | None
    thumbnail_sha256: str | None
    removed: tuple[str, ...]  # codes of REMOVED_LABELS

    @staticmethod
    def columns(row: Row) -> dict[str, Any]:
        """The stored file's fields of a row (files, drop_files), as keyword arguments."""
        return {"sha256": row["sha256"], "filename": row["filename"], "kind": row["kind"],
                "content_type": row["content_type"], "size": row["size"],
                "width": row["width"], "height": row["height"],
                "thumbnail_sha256": row["thumbnail_sha256"],
                "removed": tuple(code for code in row["removed"].split(",") if code)}

    @property
    def removed_labels(self) -> list[str]:
        """What was removed, as msgids in a stable order (gettext them where shown)."""
        return [label for code, label in REMOVED_LABELS.items() if code in self.removed]


@dataclass(frozen=True)
class Upload(StoredFile):
    id: int
    owner_id: int
    created_at: str
    text_status: str = "none"  # what became of its text (0021_documents.sql)
    text_note: str = ""  # why its reading stopped
    # Its smaller copies, smallest first (0026_photos.sql); loaded by for_posts and with_sizes.
    sizes: tuple[Size, ...] = ()

    @classmethod
    def from_row(cls, row: Row) -> Upload:
        return cls(**StoredFile.columns(row), id=row["id"], owner_id=row["owner_id"],
                   created_at=row["created_at"], text_status=row["text_status"],
                   text_note=row["text_note"])

    @property
    def is_image(self) -> bool:
        return self.content_type.startswith("image/")

    @property
    def url(self) -> str:
        """Where the file is served; its name is part of it, so a saved copy keeps it."""
        return f"/files/{self.id}/{quote(self.filename, safe='')}"

    @property
    def is_photo(self) -> bool:
        """An image shown in its post, with its smaller copies (made at upload or backfilled)."""
        return self.is_image and bool(self.sizes) and bool(self.width and self.height)

    @property
    def srcset(self) -> str:
        return ", ".join(f"{size.url} {size.width}w" for size in self.sizes)

    @property
    def inline(self) -> Size:
        """The copy a post shows at first: the largest up to images.INLINE_WIDTH."""
        fitting = [size for size in self.sizes if size.width <= INLINE_WIDTH]
        return fitting[-1] if fitting else self.sizes[0]

    @property
    def alt(self) -> str:
        """Its text alternative: the name it was given, without its extension."""
        return self.filename.rpartition(".")[0] or self.filename

    @property
    def thumbnail_url(self) -> str | None:
        return f"/files/{self.id}/thumb" if self.thumbnail_sha256 else None

    @property
    def kind_label(self) -> str:
        return KINDS[self.kind].label if self.kind in KINDS else self.kind.upper()

    @property
    def text_notice(self) -> str | None:
        """Why its text cannot be searched (a msgid, with text.NOTICE_PARAMS), if it cannot."""
        return text_notice(self.text_status, self.text_note)

    @property
    def text_notice_params(self) -> dict[str, int]:
        return dict(NOTICE_PARAMS)

    @property
    def markdown(self) -> str:
        """How to show an image in a post's text."""
        alt = self.filename.replace("\\", "\\\\").replace("[", "\\[").replace("]", "\\]")
        return f"![{alt}]({self.url})"


COLUMNS = ("id, owner_id, sha256, filename, kind, content_type, size, width, height,"
           " thumbnail_sha256, removed, created_at, text_status, text_note")
PREFIXED = ", ".join("uploads." + column for column in COLUMNS.split(", "))


async def lock_contents(tx: Transaction, shas: Iterable[str | None]) -> None:
    """Until the commit, no other server's transaction records or removes these contents:
    every reference is written, and every removal decided, under them (see unused)."""
    await tx.lock(f"files:{sha}" for sha in shas if sha)


async def insert(tx: Transaction, owner_id: int, sha256: str, filename: str, kind: str,
                 content_type: str, size: int, width: int | None, height: int | None,
                 thumbnail_sha256: str | None, removed: list[str]) -> Upload:
    await lock_contents(tx, (sha256, thumbnail_sha256))
    row = await tx.one(
        "insert into uploads (owner_id, sha256, filename, kind, content_type, size, width,"
        " height, thumbnail_sha256, removed, created_at) values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
        f" returning {COLUMNS}",
        (owner_id, sha256, filename, kind, content_type, size, width, height, thumbnail_sha256,
         ",".join(removed), clock.now()))
    assert row is not None
    return Upload.from_row(row)


async def get(conn: Conn, upload_id: int) -> Upload:
    row = await conn.one(f"select {COLUMNS} from uploads where id = ?", (upload_id,))
    upload = Upload.from_row(existing(row, NotFound("This file does not exist.")))
    return (await with_sizes(conn, [upload]))[0]


async def with_sizes(conn: Conn, files: list[Upload]) -> list[Upload]:
    """The same files, each with its smaller copies."""
    images = [f.id for f in files if f.is_image]
    if not images:
        return files
    marks = ", ".join("?" * len(images))
    rows = await conn.all(f"select upload_id, width, height from upload_sizes"
                          f" where upload_id in ({marks}) order by upload_id, width", images)
    found: dict[int, list[Size]] = {}
    for row in rows:
        found.setdefault(row[0], []).append(Size(row[0], row[1], row[2]))
    return [replace(f, sizes=tuple(found[f.id])) if f.id in found else f for f in files]


async def size_sha(conn: Conn, upload_id: int, width: int) -> str | None:
    """The stored content of one smaller copy, None if there is none of that width."""
    return await conn.value("select sha256 from upload_sizes where upload_id = ? and width = ?",
                            (upload_id, width))


async def add_sizes(tx: Transaction, upload_id: int, sizes: list[tuple[int, int, str]]) -> None:
    """Record an image's smaller copies (width, height, sha256), already stored."""
    await lock_contents(tx, [sha for _w, _h, sha in sizes])
    for width, height, sha in sizes:
        await tx.execute("insert or ignore into upload_sizes (upload_id, width, height, sha256)"
                         " values (?, ?, ?, ?)", (upload_id, width, height, sha))


async def needing_sizes(conn: Conn, after: int, limit: int) -> list[Upload]:
    """Images stored before their smaller copies were made (0026_photos.sql), by id."""
    rows = await conn.all(
        f"select {COLUMNS} from uploads where id > ? and content_type like 'image/%'"
        " and not exists (select 1 from upload_sizes where upload_id = uploads.id)"
        " order by id limit ?", (after, limit))
    return [Upload.from_row(row) for row in rows]


async def stored_shas(conn: Conn, upload_ids: list[int]) -> set[str]:
    """Every stored content of these uploads: the file, its thumbnail, its smaller copies."""
    shas: set[str] = set()
    for upload_id in upload_ids:
        rows = await conn.all(
            "select sha256 from uploads where id = ? union select thumbnail_sha256 from uploads"
            " where id = ? and thumbnail_sha256 is not null"
            " union select sha256 from upload_sizes where upload_id = ?",
            (upload_id, upload_id, upload_id))
        shas.update(row[0] for row in rows)
    return shas


async def post_of(conn: Conn, upload_id: int) -> int | None:
    """The post a file is attached to, None while it is attached to none."""
    return await conn.value("select post_id from post_attachments where upload_id = ?",
                            (upload_id,))


async def for_posts(conn: Conn, post_ids: list[int]) -> dict[int, list[Upload]]:
    """The files of several posts (one page of a thread), in their order."""
    if not post_ids:
        return {}
    marks = ", ".join("?" * len(post_ids))
    rows = await conn.all(
        f"select post_attachments.post_id, {PREFIXED}"
        " from post_attachments join uploads on uploads.id = post_attachments.upload_id"
        f" where post_attachments.post_id in ({marks})"
        " order by post_attachments.post_id, post_attachments.position", post_ids)
    files = await with_sizes(conn, [Upload.from_row(row) for row in rows])
    found: dict[int, list[Upload]] = {}
    for row, upload in zip(rows, files, strict=True):
        found.setdefault(row["post_id"], []).append(upload)
    return found


async def thread_photos(conn: Conn, thread_id: int, viewer: User | None) -> list[tuple[int, int]]:
    """(upload id, post id) of the photos of a thread this viewer may see, in reading order:
    the viewer page's previous and next (permissions.attachment_filter decides)."""
    visible, params = permissions.attachment_filter(viewer)
    rows = await conn.all(
        "select post_attachments.upload_id, posts.id from post_attachments"
        " join posts on posts.id = post_attachments.post_id"
        " join threads on threads.id = posts.thread_id"
        " join uploads on uploads.id = post_attachments.upload_id"
        f" where posts.thread_id = ? and {visible} and uploads.content_type like 'image/%'"
        " and exists (select 1 from upload_sizes where upload_id = uploads.id)"
        " order by posts.id, post_attachments.position", (thread_id, *params))
    return [(row[0], row[1]) for row in rows]


async def for_post(conn: Conn, post_id: int) -> list[Upload]:
    return (await for_posts(conn, [post_id])).get(post_id, [])


async def attachable(conn: Conn, actor_id: int, ids: list[int],
                     post_id: int | None = None) -> list[Upload]:
    """Of these ids, in their order, the files `actor_id` may give a post: those already on
    post_id (a moderator editing keeps the author's), and their own not attached anywhere.

    For a form shown again: anything else is left out silently, and refused on publishing.
    """
    if not ids:
        return []
    marks = ", ".join("?" * len(ids))
    rows = await conn.all(
        f"select {COLUMNS} from uploads where id in ({marks}) and (exists (select 1 from"
        " post_attachments where upload_id = uploads.id and post_id = ?) or (owner_id = ? and"
        " not exists (select 1 from post_attachments where upload_id = uploads.id)"
        # A records request's file belongs to it (models/requests.py): never to a post too.
        " and not exists (select 1 from request_files where upload_id = uploads.id)))",
        (*ids, post_id, actor_id))
    by_id = {row["id"]: Upload.from_row(row) for row in rows}
    return [by_id[i] for i in dict.fromkeys(ids) if i in by_id]


async def usage_since(conn: Conn, owner_id: int, since: str) -> tuple[int, int]:
    """(files, bytes) a member uploaded since a time: their daily quota."""
    row = await conn.one("select count(*), coalesce(sum(size), 0) from uploads"
                         " where owner_id = ? and created_at >= ?", (owner_id, since))
    assert row is not None
    return int(row[0]), int(row[1])


async def attach(tx: Transaction, post_id: int, actor_id: int, ids: list[int],
                 max_files: int, max_bytes: int) -> None:
    """Make `ids` the post's files, in this order.

    A file is attached by its owner (a moderator editing keeps the author's files), to one post
    only; unknown, foreign and already attached ids are one error, so nobody learns which exist.
    """
    ids = list(dict.fromkeys(ids))
    if len(ids) > max_files:
        raise Invalid("At most %(max)s files per message.", field="attachments", max=max_files)
    found = await attachable(tx, actor_id, ids, post_id)
    if len(found) != len(ids):
        raise UnknownReference("Some of these files do not exist or are not yours to attach.",
                      field="attachments")
    if sum(upload.size for upload in found) > max_bytes:
        raise TooLarge("The files of one message make at most %(max)s MB.",
                       field="attachments", max=max_bytes // (1024 * 1024))
    # Files left out are detached: no longer attached to anything, they are purged in time.
    await tx.execute("delete from post_attachments where post_id = ?", (post_id,))
    # The thread's pages, and the watch pages citing these files, name them.
    tx.changed("thread", await tx.value("select thread_id from posts where id = ?", (post_id,)))
    for position, upload_id in enumerate(ids):
        await tx.execute(
            "insert into post_attachments (post_id, upload_id, position) values (?, ?, ?)",
            (post_id, upload_id, position))


async def orphans(conn: Conn, before: str) -> list[Upload]:
    """Files never attached to a post, uploaded before a time."""
    rows = await conn.all(
        f"select {COLUMNS} from uploads where created_at < ? and not exists"
        " (select 1 from post_attachments where upload_id = uploads.id)"
        # A finding still names a file taken off its post (no longer public): its row stays.
        " and not exists (select 1 from finding_sources where upload_id = uploads.id)"
        # Nor the letters and documents of records requests (models/requests.py).
        " and not exists (select 1 from request_files where upload_id = uploads.id)"
        # Nor the files kept with a draft: they come back with its text (models/drafts.py).
        " and not exists (select 1 from draft_attachments where upload_id = uploads.id)",
        (before,))
    return [Upload.from_row(row) for row in rows]


async def delete(tx: Transaction, upload_ids: list[int]) -> None:
    for upload_id in upload_ids:
        await tx.execute("delete from uploads where id = ?", (upload_id,))


async def unused(tx: Transaction, shas: set[str]) -> set[str]:
    """Of these contents, those no upload (file or thumbnail) refers to any more: safe to
    remove until the commit. Under their locks: another server recording the same bytes at
    this moment has either committed (its row is seen) or waits for this commit (and puts
    the file back: the callers place files after recording them)."""
    await lock_contents(tx, shas)
    still = set()
    for sha in shas:
        if await tx.value("select 1 from uploads where sha256 = ? or thumbnail_sha256 = ?"
                          " union all select 1 from upload_sizes where sha256 = ?",
                          (sha, sha, sha)):
            still.add(sha)
    return shas - still
