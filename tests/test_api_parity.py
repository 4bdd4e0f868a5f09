"""The API does what the web does (issue 12): every web route that changes state has its API
operation, or is named here as web-only with the reason; and the operations added for parity
keep the pages' rules, through the same model functions."""
from __future__ import annotations

from typing import Any

import pytest

from forum.api import openapi
from forum.app import create_app
from forum.csrf import HEADER as CSRF_HEADER
from forum.models import boards, follows, moderation, users
from tests.conftest import csrf_token, log_in
from tests.test_api import call, error_of

pytestmark = pytest.mark.both_stores

STATE_METHODS = {"POST", "PUT", "PATCH", "DELETE", "*"}  # "*": a form page that also posts

# Each web route that changes state -> the API operations that do the same. A new web route
# that is in none of these lists fails test_every_web_action_has_an_api_twin.
API_TWINS: dict[str, tuple[str, ...]] = {
    "new_thread": ("api_create_thread", "api_preview"),  # the form previews, too
    "reply": ("api_create_post", "api_preview"),
    "rename_thread": ("api_rename_thread",),
    "follow": ("api_follow_thread", "api_unfollow_thread", "api_follow_board",
               "api_unfollow_board", "api_follows"),
    "edit_post": ("api_edit_post", "api_preview"),
    "delete_post": ("api_delete_post",),
    "propose_finding": ("api_create_finding",),
    "edit_finding": ("api_edit_finding", "api_finding_revisions"),
    "delete_finding": ("api_delete_finding",),
    "moderation_restore_finding": ("api_moderation_restore_finding",),
    "language": ("api_change_preferences",),  # `locale`; visitors' cookie is the browser's
    "settings_login_notices": ("api_change_preferences",),
    "settings_email_notifications": ("api_change_preferences",),
    "settings_following": ("api_change_preferences",),
    "settings_revoke_token": ("api_revoke_token", "api_tokens"),
    # Adding a kind; renaming and merging kinds come with the watch record's branch.
    "admin_kinds": ("api_create_finding_kind", "api_finding_kinds"),
    "admin_registration": ("api_change_registration", "api_registration"),
    "invitations": ("api_create_invitation", "api_invitations"),
    "invitation_withdraw": ("api_withdraw_invitation",),
    "admin_boards": ("api_create_board",),
    "admin_board": ("api_edit_board", "api_board_moderators", "api_add_board_moderator",
                    "api_remove_board_moderator"),
    "moderation_approve": ("api_moderation_approve",),
    "moderation_reject": ("api_moderation_reject",),
    "moderation_edit": ("api_moderation_edit_and_approve",),
    "moderation_dismiss": ("api_moderation_dismiss_flags",),
    "moderation_restore": ("api_moderation_restore",),
    "moderation_purge_post": ("api_moderation_purge_post",),
    "moderation_thread_state": ("api_moderation_lock", "api_moderation_unlock",
                                "api_moderation_pin", "api_moderation_unpin",
                                "api_moderation_hide", "api_moderation_show"),
    "moderation_move": ("api_move_thread",),  # api_moderation_move: deprecated, the same move
    # From the branches merged beside this one (closed boards, records requests, watch record).
    "board_members": ("api_board_members", "api_add_board_member", "api_remove_board_member"),
    "new_request": ("api_create_request",),
    "request_status": ("api_change_request",),
    "admin_rename_kind": ("api_rename_kind",),
    "admin_merge_kind": ("api_merge_kind",),
    "settings_stop_following": ("api_unfollow_thread", "api_unfollow_board"),
    "sanction": ("api_member_decision",),  # warn, suspend, ban, lift, trust, distrust
    "flag_post": ("api_flag_post",),
    "moderation_approve_finding": ("api_moderation_approve_finding",),
    "moderation_reject_finding": ("api_moderation_reject_finding",),
    "moderation_purge_finding": ("api_moderation_purge_finding",),
    "notifications_read": ("api_notifications_read",),
    "notification_read": ("api_notifications_read",),  # with `ids`
    # Unread tracking (issue 16); the API also marks one thread read (api_mark_thread_read),
    # which the pages do by showing it.
    "mark_board_read": ("api_mark_board_read",),
    "mark_all_read": ("api_mark_all_read",),
    "moderation_approve_request": ("api_moderation_approve_request", "api_moderation_requests"),
    "moderation_reject_request": ("api_moderation_reject_request", "api_moderation_requests"),
    "new_thread_draft": ("api_board_draft", "api_save_board_draft", "api_delete_board_draft"),
    "reply_draft": ("api_thread_draft", "api_save_thread_draft", "api_delete_thread_draft"),
}

