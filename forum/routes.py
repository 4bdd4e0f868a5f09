"""The whole URL map, pages and API; every route is named."""
from __future__ import annotations

from aiohttp import web

from forum.api import board_admin as api_board_admin
from forum.api import boards as api_boards
from forum.api import drafts as api_drafts
from forum.api import findings as api_findings
from forum.api import follows as api_follows
from forum.api import members as api_members
from forum.api import moderation as api_moderation
from forum.api import notifications as api_notifications
from forum.api import openapi
from forum.api import posts as api_posts
from forum.api import reads as api_reads
from forum.api import requests as api_requests
from forum.api import search as api_search
from forum.api import settings as api_settings
from forum.api import threads as api_threads
from forum.api import uploads as api_uploads
from forum.templating import STATIC
from forum.views import (
    accounts,
    admin,
    boards,
    drafts,
    drop_moderation,
    drops,
    exports,
    feeds,
    findings,
    health,
    invitations,
    moderation,
    notifications,
    own_data,
    passwords,
    photos,
    posts,
    request_exports,
    requests,
    search,
    settings,
    threads,
    two_factor,
    unread,
    unsubscribe,
    uploads,
    watch,
)


def setup(app: web.Application) -> None:
    add = app.router.add_route
    get = app.router.add_get  # GET and HEAD
    # Reading
    get("/", boards.index, name="index")
    get("/b/{slug}", boards.show, name="board")
    add("*", "/b/{slug}/members", boards.members, name="board_members")
    get("/t/{id}", threads.show, name="thread")
    get("/t/{id}/unread", unread.first_unread, name="thread_unread")  # the first new post
    add("POST", "/b/{slug}/read", unread.mark_board_read, name="mark_board_read")
    add("POST", "/read", unread.mark_all_read, name="mark_all_read")
    get("/p/{id}", posts.permalink, name="post")
    get("/p/{id}/revisions", posts.revisions, name="post_revisions")
    get("/u/{name}", accounts.profile, name="profile")
    get("/search", search.results, name="search")  # public posts only, never cached
    get("/feed.atom", feeds.site, name="feed_site")
    get("/b/{slug}/feed.atom", feeds.board, name="feed_board")
    get("/t/{id}/feed.atom", feeds.thread, name="feed_thread")
    # Writing (GET shows the form, POST previews or publishes)
    add("*", "/b/{slug}/new", threads.new_thread, name="new_thread")
    add("*", "/b/{slug}/new/draft", drafts.autosave, name="new_thread_draft")
    add("*", "/t/{id}/reply/draft", drafts.autosave, name="reply_draft")
    add("*", "/t/{id}/reply", threads.reply, name="reply")
    add("*", "/t/{id}/title", threads.rename, name="rename_thread")
    add("POST", "/follow/{kind:thread|board}/{id}", threads.follow, name="follow")
    add("*", "/p/{id}/edit", posts.edit, name="edit_post")
    add("*", "/p/{id}/delete", posts.delete, name="delete_post")
    # Attached files (the thumbnail's route first: no file name is "thumb", see uploads/names.py)
    get("/files/{id}/thumb", uploads.serve_thumbnail, name="file_thumbnail")
    get("/files/{id}/sizes/{width}", uploads.serve_size, name="file_size")
    get("/photos/{id}", photos.viewer, name="photo")  # full size, previous and next, no JS
    get("/files/{id}/{name}", uploads.serve_file, name="file")
    # The watch board: findings per city, the national table, exports (views/exports.py)
    get("/watch", watch.national, name="watch")
    get("/watch/compare", watch.compare, name="watch_compare")
    get("/watch/findings.{format:csv|json|geojson}", exports.national, name="watch_export")
    get("/watch/feed.atom", exports.feed, name="watch_feed")
    get("/b/{slug}/watch", watch.city, name="city_watch")
    get("/b/{slug}/watch/findings.{format:csv|json|geojson}", exports.city,
        name="city_watch_export")
    get("/b/{slug}/watch/feed.atom", exports.city_feed, name="city_watch_feed")
    add("*", "/b/{slug}/watch/new", findings.propose, name="propose_finding")
    get("/f/{id}", findings.show, name="finding")
    add("*", "/f/{id}/edit", findings.edit, name="edit_finding")
    add("*", "/f/{id}/delete", findings.delete, name="delete_finding")
    # Records requests (demandes CADA): views/requests.py
    get("/requests", requests.national, name="requests")
    get("/requests.{format:csv|json}", request_exports.export_national, name="requests_export")
    get("/b/{slug}/requests", requests.city, name="city_requests")
    get("/b/{slug}/requests.{format:csv|json}", request_exports.export_city,
        name="city_requests_export")
    add("*", "/b/{slug}/requests/new", requests.new, name="new_request")
    get("/r/{id}", requests.show, name="request")
    add("POST", "/r/{id}/status", requests.change_status, name="request_status")
    # The drop for sources: no account, no JavaScript, nothing kept that names them
    add("*", "/deposer", drops.send, name="drop_new")
    add("*", "/b/{slug}/deposer", drops.send, name="drop_new_board")
    add("*", "/deposer/suivi", drops.follow_up, name="drop_follow")  # the code: POST only
    # Accounts
    add("*", "/register", accounts.register, name="register")
    add("*", "/login", accounts.login, name="login")
    add("*", "/login/code", two_factor.login_code, name="login_code")
    add("POST", "/logout", accounts.logout, name="logout")
    add("*", "/language", accounts.language, name="language")
    get("/settings", settings.show, name="settings")
    add("POST", "/settings/password", settings.change_password, name="settings_password")
    add("POST", "/settings/email", settings.change_email, name="settings_email")
    add("POST", "/settings/sessions", settings.end_other_sessions, name="settings_sessions")
    add("POST", "/settings/sessions/{handle}/end", settings.end_session,
        name="settings_end_session")
    add("POST", "/settings/login-notices", settings.change_login_notices,
        name="settings_login_notices")
    get("/settings/two-factor", two_factor.show, name="two_factor")
    add("POST", "/settings/two-factor/start", two_factor.start, name="two_factor_start")
    add("POST", "/settings/two-factor/enable", two_factor.enable, name="two_factor_enable")
    add("POST", "/settings/two-factor/disable", two_factor.disable, name="two_factor_disable")
    add("POST", "/settings/two-factor/recovery-codes", two_factor.new_recovery_codes,
        name="two_factor_recovery_codes")
    add("POST", "/settings/tokens/{id}/revoke", settings.revoke_token,
        name="settings_revoke_token")
    add("POST", "/settings/notifications", settings.change_email_notifications,
        name="settings_email_notifications")
    # Reached from e-mails: a forgotten password, one-click unsubscribe (no CSRF token, see csrf.py)
    add("*", "/password/forgot", passwords.forgot, name="password_forgot")
    add("*", "/password/reset/{token}", passwords.reset, name="password_reset")
    add("*", "/unsubscribe/{token}", unsubscribe.unsubscribe, name="unsubscribe")
    add("POST", "/settings/following", settings.change_following, name="settings_following")
    # One's own data: export, leaving, what is kept (views/own_data.py); invitations
    add("POST", "/settings/export", own_data.request_export, name="settings_export")
    get("/settings/export/{id}", own_data.download_export, name="settings_export_file")
    add("*", "/settings/leave", own_data.leave, name="settings_leave")
    get("/confidentialite", own_data.privacy, name="privacy")
    add("*", "/invitations", invitations.index, name="invitations")
    add("POST", "/invitations/{id}/withdraw", invitations.withdraw, name="invitation_withdraw")
    add("POST", "/settings/follows/{kind:thread|board}/{id}/stop", settings.stop_following,
        name="settings_stop_following")
    # Administration
    add("*", "/admin/boards", admin.board_list, name="admin_boards")
    add("*", "/admin/boards/{slug}", admin.board_edit, name="admin_board")
    add("*", "/admin/kinds", admin.kinds, name="admin_kinds")
    add("*", "/admin/registration", admin.registration, name="admin_registration")
    add("POST", "/admin/kinds/rename", admin.rename_kind, name="admin_rename_kind")
    add("POST", "/admin/kinds/merge", admin.merge_kind, name="admin_merge_kind")
    # Moderation (the queue and tools for moderators; the journal is public)
    mod = "/moderation"
    get(mod, moderation.queue, name="moderation_queue")
    add("POST", f"{mod}/posts/{{id}}/approve", moderation.approve, name="moderation_approve")
    add("POST", f"{mod}/posts/{{id}}/reject", moderation.reject, name="moderation_reject")
    add("*", f"{mod}/posts/{{id}}/edit", moderation.edit_and_approve, name="moderation_edit")
    add("POST", f"{mod}/posts/{{id}}/dismiss", moderation.dismiss_flags,
        name="moderation_dismiss")
    add("POST", f"{mod}/posts/{{id}}/restore", moderation.restore, name="moderation_restore")
    add("POST", f"{mod}/posts/{{id}}/revisions/{{revision}}/purge", moderation.purge,
        name="moderation_purge_post")
    add("POST", f"{mod}/threads/{{id}}/state", moderation.thread_state,
        name="moderation_thread_state")
    add("POST", f"{mod}/threads/{{id}}/move", moderation.move, name="moderation_move")
    add("POST", "/u/{name}/sanction", moderation.sanction, name="sanction")
    add("*", "/p/{id}/flag", moderation.flag, name="flag_post")
    add("POST", f"{mod}/findings/{{id}}/approve", findings.approve,
        name="moderation_approve_finding")
    add("POST", f"{mod}/findings/{{id}}/reject", findings.reject,
        name="moderation_reject_finding")
    add("POST", f"{mod}/findings/{{id}}/restore", findings.restore,
        name="moderation_restore_finding")
    add("POST", f"{mod}/findings/{{id}}/revisions/{{revision}}/purge", findings.purge,
        name="moderation_purge_finding")
    get(f"{mod}/requests", requests.queue, name="moderation_requests")
    add("POST", f"{mod}/requests/{{id}}/approve", requests.approve,
        name="moderation_approve_request")
    add("POST", f"{mod}/requests/{{id}}/reject", requests.reject,
        name="moderation_reject_request")
    drop = f"{mod}/drops/{{id}}"  # the drop for sources: views/drop_moderation.py
    get(f"{mod}/drops", drop_moderation.queue, name="moderation_drops")
    get(drop, drop_moderation.show, name="moderation_drop")
    add("POST", f"{drop}/answer", drop_moderation.answer, name="moderation_drop_answer")
    add("POST", f"{drop}/delete", drop_moderation.delete, name="moderation_drop_delete")
    get(f"{drop}/files/{{file}}", drop_moderation.serve_file, name="moderation_drop_file")
    add("POST", f"{drop}/files/{{file}}/publish", drop_moderation.publish,
        name="moderation_drop_publish")
    get(f"{mod}/journal", moderation.journal, name="moderation_journal")
    get(f"{mod}/accounts", invitations.journal, name="account_journal")  # moderators only
    get(f"{mod}/journal.atom", moderation.journal_feed, name="moderation_journal_feed")
    get("/notifications", notifications.index, name="notifications")
    add("POST", "/notifications/read", notifications.mark_read, name="notifications_read")
    add("POST", "/notifications/{id}/read", notifications.mark_one_read,
        name="notification_read")
    app.router.add_static("/static", STATIC, name="static")
    get("/healthz", health.healthz, name="healthz")  # for the proxy and monitors (deploy.md)
    # JSON API: the document, then API_V1 below
    add("GET", "/api/openapi.json", openapi.spec, name="api_openapi")
    for method, path, handler, name in API_V1:
        add(method, f"/api/v1{path}", handler, name=name)


