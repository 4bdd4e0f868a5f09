"""Settings: every FORUM_* variable is checked at start, and a bad one stops the site there.

A wrong value used to be found late: FORUM_READERS=0 hung every read, a misspelt moderation
mode failed only when a board was made, FORUM_POSTS_PER_PAGE=twenty raised without naming it.
"""
from __future__ import annotations

import dataclasses
import os
import subprocess
import sys
from pathlib import Path

import pytest

from forum.config import RULES, TYPES, Config, ConfigError, variable
from forum.models.boards import MODERATION_MODES

ROOT = Path(__file__).resolve().parent.parent

BAD = [
    ("FORUM_READERS", "0", "at least 1"),
    ("FORUM_READERS", "-2", "at least 1"),
    ("FORUM_READERS", "trois", "an integer"),
    ("FORUM_POSTS_PER_PAGE", "twenty", "an integer"),
    ("FORUM_POSTS_PER_PAGE", "2.5", "an integer"),
    ("FORUM_MODERATION_DEFAULT", "a-priory", "one of a-priori, a-posteriori"),
    ("FORUM_DEFAULT_LOCALE", "de", "one of fr, en"),
    ("FORUM_SMTP_STARTTLS", "peut-être", "one of 1, true"),
    ("FORUM_SMTP_PORT", "70000", "a port number"),
    ("FORUM_BASE_URL", "vigie.example", "an http:// or https:// address"),
    ("FORUM_BASE_URL", "ftp://vigie.example", "an http:// or https:// address"),
    ("FORUM_BASE_URL", "https://", "an http:// or https:// address"),
    ("FORUM_BASE_URL", "https://vigie.example:port", "an http:// or https:// address"),
    ("FORUM_VIEW_FLUSH_SECONDS", "-1.5", "a number, above 0"),
    ("FORUM_VIEW_FLUSH_SECONDS", "nan", "a number"),
    ("FORUM_MAIL_RETRY_SECONDS", "inf", "a number"),
    ("FORUM_UPLOAD_KINDS", "pdf exe", "kinds among"),
    ("FORUM_UPLOAD_KINDS", " ", "kinds among"),
    ("FORUM_DATA_LICENCE_URL", "javascript:alert(1)", "an http:// or https:// address"),
    ("FORUM_SESSION_DAYS", "", "an integer"),
]


@pytest.mark.parametrize("name, value, accepts", BAD)
def test_a_bad_value_is_refused_naming_the_variable_and_what_it_takes(name, value, accepts):
    with pytest.raises(ConfigError) as refused:
        Config.from_env(env={name: value})
    message = str(refused.value)
    assert message.startswith(f"{name}: ") and accepts in message
    assert repr(value.rstrip("/")) in message  # the address is read without its final /


def test_good_values_are_read_with_their_types():
    config = Config.from_env(env={
        "FORUM_READERS": " 1 ", "FORUM_MODERATION_DEFAULT": "a-priori",
        "FORUM_DEFAULT_LOCALE": "en", "FORUM_SMTP_STARTTLS": "Off",
        "FORUM_BASE_URL": "https://vigie.example/", "FORUM_VIEW_FLUSH_SECONDS": "0.5",
        "FORUM_UPLOAD_KINDS": "PDF, png", "FORUM_TRUST_THRESHOLD": "0"})
    assert (config.readers, config.moderation_default, config.default_locale) == (
        1, "a-priori", "en")
    assert config.smtp_starttls is False and config.base_url == "https://vigie.example"
    assert config.view_flush_seconds == 0.5 and config.trust_threshold == 0


def test_the_defaults_pass_their_own_checks():
    assert Config.from_env(env={}) == Config()


def test_every_setting_has_a_checked_type_and_every_rule_a_setting():
    names = {f.name for f in dataclasses.fields(Config)}
    assert all(f.type in TYPES for f in dataclasses.fields(Config))
    assert set(RULES) <= names
    assert RULES["moderation_default"].test(MODERATION_MODES[0])  # the boards' own list


def test_a_config_made_in_code_is_checked_too():
    with pytest.raises(ConfigError, match="FORUM_READERS"):
        dataclasses.replace(Config(), readers=0)
    with pytest.raises(ConfigError, match=r"FORUM_POSTS_PER_PAGE.*an integer"):
        Config.from_env(env={}, posts_per_page="20")
    with pytest.raises(ConfigError, match="FORUM_SMTP_STARTTLS"):
        Config.from_env(env={}, smtp_starttls="yes")


def test_the_variable_of_a_field():
    assert variable("readers") == "FORUM_READERS"


def run_cli(tmp_path: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {key: value for key, value in os.environ.items() if not key.startswith("FORUM_")}
    return subprocess.run(
        [sys.executable, "-m", "forum", "--data-dir", str(tmp_path / "data"), *args],
        cwd=ROOT, env={**clean, **env}, capture_output=True, text=True, timeout=60)


@pytest.mark.parametrize("name, value, accepts", [
    ("FORUM_READERS", "0", "at least 1"),
    ("FORUM_MODERATION_DEFAULT", "a-priory", "one of a-priori, a-posteriori"),
    ("FORUM_POSTS_PER_PAGE", "twenty", "an integer"),
    ("FORUM_BASE_URL", "localhost:8080", "http:// or https://"),
])
def test_serve_refuses_to_start_with_status_2_and_no_traceback(tmp_path, name, value, accepts):
    result = run_cli(tmp_path, "serve", "--port", "9", **{name: value})
    assert result.returncode == 2, result.stderr
    assert name in result.stderr and accepts in result.stderr
    assert "Traceback" not in result.stderr and result.stdout == ""
    assert not (tmp_path / "data").exists()  # nothing was created


def test_every_command_checks_the_settings_first(tmp_path):
    for args in (("init",), ("board", "list"), ("demo", "--no-serve")):
        result = run_cli(tmp_path, *args, FORUM_READERS="0")
        assert result.returncode == 2 and "FORUM_READERS" in result.stderr, args
    assert not (tmp_path / "data").exists()
