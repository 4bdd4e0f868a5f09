"""The watch board's findings, their kinds, corrections and history."""
from __future__ import annotations

from typing import Any

from forum.api.components.common import ID_MAX, SLUG_PATTERN, STATUSES, exact, field, path_id, ref
from forum.models.boards import NAME_MAX
from forum.models.finding_drafts import (
    FILTER_DATE_PATTERN,
    LABEL_MAX,
    NOTE_MAX,
    PLACE_MAX,
    QUANTITY_MAX,
    SOURCES_MAX,
    URL_MAX,
    URL_PATTERN,
)
from forum.models.findings import KIND_LABEL_MAX, SCOPES, UNITS
from forum.models.findings import STATUSES as FINDING_STATUSES
from forum.models.moderation import REASON_MAX
from forum.models.posts import REVISION_STATES


def parameters() -> dict[str, Any]:
    def query(name: str, description: str, schema: dict[str, Any]) -> dict[str, Any]:
        return {"name": name, "in": "query", "required": False, "description": description,
                "schema": schema}

    observed = ("2020, 2020-03 or 2020-03-10 (03/2020 and 10/03/2020 too); compared at its "
                "own precision. Not a date: 422.")
    return {
        "finding_id": path_id("finding"),
        "kind_slug": {"name": "slug", "in": "path", "required": True,
                      "description": "A kind of equipment's identifier (not a merged one).",
                      "schema": {"type": "string", "minLength": 1, "maxLength": NAME_MAX}},
        "withdraw_reason": {"name": "reason", "in": "query", "required": False,
                            "description": "Why: required from a moderator withdrawing "
                                           "someone else's finding (403 without), told to "
                                           f"its author; {REASON_MAX} characters are kept.",
                            "schema": {"type": "string"}},
        "city": query("city", "Only this city's findings (a board's address); unknown, or a "
                      "board that is not a city: 404.",
                      {"type": "string", "minLength": 1, "pattern": SLUG_PATTERN}),
        "kind": query("kind", "Only this kind of equipment (a slug of /finding-kinds); "
                      "unknown: 404.", {"type": "string", "minLength": 1, "pattern": SLUG_PATTERN}),
        "finding_status": query("status", "Only findings with this status of the equipment.",
                                {"type": "string", "enum": list(FINDING_STATUSES)}),
        "observed_since": query("since", f"Findings observed from then on: {observed}",
                                {"type": "string", "pattern": FILTER_DATE_PATTERN}),
        "observed_until": query("until", f"Findings observed up to then, included: {observed}",
                                {"type": "string", "pattern": FILTER_DATE_PATTERN}),
        "finding_scope": query("scope", "Only the quantities of this scope: total (the whole "
                               "city), change or part.",
                               {"type": "string", "enum": list(SCOPES)}),
    }