# What stays on the web, and why. Most of it protects an account from whoever holds one of its
# API tokens (a script, a laptop: tokens leak more easily than passwords) or serves people
# who have no account at all.
WEB_ONLY: dict[str, str] = {
    # Opening and closing a session: what a token stands in for.
    "login": "the log-in form opens a browser session",
    "login_code": "the second step of logging in (two-factor code)",
    "logout": "ends a browser session; a token is revoked with api_revoke_token",
    "register": "signing up makes an account: there is no token yet",
    # Reached from a mail, by whoever holds the link, often without an account or session.
    "password_forgot": "asks for a reset link by mail, logged out",
    "password_reset": "the link from that mail",
    "unsubscribe": "the one-click link of a mail (no session, no token)",
    # What would let a stolen token take or destroy the account.
    "settings_password": "needs the current password; a token must not change it",
    "settings_email": "the address that receives reset links: taking it takes the account",
    "settings_sessions": "ends browser sessions",
    "settings_end_session": "ends one browser session",
    "two_factor_start": "two-factor set-up shows a secret to scan, for a person",
    "two_factor_enable": "two-factor set-up",
    "two_factor_disable": "weakens the account: asks for a code, in a browser",
    "two_factor_recovery_codes": "recovery codes are shown once, to a person",
    "settings_leave": "erasing one's account asks for the password, in a browser",
    "settings_export": "the archive of one's personal data (address, sessions, every text) "
                       "is asked for and downloaded in a browser session, never by a token",
    # The drop for sources: no account, no JavaScript, nothing kept that names them; what it
    # receives never leaves the moderators' pages (no token can read or act on it).
    "drop_new": "the drop for people without accounts",
    "drop_new_board": "the drop, for one city",
    "drop_follow": "a source follows up with the code they were given",
    "moderation_drop_answer": "answers a source of the drop: kept on the moderators' pages",
    "moderation_drop_delete": "deletes a drop: kept on the moderators' pages",
    "moderation_drop_publish": "publishes a drop's file: kept on the moderators' pages",
}

# Web actions the API still lacks, each with the operation planned for it: a stopgap for a new
# page whose twin comes later, and test_known_gaps_are_still_gaps fails as soon as that
# operation exists, so that it moves to API_TWINS. None today.
NOT_YET: dict[str, str] = {}


def state_changing_web_routes(app) -> set[str]:
    return {route.name for route in app.router.routes()
            if route.method in STATE_METHODS and route.name
            and not route.resource.canonical.startswith("/api/")}


async def test_every_web_action_has_an_api_twin(app, config):
    web_routes = state_changing_web_routes(app)
    listed = API_TWINS.keys() | WEB_ONLY.keys() | NOT_YET.keys()
    assert web_routes - listed == set(), "a web action with no API operation nor exception"
    assert listed - web_routes == set(), "a listed route that no longer exists"
    assert not API_TWINS.keys() & (WEB_ONLY.keys() | NOT_YET.keys())
    document = openapi.build(config)
    operations = {operation["operationId"] for item in document["paths"].values()
                  for operation in item.values()}
    missing = {name: op for name, ops in API_TWINS.items() for op in ops
               if op not in operations}
    assert missing == {}


async def test_a_new_web_action_without_a_twin_is_caught(config):
    async def archive(request):  # never called
        raise AssertionError

    app = create_app(config)
    app.router.add_post("/b/{slug}/archive", archive, name="archive_board")
    listed = API_TWINS.keys() | WEB_ONLY.keys() | NOT_YET.keys()
    assert state_changing_web_routes(app) - listed == {"archive_board"}


async def test_known_gaps_are_still_gaps(config):
    document = openapi.build(config)
    operations = {operation["operationId"] for item in document["paths"].values()
                  for operation in item.values()}
    assert set(NOT_YET.values()) & operations == set(), "move it to API_TWINS"


# The operations added for parity ------------------------------------------------------------

