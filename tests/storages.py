"""Stored files on both storages: the data folder, and a real S3-compatible server.

The server is moto's server mode (PyPI `moto[server]`), started once per test session on
127.0.0.1 and a free port, in a process of its own; each test gets a fresh bucket. A test module
runs on both storages by defining

    @pytest.fixture(params=STORAGES)
    def files_url(request) -> str:
        return storage_url(request)
"""
from __future__ import annotations

import contextlib
import secrets
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web

from forum import keys
from forum.storage import BucketStorage

STORAGES = ("folder", "bucket")
# One test on both: @on_both_storages (the files_url fixture of tests/conftest.py takes it).
on_both_storages = pytest.mark.parametrize("files_url", STORAGES, indirect=True)
S3_KEY_ID, S3_SECRET = "vigie-tests", "not-a-secret"  # moto takes any credentials
S3_REGION = "eu-west-3"
START_SECONDS = 60  # moto imports much; on a loaded machine it may take a while


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _answers(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1):
            return True
    except OSError:
        return False


@pytest.fixture(scope="session")
def s3_endpoint() -> Iterator[str]:
    """http://127.0.0.1:PORT of a moto S3 server, for the whole session."""
    port = _free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + START_SECONDS  # a start-up wait, not a measure
        while not _answers(port):
            if process.poll() is not None or time.monotonic() > deadline:
                pytest.fail("the moto S3 server did not start")
            time.sleep(0.1)
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        process.wait(timeout=30)


def s3_client(endpoint: str, signed: bool = True) -> Any:
    """A boto3 client of the test server (unsigned: an anonymous reader of the bucket)."""
    import boto3
    from botocore import UNSIGNED
    from botocore.config import Config as BotoConfig

    return boto3.client("s3", endpoint_url=endpoint, region_name=S3_REGION,
                        aws_access_key_id=S3_KEY_ID, aws_secret_access_key=S3_SECRET,
                        config=BotoConfig(signature_version=UNSIGNED) if not signed else None)


def new_bucket(endpoint: str) -> str:
    """FORUM_FILES_URL of a fresh, empty, private bucket (credentials in the URL)."""
    name = f"vigie-{secrets.token_hex(6)}"
    s3_client(endpoint).create_bucket(
        Bucket=name, CreateBucketConfiguration={"LocationConstraint": S3_REGION})
    return (f"s3://{S3_KEY_ID}:{S3_SECRET}@{name}/site?endpoint={endpoint}"
            f"&region={S3_REGION}")


@pytest.fixture
def bucket_url(s3_endpoint: str) -> str:
    return new_bucket(s3_endpoint)


def storage_url(request: pytest.FixtureRequest) -> str:
    """The files_url of a parametrised fixture: "" (the data folder, also when not
    parametrised) or a fresh bucket's."""
    param = getattr(request, "param", "folder")
    return "" if param == "folder" else str(request.getfixturevalue("bucket_url"))


def stored_copy(app: web.Application, key: str) -> Path:
    """A local path with the stored bytes of key: the file itself in a folder, a fresh copy
    from a bucket (a path that does not exist when there is no such file)."""
    storage = app[keys.UPLOADER].storage
    local = storage.local_path(key)
    if local is not None:
        return local
    copy = app[keys.CONFIG].data_dir / "test-copies" / f"{secrets.token_hex(8)}-{Path(key).name}"
    copy.parent.mkdir(parents=True, exist_ok=True)
    with contextlib.suppress(FileNotFoundError):
        storage.download(key, copy)
    return copy


def stored_keys(app: web.Application, prefix: str) -> list[str]:
    """The keys under prefix (`files/`, `drops/`, `exports/`) in the site's storage."""
    return list(app[keys.UPLOADER].storage.list_keys(prefix))


def in_bucket(app: web.Application) -> bool:
    return isinstance(app[keys.UPLOADER].storage, BucketStorage)
