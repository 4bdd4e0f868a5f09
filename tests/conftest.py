"""The real app on a temporary data folder, served on loopback, and factories."""
from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from datetime import date
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from argon2 import PasswordHasher
from playwright.async_api import Browser, async_playwright

from forum import keys
from forum.app import create_app, open_database
from forum.config import Config
from forum.models import boards, finding_drafts, findings, moderation, posts, threads, users
from tests.postgresql_cluster import Cluster
from tests.storages import (  # noqa: F401 -- fixtures for every test file
    bucket_url,
    s3_endpoint,
    storage_url,
)

STORES = ("sqlite", "postgresql")
# What PostgreSQL lacks, for tests of both_stores modules (pytest.mark.sqlite_only):
SQLITE_FILE = pytest.mark.sqlite_only(reason="reads or writes SQLite's file itself")

PASSWORD = "correct horse battery"
CSRF_FIELD = re.compile(r'name="csrf_token" value="([^"]+)"')


def csrf_from(html: str) -> str:
    match = CSRF_FIELD.search(html)
    assert match, "no CSRF token in the page"
    return match.group(1)


class Forum:
    """Factories writing through the app's own models, and visitors (clients with cookies)."""

    def __init__(self, app: web.Application, client: TestClient) -> None:
        self.app = app
        self.client = client
        self._visitors: list[TestClient] = []
        self._count = 0

    @property
    def config(self) -> Config:
        return self.app[keys.CONFIG]

    @property
    def db(self):
        return self.app[keys.DB]

    def _next(self, prefix: str) -> str:
        self._count += 1
        return f"{prefix}{self._count}"

    async def user(self, name: str | None = None, role: str = "member",
                   password: str = PASSWORD, email: str | None = None,
                   trusted: bool = True) -> users.User:
        """A member; trusted by default (publishes at once), `trusted=False` for a newcomer."""
        async with self.db.transaction() as tx:
            user = await users.create(tx, name or self._next("membre"), password, role, email)
            if trusted:
                await tx.execute("update users set trust_override = 1 where id = ?", (user.id,))
            return await users.get(tx, user.id)

    async def board(self, name: str | None = None, slug: str = "", region: str = "",
                    description: str = "", moderation_mode: str = "a-posteriori") -> boards.Board:
        """A city board; `moderation_mode="a-priori"` for one whose new posts wait."""
        async with self.db.transaction() as tx:
            return await boards.create(tx, name or self._next("Ville"), slug, region,
                                       description, moderation_mode)

    async def appoint(self, board: boards.Board, member: users.User) -> None:
        """Make `member` a moderator of `board`, as an administrator does (it ends their
        sessions: appoint before logging in)."""
        async with self.db.transaction() as tx:
            await moderation.add_board_moderator(tx, board, member)

    async def thread(self, board: boards.Board, author: users.User, title: str = "",
                     body: str = "Premier message.") -> tuple[int, int]:
        """A thread with its first post; returns (thread id, post id)."""
        async with self.db.transaction() as tx:
            return await threads.create(tx, board, author, title or self._next("Sujet "),
                                        body, self.config.title_max, self.config.body_max)

    async def reply(self, thread_id: int, author: users.User, body: str = "Une réponse.",
                    status: str = "published") -> int:
        """A reply; `status="pending"` for one waiting for a moderator."""
        async with self.db.transaction() as tx:
            thread = await threads.get(tx, thread_id)
            return await posts.create(tx, thread.id, thread.board_id, author, body,
                                      self.config.body_max, status=status)

    async def finding(self, board: boards.Board, author: users.User, post_id: int | None = None,
                      review: str = "published", **fields: Any) -> int:
        """A finding checked as a member's would be: 35 cameras in 2008 by default, sourced by
        `post_id` or else by a link; `fields` override any RawFinding field."""
        raw = finding_drafts.RawFinding(**{
            "kind": "cameras", "quantity": "35", "unit": "count", "scope": "total",
            "observed": "2008",
            "status": "in-use", "posts": [post_id] if post_id else [],
            "links": [] if post_id else [("https://example.org/source.pdf", "Source")],
            **fields})
        async with self.db.transaction() as tx:
            draft = await finding_drafts.check(tx, board, raw, date.today())
            return await findings.create(tx, board, author, draft, review)

    async def token(self, user: users.User) -> str:
        async with self.db.transaction() as tx:
            return await users.create_token(tx, user.id)

    async def visitor(self) -> TestClient:
        """Another browser: its own cookie jar, the same server."""
        visitor = TestClient(self.client.server)
        await visitor.start_server()
        self._visitors.append(visitor)
        return visitor

    async def close(self) -> None:
        for visitor in self._visitors:
            await visitor.session.close()