@pytest.fixture
async def world(forum) -> dict[str, Any]:
    metz, grenoble = await forum.board("Metz"), await forum.board("Grenoble")
    lea, tom, zoe = await forum.user("lea"), await forum.user("tom"), await forum.user("zoe")
    modo = await forum.user("modo", role="moderator")
    local = await forum.user("local")  # moderates Metz only
    async with forum.db.transaction() as tx:
        await moderation.add_board_moderator(tx, metz, local)
    thread, first = await forum.thread(metz, lea, "Caméras place Saint-Louis")
    reply = await forum.reply(thread, tom, "Une réponse de Tom.")
    return {"metz": metz, "grenoble": grenoble, "lea": lea, "tom": tom, "modo": modo,
            "thread": thread, "first": first, "reply": reply,
            "lea_token": await forum.token(lea), "tom_token": await forum.token(tom),
            "zoe_token": await forum.token(zoe), "zoe": zoe,
            "modo_token": await forum.token(modo), "local_token": await forum.token(local)}


async def test_following_and_muting_threads_and_boards(forum, client, world):
    token = world["zoe_token"]  # zoe has not written: she follows nothing yet
    assert await call(client, "GET", "/follows", token) == {"threads": [], "boards": []}
    state = await call(client, "PUT", f"/follows/threads/{world['thread']}", token,
                       json={"mode": "follow"})
    assert state == {"kind": "thread", "target": str(world["thread"]), "mode": "follow"}
    await call(client, "PUT", "/follows/boards/grenoble", token, json={"mode": "mute"})
    listed = await call(client, "GET", "/follows", token)
    assert [(t["id"], t["title"], t["mode"]) for t in listed["threads"]] == [
        (world["thread"], "Caméras place Saint-Louis", "follow")]
    assert [(b["slug"], b["mode"]) for b in listed["boards"]] == [("grenoble", "mute")]
    async with forum.db.read() as conn:  # the very rows the page's buttons write
        assert await follows.state(conn, world["zoe"].id, "board",
                                   world["grenoble"].id) == "mute"
    await call(client, "DELETE", f"/follows/threads/{world['thread']}", token, expect=204)
    await call(client, "DELETE", "/follows/boards/grenoble", token, expect=204)
    assert await call(client, "GET", "/follows", token) == {"threads": [], "boards": []}


async def test_following_refuses_what_the_page_refuses(forum, client, world):
    token = world["tom_token"]
    error = error_of(await call(client, "PUT", f"/follows/threads/{world['thread']}", token,
                                expect=422, json={"mode": "always"}))
    assert error["field"] == "mode"
    await call(client, "PUT", "/follows/threads/999999", token, expect=404,
               json={"mode": "follow"})
    await call(client, "PUT", "/follows/boards/nowhere", token, expect=404,
               json={"mode": "follow"})
    await call(client, "GET", "/follows", expect=401)
    # A hidden thread is not there for a member: nor can they follow it.
    await call(client, "POST", f"/moderation/threads/{world['thread']}/hide",
               world["modo_token"])
    await call(client, "PUT", f"/follows/threads/{world['thread']}", token, expect=404,
               json={"mode": "follow"})


async def test_preferences_read_and_change(forum, client, world):
    token = world["tom_token"]
    before = await call(client, "GET", "/preferences", token)
    assert before == {"follow_on_post": True, "email_notifications": before[
        "email_notifications"], "login_notices": before["login_notices"], "locale": None}
    after = await call(client, "PATCH", "/preferences", token, json={
        "follow_on_post": False, "email_notifications": "digest", "locale": "en"})
    assert after["follow_on_post"] is False and after["email_notifications"] == "digest"
    assert after["locale"] == "en" and after["login_notices"] == before["login_notices"]
    async with forum.db.read() as conn:
        assert await users.email_notifications(conn, world["tom"].id) == "digest"
        assert await users.follow_on_post(conn, world["tom"].id) is False
    error = error_of(await call(client, "PATCH", "/preferences", token, expect=422,
                                json={"email_notifications": "hourly", "locale": "fr"}))
    assert error["field"] == "email_notifications"
    assert (await call(client, "GET", "/preferences", token))["locale"] == "en"  # unchanged
    await call(client, "PATCH", "/preferences", token, expect=422, json={"colour": "red"})


async def test_preview_renders_markdown_and_stores_nothing(forum, client, world):
    shown = await call(client, "POST", "/preview", world["tom_token"],
                       json={"body": "**Gras** pour @lea <script>x</script>"})
    assert "<strong>Gras</strong>" in shown["body_html"]
    assert "<script>" not in shown["body_html"]
    assert 'href="/u/lea"' in shown["body_html"]
    async with forum.db.read() as conn:
        assert await conn.value("select count(*) from posts") == 2
    await call(client, "POST", "/preview", world["tom_token"], expect=422, json={"body": "  "})
    await call(client, "POST", "/preview", expect=401, json={"body": "x"})


