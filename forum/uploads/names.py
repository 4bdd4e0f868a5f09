"""The name a member gave a file: only ever shown, so cleaned to be shown safely."""
from __future__ import annotations

import re

from forum.text import clean_line
from forum.uploads.kinds import Kind, extension

MAX_BYTES = 255
# Characters that some systems refuse in names (kept out so that a download saves as shown).
RESERVED = re.compile(r'[<>:"|?*]')
FALLBACK_STEM = "document"


def clean_filename(raw: str) -> str:
    """The last part of a path, without controls, direction overrides or invisible characters."""
    name = raw.replace("\\", "/").rsplit("/", 1)[-1]
    return RESERVED.sub("_", clean_line(name)).strip(" .")


def final_name(name: str, kind: Kind) -> str:
    """A cleaned name ending in one of its kind's extensions, at most 255 bytes in UTF-8."""
    stem, ext = name, extension(name)
    if ext in kind.extensions:
        stem = name[:-len(ext) - 1]
    else:
        ext = kind.extensions[0]  # no extension, or one that says nothing about the content
    # Always an extension: so no name is ever "thumb", the thumbnail's address.
    stem = stem.strip(" .") or FALLBACK_STEM
    suffix = "." + ext
    while len((stem + suffix).encode("utf-8")) > MAX_BYTES:
        stem = stem[:-1]
    return stem + suffix
