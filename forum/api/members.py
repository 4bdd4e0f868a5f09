"""Members in JSON: a profile as its page shows it, and moderators' decisions about a member
(warn, suspend, ban, lift; grant or withdraw trust), through models/moderation.py as the
profile's form does."""
from __future__ import annotations

from aiohttp import web

from forum import keys
from forum.api import json_body, require_writer, text_field
from forum.db import Conn
from forum.errors import NotFound
from forum.models import moderation, posts, users
from forum.models.users import User
from forum.permissions import can
from forum.text import PSEUDONYM_MAX

RECENT = 20  # posts listed, as on the profile page


def _name(request: web.Request) -> str:
    name = request.match_info["name"]
    if not name or len(name) > PSEUDONYM_MAX:
        raise NotFound("This member does not exist.")
    return name


async def _member(conn: Conn, request: web.Request) -> User:
    """The member named in the path, spelt as registered (as the page: 404 otherwise)."""
    name = _name(request)
    member = await users.get_by_name(conn, name)
    if member.name != name:
        raise NotFound("This member does not exist.")
    return member


async def show_member(request: web.Request) -> web.Response:
    """GET /api/v1/members/{name}: the public profile; sanctions for those who may decide."""
    viewer = request.get(keys.USER)
    async with request.app[keys.DB].read() as conn:
        member = await _member(conn, request)
        recent = await posts.list_for_author(conn, member.id, viewer, limit=RECENT)
        # Their reasons may be private: only for those who may sanction this member.
        sanctions = (await moderation.sanctions_of(conn, member.id)
                     if can(viewer, "sanction", member) else [])
    return web.json_response({
        "name": member.name, "role": member.role, "created_at": member.created_at,
        "post_count": member.post_count,
        "posts": [{"id": post.id, "thread_id": post.thread_id,
                   "thread_title": post.thread_title, "body_html": post.body_html,
                   "status": post.status, "created_at": post.created_at} for post in recent],
        "sanctions": [{"kind": item.kind, "until": item.until, "reason": item.reason,
                       "moderator": item.moderator_name, "created_at": item.created_at}
                      for item in sanctions]})


async def decide(request: web.Request) -> web.Response:
    """POST /api/v1/members/{name}/decisions {kind, reason?, until?, private?}: 204; the member
    is told, the journal records it (its reason unless private)."""
    user = require_writer(request)
    data = await json_body(request, "MemberDecisionInput")
    async with request.app[keys.DB].transaction() as tx:
        member = await _member(tx, request)
        await moderation.decide_on_member(
            tx, member, user, text_field(data, "kind"), text_field(data, "reason"),
            text_field(data, "until"), private=data.get("private", False))
    return web.Response(status=204)