async def test_member_profile(forum, client, world):
    profile = await call(client, "GET", "/members/tom")
    assert profile["name"] == "tom" and profile["role"] == "member"
    assert [post["id"] for post in profile["posts"]] == [world["reply"]]
    assert profile["sanctions"] == []
    await call(client, "GET", "/members/nobody", expect=404)
    await call(client, "GET", "/members/TOM", expect=404)  # spelt as registered, as the page


async def test_moderator_decisions_about_a_member(forum, client, world):
    path = "/members/tom/decisions"
    await call(client, "POST", path, world["lea_token"], expect=403,
               json={"kind": "warn", "reason": "Hors sujet"})
    error = error_of(await call(client, "POST", path, world["modo_token"], expect=422,
                                json={"kind": "warn"}))
    assert error["field"] == "reason"
    # A past date is well formed, refused by what time it is: 409, as a conflict with now.
    error = error_of(await call(client, "POST", path, world["modo_token"], expect=409,
                                json={"kind": "suspend", "reason": "Insultes",
                                      "until": "2001-01-01"}))
    assert error["field"] == "until"
    await call(client, "POST", path, world["modo_token"], expect=204,
               json={"kind": "suspend", "reason": "Insultes", "until": "2099-01-01"})
    # The member is now suspended: their writes are refused, as on the pages.
    await call(client, "POST", f"/threads/{world['thread']}/posts", world["tom_token"],
               expect=403, json={"body": "Encore moi"})
    profile = await call(client, "GET", "/members/tom", world["modo_token"])
    assert [(s["kind"], s["reason"]) for s in profile["sanctions"]] == [("suspend", "Insultes")]
    assert (await call(client, "GET", "/members/tom", world["lea_token"]))["sanctions"] == []
    await call(client, "POST", path, world["modo_token"], expect=204,
               json={"kind": "lift", "reason": "Excuses reçues"})
    await call(client, "POST", path, world["modo_token"], expect=204,
               json={"kind": "distrust"})
    async with forum.db.read() as conn:
        assert (await users.get(conn, world["tom"].id)).trust_override == 0
    journal = await call(client, "GET", "/moderation/journal")
    assert [e["action"] for e in journal["entries"]][:3] == ["distrust", "lift", "suspend"]


async def test_dismissing_flags_and_restoring_posts(forum, client, world):
    reply = world["reply"]
    await call(client, "POST", f"/posts/{reply}/flags", world["lea_token"], expect=201,
               json={"reason": "Hors sujet"})
    path = f"/moderation/posts/{reply}/dismiss-flags"
    await call(client, "POST", path, world["lea_token"], expect=403)
    post = await call(client, "POST", path, world["local_token"], json={"reason": "Infondé"})
    assert post["id"] == reply and post["hidden"] is False
    await call(client, "POST", path, world["local_token"], expect=409)  # nothing left
    await call(client, "DELETE", f"/posts/{reply}?reason=Doublon", world["modo_token"],
               expect=204)
    restored = await call(client, "POST", f"/moderation/posts/{reply}/restore",
                          world["modo_token"])
    assert restored["deleted"] is False and restored["body_source"] == "Une réponse de Tom."
    await call(client, "POST", f"/moderation/posts/{reply}/restore", world["modo_token"],
               expect=409)


async def test_moving_a_thread_needs_both_boards(forum, client, world):
    path = f"/moderation/threads/{world['thread']}/move"
    # `local` moderates Metz, not Grenoble: the page's rule.
    await call(client, "POST", path, world["local_token"], expect=403,
               json={"board": "grenoble"})
    error = error_of(await call(client, "POST", path, world["modo_token"], expect=422,
                                json={"board": "metz"}))
    assert error["field"] == "board"
    await call(client, "POST", path, world["modo_token"], expect=404, json={"board": "nulle"})
    thread = await call(client, "POST", path, world["modo_token"],
                        json={"board": "grenoble", "reason": "Mauvaise ville"})
    assert thread["board"] == "grenoble"
    board = await call(client, "GET", "/boards/grenoble/threads")
    assert [t["id"] for t in board["threads"]] == [world["thread"]]


async def test_journal_pages(forum, client, world):
    journal = await call(client, "GET", "/moderation/journal")
    assert journal == {"entries": [], "page": 1, "pages": 1}
    await call(client, "GET", "/moderation/journal?page=2", expect=404)
    await call(client, "POST", f"/moderation/threads/{world['thread']}/lock",
               world["modo_token"], json={"reason": "Trop vif"})
    entry = (await call(client, "GET", "/moderation/journal"))["entries"][0]
    assert (entry["action"], entry["target_kind"], entry["target_id"], entry["reason"],
            entry["moderator"]) == ("lock", "thread", world["thread"], "Trop vif", "modo")


