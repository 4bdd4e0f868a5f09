"""The smaller copies of a photo that a post shows (its srcset): which widths, without Pillow.

images.py makes them in the cleaning worker; the server only needs these numbers.
"""
from __future__ import annotations

from pathlib import Path

SIZE_WIDTHS = (320, 640, 1280)  # pixels
INLINE_WIDTH = 640  # the widest copy a post shows at once; the viewer page shows the file
SIZE_QUALITY = 82


def size_widths(width: int) -> list[int]:
    """The copies made of an image `width` pixels wide: each width smaller than it, or the
    image's own width when it is smaller than all (always one: it marks the image as done)."""
    return [w for w in SIZE_WIDTHS if w < width] or [width]


def sized_path(prefix: Path, width: int) -> Path:
    """Where the cleaning worker writes the copy of one width (`prefix` is a temporary name)."""
    return prefix.with_name(f"{prefix.name}.{width}")
