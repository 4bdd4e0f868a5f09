"""Where stored files live: the data folder (the default) or an S3-compatible bucket.

One small interface for every file the site keeps (attachments, drops' files, account exports),
keyed by a relative name such as `files/ab/cd/<sha256>`. Files are always made locally first
(received, cleaned, zipped in a temporary file), then *put* whole: in a folder by an atomic
rename, in a bucket by one upload (multipart for large files, read from disk: memory stays flat)
that either completes or leaves nothing. They are read back as a stream, never whole.

`FORUM_FILES_URL` chooses: empty, the data folder; `s3://bucket/prefix?endpoint=…&region=…`,
a bucket. Objects are private (no ACL is ever granted); readers get them through Vigie, after
the permission check, never from the bucket.
"""
from __future__ import annotations

import asyncio
import contextlib
import errno
import os
import secrets
from collections.abc import AsyncIterator, Iterable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from aiohttp import web

from forum.errors import NotFound, Unavailable

CHUNK = 256 * 1024  # bytes read and sent at a time when serving
PART = 8 * 1024 * 1024  # a bucket's upload part: files past it go in parts
PARTS_AT_ONCE = 2  # parts sent at once: about 4 MB in memory at most (tests/test_files_bucket.py)


class BucketError(OSError):
    """The bucket refused or could not be reached: an I/O error, as a failing disk's would be
    (a request meeting one is answered 503, forum/error_pages.py)."""

    def __init__(self, message: str) -> None:
        super().__init__(errno.EIO, message)


class Storage:
    """The operations every place storing files uses; the sync ones run outside the event loop
    (the operator's commands, worker threads)."""

    in_folder = False  # True: files are on this machine's disk, local_path() gives them

    def put_file(self, key: str, source: Path) -> None:
        """Store a finished local file under key, whole or not at all. Source is moved (into
        a folder) or copied (into a bucket): its temporary name is the caller's to remove."""
        raise NotImplementedError

    def download(self, key: str, dest: Path) -> None:
        """Copy the stored file into a new local file; FileNotFoundError if there is none."""
        raise NotImplementedError

    def remove(self, key: str) -> None:
        """Remove a stored file (nothing if there is none)."""
        raise NotImplementedError

    def size_of(self, key: str) -> int | None:
        """Its size in bytes, or None if there is no such file."""
        raise NotImplementedError

    def list_keys(self, prefix: str) -> Iterator[str]:
        """The keys under prefix (a folder name ending in /), sorted."""
        raise NotImplementedError

    def local_path(self, key: str) -> Path | None:
        """The file itself when it is on this machine's disk (no copy needed), else None."""
        return None

    async def put(self, key: str, source: Path) -> None:
        await asyncio.to_thread(self.put_file, key, source)

    async def delete(self, key: str) -> None:
        await asyncio.to_thread(self.remove, key)

    async def size(self, key: str) -> int | None:
        return await asyncio.to_thread(self.size_of, key)

    async def exists(self, key: str) -> bool:
        return await self.size(key) is not None

    @contextlib.asynccontextmanager
    async def local_copy(self, key: str, tmp_dir: Path) -> AsyncIterator[Path]:
        """A local file with the stored bytes, for a reader that needs a path (a worker, a
        ZIP); a temporary copy in tmp_dir, removed on the way out, unless the file is local."""
        path = self.local_path(key)
        if path is not None:
            yield path
            return
        temp = tmp_dir / f"{secrets.token_hex(16)}.copy"
        try:
            await asyncio.to_thread(self.download, key, temp)
            yield temp
        finally:
            temp.unlink(missing_ok=True)

    async def response(self, request: web.Request, key: str,
                       headers: dict[str, str]) -> web.StreamResponse:
        """The stored file as the answer to request (Range, If-None-Match and HEAD answered),
        streamed, with headers; NotFound if there is none."""
        raise NotImplementedError


