"""The text of a cleaned document, for search: PDF pages, office packages, CSV and plain text.

`python -m forum.uploads.text PATH KIND` prints {"status", "note", "pages": [[page, text], …]}
as JSON. It runs in a process of its own, started by the upload worker (or by the server for a
file already stored), under tighter limits than the cleaning: a document that is hostile to
reading (100 000 pages, a stream of drawing instructions that inflates to 1 GB) only ends this
process, and the file is kept without text, with a note that says why.

PDF: the text layer, page by page, through PDFium (pypdfium2). Compared on generated French
documents (bench/pdf_extractors.py) with pypdf and pdfminer.six, it was 10 to 40 times faster
with half the memory, and the only one to give ligatures as letters ("fi", not U+FB01) and to
join words hyphenated at a line end (it marks such hyphens with U+0002). Before PDFium reads a
page, pikepdf measures what every stream of drawing instructions inflates to, without keeping
it, so that a bomb is refused before it is decoded.
Office packages: the paragraphs of the XML parts the cleaner already handles (lxml, no
entities). A page number is given for PDFs only (1…); other documents are one piece, page 0.
"""
from __future__ import annotations

import json
import os
import re
import resource
import subprocess
import sys
import time
import unicodedata
import zipfile
import zlib
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from forum.uploads.kinds import N_

if TYPE_CHECKING:  # imported where used: the worker loads lxml and pikepdf only when it reads
    import pikepdf
    from lxml import etree

    Local = Callable[[object], str]  # xmlsafe.local

# Kinds whose text is searched (forum/uploads/kinds.py names).
KINDS_WITH_TEXT = frozenset({"pdf", "odt", "ods", "odp", "docx", "xlsx", "pptx", "csv", "text"})
MAX_PAGES = 2_000  # a PDF with more is not read (a council's budget runs to a few hundred)
MAX_CHARACTERS = 3_000_000  # in all; a longer document is searchable in its first part only
STREAM_MAX_BYTES = 64 * 1024 ** 2  # one stream of drawing instructions, once inflated
SECONDS = 45  # wall clock, the process is killed past it
CPU_SECONDS = 40
MEMORY_BYTES = 1024 ** 3  # address space: a 500-page PDF is read in ~60 MB
MAX_XML_BYTES = 32 * 1024 ** 2  # one XML part (the cleaner refused larger ones)
CHUNK = 1024 ** 2
PROJECT_ROOT = Path(__file__).resolve().parent.parent.parent

# Statuses (uploads.text_status) and why a reading stopped (uploads.text_note).
INDEXED, PARTIAL, EMPTY, SCANNED, STOPPED = "indexed", "partial", "empty", "scanned", "stopped"
TOO_MANY_PAGES, STREAM_BOMB, TOO_SLOW, TOO_MUCH_MEMORY, UNREADABLE = (
    "pages", "stream", "time", "memory", "unreadable")

# Readings stopped on a file that PDFium would meet again drawing its thumbnail.
NO_THUMBNAIL = {STREAM_BOMB, TOO_MUCH_MEMORY, UNREADABLE}
# What a file's page says of its text when it cannot be searched (uploads.text_status, _note).
NOTICES = {
    (SCANNED, ""): N_("text not available (scanned document)"),
    (PARTIAL, ""): N_("only the beginning of this document can be searched (it is very long)"),
    (STOPPED, TOO_MANY_PAGES): N_("text not available: this document has more than %(pages)s "
                                  "pages"),
    (STOPPED, STREAM_BOMB): N_("text not available: a page of this document inflates to more "
                               "than %(mb)s MB (a “PDF bomb”)"),
    (STOPPED, TOO_SLOW): N_("text not available: reading it took too long"),
    (STOPPED, TOO_MUCH_MEMORY): N_("text not available: reading it needed too much memory"),
    (STOPPED, UNREADABLE): N_("text not available: it could not be read"),
}
NOTICE_PARAMS = {"pages": MAX_PAGES, "mb": STREAM_MAX_BYTES // 1024 ** 2}
_SOFT_BREAK = re.compile(r"\x02(?=[a-zà-ÿœæ])")  # PDFium's line-end hyphen inside a word
_CONTROLS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u00ad\u200b-\u200d\u2060\ufeff]")


class Stop(Exception):
    """Reading stopped: the file is kept without text; `note` says why."""

    def __init__(self, note: str, **params: Any) -> None:
        super().__init__(note)
        self.note, self.params = note, params


