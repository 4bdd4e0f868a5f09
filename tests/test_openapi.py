"""The OpenAPI document describes every API route, and schemathesis finds the server keeps to it."""
from __future__ import annotations

import asyncio
import importlib
import json
import os
import sys
from pathlib import Path

import pytest
import schemathesis

from forum.api import openapi
from forum.config import Config
from forum.models import posts
from forum.models.boards import NAME_MAX
from tests.test_requests import record

pytestmark = pytest.mark.both_stores

# Per operation and phase; about 40 s for the whole run on a laptop.
MAX_EXAMPLES = 25
RUN_TIMEOUT = 300  # seconds: a hung run fails instead of blocking the suite
# schemathesis' default checks, as they are. A file's content decides whether it is accepted,
# which no schema can describe: the document lists the media types of the upload's `file` part
# (its `encoding`), and tests/schemathesis_hooks.py tells schemathesis how to make a file of
# each, as its documentation shows ("Custom Media Types"), instead of random bytes.
HOOKS = "tests.schemathesis_hooks"
SCHEMATHESIS_TOML = """
[dictionaries.known_ids]
values = {ids}

[dictionaries.known_slugs]
values = ["{slug}"]

# Half of the generated ids and slugs name things that exist, so requests get past the 404.
[parameters]
"path.id" = {{ dictionary = "known_ids", probability = 0.5 }}
"path.slug" = {{ dictionary = "known_slugs", probability = 0.5 }}
"query.board" = {{ dictionary = "known_slugs", probability = 0.5 }}
"""
# Each decision gets pending posts of its own: approve, run first, would otherwise decide them
# all, and the others would only ever answer 409.
DECISION_TOML = """
[dictionaries.{name}_ids]
values = {ids}

[[operations]]
include-operation-id = "api_moderation_{name}"
parameters = {{ "path.id" = {{ dictionary = "{name}_ids", probability = 0.5 }} }}
"""
DECISIONS = ("approve", "reject", "edit_and_approve")


@pytest.fixture
def config(tmp_path: Path, database_url: str) -> Config:
    # The fuzzer posts hundreds of times a minute, most of it invalid on purpose; the limits
    # themselves are tested in test_api.py and test_input_limits.py.
    return Config.from_env(env={}, data_dir=tmp_path / "data", database_url=database_url,
                           posts_per_minute=1_000_000,
                           invalid_requests_per_minute=1_000_000)


async def test_document_is_valid_openapi_3_1(client):
    response = await client.get("/api/openapi.json")
    assert response.status == 200 and response.content_type == "application/json"
    document = await response.json()
    assert document["openapi"] == "3.1.0"
    schemathesis.openapi.from_dict(document).validate()  # raises on an invalid document
    schemes = document["components"]["securitySchemes"]
    assert schemes["bearer"] == {"type": "http", "scheme": "bearer",
                                 "description": schemes["bearer"]["description"]}
    assert schemes["session"]["in"] == "cookie"


async def test_every_api_route_is_documented_under_its_name(app, config):
    document = openapi.build(config)
    documented = {(path, method.upper()): operation["operationId"]
                  for path, item in document["paths"].items()
                  for method, operation in item.items()}
    routes = {(route.resource.canonical, route.method): route.name
              for route in app.router.routes() if (route.name or "").startswith("api_")
              # Open data, feeds and files: pages a client reads, documented for their GET.
              or (route.name in openapi.OPEN_DATA_ROUTES and route.method == "GET")}
    assert routes == documented


def test_limits_come_from_the_configuration():
    document = openapi.build(Config.from_env(env={}, title_max=42, body_max=500))
    schemas = document["components"]["schemas"]
    assert schemas["ThreadInput"]["properties"]["title"]["maxLength"] == 42
    assert schemas["PostInput"]["properties"]["body"]["maxLength"] == 500
    assert schemas["BoardInput"]["properties"]["name"]["maxLength"] == NAME_MAX


