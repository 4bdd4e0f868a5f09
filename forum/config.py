"""One frozen Config, read from FORUM_* environment variables and checked before anything starts.

A value of the wrong type or outside what a setting accepts raises ConfigError naming the
variable and what it accepts: `python -m forum serve` prints it and exits with status 2.
"""
from __future__ import annotations

import math
import os
from collections.abc import Callable
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from forum.dialect import is_postgresql
from forum.i18n import LOCALES
from forum.models.boards import MODERATION_MODES
from forum.storage import check_url
from forum.uploads.kinds import KINDS

MB = 1024 * 1024
REQUIRE_2FA_CHOICES = ("", "moderators", "admins")
REGISTRATION_MODES = ("open", "invitation", "closed")  # who may create an account
TRUE, FALSE = ("1", "true", "yes", "on"), ("0", "false", "no", "off")


class ConfigError(ValueError):
    """A FORUM_* setting that cannot be used; the message names it and what it accepts."""


@dataclass(frozen=True)
class Rule:
    """What a setting accepts beyond its type: a test, and its description for the error."""

    accepts: str
    test: Callable[[Any], bool]


def at_least(low: int) -> Rule:
    return Rule(f"at least {low}", lambda value: value >= low)


def one_of(choices: tuple[str, ...] | list[str]) -> Rule:
    return Rule("one of " + ", ".join(choices), lambda value: value in choices)


def _web_address(value: str) -> bool:
    try:
        parts = urlsplit(value)
        parts.port  # noqa: B018 -- raises ValueError for a port that is not a number
    except ValueError:
        return False
    return (parts.scheme in ("http", "https") and bool(parts.hostname)
            and not any(char.isspace() for char in value))


def _kind_names(value: str) -> bool:
    names = value.replace(",", " ").lower().split()
    return bool(names) and set(names) <= KINDS.keys()


POSITIVE = Rule("above 0", lambda value: value > 0)
NOT_NEGATIVE = Rule("0 or more", lambda value: value >= 0)
WEB_ADDRESS = Rule("an http:// or https:// address with a host", _web_address)
NOT_EMPTY = Rule("a value that is not empty", lambda value: bool(str(value).strip()))
PORT = Rule("a port number from 1 to 65535", lambda value: 1 <= value <= 65535)


