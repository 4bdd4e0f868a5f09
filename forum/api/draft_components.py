"""The paths of drafts (api/drafts.py), merged into the document by api/openapi.py; their
schemas are in api/components/drafts.py."""
from __future__ import annotations

from typing import Any

from forum.api.operations import V1, ok, op
from forum.models.drafts import AUTOSAVES_PER_MINUTE


def draft_paths() -> dict[str, Any]:
    """The document's paths of drafts."""
    saved = {"204": {"description": "Kept (or erased, when both texts are empty)."}}
    erased = {"204": {"description": "No draft is left."}}
    where = {"threads": ("thread_id", "a reply to this thread", "ReplyDraftInput"),
             "boards": ("slug", "a new thread on this board", "ThreadDraftInput")}
    paths: dict[str, Any] = {}
    for kind, (param, what, schema) in where.items():
        name = kind.rstrip("s")
        key = "id" if kind == "threads" else "slug"
        paths[f"{V1}/{kind}/{{{key}}}/draft"] = {
            "get": op(f"api_{name}_draft", "drafts", f"Your draft of {what}: the text you "
                      "typed and did not send yet, from any device. 404 when there is none.",
                      ok("The draft.", "Draft"), "401 403 404", params=(param,), member=True),
            "put": op(f"api_save_{name}_draft", "drafts", f"Keep the text of {what} typed so "
                      "far (sending the message erases it); as the pages' autosave, "
                      f"{AUTOSAVES_PER_MINUTE} a minute at most.", saved,
                      "400 401 403 404 413 422 429", params=(param,), body=schema),
            "delete": op(f"api_delete_{name}_draft", "drafts", f"Forget your draft of {what}.",
                         erased, "401 403 404", params=(param,), write=True),
        }
    return paths
