"""The demo site's content (French), used to seed a fresh Vigie forum: data, not code, kept in
demo_content.json beside this module.

- boards, members (name, role);
- threads: each with its posts as (author, Markdown text, days ago);
- findings of the watch record, each drawn from demo posts: `sources` are (thread title,
  index of the post in that thread); figures from ../shared/reference/facts.md, proposed by
  the post's author. Each quantity says what it counts: the city's total, a change (the
  promise of 1 000 more cameras), or a part (one contract, one district);
- each city's population (issue 14: figures per 10 000 inhabitants), entered by a moderator
  from INSEE's figures (`insee`: the source link, `population_note`); the coordinates are
  the town hall's and place the city on the map;
- records requests (demandes CADA) at different stages: `events` are (status, days ago,
  note) after sending.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

_DATA: dict[str, Any] = json.loads(
    Path(__file__).with_name("demo_content.json").read_text(encoding="utf-8"))

BOARDS: list[dict[str, Any]] = _DATA["boards"]
MEMBERS: list[tuple[str, str]] = [tuple(member) for member in _DATA["members"]]
THREADS: list[dict[str, Any]] = _DATA["threads"]
# A finding's sources as the keys the demo gives its posts: (thread title, index).
FINDINGS: list[dict[str, Any]] = [{**spec, "sources": [tuple(source) for source in spec["sources"]]}
                        for spec in _DATA["findings"]]
INSEE: tuple[str, str] = tuple(_DATA["insee"])
POPULATION_NOTE: str = _DATA["population_note"]
POPULATIONS: list[dict[str, Any]] = _DATA["populations"]
REQUESTS: list[dict[str, Any]] = _DATA["requests"]
