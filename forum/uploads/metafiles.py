"""Windows metafiles (EMF, WMF, and their gzipped .emz/.wmz) inside office documents.

A metafile is a list of drawing records. Some records draw nothing and carry whatever the
program that wrote them put there: comments (EMF+ data, a program's private data, names),
escapes to the printer driver (PostScript with its %%Creator), and the header's description
(the program and the file's name, often a path). Those are dropped, bitmaps that hold a JPEG
or PNG file (EXIF, GPS) too; every drawing record is copied as it is, and the sizes in the
header are written again. A metafile that does not hold together is refused (DAMAGED): what it
carries could not be told.
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
EXTENSIONS = (".emf", ".wmf", ".emz", ".wmz")


def is_metafile(name: str, head: bytes) -> bool:
    """Whether an entry is a metafile, by its name or its first bytes."""
    return name.lower().endswith(EXTENSIONS) or head.startswith(WMF_PLACEABLE)


def clean_metafile(name: str, data: bytes, removed: set[str], limit: int) -> bytes:
    """The metafile without its comments, escapes, description and picture files."""
    zipped = name.lower().endswith((".emz", ".wmz"))
    if zipped:
        data = _gunzip(data, limit)
    if data[40:44] == EMF_SIGNATURE:
        cleaned = _clean_emf(data, removed)
    elif data.startswith(WMF_PLACEABLE) or data[2:4] == struct.pack("<H", WMF_HEADER_WORDS):
        cleaned = _clean_wmf(data, removed)
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