@dataclass(frozen=True)
class Config:
    """Every setting of a Vigie site; each field is documented in the README."""

    data_dir: Path = Path("data")
    # PostgreSQL as the store (postgresql://user@host/name); empty: SQLite in data_dir. Hidden
    # from reprs and error messages: it may hold a password.
    database_url: str = field(default="", repr=False)
    base_url: str = "http://127.0.0.1:8080"
    default_locale: str = "fr"
    session_days: int = 30
    posts_per_page: int = 20
    threads_per_page: int = 25
    title_max: int = 150
    body_max: int = 20_000
    readers: int = 3
    login_attempts: int = 5  # per pseudonym and address, per login_window
    login_window: int = 300  # seconds
    # Roles that must log in with a second factor (TOTP): "" (nobody), "moderators" (moderators
    # of any board, and admins) or "admins".
    require_2fa_for: str = ""
    posts_per_minute: int = 6
    registrations_per_hour: int = 10  # per address
    # Requests refused as invalid (400, 413, 422) one client may send per minute; past it, its
    # requests with input get a 429 until the minute has passed (forum/input_limits.py).
    invalid_requests_per_minute: int = 30
    # Registration (an admin may change the mode and the question while the site runs: the
    # admin page or `vigie registration`; these are the defaults until then).
    registration_mode: str = "open"  # open | invitation | closed
    registration_question: str = ""  # asked at sign-up, answered freely, shown to moderators
    invitation_min_posts: int = 5  # approved posts before a member may invite (moderators: 0)
    invitations_per_member: int = 5  # links a member may create per 30 days (moderators: any)
    invitation_days: int = 7  # how long an invitation link works
    # One's own data: exports are kept this long; a departed member's pseudonym stays taken.
    export_hours: int = 24
    pseudonym_retired_days: int = 365
    # Reverse proxies allowed to name the client in X-Forwarded-For (comma-separated IPs/CIDRs).
    trusted_proxies: str = ""
    moderation_default: str = "a-posteriori"  # mode of new boards: a-priori | a-posteriori
    trust_threshold: int = 3  # approved posts after which a member publishes at once
    flags_to_hide: int = 3  # flags from trusted members that hide a post until reviewed
    journal_per_page: int = 50
    mentions_max: int = 10  # members one post may call in with @pseudonym
    # Pages kept (forum/cache.py): a visitor's and a member class's per thread read often,
    # so twice the threads that are read: at 2 000, a mixed load over 1 000 threads
    # rendered its tail again and again (bench/thread_page.py: 0.36 -> 0.21 ms CPU a page).
    page_cache_entries: int = 5_000
    fragment_cache_entries: int = 20_000  # rendered posts shared by readers (forum/fragments.py)
    view_flush_seconds: float = 30.0  # page views and members' reads (forum/reads.py)
    # Unread tracking (issue 16): counts of new posts, the "new messages" marker, mark as read.
    unread_tracking: bool = True
    # Mail (forum/mail.py): an empty smtp_host disables sending; mails then wait in the outbox.
    smtp_host: str = ""
    smtp_port: int = 587
    smtp_user: str = ""
    smtp_password: str = field(default="", repr=False)
    smtp_starttls: bool = True  # required when on: credentials never cross the network in clear
    mail_from: str = ""  # empty: "Vigie <noreply@HOST>" with the host of base_url
    mail_interval_seconds: float = 30.0  # the sender also wakes at once when mail is queued
    mail_retry_seconds: float = 60.0  # first back-off after a failure; doubles, capped
    # Several workers (forum/leases.py): how long the process sending mail (and purging files)
    # holds that job without renewing it; if it dies, another takes over after this.
    lease_seconds: float = 120.0
    reset_minutes: int = 60  # how long a password-reset link works
    resets_per_hour: int = 5  # reset requests per account (and 4x that per address)
    # Attachments (forum/uploads): every file is cleaned of its metadata before it is stored.
    upload_max_bytes: int = 20 * MB  # one file, enforced while it is received
    upload_post_max_bytes: int = 50 * MB  # all the files of one post
    upload_post_max_files: int = 10
    uploads_per_minute: int = 20  # files a member may send
    uploads_per_day: int = 100  # files a member may send in 24 hours
    upload_bytes_per_day: int = 500 * MB
    upload_kinds: str = "pdf jpeg png webp gif odt ods odp docx xlsx pptx csv text"
    upload_max_pixels: int = 50_000_000  # an image's decoded size (all frames of an animation)
    orphan_upload_hours: float = 24.0  # files never attached to a post are removed after this
    # Where stored files live (forum/storage.py): empty, the data folder; s3://bucket/prefix?…,
    # an S3-compatible bucket. Hidden from reprs: the URL may carry a secret key.
    files_url: str = field(default="", repr=False)
    # The drop for sources (forum/views/drops.py): no account, nothing kept that names them.
    drop_days: int = 90  # drops (messages and files) are erased for good after this
    drop_max_bytes: int = 50 * MB  # all the files of one drop (each also upload_max_bytes)
    drop_max_files: int = 10
    drops_per_hour: int = 5  # drops and replies from one address, counted in memory only
    drop_code_attempts: int = 10  # wrong codes one address may try in an hour
    drop_question: str = ""  # asked before a drop is taken (empty: no question)
    drop_answer: str = ""  # its accepted answers, separated by "|"; case and accents ignored
    # The open licence of the watch board's figures, named in exports, feeds and pages.
    data_licence_name: str = "ODbL 1.0"
    data_licence_url: str = "https://opendatacommons.org/licenses/odbl/1-0/"

    @property
    def db_path(self) -> Path:
        return self.data_dir / "forum.sqlite3"

    @property
    def secure_cookies(self) -> bool:
        return self.base_url.startswith("https://")

    def __post_init__(self) -> None:
        for f in fields(self):
            value = getattr(self, f.name)
            expected = TYPES.get(f.type)
            if expected is not None and not _has_type(value, expected[0]):
                raise ConfigError(_refusal(f.name, value, expected[1], f.repr))
            rule = RULES.get(f.name)
            if rule is not None and not rule.test(value):
                accepts = rule.accepts
                if f.type in ("int", "float"):  # "an integer, at least 1"
                    accepts = f"{TYPES[f.type][1]}, {accepts}"
                raise ConfigError(_refusal(f.name, value, accepts, f.repr))
        if self.drop_question.strip() and not self.drop_answer.strip(" |"):
            # Nobody could ever send a drop: say so before the site starts.
            raise ConfigError(f"{variable('drop_answer')}: empty while"
                              f" {variable('drop_question')} asks a question; it takes the"
                              " accepted answers, separated by |.")

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None, **overrides: object) -> Config:
        """Build a Config from FORUM_<FIELD> variables; explicit overrides win.

        Raises ConfigError for a value that cannot be read or is not accepted.
        """
        env = dict(os.environ if env is None else env)
        values: dict[str, object] = {}
        for f in fields(cls):
            raw = env.get(variable(f.name))
            if raw is not None:
                values[f.name] = _read(f.name, f.type, raw, f.repr)
        values.update(overrides)
        if "data_dir" in values:
            values["data_dir"] = Path(str(values["data_dir"]))
        values.setdefault("base_url", cls.base_url)
        values["base_url"] = str(values["base_url"]).rstrip("/")
        # Each value has its field's type (_read checked it), which a dict of objects cannot say.
        return cls(**values)  # type: ignore[arg-type]


