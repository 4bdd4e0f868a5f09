"""A finding's form: reading what was sent, the sources it offers, filling it from a finding.

The rules of input live in models/finding_drafts.py; this module only turns a form into a
RawFinding and back, so that a refused field shows the form again, filled in as sent.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from itertools import zip_longest
from typing import Any

from multidict import MultiMapping

from forum import watch
from forum.db import Conn
from forum.errors import NotFound
from forum.i18n import N_
from forum.models import finding_drafts, findings, posts, threads, uploads
from forum.models.finding_drafts import RawFinding
from forum.models.findings import Finding, Source
from forum.permissions import can
from forum.views import text_field

FIELDS = ("kind", "quantity", "unit", "scope", "observed", "status", "place", "latitude",
          "longitude", "note")
DEFAULTS = {"unit": "count", "status": "in-use"}
LINK_ROWS = 3  # rows of web addresses a form offers at least
# The question of the form, answered in the members' words (findings.SCOPES' order).
SCOPE_CHOICES = (
    ("total", N_("Yes: the total for the whole city at that date")),
    ("change", N_("No: a change, equipment added or removed at that date (-3 for three"
                  " removed)")),
    ("part", N_("No: a part, one place, district or contract")),
)


@dataclass
class FindingForm:
    """What a finding form shows: the fields as typed, the sources offered and those ticked."""
    fields: dict[str, str]
    choices: list[Source]  # public messages and files that may be ticked as sources
    posts: set[int] = field(default_factory=set)
    files: set[int] = field(default_factory=set)
    links: list[tuple[str, str]] = field(default_factory=list)

    @property
    def link_rows(self) -> list[tuple[str, str]]:
        """The links given, then empty rows: always at least one to add a source."""
        return self.links + [("", "")] * max(LINK_ROWS - len(self.links), 1)



# Reading a form --------------------------------------------------------------------------------

def _strings(form: MultiMapping[object], name: str) -> list[str]:
    return [value for value in form.getall(name, []) if isinstance(value, str)]


def _ids(form: MultiMapping[object], name: str) -> list[int]:
    return [int(value) for value in _strings(form, name)
            if value.isascii() and value.isdigit() and len(value) <= 18]


def _links(form: MultiMapping[object]) -> list[tuple[str, str]]:
    """The (address, label) rows of the form, empty ones left out."""
    rows = zip_longest(_strings(form, "source_url"), _strings(form, "source_label"),
                       fillvalue="")
    return [(url, label) for url, label in rows if url.strip() or label.strip()]


def raw_finding(form: MultiMapping[object]) -> RawFinding:
    return RawFinding(**{name: text_field(form, name) for name in FIELDS},
                      posts=_strings(form, "posts"), files=_strings(form, "files"),
                      links=_links(form))


async def _public_post(conn: Conn, post_id: int) -> tuple[posts.Post, str] | None:
    """A message everyone may read, with its thread's title; None for any other."""
    try:
        post = await posts.get(conn, post_id)
    except NotFound:
        return None
    if not can(None, "see_post", post) or post.is_deleted:
        return None
    return post, (await threads.get(conn, post.thread_id)).title


async def offered_sources(conn: Conn, post_ids: list[int], file_ids: list[int]) -> list[Source]:
    """The messages and files a form offers as sources: only public ones, with their names."""
    offered = []
    for post_id in list(dict.fromkeys(post_ids))[:finding_drafts.SOURCES_MAX]:
        if found := await _public_post(conn, post_id):
            offered.append(Source("post", post_id=post_id, thread_title=found[1]))
    for upload_id in list(dict.fromkeys(file_ids))[:finding_drafts.SOURCES_MAX]:
        holder = await uploads.post_of(conn, upload_id)  # the post it is attached to
        found = await _public_post(conn, holder) if holder else None
        if found:
            upload = await uploads.get(conn, upload_id)
            offered.append(Source("file", post_id=holder, upload_id=upload_id,
                                  thread_title=found[1], filename=upload.filename))
    return offered


async def sent_form(conn: Conn, form: MultiMapping[object], posts_: list[int],
                files: list[int]) -> FindingForm:
    """The form as sent, to show again; `posts_` and `files` are offered whatever was ticked."""
    ticked_posts, ticked_files = _ids(form, "posts"), _ids(form, "files")
    return FindingForm({name: text_field(form, name) for name in FIELDS},
                       await offered_sources(conn, posts_ + ticked_posts, files + ticked_files),
                       set(ticked_posts), set(ticked_files), _links(form))


def form_of(finding: Finding, choices: list[Source]) -> FindingForm:
    """A form filled from a finding, to correct it."""
    values = {"kind": finding.kind_slug, "quantity": watch.number_text(finding.quantity),
              "unit": finding.unit or DEFAULTS["unit"], "scope": finding.scope or "",
              "observed": finding.observed,
              "status": finding.status, "place": finding.place,
              "latitude": watch.number_text(finding.latitude),
              "longitude": watch.number_text(finding.longitude),
              "note": finding.note}
    return FindingForm(values, choices,
                       {s.post_id for s in finding.sources if s.kind == "post" and s.post_id},
                       {s.upload_id for s in finding.sources if s.kind == "file" and s.upload_id},
                       [(s.url or "", s.label) for s in finding.sources if s.kind == "link"])


async def form_context(conn: Conn, form: FindingForm) -> dict[str, Any]:
    """What every finding form needs besides its values: the menus and the limits."""
    return {
        "form": form, "errors": {}, "kinds": await findings.kinds(conn),
        "statuses": [(status, findings.STATUS_LABELS[status]) for status in findings.STATUSES],
        "units": [(unit, findings.UNIT_LABELS[unit]) for unit in findings.UNITS],
        "scopes": SCOPE_CHOICES,
        "limits": {"place": finding_drafts.PLACE_MAX, "note": finding_drafts.NOTE_MAX,
                   "url": finding_drafts.URL_MAX, "label": finding_drafts.LABEL_MAX},
    }



async def source_post(conn: Conn, raw: str) -> tuple[posts.Post, str] | None:
    """?post=12: the message a finding is drawn from, if it is public."""
    if not (raw.isascii() and raw.isdigit() and len(raw) <= 18):
        return None
    return await _public_post(conn, int(raw))
