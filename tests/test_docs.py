"""The README documents every setting (a setting nobody knows about is a trap)."""
from __future__ import annotations

import re
from dataclasses import fields
from pathlib import Path

from forum.config import Config

README = Path(__file__).resolve().parent.parent / "README.md"


def test_every_setting_is_in_the_readme():
    text = README.read_text(encoding="utf-8")
    missing = [f.name for f in fields(Config) if f"`FORUM_{f.name.upper()}`" not in text]
    assert missing == []


def test_the_readme_gives_the_two_commands():
    text = README.read_text(encoding="utf-8")
    assert "make demo" in text and "make test" in text


def test_the_readme_says_what_vigie_guarantees_and_where_it_is_tested():
    """The "Security and privacy" section: its promises name their tests, and those exist."""
    text = README.read_text(encoding="utf-8")
    section = text.split("## Security and privacy", 1)[1].split("\n## ", 1)[0]
    named = set(re.findall(r"`((?:tests|bench)/[\w/]+\.py)`", section))
    assert {"tests/test_leak_matrix.py", "tests/test_cleaning_corpus.py",
            "tests/test_input_limits.py", "bench/hostile.py"} <= named
    assert [path for path in named if not (README.parent / path).is_file()] == []
