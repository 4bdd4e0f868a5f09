"""What a moderator changed in a text before approving it, word by word, as escaped HTML."""
from __future__ import annotations

import difflib
import re

from markupsafe import Markup, escape

_TOKENS = re.compile(r"\s+|[^\s]+")  # words and the spaces between them, nothing lost
# Past this many tokens on either side, a diff compares lines instead: SequenceMatcher is
# quadratic in the worst case and a message may hold 20 000 characters.
WORDS_MAX = 3000


def changes_html(before: str, after: str) -> Markup:
    """`after` with what was removed from `before` in <del> and what was added in <ins>.

    User text is escaped piece by piece: the only tags are ours.
    """
    old, new = _TOKENS.findall(before), _TOKENS.findall(after)
    if max(len(old), len(new)) > WORDS_MAX:
        old, new = before.splitlines(keepends=True), after.splitlines(keepends=True)
    parts: list[str] = []
    matcher = difflib.SequenceMatcher(None, old, new, autojunk=False)
    for operation, i1, i2, j1, j2 in matcher.get_opcodes():
        removed, added = "".join(old[i1:i2]), "".join(new[j1:j2])
        if operation == "equal":
            parts.append(str(escape(added)))
            continue
        if removed:
            parts.append(f"<del>{escape(removed)}</del>")
        if added:
            parts.append(f"<ins>{escape(added)}</ins>")
    return Markup("".join(parts))