async def test_tokens_are_made_with_a_session_only(forum, client, world):
    created = await call(client, "POST", "/tokens", world["tom_token"], expect=403,
                         json={"label": "script"})
    assert error_of(created)["code"] == "forbidden"
    await log_in(client, "tom")
    csrf = await csrf_token(client, "/settings")
    await call(client, "POST", "/tokens", expect=403, json={"label": "sans en-tête"})
    created = await call(client, "POST", "/tokens", expect=201, json={"label": "mon script"},
                         headers={CSRF_HEADER: csrf})
    assert created["label"] == "mon script" and created["token"].startswith("vigie_")
    # The new token works, and can end itself.
    listed = await call(client, "GET", "/tokens", created["token"])
    assert created["id"] in [token["id"] for token in listed["tokens"]]
    assert "token" not in listed["tokens"][0]
    await call(client, "DELETE", f"/tokens/{created['id']}", created["token"], expect=204)
    await call(client, "GET", "/tokens", created["token"], expect=401)
    # Another member's token is not found, not ended.
    lea_tokens = await call(client, "GET", "/tokens", world["lea_token"])
    await call(client, "DELETE", f"/tokens/{lea_tokens['tokens'][0]['id']}",
               world["tom_token"], expect=404)
    await call(client, "GET", "/tokens", world["lea_token"])


async def test_web_follow_button_still_works(forum, client, world):
    """The page's button goes through the same function as the API."""
    await log_in(client, "tom")
    csrf = await csrf_token(client, f"/t/{world['thread']}")
    response = await client.post(f"/follow/thread/{world['thread']}",
                                 data={"mode": "mute", "csrf_token": csrf},
                                 allow_redirects=False)
    assert response.status == 303
    listed = await call(client, "GET", "/follows", world["tom_token"])
    assert [(t["id"], t["mode"]) for t in listed["threads"]] == [(world["thread"], "mute")]
    response = await client.post(f"/follow/thread/{world['thread']}",
                                 data={"mode": "", "csrf_token": csrf}, allow_redirects=False)
    assert response.status == 303
    assert (await call(client, "GET", "/follows", world["tom_token"]))["threads"] == []


async def test_a_followed_thread_hidden_since_is_not_listed(forum, client, world):
    # tom replied, so he follows it; once hidden, its title is for its author and moderators.
    listed = await call(client, "GET", "/follows", world["tom_token"])
    assert [t["id"] for t in listed["threads"]] == [world["thread"]]
    await call(client, "POST", f"/moderation/threads/{world['thread']}/hide",
               world["modo_token"])
    assert (await call(client, "GET", "/follows", world["tom_token"]))["threads"] == []
    listed = await call(client, "GET", "/follows", world["lea_token"])  # she started it
    assert [t["id"] for t in listed["threads"]] == [world["thread"]]


# Findings: correcting, withdrawing, restoring, history ----------------------------------------

CORRECTION = {"kind": "cameras", "quantity": 150, "unit": "count", "scope": "total",
              "observed": "2021", "status": "in-use",
              "sources": [{"url": "https://example.org/rapport-2021.pdf", "label": "Rapport"}],
              "reason": "Chiffre du rapport 2021"}


async def test_correcting_a_finding_keeps_its_history(forum, client, world):
    finding_id = await forum.finding(world["metz"], world["lea"])
    await call(client, "PATCH", f"/findings/{finding_id}", world["tom_token"], expect=403,
               json=CORRECTION)
    error = error_of(await call(client, "PATCH", f"/findings/{finding_id}", world["lea_token"],
                                expect=422, json={**CORRECTION, "reason": " "}))
    assert error["field"] == "reason"
    error = error_of(await call(client, "PATCH", f"/findings/{finding_id}", world["lea_token"],
                                expect=422, json={**CORRECTION, "city": "grenoble"}))
    assert error["field"] == "city"  # a finding stays in its city
    finding = await call(client, "PATCH", f"/findings/{finding_id}", world["lea_token"],
                         json=CORRECTION)
    assert (finding["quantity"], finding["observed"], finding["edit_pending"]) == (
        150, "2021", False)
    history = await call(client, "GET", f"/findings/{finding_id}/revisions")
    assert [(v["fields"]["quantity"], v["reason"]) for v in history["revisions"]] == [
        (35, ""), (150, "Chiffre du rapport 2021")]
    assert history["revisions"][1]["fields"]["sources"] == [{
        "kind": "link", "post_id": None, "upload_id": None,
        "url": "https://example.org/rapport-2021.pdf", "label": "Rapport"}]
    await call(client, "PATCH", "/findings/999999", world["lea_token"], expect=404,
               json=CORRECTION)