def outputs() -> dict[str, Any]:
    text, count, page = {"type": "string"}, {"type": "integer", "minimum": 0}, {
        "type": "integer", "minimum": 1}
    maybe_when = {"type": ["string", "null"], "format": "date-time"}
    maybe_number, maybe_id = {"type": ["number", "null"]}, {"type": ["integer", "null"]}
    named = exact({"slug": text, "name": {"type": "string",
                                            "description": "In your language."}})
    return {
        "Finding": exact({
            "id": {"type": "integer", "minimum": 1},
            "url": {"type": "string", "description": "Its page."},
            "city": exact({"slug": text, "name": text}),
            "kind": exact({"slug": text, "label": {
                "type": "string", "description": "As stored (English for the built-in kinds)."},
                "name": {"type": "string", "description": "In your language."}}),
            "quantity": maybe_number, "unit": {"type": ["string", "null"], "enum": [*UNITS, None]},
            "scope": {"type": ["string", "null"], "enum": [*SCOPES, None], "description":
                      "What the quantity counts: total (the whole city at that date, the only "
                      "figures of headlines, timelines and tables), change (added or removed "
                      "then, signed) or part (one place, district or contract). null without "
                      "a quantity."},
            "observed": {"type": "string", "description": "2008, 2014-11 or 2020-03-10: as "
                         "precise as its source."},
            "status": {"type": "string", "enum": list(FINDING_STATUSES)},
            "place": text, "latitude": maybe_number, "longitude": maybe_number, "note": text,
            "review": {"type": "string", "enum": STATUSES, "description": "published, or "
                       "(seen only by its author and the city's moderators) pending or "
                       "rejected."},
            "reject_reason": {"type": ["string", "null"], "description": "Why the moderators "
                              "refused it (null but for its author and moderators)."},
            "edit_pending": {"type": "boolean", "description": "A correction waits for the "
                             "moderators (told only to its author and moderators)."},
            "deleted": {"type": "boolean", "description": "Withdrawn (moderators only see it)."},
            "proposed_by": text, "approved_by": {"type": ["string", "null"]},
            "created_at": {"type": "string", "format": "date-time"},
            "published_at": maybe_when, "edited_at": maybe_when,
            "sources": {"type": "array", "items": ref("schemas", "FindingSource")}}),
        "FindingSource": exact({
            "kind": {"type": "string", "enum": ["post", "file", "link"]},
            "post_id": maybe_id, "upload_id": maybe_id,
            "url": {"type": ["string", "null"], "description": "null: a message that is no "
                    "longer public."},
            "label": text}),
        "FindingRevision": exact({
            "id": {"type": "integer", "minimum": 1}, "editor": text,
            "created_at": {"type": "string", "format": "date-time"},
            "state": {"type": "string", "enum": list(REVISION_STATES), "description": "public; "
                      "or (only for its author and moderators) pending, refused, "
                      "superseded, corrected, purged."},
            "reason": {"type": "string", "description": "The editor's reason, public with "
                       "the version."},
            "note": {"type": "string", "description": "A refusal's reason or a moderator's "
                     "word (\"\" but for its author and moderators)."},
            "fields": {"description": "The version's values (null: purged).", "anyOf": [
                {"type": "null"}, exact({
                    "kind": {"type": ["string", "null"]}, "quantity": maybe_number,
                    "unit": {"type": ["string", "null"]}, "scope": {"type": ["string", "null"]},
                    "observed": {"type": ["string", "null"]},
                    "status": {"type": ["string", "null"]},
                    "place": {"type": ["string", "null"]}, "latitude": maybe_number,
                    "longitude": maybe_number, "note": text,
                    "sources": {"type": "array", "items": exact({
                        "kind": {"type": ["string", "null"]}, "post_id": maybe_id,
                        "upload_id": maybe_id, "url": {"type": ["string", "null"]},
                        "label": {"type": ["string", "null"]}})}})]}}),
        "FindingRevisionList": exact({
            "finding_id": {"type": "integer", "minimum": 1},
            "revisions": {"type": "array", "items": ref("schemas", "FindingRevision")}}),
        "FindingKind": exact({"slug": text, "label": text, "name": {
            "type": "string", "description": "In your language."}}),
        "FindingList": exact({"findings": {"type": "array", "items": ref(
            "schemas", "Finding")}, "total": count, "page": page, "pages": page}),
        "FindingKinds": exact({
            "kinds": {"type": "array", "items": exact({
                "slug": text, "label": text, "name": text})},
            "statuses": {"type": "array", "items": named},
            "units": {"type": "array", "items": exact({
                "slug": text, "name": text, "symbol": text})},
            "scopes": {"type": "array", "items": named}}),
        "MergedKind": exact({"kind": ref("schemas", "FindingKind"), "moved": count}),
    }


def inputs() -> dict[str, Any]:
    return {
        "FindingInput": _finding_input(),
        "RenameKindInput": {"type": "object", "required": ["label"], "properties": {
            "label": field("The new name, as shown (the identifier stays).", min_length=1),
            "reason": field(f"Optional, in the public journal; {REASON_MAX} characters are "
                            "kept.")}},
        "MergeKindInput": {"type": "object", "required": ["into"], "properties": {
            "into": field("The identifier of the kind that receives the findings.",
                          min_length=1),
            "reason": field(f"Optional, in the public journal; {REASON_MAX} characters are "
                            "kept.")}},
        "FindingCorrectionInput": _correction_input(),
        "KindInput": {"type": "object", "required": ["label"], "properties": {"label": {
            **field("Its name (shown as written; its slug is made from it). At least one "
                    "letter a-z or digit.", KIND_LABEL_MAX, 1), "pattern": "[A-Za-z0-9]"}}},
        "ApproveFindingInput": {"type": "object", "properties": {
            "confirm": {"type": "boolean", "default": False, "description":
                        "You compared the figure with the record: needed for a total that "
                        "moves by more than half from the previous one, is older than the "
                        "latest, or contradicts another of the same date."}}},
    }


