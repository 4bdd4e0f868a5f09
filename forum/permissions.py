"""can(user, action, target): the one place for who may see or do what. Pure, no I/O."""
from __future__ import annotations

from typing import Any

# `user` is a models.users.User or None (anonymous reader); targets are model dataclasses.


def post_filter(user: Any) -> tuple[str, tuple]:
    """SQL condition on `posts` selecting the posts this user may see in a list."""
    if user is not None and user.is_moderator:
        return "1", ()
    if user is not None:
        return "(posts.status = 'published' or posts.author_id = ?)", (user.id,)
    return "posts.status = 'published'", ()


def _see_thread(user: Any, thread: Any) -> bool:
    if thread.status == "published":
        return True
    return user is not None and (user.is_moderator or user.id == thread.author_id)


def _see_post(user: Any, post: Any) -> bool:
    if post.status == "published":
        return True
    return user is not None and (user.is_moderator or user.id == post.author_id)


def _own_live_post(user: Any, post: Any) -> bool:
    return user is not None and not post.is_deleted and _see_post(user, post) and (
        user.id == post.author_id or user.is_moderator)


def _reply(user: Any, thread: Any) -> bool:
    if user is None or not _see_thread(user, thread):
        return False
    return not thread.locked or user.is_moderator


RULES = {
    "see_thread": _see_thread,
    "see_post": _see_post,
    "see_deleted_text": lambda user, post: user is not None and user.is_moderator,
    "see_revisions": lambda user, post: _see_post(user, post) and (
        not post.is_deleted or (user is not None and user.is_moderator)),
    "reply": _reply,
    "start_thread": lambda user, board: user is not None,
    "edit_post": lambda user, post: _own_live_post(user, post) and (
        not post.thread_locked or user.is_moderator),
    "delete_post": _own_live_post,
    "manage_boards": lambda user, target: user is not None and user.is_admin,
}


def can(user: Any, action: str, target: Any = None) -> bool:
    """Whether `user` (None for an anonymous reader) may do `action` on `target`."""
    return RULES[action](user, target)
