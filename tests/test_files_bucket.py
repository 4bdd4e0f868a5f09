"""Files in an S3-compatible bucket (FORUM_FILES_URL, forum/storage.py), against moto's server.

The upload, photo, document, drop, export and backup tests already run on both storages
(tests/storages.py); these check what only a bucket raises: what lands in it, that nobody reads
it but Vigie, that a failed upload leaves nothing, and that memory stays flat in file size.
"""
from __future__ import annotations

import asyncio
import os
import sqlite3
import tracemalloc
from typing import Any

import pytest
from botocore.exceptions import ClientError, EndpointConnectionError

from forum import check, keys
from forum.config import MB, Config, ConfigError
from forum.models import documents
from forum.storage import PART, BucketStorage, FolderStorage, open_storage
from tests.conftest import Forum, log_in
from tests.storages import S3_REGION, s3_client
from tests.test_drop import DROP_TABLES, rows_of, send_drop
from tests.test_uploads import jpeg_with_gps, pending_photo, post_with, upload, uploaded

pytestmark = pytest.mark.both_stores

BIG = PART + MB  # past one part: sent as a multipart upload


@pytest.fixture
def files_url(bucket_url: str) -> str:
    return bucket_url


@pytest.fixture
async def member(forum: Forum) -> dict[str, Any]:
    lea = await forum.user("lea")
    return {"user": lea, "token": await forum.token(lea)}


def bucket_of(forum: Forum) -> tuple[Any, str, str]:
    """(a client of the test server, the bucket's name, the site's prefix)."""
    storage = forum.app[keys.UPLOADER].storage
    assert isinstance(storage, BucketStorage)
    return s3_client(storage.client.meta.endpoint_url), storage.bucket, storage.prefix


def object_keys(forum: Forum) -> list[str]:
    client, bucket, _prefix = bucket_of(forum)
    listed = client.list_objects_v2(Bucket=bucket)
    return sorted(item["Key"] for item in listed.get("Contents", []))


def object_key(forum: Forum, sha256: str) -> str:
    return f"site/files/{sha256[:2]}/{sha256[2:4]}/{sha256}"


