"""The post or thread an action names, read and checked the same way for the pages and the API:
404 for whoever may not see it (nobody learns it exists), 403 for whoever sees it but may not
do this to it. Who may do what is decided by permissions.can; this module only asks in order.

The API calls them inside the action's transaction, so that the object checked is the one acted
on; the pages call them before showing a form too.
"""
from __future__ import annotations

from typing import TypeVar

from forum.db import Conn
from forum.errors import Forbidden, NotFound
from forum.i18n import N_
from forum.models import posts, threads
from forum.models.posts import Post
from forum.models.threads import Thread
from forum.models.users import User
from forum.permissions import Action, can

T = TypeVar("T", Post, Thread)

NOT_A_MODERATOR = N_("You do not moderate this board.")


def _checked(user: User, seen: Action, action: Action, target: T, refusal: str) -> T:
    """`target` if `user` may see it (else 404) and do `action` to it (else 403, `refusal`)."""
    if not can(user, seen, target):
        raise NotFound()
    if not can(user, action, target):
        raise Forbidden(refusal)
    return target


async def post_to_moderate(conn: Conn, post_id: int, user: User) -> Post:
    """A post this moderator may decide on (approve, refuse, restore, dismiss its flags)."""
    return _checked(user, "see_post", "moderate", await posts.get(conn, post_id),
                    NOT_A_MODERATOR)


async def post_to_flag(conn: Conn, post_id: int, user: User) -> Post:
    """A post this member may report to the moderators."""
    return _checked(user, "see_post", "flag_post", await posts.get(conn, post_id),
                    N_("You cannot flag this message."))


async def post_to_purge(conn: Conn, post_id: int, user: User) -> Post:
    """A post one of whose versions this moderator may erase; 404 for anyone else."""
    post = await posts.get(conn, post_id)
    if not can(user, "purge", post):
        raise NotFound()
    return post


async def thread_to_moderate(conn: Conn, thread_id: int, user: User) -> Thread:
    """A thread this moderator may lock, pin, hide or move."""
    return _checked(user, "see_thread", "moderate", await threads.get(conn, thread_id),
                    NOT_A_MODERATOR)


async def thread_to_rename(conn: Conn, thread_id: int, user: User) -> Thread:
    """A thread whose title this member may change (its moderators; its author while the
    thread is not public)."""
    return _checked(user, "see_thread", "rename_thread", await threads.get(conn, thread_id),
                    N_("You cannot rename this thread."))
