"""Windows metafiles (EMF, WMF, and their gzipped .emz/.wmz) inside office documents.

A metafile is a list of drawing records. Some records draw nothing and carry whatever the
program that wrote them put there: comments (EMF+ data, a program's private data, names),
escapes to the printer driver (PostScript with its %%Creator), and the header's description
(the program and the file's name, often a path). Those are dropped, bitmaps that hold a JPEG
or PNG file (EXIF, GPS) too; every drawing record is copied as it is, and the sizes in the
header are written again. A metafile that does not hold together is refused (DAMAGED): what it
carries could not be told.

LibreOffice's own StarView metafiles (SVM, "VCLMTF") are a list of actions, each with its
length: comments (a program's private data, EMF+ records, text) and PostScript pictures (their
%%For names the user) are dropped, a transparency's nested metafile is cleaned the same way,
and the action count is written again. Metafiles are told apart by their content, not their
name: OpenDocument keeps the pictures standing for embedded objects (ObjectReplacements/)
without an extension.
"""
from __future__ import annotations

import gzip
import struct
import zlib

from forum.uploads.kinds import DAMAGED, Refused

EMF_SIGNATURE = b" EMF"
EMF_HEADER, EMF_EOF = 1, 14
# Comments (GDI comments, EMF+), driver escapes (draw, ext, named).
EMF_DROPPED = {70: "comments", 105: "comments", 106: "comments", 110: "comments"}
# Records that carry a bitmap (BITMAPINFO + bits), whose bits may be a whole JPEG or PNG file.
EMF_BITMAPS = {76, 77, 78, 79, 80, 81, 93, 94, 114, 116}
WMF_PLACEABLE = b"\xd7\xcd\xc6\x9a"
WMF_HEADER_WORDS = 9
WMF_EOF, WMF_ESCAPE = 0x0000, 0x0626
WMF_BITMAPS = {0x0940, 0x0B41, 0x0D33, 0x0F43, 0x0142, 0x0922, 0x0B23}
PICTURE_FILES = (b"\xff\xd8\xff", b"\x89PNG\r\n\x1a\n")
EXTENSIONS = (".emf", ".wmf", ".emz", ".wmz", ".svm")
GZIP = b"\x1f\x8b"
HEAD_BYTES = 44  # enough to see an EMF's signature

SVM_SIGNATURE = b"VCLMTF"
SVM_OLD_SIGNATURE = b"SVGDI"  # StarView 1 (before 1997): read by nobody here, so not cleaned
SVM_ACTIONS = {0, *range(100, 152), 512}  # every action LibreOffice reads
SVM_DROPPED = {512: "comments", 143: "embedded_files"}  # comment, EPS (PostScript)
SVM_TRANSPARENCY = 147  # holds a whole metafile, then its place and gradient
SVM_MAX_NESTING = 8


def is_metafile(name: str, head: bytes) -> bool:
    """Whether an entry is a metafile, by its name or its first bytes."""
    return name.lower().endswith(EXTENSIONS) or metafile_kind(head) is not None


def metafile_kind(head: bytes) -> str | None:
    """"emf", "wmf" or "svm" from a file's first HEAD_BYTES bytes; None for anything else."""
    if head[:4] == b"\x01\x00\x00\x00" and head[40:44] == EMF_SIGNATURE:
        return "emf"
    if head.startswith(WMF_PLACEABLE) or (head[:2] in (b"\x01\x00", b"\x02\x00") and head[2:4]
                                          == struct.pack("<H", WMF_HEADER_WORDS)
                                          and head[4:6] in (b"\x00\x01", b"\x00\x03")):
        return "wmf"
    return "svm" if head.startswith(SVM_SIGNATURE) else None


def is_old_metafile(head: bytes) -> bool:
    """A StarView 1 metafile: it cannot be cleaned, so it is left out of the document."""
    return head.startswith(SVM_OLD_SIGNATURE)


def clean_metafile(name: str, data: bytes, removed: set[str], limit: int) -> bytes:
    """The metafile without its comments, escapes, description and picture files."""
    zipped = data.startswith(GZIP) and name.lower().endswith((".emz", ".wmz"))
    if zipped:
        data = _gunzip(data, limit)
    kind = metafile_kind(data[:HEAD_BYTES])
    if kind == "emf":
        cleaned = _clean_emf(data, removed)
    elif kind == "wmf":
        cleaned = _clean_wmf(data, removed)
    elif kind == "svm":
        cleaned = _clean_svm(data, 0, removed, 0)[0]  # what follows the count is read by nobody
    else:
        raise Refused(DAMAGED)
    return gzip.compress(cleaned, mtime=0) if zipped else cleaned


def _gunzip(data: bytes, limit: int) -> bytes:
    """Decompressed, never past `limit` bytes (a gzip bomb is refused)."""
    inflater = zlib.decompressobj(wbits=31)
    try:
        result = inflater.decompress(data, limit + 1)
    except zlib.error:
        raise Refused(DAMAGED) from None
    if len(result) > limit or inflater.unconsumed_tail:
        raise Refused(DAMAGED)
    return result