# The JSON API, under /api/v1: (method, path, handler, name), described in forum/api/openapi.py
# (tests/test_openapi.py checks that both list the same routes). No HEAD: not in the spec.
API_V1 = (
    ("GET", "/boards",
     api_boards.list_boards, "api_boards"),
    ("POST", "/boards",
     api_boards.create_board, "api_create_board"),
    ("PATCH", "/boards/{slug}",
     api_board_admin.edit_board, "api_edit_board"),
    ("GET", "/boards/{slug}/draft",
     api_drafts.show, "api_board_draft"),
    ("PUT", "/boards/{slug}/draft",
     api_drafts.save, "api_save_board_draft"),
    ("DELETE", "/boards/{slug}/draft",
     api_drafts.erase, "api_delete_board_draft"),
    ("GET", "/boards/{slug}/members",
     api_boards.list_members, "api_board_members"),
    ("POST", "/boards/{slug}/members",
     api_boards.add_member, "api_add_board_member"),
    ("DELETE", "/boards/{slug}/members/{name}",
     api_boards.remove_member, "api_remove_board_member"),
    ("GET", "/boards/{slug}/moderators",
     api_board_admin.list_moderators, "api_board_moderators"),
    ("PUT", "/boards/{slug}/moderators/{name}",
     api_board_admin.add_moderator, "api_add_board_moderator"),
    ("DELETE", "/boards/{slug}/moderators/{name}",
     api_board_admin.remove_moderator, "api_remove_board_moderator"),
    ("POST", "/boards/{slug}/read",
     api_reads.mark_board_read, "api_mark_board_read"),
    ("GET", "/boards/{slug}/threads",
     api_boards.list_threads, "api_board_threads"),
    ("POST", "/boards/{slug}/threads",
     api_threads.create_thread, "api_create_thread"),
    ("GET", "/finding-kinds",
     api_findings.list_kinds, "api_finding_kinds"),
    ("POST", "/finding-kinds",
     api_findings.create_kind, "api_create_finding_kind"),
    ("PATCH", "/finding-kinds/{slug}",
     api_findings.rename_kind, "api_rename_kind"),
    ("POST", "/finding-kinds/{slug}/merge",
     api_findings.merge_kind, "api_merge_kind"),
    ("GET", "/findings",
     api_findings.list_findings, "api_findings"),
    ("POST", "/findings",
     api_findings.create_finding, "api_create_finding"),
    ("GET", "/findings/{id}",
     api_findings.show_finding, "api_finding"),
    ("PATCH", "/findings/{id}",
     api_findings.correct_finding, "api_edit_finding"),
    ("DELETE", "/findings/{id}",
     api_findings.withdraw_finding, "api_delete_finding"),
    ("GET", "/findings/{id}/revisions",
     api_findings.list_revisions, "api_finding_revisions"),
    ("GET", "/follows",
     api_follows.list_follows, "api_follows"),
    ("PUT", "/follows/boards/{slug}",
     api_follows.follow, "api_follow_board"),
    ("DELETE", "/follows/boards/{slug}",
     api_follows.unfollow, "api_unfollow_board"),
    ("PUT", "/follows/threads/{id}",
     api_follows.follow, "api_follow_thread"),
    ("DELETE", "/follows/threads/{id}",
     api_follows.unfollow, "api_unfollow_thread"),
    ("GET", "/invitations",
     api_settings.list_invitations, "api_invitations"),
    ("POST", "/invitations",
     api_settings.create_invitation, "api_create_invitation"),
    ("DELETE", "/invitations/{id}",
     api_settings.withdraw_invitation, "api_withdraw_invitation"),
    ("GET", "/members",
     api_notifications.members, "api_members"),
    ("GET", "/members/{name}",
     api_members.show_member, "api_member"),
    ("POST", "/members/{name}/decisions",
     api_members.decide, "api_member_decision"),
    ("POST", "/moderation/findings/{id}/approve",
     api_findings.approve, "api_moderation_approve_finding"),
    ("POST", "/moderation/findings/{id}/reject",
     api_findings.reject, "api_moderation_reject_finding"),
    ("POST", "/moderation/findings/{id}/restore",
     api_findings.restore, "api_moderation_restore_finding"),
    ("POST", "/moderation/findings/{id}/revisions/{revision}/purge",
     api_findings.purge, "api_moderation_purge_finding"),
    ("GET", "/moderation/journal",
     api_moderation.journal, "api_moderation_journal"),
    ("POST", "/moderation/posts/{id}/approve",
     api_moderation.approve, "api_moderation_approve"),
    ("POST", "/moderation/posts/{id}/dismiss-flags",
     api_moderation.dismiss_flags, "api_moderation_dismiss_flags"),
    ("POST", "/moderation/posts/{id}/edit-and-approve",
     api_moderation.edit_and_approve, "api_moderation_edit_and_approve"),
    ("POST", "/moderation/posts/{id}/reject",
     api_moderation.reject, "api_moderation_reject"),
    ("POST", "/moderation/posts/{id}/restore",
     api_moderation.restore_post, "api_moderation_restore"),
    ("POST", "/moderation/posts/{id}/revisions/{revision}/purge",
     api_moderation.purge_post_version, "api_moderation_purge_post"),
    ("GET", "/moderation/queue",
     api_moderation.queue, "api_moderation_queue"),
    ("GET", "/moderation/reasons",
     api_moderation.reasons, "api_moderation_reasons"),
    ("GET", "/moderation/requests",
     api_requests.queue, "api_moderation_requests"),
    ("POST", "/moderation/requests/{id}/approve",
     api_requests.approve, "api_moderation_approve_request"),
    ("POST", "/moderation/requests/{id}/reject",
     api_requests.reject, "api_moderation_reject_request"),
    ("POST", "/moderation/threads/{id}/hide",
     api_moderation.thread_state, "api_moderation_hide"),
    ("POST", "/moderation/threads/{id}/lock",
     api_moderation.thread_state, "api_moderation_lock"),
    ("POST", "/moderation/threads/{id}/move",
     api_moderation.move_thread, "api_moderation_move"),
    ("POST", "/moderation/threads/{id}/pin",
     api_moderation.thread_state, "api_moderation_pin"),
    ("POST", "/moderation/threads/{id}/show",
     api_moderation.thread_state, "api_moderation_show"),
    ("POST", "/moderation/threads/{id}/unlock",
     api_moderation.thread_state, "api_moderation_unlock"),
    ("POST", "/moderation/threads/{id}/unpin",
     api_moderation.thread_state, "api_moderation_unpin"),
    ("GET", "/notifications",
     api_notifications.list_notifications, "api_notifications"),
    ("POST", "/notifications/read",
     api_notifications.mark_read, "api_notifications_read"),
    ("GET", "/posts/{id}",
     api_posts.show_post, "api_post"),
    ("PATCH", "/posts/{id}",
     api_posts.edit_post, "api_edit_post"),
    ("DELETE", "/posts/{id}",
     api_posts.delete_post, "api_delete_post"),
    ("POST", "/posts/{id}/flags",
     api_moderation.flag_post, "api_flag_post"),
    ("GET", "/posts/{id}/revisions",
     api_posts.list_revisions, "api_post_revisions"),
    ("GET", "/preferences",
     api_settings.show_preferences, "api_preferences"),
    ("PATCH", "/preferences",
     api_settings.change_preferences, "api_change_preferences"),
    ("POST", "/preview",
     api_posts.preview, "api_preview"),
    ("POST", "/read",
     api_reads.mark_all_read, "api_mark_all_read"),
    ("GET", "/registration",
     api_board_admin.show_registration, "api_registration"),
    ("PATCH", "/registration",
     api_board_admin.change_registration, "api_change_registration"),
    ("GET", "/requests",
     api_requests.list_requests, "api_requests"),
    ("POST", "/requests",
     api_requests.create_request, "api_create_request"),
    ("GET", "/requests/{id}",
     api_requests.show_request, "api_request"),
    ("PATCH", "/requests/{id}",
     api_requests.change_status, "api_change_request"),
    ("GET", "/search",
     api_search.search_posts, "api_search"),
    ("GET", "/threads/{id}",
     api_threads.show_thread, "api_thread"),
    ("PATCH", "/threads/{id}",
     api_threads.rename_thread, "api_rename_thread"),
    ("GET", "/threads/{id}/draft",
     api_drafts.show, "api_thread_draft"),
    ("PUT", "/threads/{id}/draft",
     api_drafts.save, "api_save_thread_draft"),
    ("DELETE", "/threads/{id}/draft",
     api_drafts.erase, "api_delete_thread_draft"),
    ("POST", "/threads/{id}/move",
     api_boards.move_thread, "api_move_thread"),
    ("POST", "/threads/{id}/posts",
     api_threads.create_post, "api_create_post"),
    ("POST", "/threads/{id}/read",
     api_reads.mark_thread_read, "api_mark_thread_read"),
    ("GET", "/tokens",
     api_settings.list_tokens, "api_tokens"),
    ("POST", "/tokens",
     api_settings.create_token, "api_create_token"),
    ("DELETE", "/tokens/{id}",
     api_settings.revoke_token, "api_revoke_token"),
    ("POST", "/uploads",
     api_uploads.create_upload, "api_upload"),
)
