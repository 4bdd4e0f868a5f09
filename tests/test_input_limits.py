"""Bad input is refused cheaply and not for long: oversized JSON bodies before they are read,
absurd query strings before they are parsed, and a client that keeps sending what is refused
gets 429 before anything of its requests is read (forum/input_limits.py).

How fast the site stays for readers meanwhile is measured in bench/hostile.py; here, only what
was answered, read and counted.
"""
from __future__ import annotations

import json
import os
import uuid
from pathlib import Path
from typing import Any

import pytest
from aiohttp import StreamReader, web

from forum import api, input_limits, keys
from forum.app import create_app
from forum.config import Config
from forum.i18n import CATALOGS
from forum.input_limits import FORM, QUERY_PARAMETERS_MAX, body_bytes_max
from forum.models import search
from forum.ratelimit import RateLimiter, SharedHits
from tests.conftest import Forum, csrf_token, log_in
from tests.test_api import V1, error_of

pytestmark = pytest.mark.both_stores

LIMIT = 3  # invalid requests a client may send per minute, in these tests
PROXY = "127.0.0.1"  # the test client's address: the proxy that names each client
FLOODER, READER = "198.51.100.7", "192.0.2.8"


async def site(aiohttp_client, tmp_path: Path, database_url: str,
               limiter: RateLimiter | None = None) -> Forum:
    config = Config.from_env(env={}, data_dir=tmp_path / uuid.uuid4().hex,
                             database_url=database_url, trusted_proxies=PROXY,
                             invalid_requests_per_minute=LIMIT)
    app = create_app(config)
    if limiter is not None:
        app[keys.LIMITER] = limiter
    return Forum(app, await aiohttp_client(app))


@pytest.fixture
def pauses(monkeypatch) -> list[None]:
    """The pause before each 429, recorded instead of slept."""
    taken: list[None] = []

    async def pause() -> None:
        taken.append(None)

    monkeypatch.setattr(input_limits, "_pause", pause)
    return taken


@pytest.fixture
def bytes_read(monkeypatch) -> list[int]:
    """Bytes of request bodies the handlers had read when json_body answered."""
    counted: list[int] = []
    at_answer: list[int] = []
    read = StreamReader.read

    async def counting(self: StreamReader, n: int = -1) -> bytes:
        chunk = await read(self, n)
        counted.append(len(chunk))
        return chunk

    bounded = api._bounded_body

    async def spy(request: web.Request, limit: int) -> bytes:
        try:
            return await bounded(request, limit)
        finally:
            at_answer.append(sum(counted))

    monkeypatch.setattr(StreamReader, "read", counting)
    monkeypatch.setattr(api, "_bounded_body", spy)
    return at_answer


async def post_thread(forum: Forum, token: str, body: Any, client: str = FLOODER,
                      **kwargs: Any):
    headers = {"Authorization": f"Bearer {token}", "X-Forwarded-For": client,
               "Content-Type": "application/json"}
    return await forum.client.post(V1 + "/boards/metz/threads", data=body, headers=headers,
                                   **kwargs)


async def thread_count(forum: Forum) -> int:
    async with forum.db.read() as conn:
        return int(await conn.value("select count(*) from threads"))


async def _member(forum: Forum) -> str:
    await forum.board("Metz", slug="metz")
    return await forum.token(await forum.user("lea"))


# JSON bodies: a bound in bytes, before reading ---------------------------------------------------

async def test_a_json_body_longer_than_any_input_is_413_before_it_is_read(
        aiohttp_client, tmp_path, database_url, bytes_read):
    forum = await site(aiohttp_client, tmp_path, database_url)
    token = await _member(forum)
    limit = body_bytes_max(forum.app[keys.CONFIG])
    body = json.dumps({"title": "Corps", "body": "x" * limit}).encode()
    response = await post_thread(forum, token, body)
    assert response.status == 413, await response.text()
    assert str(limit) in error_of(await response.json())["message"].replace("\u202f", "")
    assert bytes_read == [0]  # Content-Length said enough
    assert await thread_count(forum) == 0


