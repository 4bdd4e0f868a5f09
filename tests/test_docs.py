"""The README documents every setting (a setting nobody knows about is a trap)."""
from __future__ import annotations

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