def normalized(text: str) -> str:
    """Text as indexed: ligatures as letters, hyphenation undone, no controls nor snippet marks.

    Bytes 2 and 3 mark matches in snippets (forum/models/search.py): never from the text.
    """
    text = _SOFT_BREAK.sub("", text).replace("\x02", "-").replace("\r\n", "\n")
    return unicodedata.normalize("NFKC", _CONTROLS.sub(" ", text))


def notice(status: str, note: str) -> str | None:
    """The msgid (with NOTICE_PARAMS) for a file whose text cannot be searched, else None."""
    return NOTICES.get((status, note if status == STOPPED else ""))


def stopped(note: str, **params: Any) -> dict[str, Any]:
    return {"status": STOPPED, "note": note, "params": params, "pages": []}


# In the reading process ------------------------------------------------------------------------

def read(path: Path, kind: str) -> dict[str, Any]:
    """The text of one cleaned file, as the JSON this module prints."""
    deadline = time.monotonic() + SECONDS - 5
    try:
        if kind == "pdf":
            pages = _pdf_pages(path, deadline)
        elif kind in ("csv", "text"):
            pages = [(0, _plain(path))]
        else:
            pages = [(0, _office(path, kind))]
    except Stop as stop:
        return stopped(stop.note, **stop.params)
    except MemoryError:
        return stopped(TOO_MUCH_MEMORY)
    kept, total, partial = [], 0, False
    for number, raw in pages:
        text = normalized(raw).strip()
        if total + len(text) > MAX_CHARACTERS:
            text, partial = text[:MAX_CHARACTERS - total], True
        if text:
            kept.append((number, text))
            total += len(text)
        if partial:
            break
    if partial:
        status = PARTIAL
    elif kept:
        status = INDEXED
    else:  # pages without a single letter: pictures of pages
        status = SCANNED if kind == "pdf" and pages else EMPTY
    return {"status": status, "note": "", "params": {}, "pages": kept}