def big_text() -> bytes:
    line = b"Releve des cameras de la place, colonne par colonne, sans nom ni date.\n"
    return line * (BIG // len(line) + 1)


async def test_an_upload_is_a_private_object_of_the_bucket_and_nothing_in_the_folder(
        forum, client, member):
    photo = await uploaded(client, member["token"], "place.jpg", jpeg_with_gps((80, 60)))
    s3, bucket, prefix = bucket_of(forum)
    key = object_key(forum, photo["sha256"])
    assert prefix == "site/" and key in object_keys(forum)
    assert len(object_keys(forum)) == 3  # the photo, its thumbnail, one smaller copy
    # Nothing stored in the data folder: only the (empty) temporary folder.
    files_dir = forum.config.data_dir / "files"
    assert [p for p in files_dir.rglob("*") if p.is_file()] == []
    # Private: only the owner is granted anything, no policy, and an anonymous read is refused.
    grants = s3.get_object_acl(Bucket=bucket, Key=key)["Grants"]
    assert [grant["Grantee"]["Type"] for grant in grants] == ["CanonicalUser"]
    with pytest.raises(ClientError) as refused:
        s3.get_bucket_policy(Bucket=bucket)
    assert refused.value.response["Error"]["Code"] == "NoSuchBucketPolicy"
    anonymous = s3_client(s3.meta.endpoint_url, signed=False)
    with pytest.raises(ClientError) as refused:
        anonymous.get_object(Bucket=bucket, Key=key)
    assert refused.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403
    # Vigie serves it to its owner only (attached to nothing yet), streamed from the bucket.
    assert (await client.get(photo["url"])).status == 404
    await log_in(client, "lea")
    served = await client.get(photo["url"])
    assert served.status == 200
    assert await served.read() == s3.get_object(Bucket=bucket, Key=key)["Body"].read()


async def test_a_pending_posts_file_is_404_for_visitors_and_served_to_its_author(
        forum, client):
    photo = await pending_photo(forum, client)
    assert object_key(forum, photo["sha256"]) in object_keys(forum)
    assert (await client.get(photo["url"])).status == 404
    assert (await client.head(photo["url"])).status == 404
    author = await forum.visitor()
    await log_in(author, "nouvelle")
    mine = await author.get(photo["url"])
    assert mine.status == 200 and mine.headers["Cache-Control"] == "private, no-cache"
    assert "Last-Modified" not in mine.headers  # it would tell when the bytes were first sent
    head = await author.head(photo["url"])
    assert head.status == 200 and head.headers["Content-Length"] == str(len(await mine.read()))


async def test_a_failed_upload_to_the_bucket_leaves_no_row_and_no_object(forum, client, member):
    storage = forum.app[keys.UPLOADER].storage
    s3, bucket, _prefix = bucket_of(forum)

    def cut_off(**_kwargs: Any) -> None:
        raise EndpointConnectionError(endpoint_url="http://127.0.0.1:9")

    # The second part of a multipart upload fails: the first was already sent.
    sent = []

    def second_part_fails(**kwargs: Any) -> None:
        sent.append(kwargs)
        if len(sent) == 2:
            cut_off()

    storage.client.meta.events.register("before-call.s3.UploadPart", second_part_fails)
    response = await upload(client, member["token"], "releve.txt", big_text(), "text/plain")
    storage.client.meta.events.unregister("before-call.s3.UploadPart", second_part_fails)
    assert response.status == 503 and "Retry-After" in response.headers
    async with forum.db.read() as conn:
        assert await conn.value("select count(*) from uploads") == 0
    assert object_keys(forum) == []
    assert s3.list_multipart_uploads(Bucket=bucket).get("Uploads", []) == []  # aborted
    assert [p for p in (forum.config.data_dir / "files").rglob("*") if p.is_file()] == []
    # The bucket back: the same file goes in whole.
    again = await uploaded(client, member["token"], "releve.txt", big_text(), "text/plain")
    assert object_keys(forum) == [object_key(forum, again["sha256"])]
    head = s3.head_object(Bucket=bucket, Key=object_key(forum, again["sha256"]))
    assert head["ContentLength"] == again["size"] and "-" in head["ETag"]  # multipart


async def test_an_upload_whose_transaction_fails_leaves_no_object(
        forum, client, member, monkeypatch):
    """Files go to the bucket before the transaction (the writer's lock waits for no upload):
    if the row is not written after all, they are removed."""
    async def broken(*_args: Any) -> None:
        raise sqlite3.OperationalError("disk I/O error")

    monkeypatch.setattr(documents, "store_text", broken)
    response = await upload(client, member["token"], "place.jpg", jpeg_with_gps((60, 40)))
    assert response.status == 500  # an unknown failure: nothing half-written all the same
    monkeypatch.undo()
    async with forum.db.read() as conn:
        assert await conn.value("select count(*) from uploads") == 0
    assert object_keys(forum) == []


async def test_a_staged_file_a_purge_removed_is_put_again(forum, client, member, monkeypatch):
    """Between staging and the transaction, purge() may remove an object of the same bytes
    (an expired upload's): place() in the transaction puts it back."""
    store = forum.app[keys.UPLOADER].store
    stage = store.stage

    async def stage_then_purge(files: list, staged: set[str]) -> None:
        await stage(files, staged)
        for _path, sha in files:
            await store.remove(sha)

    monkeypatch.setattr(store, "stage", stage_then_purge)
    photo = await uploaded(client, member["token"], "place.jpg", jpeg_with_gps((60, 40)))
    assert object_key(forum, photo["sha256"]) in object_keys(forum)
    assert len(object_keys(forum)) == 3


async def test_a_drop_whose_second_file_fails_leaves_no_row_and_no_object(forum):
    await forum.board("Metz", slug="metz")
    storage = forum.app[keys.UPLOADER].storage
    puts = []

    def second_put_fails(**kwargs: Any) -> None:
        puts.append(kwargs)
        if len(puts) == 2:
            raise EndpointConnectionError(endpoint_url="http://127.0.0.1:9")

    storage.client.meta.events.register("before-call.s3.PutObject", second_put_fails)
    response = await send_drop(forum.client, "metz", files=[
        ("a.txt", b"Premier document.\n", "text/plain"),
        ("b.txt", b"Second document.\n", "text/plain")])
    storage.client.meta.events.unregister("before-call.s3.PutObject", second_put_fails)
    assert response.status == 503 and len(puts) == 2
    assert await rows_of(forum) == {table: [] for table in DROP_TABLES}
    assert object_keys(forum) == []  # the first file, put before, was removed


async def test_purges_remove_the_objects(forum, client, member):
    lost = await uploaded(client, member["token"], "brouillon.jpg", jpeg_with_gps((30, 30)))
    async with forum.db.transaction() as tx:
        await tx.execute("update uploads set created_at = '2000-01-01T00:00:00Z'")
    assert await forum.app[keys.UPLOADER].purge(forum.db) == 1
    assert object_keys(forum) == []
    served = await client.get(lost["url"])
    assert served.status == 404


@pytest.mark.sqlite_only(reason="vigie check reads SQLite's file (PostgreSQL's check: "
                         "tests/test_check*.py)")
async def test_check_compares_the_bucket_with_the_database(forum, client, member):
    board = await forum.board("Metz")
    thread_id, _ = await forum.thread(board, member["user"])
    first = await uploaded(client, member["token"], "un.txt", b"Premier.\n", "text/plain")
    second = await uploaded(client, member["token"], "deux.txt", b"Second.\n", "text/plain")
    await post_with(forum, client, member["token"], thread_id, [first["id"], second["id"]])
    storage = forum.app[keys.UPLOADER].storage
    data = forum.config.data_dir
    assert check.check(data, storage=storage).problems == []
    s3, bucket, _prefix = bucket_of(forum)
    s3.delete_object(Bucket=bucket, Key=object_key(forum, first["sha256"]))
    orphan_sha = "ab" * 32
    s3.put_object(Bucket=bucket, Key=object_key(forum, orphan_sha), Body=b"nobody's")
    report = await asyncio.to_thread(check.check, data, False, storage)
    assert report.problems == [f"missing file {first['sha256']}: restore it from a backup",
                               f"orphan file {orphan_sha}: no upload refers to it"]
    report = await asyncio.to_thread(check.check, data, True, storage)
    assert report.repaired and object_key(forum, orphan_sha) not in object_keys(forum)
    assert next(iter((data / "quarantine").rglob(orphan_sha))).read_bytes() == b"nobody's"


async def test_memory_stays_flat_in_file_size_storing_and_serving(
        forum, client, member, tmp_path):
    storage = forum.app[keys.UPLOADER].storage
    large = tmp_path / "large.bin"
    with large.open("wb") as file:
        for _ in range(3 * PART // MB):
            file.write(os.urandom(MB))
    tracemalloc.start()
    try:
        await storage.put("files/test/large", large)  # three parts
        put_peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.reset_peak()
        async with storage.local_copy("files/test/large", tmp_path) as copy:
            assert copy.stat().st_size == 3 * PART
        copy_peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    # Sent part by part (PARTS_AT_ONCE at a time), read from the file as it goes; copied back
    # in small writes: less than one part in memory, for a file of three.
    print(f"memory peaks: put {put_peak}, copy {copy_peak} for {3 * PART} bytes")
    assert put_peak < PART, put_peak
    assert copy_peak < PART, copy_peak
    # Served through Vigie: a few chunks at a time, whatever the size.
    board = await forum.board("Metz")
    thread_id, _ = await forum.thread(board, member["user"])
    sent = await uploaded(client, member["token"], "releve.txt", big_text(), "text/plain")
    await post_with(forum, client, member["token"], thread_id, [sent["id"]])
    tracemalloc.start()
    try:
        served = await client.get(sent["url"])
        size = 0
        async for chunk in served.content.iter_chunked(64 * 1024):
            size += len(chunk)
        serve_peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert served.status == 200 and size == sent["size"] > PART
    assert serve_peak < PART // 4, serve_peak


def test_files_url_is_checked_and_chooses_the_storage(tmp_path):
    for wrong in ("http://bucket/x", "s3://", "s3://b?endpoint=ftp://x", "s3://b?colour=red",
                  "s3://b?addressing=sideways"):
        with pytest.raises(ConfigError, match="FORUM_FILES_URL"):
            Config.from_env(env={"FORUM_FILES_URL": wrong})
    assert "secret" not in repr(Config.from_env(env={"FORUM_FILES_URL": "s3://k:secret@b/p"}))
    assert isinstance(open_storage("", tmp_path), FolderStorage)
    bucket = open_storage(f"s3://b/some/prefix/?endpoint=http://127.0.0.1:9&region={S3_REGION}",
                          tmp_path)
    assert isinstance(bucket, BucketStorage)
    assert (bucket.bucket, bucket.prefix) == ("b", "some/prefix/")
    assert bucket.local_path("files/ab/cd/x") is None  # always read through the client
    with pytest.raises(ValueError):
        FolderStorage(tmp_path).local_path("files/../../etc/passwd")