async def test_withdrawing_and_restoring_a_finding(forum, client, world):
    finding_id = await forum.finding(world["metz"], world["lea"])
    path = f"/findings/{finding_id}"
    await call(client, "DELETE", path, world["tom_token"], expect=403)
    # A moderator withdrawing another's finding gives a reason (403 without, as for posts).
    error = error_of(await call(client, "DELETE", path, world["local_token"], expect=403))
    assert error["field"] == "reason"
    await call(client, "DELETE", f"{path}?reason=Source%20douteuse", world["local_token"],
               expect=204)
    await call(client, "GET", path, expect=404)  # readers no longer see it
    assert (await call(client, "GET", path, world["local_token"]))["deleted"] is True
    restore = f"/moderation/findings/{finding_id}/restore"
    # Withdrawn, it is the moderators' only: to its author too it no longer exists.
    await call(client, "POST", restore, world["lea_token"], expect=404)
    restored = await call(client, "POST", restore, world["local_token"],
                          json={"reason": "Source vérifiée"})
    assert restored["deleted"] is False
    await call(client, "POST", restore, world["local_token"], expect=409)
    assert (await call(client, "GET", path))["id"] == finding_id
    await call(client, "DELETE", path, world["lea_token"], expect=204)  # her own: no reason
    await call(client, "DELETE", path, world["lea_token"], expect=404)  # gone for her


async def test_web_forms_correct_and_withdraw_through_the_same_actions(forum, client, world):
    finding_id = await forum.finding(world["metz"], world["lea"])
    await log_in(client, "lea")
    csrf = await csrf_token(client, f"/f/{finding_id}/delete")
    response = await client.post(f"/f/{finding_id}/delete", data={"csrf_token": csrf},
                                 allow_redirects=False)
    assert response.status == 303
    await call(client, "GET", f"/findings/{finding_id}", expect=404)


# Boards' administration ------------------------------------------------------------------------

async def test_editing_a_board_and_its_moderators(forum, client, world):
    admin = await forum.user("chef", role="admin")
    token = await forum.token(admin)
    await call(client, "PATCH", "/boards/metz", world["modo_token"], expect=403,
               json={"name": "Metz-Ville"})
    board = await call(client, "PATCH", "/boards/metz", token,
                       json={"name": "Metz-Ville", "slug": "metz-ville",
                             "moderation_mode": "a-priori"})
    assert (board["name"], board["slug"], board["moderation_mode"], board["is_city"]) == (
        "Metz-Ville", "metz-ville", "a-priori", True)
    await call(client, "PATCH", "/boards/metz", token, expect=404, json={"name": "X"})
    listed = await call(client, "GET", "/boards/metz/threads")  # the old address leads on
    assert listed["board"]["slug"] == "metz-ville"
    error = error_of(await call(client, "PATCH", "/boards/metz-ville", token, expect=409,
                                json={"slug": "grenoble"}))
    assert error["field"] == "slug"
    await call(client, "PATCH", "/boards/metz-ville", token, expect=422,
               json={"moderation_mode": "never"})
    path = "/boards/metz-ville/moderators"
    assert await call(client, "GET", path, token) == {"moderators": ["local"]}
    await call(client, "GET", path, world["local_token"], expect=403)
    await call(client, "PUT", f"{path}/tom", token, expect=204)
    assert await call(client, "GET", path, token) == {"moderators": ["local", "tom"]}
    # tom now moderates Metz: the queue is his to see (his token reads his new powers).
    await call(client, "GET", "/moderation/queue", world["tom_token"])
    await call(client, "DELETE", f"{path}/local", token, expect=204)
    await call(client, "DELETE", f"{path}/local", token, expect=404)
    await call(client, "PUT", f"{path}/personne", token, expect=404)
    assert await call(client, "GET", path, token) == {"moderators": ["tom"]}


# Files with a bearer token ---------------------------------------------------------------------