def _has_picture_file(record: bytes) -> bool:
    return any(signature in record for signature in PICTURE_FILES)


def _clean_emf(data: bytes, removed: set[str]) -> bytes:
    out, count, pos = bytearray(), 0, 0
    while pos < len(data):
        if pos + 8 > len(data):
            raise Refused(DAMAGED)
        kind, size = struct.unpack_from("<II", data, pos)
        if size < 8 or size % 4 or pos + size > len(data) or (pos == 0) != (kind == EMF_HEADER):
            raise Refused(DAMAGED)
        record = data[pos:pos + size]
        pos += size
        if kind in EMF_DROPPED:
            removed.add(EMF_DROPPED[kind])
            continue
        if kind in EMF_BITMAPS and _has_picture_file(record):
            removed.add("exif")
            continue
        out += _emf_header(record, removed) if kind == EMF_HEADER else record
        count += 1
        if kind == EMF_EOF:
            break  # what follows the end is read by nobody, and kept by nobody
    else:
        raise Refused(DAMAGED)  # no end record
    struct.pack_into("<II", out, 48, len(out), count)  # nBytes, nRecords
    return bytes(out)


def _emf_header(record: bytes, removed: set[str]) -> bytes:
    if len(record) < 88:
        raise Refused(DAMAGED)
    header = bytearray(record)
    length, offset = struct.unpack_from("<II", header, 60)
    if length:
        end = offset + 2 * length
        if offset < 88 or end > len(header):
            raise Refused(DAMAGED)
        header[offset:end] = bytes(end - offset)
        struct.pack_into("<II", header, 60, 0, 0)
        removed.add("software")  # "Program\0File name\0": the program, often a path
    return bytes(header)


def _clean_wmf(data: bytes, removed: set[str]) -> bytes:
    placeable = data[:22] if data.startswith(WMF_PLACEABLE) else b""
    body = data[len(placeable):]
    if len(body) < 2 * WMF_HEADER_WORDS:
        raise Refused(DAMAGED)
    out, largest, pos = bytearray(body[:2 * WMF_HEADER_WORDS]), 0, 2 * WMF_HEADER_WORDS
    while True:
        if pos + 6 > len(body):
            raise Refused(DAMAGED)  # no end record
        words, function = struct.unpack_from("<IH", body, pos)
        size = 2 * words
        if words < 3 or pos + size > len(body):
            raise Refused(DAMAGED)
        record = body[pos:pos + size]
        pos += size
        if function == WMF_ESCAPE:
            removed.add("comments")
            continue
        if function in WMF_BITMAPS and _has_picture_file(record):
            removed.add("exif")
            continue
        out += record
        largest = max(largest, words)
        if function == WMF_EOF:
            break
    struct.pack_into("<I", out, 6, len(out) // 2)  # mtSize, in 16-bit words
    struct.pack_into("<I", out, 12, largest)  # mtMaxRecord
    return placeable + bytes(out)


def _clean_svm(data: bytes, start: int, removed: set[str], depth: int) -> tuple[bytes, int]:
    """The StarView metafile that starts at `start`, cleaned, and where it ended in `data`."""
    if depth > SVM_MAX_NESTING or data[start:start + 6] != SVM_SIGNATURE or start + 12 > len(data):
        raise Refused(DAMAGED)
    (length,) = struct.unpack_from("<I", data, start + 8)
    header = bytearray(data[start:start + 12 + length])
    # Compression mode, then the map mode (a version, a length, its fields), the size, the count.
    count_at = 12 + 4 + 6 + 8
    if len(header) < count_at or len(header) < 12 + length:
        raise Refused(DAMAGED)
    count_at += struct.unpack_from("<I", header, 12 + 4 + 2)[0]
    if count_at + 4 > len(header):
        raise Refused(DAMAGED)
    (count,) = struct.unpack_from("<I", header, count_at)
    out, kept, pos = bytearray(), 0, start + len(header)
    for _ in range(count):  # each action takes 8 bytes at least: a false count ends at the end
        if pos + 8 > len(data):
            raise Refused(DAMAGED)
        kind, version, size = struct.unpack_from("<HHI", data, pos)
        end = pos + 8 + size
        if kind not in SVM_ACTIONS or end > len(data):
            raise Refused(DAMAGED)
        if kind in SVM_DROPPED:
            removed.add(SVM_DROPPED[kind])
        elif kind == SVM_TRANSPARENCY:
            nested, nested_end = _clean_svm(data, pos + 8, removed, depth + 1)
            if nested_end > end:
                raise Refused(DAMAGED)
            payload = nested + data[nested_end:end]
            out += struct.pack("<HHI", kind, version, len(payload)) + payload
            kept += 1
        else:
            out += data[pos:end]
            kept += 1
        pos = end
    struct.pack_into("<I", header, count_at, kept)
    return bytes(header) + bytes(out), pos