# Beyond its type, what each setting accepts; a setting not listed takes any value of its type.
RULES: dict[str, Rule] = {
    "data_dir": NOT_EMPTY,
    "base_url": WEB_ADDRESS,
    "database_url": Rule("empty, or a postgresql:// address",
                         lambda value: value == "" or is_postgresql(value)),
    "default_locale": one_of(LOCALES),
    "session_days": at_least(1),
    "posts_per_page": at_least(1),
    "threads_per_page": at_least(1),
    "title_max": at_least(1),
    "body_max": at_least(1),
    "readers": at_least(1),  # none: every read would wait forever
    "login_attempts": at_least(1),
    "login_window": at_least(1),
    "require_2fa_for": Rule("empty, moderators or admins",
                            lambda value: value in REQUIRE_2FA_CHOICES),
    "posts_per_minute": at_least(1),
    "registrations_per_hour": at_least(1),
    "invalid_requests_per_minute": at_least(1),
    "registration_mode": one_of(REGISTRATION_MODES),
    "invitation_min_posts": at_least(0),
    "invitations_per_member": at_least(0),
    "invitation_days": at_least(1),
    "export_hours": at_least(1),
    "pseudonym_retired_days": at_least(0),
    "moderation_default": one_of(MODERATION_MODES),
    "trust_threshold": at_least(0),
    "flags_to_hide": at_least(1),
    "journal_per_page": at_least(1),
    "mentions_max": at_least(0),
    "page_cache_entries": at_least(0),
    "fragment_cache_entries": at_least(0),
    "view_flush_seconds": POSITIVE,
    "smtp_port": PORT,
    "mail_interval_seconds": POSITIVE,
    "mail_retry_seconds": POSITIVE,
    # Renewed every third of it; a mail being sent is safe by its claim (forum/mail/send.py).
    "lease_seconds": Rule("at least 2", lambda value: value >= 2),
    "reset_minutes": at_least(1),
    "resets_per_hour": at_least(1),
    "upload_max_bytes": at_least(1),
    "upload_post_max_bytes": at_least(1),
    "upload_post_max_files": at_least(1),
    "uploads_per_minute": at_least(1),
    "uploads_per_day": at_least(1),
    "upload_bytes_per_day": at_least(1),
    "upload_kinds": Rule("kinds among " + " ".join(KINDS), _kind_names),
    "upload_max_pixels": at_least(1),
    "orphan_upload_hours": NOT_NEGATIVE,  # 0: unattached files go at the next purge
    "files_url": Rule("empty, or s3://bucket/prefix with endpoint, region and addressing"
                      " (path or virtual) as query", check_url),
    "drop_days": at_least(1),
    "drop_max_bytes": at_least(1),
    "drop_max_files": at_least(1),
    "drops_per_hour": at_least(1),
    "drop_code_attempts": at_least(1),
    "data_licence_name": NOT_EMPTY,
    "data_licence_url": WEB_ADDRESS,
}

# Field type (as annotated) -> (Python type, what the variable must hold).
TYPES: dict[object, tuple[type, str]] = {
    "int": (int, "an integer"), "float": (float, "a number"),
    "bool": (bool, "one of " + ", ".join(TRUE + FALSE)), "str": (str, "text"),
    "Path": (Path, "a folder"),
}


def variable(name: str) -> str:
    """The environment variable of a Config field."""
    return "FORUM_" + name.upper()


def _read(name: str, kind: object, raw: str, shown: bool) -> object:
    """The typed value of one variable, or ConfigError."""
    try:
        if kind == "int":
            return int(raw.strip())
        if kind == "float":
            number = float(raw.strip())
            if not math.isfinite(number):
                raise ValueError(raw)
            return number
        if kind == "bool":
            word = raw.strip().lower()
            if word not in TRUE + FALSE:
                raise ValueError(raw)
            return word in TRUE
    except ValueError:
        raise ConfigError(_refusal(name, raw, TYPES[kind][1], shown)) from None
    return Path(raw) if kind == "Path" else raw


def _has_type(value: object, expected: type) -> bool:
    if expected is float:
        return (isinstance(value, int | float) and not isinstance(value, bool)
                and math.isfinite(value))
    if expected is int:
        return isinstance(value, int) and not isinstance(value, bool)
    return isinstance(value, expected)


def _refusal(name: str, value: object, accepts: str, shown: bool = True) -> str:
    given = repr(str(value)) if shown else "the value given"  # a password is never printed
    return f"{variable(name)}: {given} is not accepted; it takes {accepts}."