async def test_a_chunked_json_body_is_cut_off_once_past_the_bound(
        aiohttp_client, tmp_path, database_url, bytes_read):
    forum = await site(aiohttp_client, tmp_path, database_url)
    token = await _member(forum)
    limit = body_bytes_max(forum.app[keys.CONFIG])
    chunk = b" " * 65536

    async def endless():  # no Content-Length: the body says nothing of its size
        yield b'{"title": "Corps", "body": "x"'
        for _ in range(4 * limit // len(chunk)):
            yield chunk
        yield b"}"

    response = await post_thread(forum, token, endless())
    assert response.status == 413, await response.text()
    assert bytes_read == [limit + 1]  # not a byte more than needed to know


async def test_a_json_body_within_the_bound_is_still_read(aiohttp_client, tmp_path, database_url):
    forum = await site(aiohttp_client, tmp_path, database_url)
    token = await _member(forum)
    limit = forum.app[keys.CONFIG].body_max
    # The longest body, every character escaped as JSON may escape it: under the bound.
    body = json.dumps({"title": "Émojis", "body": "😀" * (limit // 2)}, ensure_ascii=True)
    response = await post_thread(forum, token, body.encode())
    assert response.status == 201, await response.text()


# Query strings: counted before they are parsed ---------------------------------------------------

async def test_a_thousand_query_parameters_are_400_without_rendering_the_page(
        aiohttp_client, tmp_path, database_url, monkeypatch):
    forum = await site(aiohttp_client, tmp_path, database_url)
    await forum.board("Metz", slug="metz")
    many = "&".join(f"p{n}=1" for n in range(1000))
    response = await forum.client.get(f"/b/metz?{many}", headers={"X-Forwarded-For": FLOODER})
    assert response.status == 400
    assert CATALOGS["fr"].gettext("This address has too many parameters (at most %(max)s).") \
        .split("(")[0] in await response.text()
    fewer = "&".join(f"p{n}=1" for n in range(QUERY_PARAMETERS_MAX - 1))
    response = await forum.client.get(f"/b/metz?{fewer}", headers={"X-Forwarded-For": READER})
    assert response.status == 200


# Invalid requests, counted per client ------------------------------------------------------------

async def test_a_client_refused_as_invalid_too_often_gets_429_before_its_requests_are_read(
        aiohttp_client, tmp_path, database_url, bytes_read, pauses):
    forum = await site(aiohttp_client, tmp_path, database_url)
    token = await _member(forum)
    too_long = json.dumps({"title": "x" * 100_000, "body": "x"}).encode()
    for _ in range(LIMIT):
        assert (await post_thread(forum, token, too_long)).status == 422
    assert len(bytes_read) == LIMIT and pauses == []
    refused = await post_thread(forum, token, too_long)
    assert refused.status == 429 and int(refused.headers["Retry-After"]) > 0
    assert error_of(await refused.json())["code"] == "rate_limited"
    # Even a valid request with input is turned away, after a pause, and nothing is read.
    valid = json.dumps({"title": "Caméras", "body": "Place Saint-Louis"}).encode()
    assert (await post_thread(forum, token, valid)).status == 429
    search = await forum.client.get("/search?q=cam%C3%A9ras",
                                    headers={"X-Forwarded-For": FLOODER})
    assert search.status == 429
    assert len(bytes_read) == LIMIT and len(pauses) == 3
    # Its plain page reads still pass; and another client is not concerned.
    assert (await forum.client.get("/b/metz", headers={"X-Forwarded-For": FLOODER})).status == 200
    assert (await post_thread(forum, token, valid, client=READER)).status == 201
    assert await thread_count(forum) == 1


async def test_a_form_shown_again_with_its_errors_counts_as_invalid(
        aiohttp_client, tmp_path, database_url, pauses):
    forum = await site(aiohttp_client, tmp_path, database_url)
    await forum.board("Metz", slug="metz")
    headers = {"X-Forwarded-For": FLOODER}
    phrase = '"' + " ".join(["de"] * (search.WORDS_MAX + 1)) + '"'  # one word too many
    for _ in range(LIMIT):
        response = await forum.client.get("/search", params={"q": phrase}, headers=headers)
        assert response.status == 422
    assert (await forum.client.get("/search?q=de", headers=headers)).status == 429
    assert len(pauses) == 1


async def test_asking_for_what_does_not_exist_is_not_invalid(
        aiohttp_client, tmp_path, database_url, pauses):
    forum = await site(aiohttp_client, tmp_path, database_url)
    token = await _member(forum)
    headers = {"Authorization": f"Bearer {token}", "X-Forwarded-For": FLOODER}
    for _ in range(LIMIT + 1):
        body = {"body": "Une réponse"}
        response = await forum.client.post(V1 + "/threads/999999/posts", json=body,
                                           headers=headers)
        assert response.status == 404
    assert (await post_thread(forum, token, b'{"title": "Ok", "body": "Ok"}')).status == 201
    assert pauses == []


@pytest.mark.sqlite_only(reason="two sites, each with its data, sharing a hits file: shared "
                         "hits on PostgreSQL are tests/test_ratelimit*.py's")
async def test_workers_count_a_clients_invalid_requests_together(
        aiohttp_client, tmp_path, database_url, pauses):
    path, secret = tmp_path / "hits.sqlite3", os.urandom(32)
    first, second = [await site(aiohttp_client, tmp_path, database_url, RateLimiter(
        PROXY, SharedHits(path, secret), workers=2)) for _ in range(2)]
    tokens = {first: await _member(first), second: await _member(second)}
    bad = b'{"title": "", "body": "x"}'
    for forum in (first, second, first):
        assert (await post_thread(forum, tokens[forum], bad)).status == 422
    assert (await post_thread(second, tokens[second], bad)).status == 429
    assert len(pauses) == 1


async def test_a_form_longer_than_any_form_is_413_before_it_is_read(
        aiohttp_client, tmp_path, database_url, monkeypatch):
    forum = await site(aiohttp_client, tmp_path, database_url)
    read: list[int] = []
    post = web.Request.post

    async def spy(self: web.Request) -> Any:
        read.append(1)
        return await post(self)

    monkeypatch.setattr(web.Request, "post", spy)
    limit = body_bytes_max(forum.app[keys.CONFIG])
    response = await forum.client.post("/login", data={"name": "x" * limit, "password": "p"},
                                       headers={"X-Forwarded-For": FLOODER})
    assert response.status == 413 and read == []
    response = await forum.client.post("/login", data={"name": "lea", "password": "p"},
                                       headers={"X-Forwarded-For": READER})
    assert response.status == 403 and read  # read, and refused for its missing token


# Multipart forms: their own streaming limits, and counted like any other invalid request -------

BROKEN_MULTIPART = (b"--edge\r\n"
                    b"Content-Disposition: form-data; name=\"file\"; filename=\"a.pdf\"\r\n")


@pytest.mark.parametrize("body, status", [
    (BROKEN_MULTIPART, 422),  # cut off in a part's headers: an empty file
    (b"--other\r\n\r\nnothing\r\n--other--\r\n", 400),  # no part under the announced boundary
    (b"--edge\r\nContent-Type: multipart/mixed; boundary=in\r\n\r\n--in--\r\n--edge--\r\n",
     400),  # a multipart inside the multipart
], ids=["cut-short", "wrong-boundary", "nested"])
async def test_an_unreadable_multipart_upload_counts_as_invalid(
        aiohttp_client, tmp_path, database_url, pauses, body, status):
    forum = await site(aiohttp_client, tmp_path, database_url)
    token = await _member(forum)
    headers = {"Authorization": f"Bearer {token}", "X-Forwarded-For": FLOODER,
               "Content-Type": "multipart/form-data; boundary=edge"}
    for _ in range(LIMIT):
        response = await forum.client.post(V1 + "/uploads", data=body, headers=headers)
        assert response.status == status, await response.text()
    response = await forum.client.post(V1 + "/uploads", data=body, headers=headers)
    assert response.status == 429 and len(pauses) == 1
    headers["X-Forwarded-For"] = READER  # another client is not concerned
    assert (await forum.client.post(V1 + "/uploads", data=body, headers=headers)).status == status


async def test_an_unreadable_multipart_form_of_a_page_counts_as_invalid(
        aiohttp_client, tmp_path, database_url, pauses):
    forum = await site(aiohttp_client, tmp_path, database_url)
    lea = await forum.user("lea")
    thread_id, _ = await forum.thread(await forum.board("Metz", slug="metz"), lea)
    browser = forum.client
    await log_in(browser, "lea")
    token = await csrf_token(browser, f"/t/{thread_id}/reply")
    body = (b"--edge\r\nContent-Disposition: form-data; name=\"csrf_token\"\r\n\r\n"
            + token.encode() + b"\r\n" + BROKEN_MULTIPART)
    headers = {"X-Forwarded-For": FLOODER, "Content-Type": "multipart/form-data; boundary=edge"}
    for _ in range(LIMIT):
        response = await browser.post(f"/t/{thread_id}/reply", data=body, headers=headers)
        assert response.status == 400, await response.text()
    response = await browser.post(f"/t/{thread_id}/reply", data=body, headers=headers)
    assert response.status == 429 and len(pauses) == 1


@pytest.mark.parametrize("content_type, body", [
    ("multipart/form-data; boundary=edge", BROKEN_MULTIPART),  # cut short
    ("multipart/form-data; boundary=edge", b"garbage"),  # no starting boundary
    ("multipart/form-data", b"--edge--\r\n"),  # no boundary announced
    ("multipart/form-data; boundary=edge",
     b"--edge\r\nContent-Type: multipart/mixed; boundary=in\r\n\r\n--in--\r\n--edge--\r\n"),
    ("multipart/form-data; boundary=edge", b"--edge\r\nContent-Disposition: form-data; name=\"n\""
     b"\r\nContent-Transfer-Encoding: rot13\r\n\r\nx\r\n--edge--\r\n"),
    (FORM, b"name=\xff\xfe"),  # not UTF-8
    (FORM + "; charset=klingon", b"name=lea"),
], ids=["cut-short", "garbage", "no-boundary", "nested", "unknown-encoding", "not-utf8",
        "unknown-charset"])
@pytest.mark.parametrize("path", ["/login", "/b/metz/new"], ids=["read-whole", "streamed"])
async def test_an_unreadable_form_is_400_and_counts_as_invalid(
        aiohttp_client, tmp_path, database_url, pauses, content_type, body, path):
    """A form read whole: it was a 500, counted against nobody. (A route that streams its
    files reads a urlencoded form whole too.)"""
    forum = await site(aiohttp_client, tmp_path, database_url)
    await forum.board("Metz", slug="metz")
    if path != "/login" and content_type.startswith("multipart/"):
        return  # streamed: tests above
    headers = {"X-Forwarded-For": FLOODER, "Content-Type": content_type}
    for _ in range(LIMIT):
        response = await forum.client.post(path, data=body, headers=headers)
        assert response.status == 400, await response.text()
        assert CATALOGS["fr"].gettext("This form could not be read. Please try again.") in (
            await response.text()).replace("&#39;", "'")
    assert (await forum.client.post(path, data=body, headers=headers)).status == 429
    assert len(pauses) == 1