async def test_files_are_read_with_a_bearer_token(forum, client, world):
    from tests.test_uploads import jpeg_with_gps, uploaded

    photo = await uploaded(client, world["tom_token"], "place.jpg", jpeg_with_gps((40, 40)))
    # Not attached yet: its owner's only, whether by session or by token.
    mine = await client.get(photo["url"], headers={"Authorization":
                                                   f"Bearer {world['tom_token']}"})
    assert mine.status == 200 and mine.content_type == "image/jpeg"
    assert "private" in mine.headers["Cache-Control"]
    thumb = await client.get(photo["thumbnail_url"],
                             headers={"Authorization": f"Bearer {world['tom_token']}"})
    assert thumb.status == 200
    other = await client.get(photo["url"],
                             headers={"Authorization": f"Bearer {world['lea_token']}"})
    assert other.status == 404
    assert (await client.get(photo["url"])).status == 404
    bad = await client.get(photo["url"], headers={"Authorization": "Bearer vigie_faux"})
    assert bad.status == 401


# Invitations -----------------------------------------------------------------------------------

async def test_invitations_made_listed_and_withdrawn(forum, client, world):
    # A member with no approved post yet may not invite (the page's rule).
    newcomer = await forum.user("nouvelle", trusted=False)
    await call(client, "POST", "/invitations", await forum.token(newcomer), expect=403)
    made = await call(client, "POST", "/invitations", world["modo_token"], expect=201)
    assert made["link"].endswith("/register?invitation=" + made["link"].rpartition("=")[2])
    assert made["live"] is True and made["used_by"] is None
    listed = await call(client, "GET", "/invitations", world["modo_token"])
    assert [item["id"] for item in listed["invitations"]] == [made["id"]]
    assert "link" not in listed["invitations"][0]
    await call(client, "DELETE", f"/invitations/{made['id']}", world["tom_token"], expect=404)
    await call(client, "DELETE", f"/invitations/{made['id']}", world["modo_token"], expect=204)
    listed = await call(client, "GET", "/invitations", world["modo_token"])
    assert [(item["id"], item["live"]) for item in listed["invitations"]] == [
        (made["id"], False)]
    await call(client, "DELETE", f"/invitations/{made['id']}", world["modo_token"], expect=404)


async def test_registration_rules_for_administrators(forum, client, world):
    admin = await forum.user("chef", role="admin")
    token = await forum.token(admin)
    await call(client, "GET", "/registration", world["modo_token"], expect=403)
    await call(client, "PATCH", "/registration", world["modo_token"], expect=403,
               json={"mode": "closed"})
    rules = await call(client, "PATCH", "/registration", token,
                       json={"mode": "invitation", "question": "Quelle ville suivez-vous ?"})
    assert rules == {"mode": "invitation", "question": "Quelle ville suivez-vous ?"}
    assert await call(client, "PATCH", "/registration", token, json={"mode": "closed"}) == {
        "mode": "closed", "question": "Quelle ville suivez-vous ?"}
    await call(client, "PATCH", "/registration", token, expect=422, json={"mode": "ouvert"})
    page = await (await client.get("/register")).text()  # the sign-up page obeys
    assert "Quelle ville suivez-vous" not in page
    assert (await call(client, "GET", "/registration", token))["mode"] == "closed"


async def test_adding_a_kind_of_equipment(forum, client, world):
    admin = await forum.user("chef", role="admin")
    token = await forum.token(admin)
    await call(client, "POST", "/finding-kinds", world["modo_token"], expect=403,
               json={"label": "Lecteurs de plaques"})
    kind = await call(client, "POST", "/finding-kinds", token, expect=201,
                      json={"label": "Lecteurs de plaques"})
    assert kind["slug"] == "lecteurs-de-plaques"
    kinds = await call(client, "GET", "/finding-kinds")
    assert "lecteurs-de-plaques" in [k["slug"] for k in kinds["kinds"]]
    assert kinds["kinds"][-1]["slug"] == "other"  # listed before "Other"
    error = error_of(await call(client, "POST", "/finding-kinds", token, expect=409,
                                json={"label": "lecteurs de plaques"}))
    assert error["field"] == "label"
    await call(client, "POST", "/finding-kinds", token, expect=422, json={"label": "???"})


async def test_a_method_no_page_takes_is_405_not_a_csrf_403(client, world):
    """The document lists GET for the feeds and exports: anything else is 405, as it says."""
    for path in ("/feed.atom", "/b/metz/feed.atom", "/watch/findings.csv"):
        response = await client.request("TRACE", path)
        assert response.status == 405, path
    response = await client.post("/logout")  # a real form without its token: still refused
    assert response.status == 403


