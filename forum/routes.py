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
    posts,
    request_exports,
    requests,
    search,
    settings,
    threads,
    two_factor,
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
    # JSON API, described in forum/api/openapi.py (keep both in step). No HEAD: not in the spec.
    v1 = "/api/v1"
    add("GET", "/api/openapi.json", openapi.spec, name="api_openapi")
    add("GET", f"{v1}/notifications", api_notifications.list_notifications,
        name="api_notifications")
    add("POST", f"{v1}/notifications/read", api_notifications.mark_read,
        name="api_notifications_read")
    add("GET", f"{v1}/members", api_notifications.members, name="api_members")
    add("GET", f"{v1}/boards", api_boards.list_boards, name="api_boards")
    add("POST", f"{v1}/boards", api_boards.create_board, name="api_create_board")
    add("GET", f"{v1}/boards/{{slug}}/threads", api_boards.list_threads,
        name="api_board_threads")
    add("GET", f"{v1}/boards/{{slug}}/members", api_boards.list_members,
        name="api_board_members")
    add("POST", f"{v1}/boards/{{slug}}/members", api_boards.add_member,
        name="api_add_board_member")
    add("DELETE", f"{v1}/boards/{{slug}}/members/{{name}}", api_boards.remove_member,
        name="api_remove_board_member")
    add("POST", f"{v1}/threads/{{id}}/move", api_boards.move_thread, name="api_move_thread")
    add("POST", f"{v1}/boards/{{slug}}/threads", api_threads.create_thread,
        name="api_create_thread")
    add("GET", f"{v1}/threads/{{id}}", api_threads.show_thread, name="api_thread")
    add("PATCH", f"{v1}/threads/{{id}}", api_threads.rename_thread, name="api_rename_thread")
    add("POST", f"{v1}/threads/{{id}}/posts", api_threads.create_post, name="api_create_post")
    add("GET", f"{v1}/posts/{{id}}", api_posts.show_post, name="api_post")
    add("PATCH", f"{v1}/posts/{{id}}", api_posts.edit_post, name="api_edit_post")
    add("DELETE", f"{v1}/posts/{{id}}", api_posts.delete_post, name="api_delete_post")
    add("GET", f"{v1}/posts/{{id}}/revisions", api_posts.list_revisions,
        name="api_post_revisions")
    add("POST", f"{v1}/uploads", api_uploads.create_upload, name="api_upload")
    add("GET", f"{v1}/search", api_search.search_posts, name="api_search")
    add("GET", f"{v1}/findings", api_findings.list_findings, name="api_findings")
    add("POST", f"{v1}/findings", api_findings.create_finding, name="api_create_finding")
    add("GET", f"{v1}/findings/{{id}}", api_findings.show_finding, name="api_finding")
    add("GET", f"{v1}/requests", api_requests.list_requests, name="api_requests")
    add("POST", f"{v1}/requests", api_requests.create_request, name="api_create_request")
    add("GET", f"{v1}/requests/{{id}}", api_requests.show_request, name="api_request")
    add("PATCH", f"{v1}/requests/{{id}}", api_requests.change_status,
        name="api_change_request")
    add("GET", f"{v1}/moderation/requests", api_requests.queue, name="api_moderation_requests")
    add("POST", f"{v1}/moderation/requests/{{id}}/approve", api_requests.approve,
        name="api_moderation_approve_request")
    add("POST", f"{v1}/moderation/requests/{{id}}/reject", api_requests.reject,
        name="api_moderation_reject_request")
    add("GET", f"{v1}/finding-kinds", api_findings.list_kinds, name="api_finding_kinds")
    add("PATCH", f"{v1}/finding-kinds/{{slug}}", api_findings.rename_kind,
        name="api_rename_kind")
    add("POST", f"{v1}/finding-kinds/{{slug}}/merge", api_findings.merge_kind,
        name="api_merge_kind")
    add("POST", f"{v1}/posts/{{id}}/flags", api_moderation.flag_post, name="api_flag_post")
    api_mod = f"{v1}/moderation"
    add("GET", f"{api_mod}/queue", api_moderation.queue, name="api_moderation_queue")
    add("GET", f"{api_mod}/reasons", api_moderation.reasons, name="api_moderation_reasons")
    add("POST", f"{api_mod}/posts/{{id}}/approve", api_moderation.approve,
        name="api_moderation_approve")
    add("POST", f"{api_mod}/posts/{{id}}/reject", api_moderation.reject,
        name="api_moderation_reject")
    add("POST", f"{api_mod}/posts/{{id}}/edit-and-approve", api_moderation.edit_and_approve,
        name="api_moderation_edit_and_approve")
    add("POST", f"{api_mod}/posts/{{id}}/revisions/{{revision}}/purge",
        api_moderation.purge_post_version, name="api_moderation_purge_post")
    add("POST", f"{api_mod}/findings/{{id}}/revisions/{{revision}}/purge", api_findings.purge,
        name="api_moderation_purge_finding")
    add("POST", f"{api_mod}/findings/{{id}}/approve", api_findings.approve,
        name="api_moderation_approve_finding")
    add("POST", f"{api_mod}/findings/{{id}}/reject", api_findings.reject,
        name="api_moderation_reject_finding")
    add("POST", f"{api_mod}/threads/{{id}}/lock", api_moderation.lock_thread,
        name="api_moderation_lock")
    add("POST", f"{api_mod}/threads/{{id}}/unlock", api_moderation.unlock_thread,
        name="api_moderation_unlock")
    add("POST", f"{api_mod}/threads/{{id}}/pin", api_moderation.pin_thread,
        name="api_moderation_pin")
    add("POST", f"{api_mod}/threads/{{id}}/unpin", api_moderation.unpin_thread,
        name="api_moderation_unpin")
    add("POST", f"{api_mod}/threads/{{id}}/hide", api_moderation.hide_thread,
        name="api_moderation_hide")
    add("POST", f"{api_mod}/threads/{{id}}/show", api_moderation.unhide_thread,
        name="api_moderation_show")
    add("POST", f"{api_mod}/posts/{{id}}/dismiss-flags", api_moderation.dismiss_flags,
        name="api_moderation_dismiss_flags")
    add("POST", f"{api_mod}/posts/{{id}}/restore", api_moderation.restore_post,
        name="api_moderation_restore")
    add("POST", f"{api_mod}/threads/{{id}}/move", api_moderation.move_thread,
        name="api_moderation_move")
    add("GET", f"{api_mod}/journal", api_moderation.journal, name="api_moderation_journal")
    add("GET", f"{v1}/members/{{name}}", api_members.show_member, name="api_member")
    add("POST", f"{v1}/members/{{name}}/decisions", api_members.decide,
        name="api_member_decision")
    add("POST", f"{v1}/preview", api_posts.preview, name="api_preview")
    # Following and one's own settings (api/follows.py, api/settings.py)
    add("GET", f"{v1}/follows", api_follows.list_follows, name="api_follows")
    add("PUT", f"{v1}/follows/threads/{{id}}", api_follows.follow,
        name="api_follow_thread")
    add("DELETE", f"{v1}/follows/threads/{{id}}", api_follows.unfollow,
        name="api_unfollow_thread")
    add("PUT", f"{v1}/follows/boards/{{slug}}", api_follows.follow,
        name="api_follow_board")
    add("DELETE", f"{v1}/follows/boards/{{slug}}", api_follows.unfollow,
        name="api_unfollow_board")
    add("GET", f"{v1}/preferences", api_settings.show_preferences, name="api_preferences")
    add("PATCH", f"{v1}/preferences", api_settings.change_preferences,
        name="api_change_preferences")
    add("GET", f"{v1}/tokens", api_settings.list_tokens, name="api_tokens")
    add("POST", f"{v1}/tokens", api_settings.create_token, name="api_create_token")
    add("DELETE", f"{v1}/tokens/{{id}}", api_settings.revoke_token, name="api_revoke_token")
    add("PATCH", f"{v1}/findings/{{id}}", api_findings.correct_finding,
        name="api_edit_finding")
    add("DELETE", f"{v1}/findings/{{id}}", api_findings.withdraw_finding,
        name="api_delete_finding")
    add("GET", f"{v1}/findings/{{id}}/revisions", api_findings.list_revisions,
        name="api_finding_revisions")
    add("POST", f"{api_mod}/findings/{{id}}/restore", api_findings.restore,
        name="api_moderation_restore_finding")
    # Boards' administration (api/board_admin.py)
    add("PATCH", f"{v1}/boards/{{slug}}", api_board_admin.edit_board, name="api_edit_board")
    add("GET", f"{v1}/boards/{{slug}}/moderators", api_board_admin.list_moderators,
        name="api_board_moderators")
    add("PUT", f"{v1}/boards/{{slug}}/moderators/{{name}}", api_board_admin.add_moderator,
        name="api_add_board_moderator")
    add("DELETE", f"{v1}/boards/{{slug}}/moderators/{{name}}", api_board_admin.remove_moderator,
        name="api_remove_board_moderator")
    add("GET", f"{v1}/invitations", api_settings.list_invitations, name="api_invitations")
    add("POST", f"{v1}/invitations", api_settings.create_invitation,
        name="api_create_invitation")
    add("DELETE", f"{v1}/invitations/{{id}}", api_settings.withdraw_invitation,
        name="api_withdraw_invitation")
    add("GET", f"{v1}/registration", api_board_admin.show_registration,
        name="api_registration")
    add("PATCH", f"{v1}/registration", api_board_admin.change_registration,
        name="api_change_registration")
    add("POST", f"{v1}/finding-kinds", api_findings.create_kind, name="api_create_finding_kind")
    # Drafts (api/drafts.py): a reply's, on its thread; a new thread's, on its board
    reply_draft, thread_draft = f"{v1}/threads/{{id}}/draft", f"{v1}/boards/{{slug}}/draft"
    add("GET", reply_draft, api_drafts.show, name="api_thread_draft")
    add("PUT", reply_draft, api_drafts.save, name="api_save_thread_draft")
    add("DELETE", reply_draft, api_drafts.erase, name="api_delete_thread_draft")
    add("GET", thread_draft, api_drafts.show, name="api_board_draft")
    add("PUT", thread_draft, api_drafts.save, name="api_save_board_draft")
    add("DELETE", thread_draft, api_drafts.erase, name="api_delete_board_draft")