class FolderStorage(Storage):
    """Files under a folder (the data folder): key a/b/c is the file root/a/b/c."""

    in_folder = True

    def __init__(self, root: Path) -> None:
        self.root = root

    def local_path(self, key: str) -> Path:
        return self.root / _safe_key(key)

    def put_file(self, key: str, source: Path) -> None:
        target = self.local_path(key)
        target.parent.mkdir(parents=True, exist_ok=True)
        os.replace(source, target)  # same file system (temporary files are under root): atomic
        # Files are stored once per content: a file's own time would be that of the first
        # upload of these bytes, maybe by someone else, and Last-Modified, the ETag and
        # If-Modified-Since all come from it. Every stored file gets the same time (1970), when
        # it is stored, never when it is read (no write on a read path).
        os.utime(target, ns=(0, 0))

    def download(self, key: str, dest: Path) -> None:
        with self.local_path(key).open("rb") as reader, dest.open("xb") as writer:
            while chunk := reader.read(1024 * 1024):
                writer.write(chunk)

    def remove(self, key: str) -> None:
        self.local_path(key).unlink(missing_ok=True)

    def size_of(self, key: str) -> int | None:
        try:
            return self.local_path(key).stat().st_size
        except FileNotFoundError:
            return None

    def blur_times(self, keys: Iterable[str]) -> int:
        """Give the stored files that still show their own time (stored by a version before
        put_file blurred them) the time every stored file has; returns how many."""
        count = 0
        for key in keys:
            path = self.local_path(key)
            with contextlib.suppress(FileNotFoundError):  # purged meanwhile
                if path.stat().st_mtime_ns != 0:
                    os.utime(path, ns=(0, 0))
                    count += 1
        return count

    def list_keys(self, prefix: str) -> Iterator[str]:
        base = self.local_path(prefix)
        if base.is_dir():
            for path in sorted(base.rglob("*")):
                if path.is_file():
                    yield path.relative_to(self.root).as_posix()

    # A rename, a stat, an unlink: microseconds, in the loop (placing runs under a lock).
    async def put(self, key: str, source: Path) -> None:
        self.put_file(key, source)

    async def size(self, key: str) -> int | None:
        return self.size_of(key)

    async def delete(self, key: str) -> None:
        self.remove(key)

    async def response(self, request: web.Request, key: str,
                       headers: dict[str, str]) -> web.StreamResponse:
        path = self.local_path(key)
        if not path.is_file():  # never stored, or removed (its last post purged)
            raise NotFound()
        # FileResponse answers Range, If-Range, If-None-Match (its ETag) and HEAD by itself.
        return web.FileResponse(path, chunk_size=CHUNK, headers=headers)


def _safe_key(key: str) -> str:
    parts = key.split("/")
    if not key or key.startswith("/") or any(part in ("", ".", "..") for part in parts[:-1]) \
            or parts[-1] in (".", ".."):
        raise ValueError(f"not a storage key: {key!r}")
    return key