# Records requests' moderation and drafts ----------------------------------------------------------

async def test_moderating_records_requests(forum, client, world):
    from tests.test_requests import record

    newcomer = await forum.user("nouvelle", trusted=False)
    waiting = await record(forum, world["metz"], newcomer, review="pending")
    other = await record(forum, world["metz"], newcomer, review="pending")
    queue = await call(client, "GET", "/moderation/requests", world["local_token"])
    assert [item["id"] for item in queue["requests"]] == [waiting, other]
    await call(client, "GET", "/moderation/requests", world["tom_token"], expect=404)
    # Whoever does not moderate Metz is not told the request waits (404, as the page).
    path = f"/moderation/requests/{waiting}"
    await call(client, "POST", f"{path}/approve", world["tom_token"], expect=404)
    approved = await call(client, "POST", f"{path}/approve", world["local_token"])
    assert approved["review"] == "published" and approved["id"] == waiting
    await call(client, "POST", f"{path}/approve", world["local_token"], expect=409)
    await call(client, "GET", f"/requests/{waiting}")  # public now
    reject = f"/moderation/requests/{other}/reject"
    error = error_of(await call(client, "POST", reject, world["local_token"], expect=422,
                                json={"reason": "Hors sujet", "colour": "red"}))
    assert error["field"] == "colour"
    refused = await call(client, "POST", reject, world["modo_token"],
                         json={"reason": "Doublon", "private": True})
    assert (refused["review"], refused["reject_reason"]) == ("rejected", "Doublon")
    await call(client, "GET", f"/requests/{other}", expect=404)  # readers never see it
    async with forum.db.read() as conn:
        assert await conn.value("select count(*) from notifications where user_id = ?",
                                (newcomer.id,)) == 2  # told each decision, as from the page


async def test_drafts_kept_read_and_erased(forum, client, world):
    reply = f"/threads/{world['thread']}/draft"
    token = world["tom_token"]
    await call(client, "GET", reply, token, expect=404)  # none yet
    await call(client, "PUT", reply, expect=401, json={"body": "x"})
    await call(client, "PUT", reply, token, expect=204, json={"body": "Je commence…"})
    draft = await call(client, "GET", reply, token)
    assert (draft["title"], draft["body"]) == ("", "Je commence…")
    await call(client, "GET", reply, world["lea_token"], expect=404)  # one's own only
    # The page's autosave reads the very same draft.
    await log_in(client, "tom")
    shown = await (await client.get(f"/t/{world['thread']}/reply/draft")).json()
    assert shown["body"] == "Je commence…"
    await call(client, "DELETE", reply, token, expect=204)
    await call(client, "GET", reply, token, expect=404)
    new = "/boards/metz/draft"
    await call(client, "PUT", new, token, expect=204,
               json={"title": "Nouvelles caméras", "body": "Rue Serpenoise"})
    assert (await call(client, "GET", new, token))["title"] == "Nouvelles caméras"
    await call(client, "PUT", new, token, expect=204, json={"title": "", "body": " "})
    await call(client, "GET", new, token, expect=404)  # emptied: erased
    error = error_of(await call(client, "PUT", reply, token, expect=422,
                                json={"title": "x", "body": "y"}))  # a reply has no title
    assert error["field"] == "title"
    await call(client, "PUT", "/threads/999999/draft", token, expect=404, json={"body": "x"})
    closed = await forum.board("Groupe de travail")
    async with forum.db.transaction() as tx:
        await boards.set_closed(tx, closed, True)
    # A closed board is not there for whoever is not of its group: nor its drafts (404).
    await call(client, "PUT", f"/boards/{closed.slug}/draft", token, expect=404,
               json={"body": "x"})
    await call(client, "POST", f"/moderation/threads/{world['thread']}/hide",
               world["modo_token"])
    await call(client, "PUT", reply, token, expect=404, json={"body": "x"})  # hidden now


async def test_search_finds_findings_as_the_page_does(forum, client, world):
    await forum.finding(world["metz"], world["lea"], note="Caméras du parking Paixhans")
    await forum.finding(world["metz"], world["lea"], review="pending", note="Paixhans aussi")
    found = await call(client, "GET", "/search", params={"q": "Paixhans"})
    assert found["findings_total"] == 1 and len(found["findings"]) == 1
    assert found["findings"][0]["city"]["slug"] == "metz"
    second = await call(client, "GET", "/search", params={"q": "Paixhans", "type": "documents"})
    assert second["findings"] == [] and second["findings_total"] == 0