def _finding_input() -> dict[str, Any]:
    def source(name: str, what: str) -> dict[str, Any]:
        return {"type": "object", "required": [name], "description": what, "properties": {
            name: {"type": "integer", "minimum": 1, "maximum": ID_MAX}}}

    def number(description: str, bound: float | None = None) -> dict[str, Any]:
        schema: dict[str, Any] = {"type": ["number", "string", "null"],
                                  "description": description}
        if bound is not None:
            schema.update(minimum=-bound, maximum=bound)
        return schema

    link = {"type": "object", "required": ["url"], "description": "A page elsewhere.",
            "properties": {"url": {**field("http:// or https://, then a host.", URL_MAX, 1),
                                   "pattern": URL_PATTERN},
                           "label": field("What it is.", LABEL_MAX)}}
    quantity = number("148, 1.2 or a string as people write it (\"250 000\", \"1,5\"); "
                      "null or absent: no figure (a status only). Negative only for a "
                      "`change` (equipment removed).")
    quantity.update(minimum=-QUANTITY_MAX, maximum=QUANTITY_MAX)
    return {
        "type": "object", "required": ["city", "kind", "observed", "status", "sources"],
        "description": "A finding is `pending` (still 201) in an a-priori city or from a "
                       "member not trusted yet. Every rule answers 422 naming the field.",
        "properties": {
            "city": field("A city board's address.", min_length=1),
            "kind": field("A slug of GET /api/v1/finding-kinds.", min_length=1),
            "quantity": quantity,
            "unit": {"type": ["string", "null"], "enum": [*UNITS, None],
                     "description": "Required with a quantity."},
            "scope": {"type": ["string", "null"], "enum": [*SCOPES, None],
                      "description": "Required with a quantity (422 without): total (the "
                      "whole city at that date), change (added or removed then, signed) or "
                      "part (one place, district or contract)."},
            "observed": field("The date it holds for, as precise as the source: 2020, "
                              "2020-03 or 2020-03-10. In the future only when `planned`.",
                              min_length=1),
            "status": {"type": "string", "enum": list(FINDING_STATUSES)},
            "place": field("Where, in words.", PLACE_MAX),
            "latitude": number("With the longitude, or neither (null or \"\" is none).", 90),
            "longitude": number("With the latitude, or neither (null or \"\" is none).", 180),
            "note": field("Plain text.", NOTE_MAX),
            "sources": {"type": "array", "minItems": 1, "maxItems": SOURCES_MAX, "items": {
                "oneOf": [source("post", "A public message of the forum."),
                          source("file", "A file attached to a public message."), link]}}},
        # Both coordinates, or neither.
        "allOf": [{"if": {"required": [one], "properties": {one: {"not": {"enum": [None, ""]}}}},
                   "then": {"required": [other],
                            "properties": {other: {"not": {"enum": [None, ""]}}}}}
                  for one, other in (("latitude", "longitude"), ("longitude", "latitude"))],
        "examples": [{"city": "metz", "kind": "cameras", "quantity": 148, "unit": "count",
                      "scope": "total",
                      "observed": "2020", "status": "in-use", "sources": [
                          {"url": "https://example.org/deliberation-2020.pdf",
                           "label": "Délibération du conseil municipal"}]}],
    }


def _correction_input() -> dict[str, Any]:
    """A finding's correction: every field again but its city, and why."""
    schema = _finding_input()
    properties = {name: value for name, value in schema["properties"].items() if name != "city"}
    properties["reason"] = field("Why (a new source, a mistake): shown with the version. Not "
                                 f"only spaces; {REASON_MAX} characters are kept.",
                                 min_length=1)
    return {**schema, "properties": properties,
            "required": [*(name for name in schema["required"] if name != "city"), "reason"],
            "description": "The finding as it should now be, every field sent again. Where a "
                           "new finding would wait, the correction of a public one waits "
                           "(`edit_pending`); a refused finding corrected by its author goes "
                           "back to the moderators.",
            "examples": [{key: value for key, value in example.items() if key != "city"}
                         | {"reason": "Chiffre du rapport 2021"}
                         for example in schema["examples"]]}
