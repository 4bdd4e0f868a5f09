"""The whole URL map, pages and API; every route is named."""
from __future__ import annotations

from aiohttp import web

from forum.templating import STATIC
from forum.views import accounts, admin, boards, posts, threads


def setup(app: web.Application) -> None:
    add = app.router.add_route
    get = app.router.add_get  # GET and HEAD
    # Reading
    get("/", boards.index, name="index")
    get("/b/{slug}", boards.show, name="board")
    get("/t/{id}", threads.show, name="thread")
    get("/p/{id}", posts.permalink, name="post")
    get("/p/{id}/revisions", posts.revisions, name="post_revisions")
    get("/u/{name}", accounts.profile, name="profile")
    # Writing (GET shows the form, POST previews or publishes)
    add("*", "/b/{slug}/new", threads.new_thread, name="new_thread")
    add("*", "/t/{id}/reply", threads.reply, name="reply")
    add("*", "/p/{id}/edit", posts.edit, name="edit_post")
    add("*", "/p/{id}/delete", posts.delete, name="delete_post")
    # Accounts
    add("*", "/register", accounts.register, name="register")
    add("*", "/login", accounts.login, name="login")
    add("POST", "/logout", accounts.logout, name="logout")
    add("*", "/language", accounts.language, name="language")
    # Administration
    add("*", "/admin/boards", admin.board_list, name="admin_boards")
    add("*", "/admin/boards/{slug}", admin.board_edit, name="admin_board")
    app.router.add_static("/static", STATIC, name="static")
