"""The cleaning worker: one process per file, so that no decoder runs inside the server.

`python -m forum.uploads.worker` reads a job (JSON) on stdin and writes the result (JSON) on
stdout. Hostile files meet Pillow, qpdf, PDFium and lxml here, under limits of memory, CPU time
and written bytes: a decoder that crashes, hangs or swells only ends this process, and the server
refuses the file. Nothing here imports aiohttp or the database.
"""
from __future__ import annotations

import errno
import hashlib
import json
import resource
import sys
from pathlib import Path
from typing import Any

from forum.uploads import kinds, text
from forum.uploads.kinds import DAMAGED, KINDS, NOT_ACCEPTED, SNIFF_BYTES, Refused

NO_SPACE = {errno.ENOSPC, errno.EDQUOT}  # as forum.error_pages.STORAGE_ERRNOS, without its imports

MEMORY_BYTES = 3 * 1024 ** 3  # address space: a 50-megapixel photo decodes in well under this
CPU_SECONDS = 60
WRITTEN_BYTES = 512 * 1024 ** 2  # the largest file the worker may write


def limit_resources() -> None:
    for limit, value in ((resource.RLIMIT_AS, MEMORY_BYTES), (resource.RLIMIT_CPU, CPU_SECONDS),
                         (resource.RLIMIT_FSIZE, WRITTEN_BYTES)):
        _soft, hard = resource.getrlimit(limit)
        if hard != resource.RLIM_INFINITY:
            value = min(value, hard)
        resource.setrlimit(limit, (value, hard))


def run(job: dict[str, Any]) -> dict[str, Any]:
    """Decide the kind, check the name and claim, clean into job["dst"], draw the thumbnail."""
    src, dst, thumb = Path(job["src"]), Path(job["dst"]), Path(job["thumb"])
    allowed = set(job["kinds"])
    with src.open("rb") as file:
        head = file.read(SNIFF_BYTES)
    sniffed = kinds.sniff(head)
    width = height = None
    has_thumbnail = False
    if sniffed == "zip":
        from forum.uploads import office

        # The kind of a package is known once its directory is read: check that first.
        with office.open_package(src) as package:
            office.check_sizes(package)
            kind = KINDS[office.identify(package)]
        _check(kind, job, allowed)
        _kind, removed = office.clean_office(src, dst, job["max_pixels"])
    elif sniffed == "text":
        from forum.uploads.textfiles import clean_text

        kind = kinds.text_kind(job["filename"])
        _check(kind, job, allowed)
        removed = clean_text(src, dst)
    elif sniffed == "pdf":
        from forum.uploads import pdf

        kind = KINDS["pdf"]
        _check(kind, job, allowed)
        removed = pdf.clean_pdf(src, dst, job["max_pixels"])
    else:
        from forum.uploads import images

        kind = KINDS[sniffed]
        _check(kind, job, allowed)
        width, height, removed = images.clean_image(src, dst, thumb, kind, job["max_pixels"])
        has_thumbnail = True
    # Read from the cleaned file, in a process of its own: a document hostile to reading is
    # kept without text (and without a thumbnail, which PDFium would draw from the same bomb).
    # A drop's file (read_text false) is read too when a PDF, only to spare PDFium a bomb.
    nothing = {"status": "none", "note": "", "params": {}, "pages": []}
    read_text = job.get("read_text", True)
    found = text.extract(dst, kind.name) if read_text or kind.name == "pdf" else nothing
    if kind.name == "pdf" and found.get("note") not in text.NO_THUMBNAIL:
        from forum.uploads import pdf

        has_thumbnail = pdf.render_thumbnail(dst, thumb)
    if not read_text:
        found = nothing
    size, digest = _measure(dst)
    return {"ok": True, "kind": kind.name, "width": width, "height": height,
            "removed": sorted(removed), "thumbnail": has_thumbnail, "size": size,
            "sha256": digest, "text": found}


def _check(kind: kinds.Kind, job: dict[str, Any], allowed: set[str]) -> None:
    if kind.name not in allowed:
        raise Refused(NOT_ACCEPTED)
    kinds.check_name(job["filename"], kind)
    kinds.check_claim(job.get("claimed", ""), kind)


def _measure(path: Path) -> tuple[int, str]:
    digest, size = hashlib.sha256(), 0
    with path.open("rb") as file:
        while chunk := file.read(1024 * 1024):
            digest.update(chunk)
            size += len(chunk)
    return size, digest.hexdigest()


def main() -> int:
    limit_resources()
    job = json.load(sys.stdin)
    try:
        result = run(job)
    except Refused as refusal:
        result = {"ok": False, "message": refusal.message, "params": refusal.params}
    except OSError as error:
        # A full disk is no fault of the file: the site answers 503, the member tries later.
        print(f"upload worker: {error}", file=sys.stderr)
        result = ({"ok": False, "no_space": True} if error.errno in NO_SPACE
                  else {"ok": False, "message": DAMAGED, "params": {}})
    except Exception as error:  # any decoder's failure on a hostile or broken file: refused
        print(f"upload worker: {type(error).__name__}: {error}", file=sys.stderr)
        result = {"ok": False, "message": DAMAGED, "params": {}}
    json.dump(result, sys.stdout)
    return 0


if __name__ == "__main__":
    sys.exit(main())
