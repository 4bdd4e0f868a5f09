"""Findings: sourced facts about a city's equipment, moderated like posts, every version kept.

One module per job: records (what a finding is), kinds, filters, reads, plausibility (does a
total fit the record), changes (create, correct) and decisions (approve, refuse, delete,
restore, purge). Callers use `findings.<name>` from here. Input is checked by
models/finding_drafts.py; what the pages and exports compute from the findings (latest figure
per kind, timelines, the national table) lives in forum/watch.py.
"""
from __future__ import annotations

from forum.models.findings.changes import changed, create, edit
from forum.models.findings.decisions import (
    REASON_MAX,
    approve,
    delete,
    purge_version,
    reject,
    restore,
)
from forum.models.findings.filters import Filters
from forum.models.findings.kinds import (
    BUILTIN_KIND_LABELS,
    KIND_LABEL_MAX,
    Kind,
    add_kind,
    checked_label,
    findings_per_kind,
    kind_by_slug,
    kinds,
)
from forum.models.findings.plausibility import (
    PLAUSIBLE_MOVE,
    Doubt,
    doubts,
    doubts_about,
    year_fraction,
)
from forum.models.findings.reads import (
    by_author,
    count,
    for_posts,
    get,
    pending,
    pending_edit,
    pending_edits,
    recently_published,
    revisions,
    search,
    sources_of,
    unpublished_authors,
)
from forum.models.findings.records import (
    _COLUMNS,
    _FIELDS,
    CHANGE,
    PART,
    PER_INHABITANTS,
    POPULATION,
    SCOPE_LABELS,
    SCOPES,
    SELECT,
    STATUS_LABELS,
    STATUSES,
    TOTAL,
    UNIT_LABELS,
    UNIT_SYMBOLS,
    UNITS,
    Draft,
    Finding,
    Revision,
    Source,
)

__all__ = [
    "BUILTIN_KIND_LABELS", "CHANGE", "KIND_LABEL_MAX", "PART", "PER_INHABITANTS", "PLAUSIBLE_MOVE",
    "POPULATION", "REASON_MAX", "SCOPES", "SCOPE_LABELS", "SELECT", "STATUSES", "STATUS_LABELS",
    "TOTAL", "UNITS", "UNIT_LABELS", "UNIT_SYMBOLS", "_COLUMNS", "_FIELDS", "Doubt", "Draft",
    "Filters", "Finding", "Kind", "Revision", "Source", "add_kind", "approve", "by_author",
    "changed", "checked_label", "count", "create", "delete", "doubts", "doubts_about", "edit",
    "findings_per_kind", "for_posts", "get", "kind_by_slug", "kinds", "pending", "pending_edit",
    "pending_edits", "purge_version", "recently_published", "reject", "restore", "revisions",
    "search", "sources_of", "unpublished_authors", "year_fraction",
]