async def csrf_token(client: TestClient, path: str = "/login") -> str:
    response = await client.get(path)
    return csrf_from(await response.text())


async def submit(client: TestClient, path: str, data: dict[str, Any],
                 form_page: str | None = None, **kwargs: Any):
    """POST a form the way a browser would: with the token of the page that shows it."""
    token = await csrf_token(client, form_page or path)
    return await client.post(path, data={"csrf_token": token, **data},
                             allow_redirects=kwargs.pop("allow_redirects", False), **kwargs)


async def log_in(client: TestClient, name: str, password: str = PASSWORD) -> None:
    response = await submit(client, "/login", {"name": name, "password": password})
    assert response.status == 303, await response.text()


async def table_names(conn) -> list[str]:
    """The database's tables, on either store (SQLite's FTS shadow tables included)."""
    if conn.dialect == "sqlite":
        sql = "select name from sqlite_master where type = 'table' order by name"
    else:
        sql = ("select table_name from information_schema.tables where table_type = 'BASE TABLE'"
               " and table_schema = current_schema() order by table_name")
    return [row[0] for row in await conn.all(sql)]


async def column_names(conn, table: str) -> list[str]:
    """A table's columns in their order, on either store."""
    if conn.dialect == "sqlite":
        return [row[1] for row in await conn.all(f"pragma table_info('{table}')")]
    return [row[0] for row in await conn.all(
        "select column_name from information_schema.columns where table_name = ?"
        " and table_schema = current_schema() order by ordinal_position", (table,))]


async def in_store(config: Config, work: Callable[[Any], Awaitable[Any]]) -> Any:
    """`work(tx)` in a transaction on a site's store, opened as the commands open it (for the
    tests of a command, which runs with no app)."""
    db = await open_database(config, readers=1)
    try:
        async with db.transaction() as tx:
            return await work(tx)
    finally:
        await db.close()


async def database_text(db) -> str:
    """Every value of every table as text, read through the app's store (what a leak test
    searches for a trace)."""
    async with db.read() as conn:
        return "\n".join([repr(tuple(row)) for table in await table_names(conn)
                          for row in await conn.all(f'select * from "{table}"')])


QUICK_HASHER = PasswordHasher(time_cost=1, memory_cost=64, parallelism=1)


@pytest.fixture(autouse=True)
def quick_password_hashing(monkeypatch) -> None:
    """Still argon2id, at the lowest cost: a test suite hashes hundreds of passwords."""
    monkeypatch.setattr(users, "_hasher", QUICK_HASHER)


