"""`make lint` as a test: ruff and mypy (configured in pyproject.toml) find nothing in forum/.

The whole suite then fails on a type error even where `make lint` is not run, as in CI.
"""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import get_args

import pytest

from forum.permissions import RULES, Action

ROOT = Path(__file__).resolve().parent.parent


def _run(*command: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", *command], cwd=ROOT, capture_output=True,
                          text=True, check=False)


@pytest.mark.slow
def test_mypy_finds_no_error_in_forum(tmp_path: Path) -> None:
    # A cache of its own: never one another checkout or version of mypy left behind.
    done = _run("mypy", "--cache-dir", str(tmp_path / "mypy"), "forum")
    assert done.returncode == 0, done.stdout + done.stderr


def test_ruff_finds_nothing() -> None:
    done = _run("ruff", "check", "--no-cache", ".")
    assert done.returncode == 0, done.stdout + done.stderr


def test_every_permission_action_has_a_rule() -> None:
    """The Literal that can() takes names exactly the rules of the table: an action added to
    one and not the other is a type error or a KeyError waiting to happen."""
    assert set(get_args(Action)) == set(RULES)