def _pdf_pages(path: Path, deadline: float) -> list[tuple[int, str]]:
    import pikepdf
    import pypdfium2

    with pikepdf.open(path) as pdf:
        count = len(pdf.pages)
        if count > MAX_PAGES:
            raise Stop(TOO_MANY_PAGES, pages=count, max=MAX_PAGES)
        for obj in pdf.objects:
            if (isinstance(obj, pikepdf.Stream) and obj.get("/Subtype") != pikepdf.Name.Image
                    and _inflated_size(obj) > STREAM_MAX_BYTES):
                raise Stop(STREAM_BOMB, max=STREAM_MAX_BYTES // 1024 ** 2)
            if time.monotonic() > deadline:
                raise Stop(TOO_SLOW)
    document = pypdfium2.PdfDocument(str(path))
    pages: list[tuple[int, str]] = []
    try:
        for index in range(len(document)):
            if time.monotonic() > deadline:
                raise Stop(TOO_SLOW)
            page = document[index]
            textpage = page.get_textpage()
            pages.append((index + 1, textpage.get_text_bounded()))
            textpage.close()
            page.close()
    finally:
        document.close()
    return pages


def _inflated_size(stream: pikepdf.Stream) -> int:
    """What a stream holds once decoded, counted without keeping it (stops past the limit)."""
    import pikepdf

    filters = stream.get("/Filter")
    if isinstance(filters, pikepdf.Array) and len(filters) == 1:
        filters = filters[0]
    if filters is None:
        return len(stream.read_raw_bytes())
    if filters != pikepdf.Name.FlateDecode:
        return len(stream.read_bytes())  # other chains: bounded by this process's memory
    inflater, pending, total = zlib.decompressobj(), stream.read_raw_bytes(), 0
    try:
        while pending and total <= STREAM_MAX_BYTES:
            total += len(inflater.decompress(pending, CHUNK))
            pending = inflater.unconsumed_tail
    except zlib.error:
        pass  # as PDFium does: what inflated before the damage is what is read
    return total


def _plain(path: Path) -> str:
    with path.open(encoding="utf-8-sig", errors="replace") as file:
        return file.read(MAX_CHARACTERS + 1)


# Office packages: the elements that hold a paragraph's text, and those inside that stand for a
# space, a tab or a line break (namespaces left out: the local names are unambiguous here).
_PARTS = {
    "docx": re.compile(r"word/(document|header\d*|footer\d*|footnotes|endnotes)\.xml"),
    "xlsx": re.compile(r"xl/(sharedStrings|worksheets/sheet\d+)\.xml"),
    "pptx": re.compile(r"ppt/(slides/slide\d+|notesSlides/notesSlide\d+)\.xml"),
}
_PARAGRAPHS = {"p", "h", "si", "is", "c", "tc"}
_TEXT = {"t", "v"}
_BREAKS = {"tab": "\t", "br": "\n", "cr": "\n", "s": " ", "line-break": "\n"}
ODF_COUNT = "{urn:oasis:names:tc:opendocument:xmlns:text:1.0}c"


def _office(path: Path, kind: str) -> str:
    from forum.uploads.xmlsafe import local, parse, read_entry

    pieces: list[str] = []
    with zipfile.ZipFile(path) as package:
        if kind in _PARTS:
            names = sorted((e for e in package.infolist() if _PARTS[kind].fullmatch(e.filename)),
                           key=lambda e: _natural(e.filename))
        else:
            names = [e for e in package.infolist() if e.filename == "content.xml"]
        for entry in names:
            root = parse(read_entry(package, entry, MAX_XML_BYTES))
            pieces.append(_paragraphs(root, local, kind))
    return "\n".join(pieces)


def _paragraphs(root: etree._Element, local: Local, kind: str) -> str:
    """The text of a part, a line per paragraph (cell, shared string)."""
    lines: list[str] = []
    odf = kind in ("odt", "ods", "odp")
    for element in root.iter():
        if not isinstance(element.tag, str) or local(element.tag) not in _PARAGRAPHS:
            continue
        name = local(element.tag)
        if odf and name not in ("p", "h"):
            continue
        if not odf and name == "c" and element.get("t") == "s":
            continue  # a cell pointing into sharedStrings: its text is read there
        if not odf and name in ("h", "tc"):
            continue
        lines.append(_text_of(element, local, odf))
    return "\n".join(line for line in lines if line.strip())


def _text_of(paragraph: etree._Element, local: Local, odf: bool) -> str:
    if odf:
        return _odf_text(paragraph, local)
    parts: list[str] = []
    for element in paragraph.iter():
        if not isinstance(element.tag, str):
            continue
        name = local(element.tag)
        if name in _TEXT:
            parts.append(element.text or "")
        elif name in _BREAKS and name != "s":
            parts.append(_BREAKS[name])
    return "".join(parts)


def _odf_text(element: etree._Element, local: Local) -> str:
    """OpenDocument: text in the element and its spans, <text:s c="3"/> for three spaces."""
    parts = [element.text or ""]
    for child in element:
        if isinstance(child.tag, str):
            name = local(child.tag)
            if name == "s":
                count = child.get(ODF_COUNT, "1")
                parts.append(" " * (int(count) if count.isdigit() else 1))
            elif name in _BREAKS:
                parts.append(_BREAKS[name])
            else:
                parts.append(_odf_text(child, local))
        parts.append(child.tail or "")
    return "".join(parts)


def _natural(name: str) -> tuple[int | str, ...]:
    """slide2 before slide10."""
    return tuple(int(part) if part.isdigit() else part for part in re.split(r"(\d+)", name))


# From the worker or the server -----------------------------------------------------------------

def _limits() -> None:
    for limit, value in ((resource.RLIMIT_AS, MEMORY_BYTES), (resource.RLIMIT_CPU, CPU_SECONDS),
                         (resource.RLIMIT_FSIZE, 0)):
        _soft, hard = resource.getrlimit(limit)
        if hard != resource.RLIM_INFINITY:
            value = min(value, hard)
        resource.setrlimit(limit, (value, hard))


def extract(path: Path, kind: str) -> dict[str, Any]:
    """Read a stored file's text in a process of its own, under limits; never raises for the
    file's sake (a reading that fails is a STOPPED result with its note)."""
    if kind not in KINDS_WITH_TEXT:
        return {"status": "none", "note": "", "params": {}, "pages": []}
    try:
        done = subprocess.run(
            [sys.executable, "-m", "forum.uploads.text", str(path), kind],
            capture_output=True, timeout=SECONDS, check=False, env={
                **os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [
                    str(PROJECT_ROOT), os.environ.get("PYTHONPATH")]))})
    except subprocess.TimeoutExpired:
        return stopped(TOO_SLOW)
    try:
        result = json.loads(done.stdout)
    except ValueError:
        # Killed by the CPU limit (SIGXCPU), or PDFium aborted for want of memory.
        return stopped(TOO_SLOW if done.returncode == -24 else TOO_MUCH_MEMORY)
    return result


def main() -> int:
    _limits()  # here rather than in preexec_fn: the server starts readers from threads
    path, kind = Path(sys.argv[1]), sys.argv[2]
    try:
        result = read(path, kind)
    except Exception as error:  # a damaged part, a parser's refusal: no text, file kept
        print(f"text reader: {type(error).__name__}: {error}", file=sys.stderr)
        result = stopped(UNREADABLE)
    sys.stdout.write(json.dumps(result, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
