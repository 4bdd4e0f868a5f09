"""One frozen Config, read from FORUM_* environment variables."""
from __future__ import annotations

import os
from dataclasses import dataclass, field, fields
from pathlib import Path

MB = 1024 * 1024


@dataclass(frozen=True)
class Config:
    """Every setting of a Vigie site; each field is documented in the README."""

    data_dir: Path = Path("data")
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
    posts_per_minute: int = 6
    registrations_per_hour: int = 10  # per address
    # Reverse proxies allowed to name the client in X-Forwarded-For (comma-separated IPs/CIDRs).
    trusted_proxies: str = ""
    moderation_default: str = "a-posteriori"  # mode of new boards: a-priori | a-posteriori
    trust_threshold: int = 3  # approved posts after which a member publishes at once
    flags_to_hide: int = 3  # flags from trusted members that hide a post until reviewed
    journal_per_page: int = 50
    mentions_max: int = 10  # members one post may call in with @pseudonym
    page_cache_entries: int = 2_000
    view_flush_seconds: float = 30.0
    # Mail (forum/mail.py): an empty smtp_host disables sending; mails then wait in the outbox.
    smtp_host: str = ""
    smtp_port: int = 587
    smtp_user: str = ""
    smtp_password: str = field(default="", repr=False)
    smtp_starttls: bool = True  # required when on: credentials never cross the network in clear
    mail_from: str = ""  # empty: "Vigie <noreply@HOST>" with the host of base_url
    mail_interval_seconds: float = 30.0  # the sender also wakes at once when mail is queued
    mail_retry_seconds: float = 60.0  # first back-off after a failure; doubles, capped
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

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None, **overrides: object) -> Config:
        """Build a Config from FORUM_<FIELD> variables; explicit overrides win."""
        env = dict(os.environ if env is None else env)
        values: dict[str, object] = {}
        for f in fields(cls):
            raw = env.get("FORUM_" + f.name.upper())
            if raw is None:
                continue
            if f.name == "data_dir":
                values[f.name] = Path(raw)
            elif f.type in ("int", int):
                values[f.name] = int(raw)
            elif f.type in ("float", float):
                values[f.name] = float(raw)
            elif f.type in ("bool", bool):
                values[f.name] = raw.strip().lower() in ("1", "true", "yes", "on")
            else:
                values[f.name] = raw
        values.update(overrides)
        if "data_dir" in values:
            values["data_dir"] = Path(values["data_dir"])  # type: ignore[arg-type]
        values.setdefault("base_url", cls.base_url)
        values["base_url"] = str(values["base_url"]).rstrip("/")
        return cls(**values)  # type: ignore[arg-type]