async def test_the_fuzzers_files_are_files_the_server_takes(forum, client, config):
    """Each media type the upload lists and tests/schemathesis_hooks.py makes files of: the
    smallest such file is stored (201), so the positive-data check is a real one."""
    from hypothesis import find
    from schemathesis.core.media_types import MEDIA_TYPE_STRATEGIES

    from tests.test_uploads import uploaded

    importlib.import_module(HOOKS)
    encoding = openapi.build(config)["paths"]["/api/v1/uploads"]["post"]["requestBody"][
        "content"]["multipart/form-data"]["encoding"]["file"]["contentType"].split(", ")
    made = {kind: strategy for kind, strategy in MEDIA_TYPE_STRATEGIES.items()}
    assert set(made) <= set(encoding) and len(made) >= 6
    token = await forum.token(await forum.user("lea"))
    for media_type, strategy in made.items():
        data = find(strategy, lambda _: True)
        stored = await uploaded(client, token, "file", data, media_type)
        # A text is CSV by its name (uploads/kinds.text_kind); schemathesis names it "file".
        expected = "text/plain" if media_type == "text/csv" else media_type
        assert stored["content_type"].split(";")[0] == expected, media_type


# CI fuzzes with a fixed seed, so that a run lands or fails for what it changed; a new seed
# (VIGIE_FUZZ_SEED=random) explores other inputs: a failure it finds is a real bug to fix.
ROOT = Path(__file__).resolve().parent.parent  # where `tests.schemathesis_hooks` is found
FUZZ_SEED = os.environ.get("VIGIE_FUZZ_SEED", "20261123")


async def run_schemathesis(base_url: str, token: str, folder: Path) -> tuple[int, str]:
    """The schemathesis CLI in a subprocess, awaited so that this loop keeps serving."""
    seed = [] if FUZZ_SEED == "random" else ["--seed", FUZZ_SEED]
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "schemathesis.cli", "--config-file",
        str(folder / "schemathesis.toml"), "run", f"{base_url}/api/openapi.json",
        "--url", base_url, "-H", f"Authorization: Bearer {token}",
        "--max-examples", str(MAX_EXAMPLES), "--generation-database", "none", "--no-color",
        "--report", "json", "--report-json-path", str(folder / "report.json"), *seed,
        cwd=folder, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
        env={**os.environ, "NO_PROXY": "127.0.0.1", "no_proxy": "127.0.0.1",
             "SCHEMATHESIS_HOOKS": HOOKS, "PYTHONPATH": os.pathsep.join(
                 [str(ROOT), *filter(None, [os.environ.get("PYTHONPATH")])])})
    try:
        output, _ = await asyncio.wait_for(process.communicate(), RUN_TIMEOUT)
    except TimeoutError:
        process.kill()
        await process.wait()
        raise
    return process.returncode or 0, output.decode(errors="replace")


@pytest.mark.slow
async def test_server_keeps_to_its_openapi_document(forum, client, tmp_path):
    admin = await forum.user("chef", role="admin")
    token = await forum.token(admin)
    board = await forum.board("Metz")
    thread_id, post_id = await forum.thread(board, admin)
    reply_id = await forum.reply(thread_id, admin)
    flaggable = await forum.reply(thread_id, await forum.user("lea"))  # not the admin's own
    newcomer = await forum.user("nouvelle", trusted=False)
    pending: dict[str, list[int]] = {}
    async with forum.db.transaction() as tx:
        for name in DECISIONS:
            pending[name] = [await posts.create(tx, thread_id, board.id, newcomer, f"{name} {n}",
                                                forum.config.body_max, status="pending")
                             for n in range(2)]
    # Records requests waiting in Metz (the admin moderates it): approving and refusing them.
    waiting = [await record(forum, board, newcomer, review="pending") for _ in range(2)]
    folder = tmp_path / "schemathesis"
    folder.mkdir()
    (folder / "schemathesis.toml").write_text(SCHEMATHESIS_TOML.format(
        ids=sorted({thread_id, post_id, reply_id, flaggable, *waiting}),
        slug=board.slug) + "".join(
        DECISION_TOML.format(name=name, ids=ids) for name, ids in pending.items()))
    base_url = str(client.make_url("/")).rstrip("/")
    code, output = await run_schemathesis(base_url, token, folder)
    assert code == 0, output  # a 5xx or any difference from the document fails here
    report = json.loads((folder / "report.json").read_text())
    document = openapi.build(forum.config)
    operations = sum(len(item) for path, item in document["paths"].items()
                     if path.startswith("/api/v1/"))  # it leaves out the document's own URL
    assert report["operations"]["tested"] == report["operations"]["total"] >= operations, output
    assert report["test_cases"]["generated"] >= operations * 10, output
    print(f"schemathesis: {report['test_cases']['generated']} cases on {operations} operations"
          f" in {report['running_time']:.0f} s, seed {report['seed']}")
