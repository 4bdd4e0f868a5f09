"""Full-text search of posts and of their files."""
from __future__ import annotations

from typing import Any

from forum.api.components.common import COUNT, IDENT, PAGE, TEXT, WHEN, array, exact, ref
from forum.models.search import CANDIDATES, QUERY_MAX, TERMS_MAX
from forum.text import PSEUDONYM_MAX


def parameters() -> dict[str, Any]:
    def day(name: str, description: str) -> dict[str, Any]:
        return {"name": name, "in": "query", "required": False, "description": description,
                "schema": {"type": "string", "format": "date"}}

    return {
        "q": {"name": "q", "in": "query", "required": True,
              "description": f'Words and "exact phrases", at most {TERMS_MAX}; longer than '
                             f"{QUERY_MAX} characters is 422. Punctuation only finds nothing.",
              "schema": {"type": "string", "maxLength": QUERY_MAX}},
        "author": {"name": "author", "in": "query", "required": False,
                   "description": "Only this member's posts (a pseudonym); unknown is 404.",
                   "schema": {"type": "string", "minLength": 1, "maxLength": PSEUDONYM_MAX}},
        "since": day("since", "Posts from this day on (Paris time)."),
        "until": day("until", "Posts up to this day, included (Paris time)."),
        "search_type": {
            "name": "type", "in": "query", "required": False,
            "description": "What to search: posts and the text of their files (absent: posts in "
                           "`results`, a few documents in `documents`), `posts` only, or "
                           "`documents` only (then `page` and `pages` are the documents').",
            "schema": {"type": "string", "enum": ["posts", "documents"]}},
    }


def outputs() -> dict[str, Any]:
    text, count, ident, page, when = TEXT, COUNT, IDENT, PAGE, WHEN

    return {
        "SearchHit": exact({
            "post_id": ident, "thread_id": ident, "thread_title": text,
            "title_html": {"type": "string", "description": "The thread title, escaped, its "
                           "matches in <mark> when the post opens the thread."},
            "snippet_html": {"type": "string", "description": "Escaped text around the "
                             "matches, which are in <mark>."},
            "board": text, "author": text, "created_at": when,
            "opens_thread": {"type": "boolean", "description": "The first post of its thread."}}),
        "DocumentHit": exact({
            "upload_id": ident, "filename": text, "kind": text,
            "url": {"type": "string", "description": "The file, with #page=N for a PDF: "
                    "browsers open it at the page."},
            "page": {"type": "integer", "minimum": 0, "description": "The first page that "
                     "matches (0: a document without pages)."},
            "other_pages": {"type": "array", "items": ident, "description": "Further pages "
                            "that match (the first ten)."},
            "snippet_html": {"type": "string", "description": "Escaped text around the "
                             "matches, which are in <mark>."},
            "post_id": ident, "thread_id": ident, "thread_title": text, "board": text,
            "author": text, "created_at": when}),
        "SearchResults": exact({
            "results": array("SearchHit"), "total": count,
            "documents": {"type": "array", "items": ref("schemas", "DocumentHit"),
                          "description": "Files of the posts you may see whose text matches."},
            "documents_total": count,
            "more": {"type": "boolean", "description": f"More than {CANDIDATES} posts match: "
                     "the most recent were ranked."},
            "page": page, "pages": page}),
    }