@asynccontextmanager
async def shared_forum(data_dir: Path, database_url: str) -> AsyncIterator[Forum]:
    """A site the tests of a module share (module-scoped fixtures: built once per store, where
    `forum` is built per test), on a real server, with the quick hasher while it is built;
    closed at the end."""
    config = Config.from_env(env={}, data_dir=data_dir, database_url=database_url)
    app = create_app(config)
    client = TestClient(TestServer(app))
    await client.start_server()
    forum = Forum(app, client)
    try:
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(users, "_hasher", QUICK_HASHER)
            yield forum
    finally:
        await forum.close()
        await client.close()


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--store", choices=(*STORES, "both"), default="both",
                     help="the store of tests marked both_stores (default: both)")


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Tests marked both_stores (a module's pytestmark) run once per store, but those marked
    sqlite_only (what PostgreSQL lacks: `vigie check`, SQLite's file); others run on SQLite,
    unparametrised (their ids do not change)."""
    definition = metafunc.definition
    if ("store" in metafunc.fixturenames and definition.get_closest_marker("both_stores")
            and not definition.get_closest_marker("sqlite_only")):
        chosen = metafunc.config.getoption("--store")
        # Per module: a module's own site (tests/test_leak_matrix.py) is built once per store.
        metafunc.parametrize("store", STORES if chosen == "both" else (chosen,), scope="module")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """A module that runs on both storages and both stores may name the storages its
    PostgreSQL runs use (POSTGRESQL_STORAGES): the others are deselected, for CI's time."""
    kept, dropped = [], []
    for item in items:
        params = getattr(getattr(item, "callspec", None), "params", {})
        storages = getattr(item.module, "POSTGRESQL_STORAGES", None)
        if (storages is not None and params.get("store") == "postgresql"
                and params.get("files_url", storages[0]) not in storages):
            dropped.append(item)
        else:
            kept.append(item)
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = kept


@pytest.fixture(scope="session")
def store() -> str:
    """The store the app runs on: "sqlite" (in the data folder), or "postgresql" where
    pytest_generate_tests parametrises it."""
    return "sqlite"


@pytest.fixture(scope="session")
def postgresql_cluster() -> Iterator[Cluster]:
    """One throw-away cluster for the session, started when a test first needs it."""
    cluster = Cluster()
    try:
        # On a thread of its own: asyncio.run() must not touch the tests' event loop.
        with ThreadPoolExecutor(1) as thread:
            thread.submit(cluster.start).result()
        yield cluster
    finally:
        cluster.stop()


async def _fresh_database(request: pytest.FixtureRequest, store: str) -> AsyncIterator[str]:
    if store == "sqlite":
        yield ""
        return
    cluster: Cluster = request.getfixturevalue("postgresql_cluster")
    url = await cluster.database()
    yield url
    await asyncio.shield(cluster.drop(url))


@pytest.fixture
async def database_url(request: pytest.FixtureRequest, store: str) -> AsyncIterator[str]:
    """FORUM_DATABASE_URL for the test: empty (SQLite), or a fresh PostgreSQL database."""
    async for url in _fresh_database(request, store):
        yield url


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def module_databases(request: pytest.FixtureRequest, store: str
                           ) -> AsyncIterator[Callable[[], Awaitable[str]]]:
    """For the sites a module shares (tests/test_leak_matrix.py): new() gives a fresh
    database's URL ("" on SQLite); they are dropped at the module's end."""
    cluster: Cluster | None = (request.getfixturevalue("postgresql_cluster")
                               if store == "postgresql" else None)
    made: list[str] = []

    async def new() -> str:
        if cluster is None:
            return ""
        made.append(await cluster.database())
        return made[-1]

    yield new
    for url in made:
        assert cluster is not None
        await asyncio.shield(cluster.drop(url))


@pytest.fixture
def aiohttp_client(database_url: str, aiohttp_client):
    """pytest-aiohttp's, set up after the test's database: its apps are cleaned up (their last
    writes flushed) before the database is dropped."""
    return aiohttp_client


@pytest.fixture(autouse=True)
def logging_left_as_found() -> Iterator[None]:
    """`cli.main` points the root logger at this test's captured standard error; put it back,
    or a later event (an SMTP server thread's "connection lost") writes to a closed stream."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)


@pytest.fixture
def files_url(request: pytest.FixtureRequest) -> str:
    """Where stored files go: the data folder, unless a test runs on both (tests/storages.py)."""
    return storage_url(request)


@pytest.fixture
def config(tmp_path, database_url: str, files_url: str) -> Config:
    return Config.from_env(env={}, data_dir=tmp_path / "data", database_url=database_url,
                           files_url=files_url)


@pytest.fixture
async def app(config: Config) -> web.Application:
    return create_app(config)


@pytest.fixture
async def client(aiohttp_client, app: web.Application) -> TestClient:
    return await aiohttp_client(app)


@pytest.fixture
async def forum(app: web.Application, client: TestClient) -> AsyncIterator[Forum]:
    helper = Forum(app, client)
    yield helper
    await helper.close()


# The board and members most tests start from (a test file may define its own under the name).
@pytest.fixture
async def metz(forum: Forum) -> boards.Board:
    return await forum.board("Metz")


@pytest.fixture
async def lea(forum: Forum) -> users.User:
    return await forum.user("lea")


@pytest.fixture
async def camille(forum: Forum) -> users.User:
    return await forum.user("camille")


@pytest.fixture
async def people(forum: Forum) -> tuple[users.User, users.User]:
    """Léa, who reads, and Paul, who writes (the unread tests)."""
    return await forum.user("lea"), await forum.user("paul")


# Browser tests (tests/test_browser.py has their helpers) -----------------------------------------

CHROMIUM = Path("/usr/bin/chromium")
# Without the background-networking flags Chromium keeps trying to reach the internet.
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]


@asynccontextmanager
async def chromium() -> AsyncIterator[Browser]:
    """Debian's Chromium; missing is a failure, never a skip (CI must run these tests)."""
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: run `make test`, which installs Debian's chromium "
                    "package for the browser tests.", pytrace=False)
    async with async_playwright() as pw:
        launched = await pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield launched
        await launched.close()


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    """A browser for the test (a module sharing its site shares one too: test_axe_browser)."""
    async with chromium() as launched:
        yield launched


@pytest.fixture
def site(client: TestClient) -> str:
    """The base URL of the real server, ending in '/'."""
    return str(client.make_url("/"))