class BucketStorage(Storage):
    """Files as private objects of an S3-compatible bucket, under a prefix (boto3, in threads)."""

    def __init__(self, url: str) -> None:
        import boto3
        from boto3.s3.transfer import TransferConfig
        from botocore.config import Config as BotoConfig

        parts = urlsplit(url)
        query = {name: values[-1] for name, values in parse_qs(parts.query).items()}
        self.bucket = parts.hostname or ""
        self.prefix = parts.path.strip("/")
        if self.prefix:
            self.prefix += "/"
        self.client = boto3.client(
            "s3", endpoint_url=query.get("endpoint") or None,
            region_name=query.get("region") or None,
            # Credentials in the URL (s3://KEY:SECRET@bucket/…) win; else boto3's usual chain
            # (AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY, ~/.aws, an instance role).
            aws_access_key_id=unquote(parts.username) if parts.username else None,
            aws_secret_access_key=unquote(parts.password) if parts.password else None,
            config=BotoConfig(s3={"addressing_style": query.get("addressing", "path")},
                              retries={"max_attempts": 3, "mode": "standard"},
                              max_pool_connections=20))
        self.transfer = TransferConfig(multipart_threshold=PART, multipart_chunksize=PART,
                                       max_concurrency=PARTS_AT_ONCE)

    def _key(self, key: str) -> str:
        return self.prefix + _safe_key(key)

    def put_file(self, key: str, source: Path) -> None:
        # upload_file reads from disk in parts (multipart past PART) and aborts a multipart
        # upload that fails: the object appears whole or not at all. No ACL: private.
        with _bucket_errors():
            self.client.upload_file(str(source), self.bucket, self._key(key),
                                    Config=self.transfer)

    def download(self, key: str, dest: Path) -> None:
        # One stream, read a chunk at a time (download_fileobj would fetch parts at once and
        # queue them for writing: megabytes in memory for nothing here).
        with _bucket_errors():
            body = self.client.get_object(Bucket=self.bucket, Key=self._key(key))["Body"]
        try:
            with dest.open("xb") as writer, _bucket_errors():
                while chunk := body.read(CHUNK):
                    writer.write(chunk)
        except BaseException:
            dest.unlink(missing_ok=True)
            raise
        finally:
            body.close()

    def remove(self, key: str) -> None:
        with _bucket_errors():
            self.client.delete_object(Bucket=self.bucket, Key=self._key(key))

    def size_of(self, key: str) -> int | None:
        try:
            with _bucket_errors():
                head = self.client.head_object(Bucket=self.bucket, Key=self._key(key))
        except FileNotFoundError:
            return None
        return int(head["ContentLength"])

    def list_keys(self, prefix: str) -> Iterator[str]:
        with _bucket_errors():
            pages = self.client.get_paginator("list_objects_v2").paginate(
                Bucket=self.bucket, Prefix=self._key(prefix))
            found = [item["Key"][len(self.prefix):] for page in pages
                     for item in page.get("Contents", [])]
        yield from sorted(found)

    # In a request: a bucket that fails is a 503 (try again later), as a failing disk is.
    async def put(self, key: str, source: Path) -> None:
        with _unavailable():
            await super().put(key, source)

    async def delete(self, key: str) -> None:
        with _unavailable():
            await super().delete(key)

    async def size(self, key: str) -> int | None:
        with _unavailable():
            return await super().size(key)

    async def response(self, request: web.Request, key: str,
                       headers: dict[str, str]) -> web.StreamResponse:
        asked: dict[str, Any] = {"Bucket": self.bucket, "Key": self._key(key)}
        wanted = request.headers.get("Range", "")
        if wanted.startswith("bytes=") and "," not in wanted:
            asked["Range"] = wanted  # one range; S3 answers it (or 416), as FileResponse would
        method = self.client.head_object if request.method == "HEAD" else self.client.get_object
        try:
            with _bucket_errors():
                found = await asyncio.to_thread(method, **asked)
        except FileNotFoundError:
            raise NotFound() from None
        except BucketError as error:
            if _status(error.__cause__) == 416:
                return web.Response(status=416, headers=headers)
            raise Unavailable() from error
        body = found.get("Body")
        try:
            # No Last-Modified: it would tell when these bytes were first sent, maybe by another
            # member (the folder store shows 1970 for the same reason).
            etag = found.get("ETag", "")
            if etag and etag in _tags(request.headers.get("If-None-Match", "")):
                return web.Response(status=304, headers={**headers, "ETag": etag})
            response = web.StreamResponse(status=206 if "ContentRange" in found else 200,
                                          headers=headers)
            response.headers["ETag"] = etag
            response.headers["Accept-Ranges"] = "bytes"
            response.content_length = int(found["ContentLength"])
            if "ContentRange" in found:
                response.headers["Content-Range"] = found["ContentRange"]
            await response.prepare(request)
            if body is not None and request.method != "HEAD":
                while chunk := await asyncio.to_thread(body.read, CHUNK):
                    await response.write(chunk)
            await response.write_eof()
            return response
        finally:
            if body is not None:
                body.close()


@contextlib.contextmanager
def _bucket_errors() -> Iterator[None]:
    """botocore's errors as OSErrors: FileNotFoundError for a missing object, else BucketError
    (the operator's commands report OSErrors in one line)."""
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        yield
    except ClientError as error:
        if _missing(error):
            raise FileNotFoundError(str(error)) from error
        raise BucketError(str(error)) from error
    except BotoCoreError as error:
        raise BucketError(str(error)) from error


@contextlib.contextmanager
def _unavailable() -> Iterator[None]:
    try:
        yield
    except BucketError as error:
        raise Unavailable() from error


def _tags(header: str) -> set[str]:
    return {tag.strip().removeprefix("W/") for tag in header.split(",") if tag.strip()}


def _status(error: BaseException | None) -> int:
    meta = getattr(error, "response", {}).get("ResponseMetadata", {})
    return int(meta.get("HTTPStatusCode", 0))


def _missing(error: BaseException) -> bool:
    code = getattr(error, "response", {}).get("Error", {}).get("Code", "")
    return _status(error) == 404 or code in ("404", "NoSuchKey", "NotFound")


def open_storage(files_url: str, data_dir: Path) -> Storage:
    """The storage FORUM_FILES_URL names: a bucket for s3://…, else the data folder."""
    if files_url.startswith("s3://"):
        return BucketStorage(files_url)
    return FolderStorage(data_dir)


def check_url(value: str) -> bool:
    """Empty, or s3://bucket[/prefix][?endpoint=http(s)://…&region=…&addressing=path|virtual]."""
    if not value:
        return True
    try:
        parts = urlsplit(value)
        query = parse_qs(parts.query)
    except ValueError:
        return False
    endpoint = query.get("endpoint", [""])[-1]
    return (parts.scheme == "s3" and bool(parts.hostname) and not parts.fragment
            and set(query) <= {"endpoint", "region", "addressing"}
            and (not endpoint or urlsplit(endpoint).scheme in ("http", "https"))
            and query.get("addressing", ["path"])[-1] in ("path", "virtual"))
