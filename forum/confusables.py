"""Look-alike pseudonyms: Unicode's UTS #39 skeletons, so that "аdmin" (a Cyrillic а) or
"admın" (a dotless ı) cannot pose as "admin".

The mapping is Unicode's confusables.txt (shipped beside this module, see its header); no
library on PyPI computes skeletons from a maintained copy of it.
"""
from __future__ import annotations

import functools
import unicodedata
from pathlib import Path

DATA = Path(__file__).with_name("confusables.txt")


@functools.cache
def _prototypes() -> dict[str, str]:
    """Each confusable character -> the prototype it looks like (one or more characters)."""
    table: dict[str, str] = {}
    for line in DATA.read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        source, _sep, target = line.partition(";")
        table[chr(int(source, 16))] = "".join(chr(int(h, 16)) for h in target.split())
    return table


def skeleton(text: str) -> str:
    """UTS #39: NFD, every character replaced by its prototype, NFD again."""
    table = _prototypes()
    mapped = "".join(table.get(char, char) for char in unicodedata.normalize("NFD", text))
    return unicodedata.normalize("NFD", mapped)


def pseudonym_skeleton(name: str) -> str:
    """The form under which two pseudonyms look the same: case, width and look-alikes ignored.

    Case is folded before and after: prototypes are often capitals ("0" looks like "O"), and
    pseudonyms differing only by case are already the same one.
    """
    folded = unicodedata.normalize("NFKC", name).casefold()
    return skeleton(skeleton(folded).casefold())
