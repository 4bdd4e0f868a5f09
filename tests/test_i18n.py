"""French by default, English on request: complete catalogs, and pages in the right language."""
from __future__ import annotations

import re
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import parse_keywords, parse_mapping_cfg
from babel.messages.pofile import read_po

from forum import errors
from forum.app import create_app
from forum.config import Config
from tests.conftest import PASSWORD, submit

pytestmark = pytest.mark.both_stores

ROOT = Path(__file__).resolve().parent.parent
LOCALES = ROOT / "forum" / "locales"
PLACEHOLDER = re.compile(r"%\((\w+)\)s")
ENGLISH = {"Accept-Language": "en-US,en;q=0.9"}


def read_catalog(path: Path, locale: str | None = None) -> Catalog:
    with path.open("rb") as fp:
        return read_po(fp, locale=locale)


TEMPLATE = read_catalog(LOCALES / "messages.pot")
FRENCH = read_catalog(LOCALES / "fr" / "LC_MESSAGES" / "messages.po", "fr")
ENGLISH_CATALOG = read_catalog(LOCALES / "en" / "LC_MESSAGES" / "messages.po", "en")
MSGIDS = [message.id for message in TEMPLATE if message.id]


def make_keywords() -> dict:
    """The extraction keywords of `make messages`: the Makefile is their one home."""
    makefile = (ROOT / "Makefile").read_text()
    match = re.search(r"^MESSAGE_KEYWORDS :=((?:.*\\\n)*.*)$", makefile, re.M)
    assert match, "no MESSAGE_KEYWORDS in the Makefile"
    return parse_keywords(re.findall(r"-k\s+(\S+)", match.group(1)))


def test_catalog_template_is_up_to_date_with_the_code():
    with (ROOT / "babel.cfg").open() as fp:
        method_map, options_map = parse_mapping_cfg(fp)
    found = extract_from_dir(ROOT, method_map, options_map,
                             keywords={**DEFAULT_KEYWORDS, **make_keywords()})
    in_code = {message if isinstance(message, str) else message[0]
               for _file, _line, message, _comments, _context in found}
    in_template = {message if isinstance(message, str) else message[0] for message in MSGIDS}
    assert in_code - in_template == set(), "new texts: run `make messages` and translate them"
    assert in_template - in_code == set(), "texts gone from the code: run `make messages`"


def test_every_error_class_is_an_extraction_keyword():
    classes = [value for value in vars(errors).values()
               if isinstance(value, type) and issubclass(value, errors.ForumError)]
    assert {cls.__name__ for cls in classes} <= set(make_keywords())


@pytest.mark.parametrize("msgid", MSGIDS, ids=str)
def test_every_text_has_a_french_translation(msgid):
    message = FRENCH.get(msgid)
    assert message is not None, "missing from the French catalog: run `make messages`"
    assert not message.fuzzy, "a guess by `pybabel update`: check it, then remove the flag"
    if isinstance(msgid, tuple):
        assert len(message.string) == FRENCH.num_plurals
        pairs = [(msgid[min(form, 1)], text) for form, text in enumerate(message.string)]
    else:
        pairs = [(msgid, message.string)]
    for source, translation in pairs:
        assert translation.strip()
        names = set(PLACEHOLDER.findall(source))
        assert set(PLACEHOLDER.findall(translation)) == names
        # Newstyle gettext in templates always applies `%`: a lone % would break the page.
        assert translation % dict.fromkeys(names, "x")


def test_catalogs_declare_their_plural_forms():
    assert FRENCH.plural_forms == "nplurals=2; plural=(n > 1);"
    assert ENGLISH_CATALOG.plural_forms == "nplurals=2; plural=(n != 1);"
    assert not FRENCH.fuzzy and not ENGLISH_CATALOG.fuzzy


async def test_pages_are_french_by_default(forum, client):
    await forum.board("Metz")
    html = await (await client.get("/")).text()
    assert '<html lang="fr">' in html
    assert "<h1>Villes</h1>" in html and "City boards" not in html
    assert "Se connecter" in html and "Créer un compte" in html


async def test_an_english_browser_gets_english_pages(forum, client):
    await forum.board("Metz")
    assert '<html lang="fr">' in await (await client.get("/")).text()
    # The same address right after, from an English browser: not the French page again.
    response = await client.get("/", headers=ENGLISH)
    html = await response.text()
    assert response.headers["Content-Language"] == "en"
    assert '<html lang="en">' in html
    assert "<h1>City boards</h1>" in html and "Villes" not in html
    assert "0 threads ·" in html


async def test_choosing_english_outlasts_the_browser_language(forum, client):
    await forum.board("Metz")
    response = await submit(client, "/language", {"locale": "en", "next": "/b/metz"})
    assert response.status == 303
    assert response.headers["Location"] == "/b/metz"
    html = await (await client.get("/b/metz")).text()
    assert '<html lang="en">' in html and "Start a thread" in html
    html = await (await client.get("/", headers={"Accept-Language": "fr-FR,fr"})).text()
    assert '<html lang="en">' in html and "City boards" in html


async def test_choosing_an_unknown_language_is_refused(client):
    response = await submit(client, "/language", {"locale": "de"})
    assert response.status == 422
    assert "Langue inconnue." in await response.text()


async def test_french_plural_forms_on_the_city_list(forum, client):
    lea = await forum.user("lea")
    empty, one, two = [await forum.board(name) for name in ("Brest", "Caen", "Dijon")]
    await forum.thread(one, lea)
    for _ in range(2):
        await forum.thread(two, lea)
    html = await (await client.get("/")).text()
    assert "0 sujet ·" in html and "1 sujet ·" in html and "2 sujets ·" in html
    assert "1 message\n" in html and "2 messages\n" in html
    assert empty.name in html


async def test_error_page_is_french(client):
    response = await client.get("/t/999999")
    html = await response.text()
    assert response.status == 404
    assert '<html lang="fr">' in html
    assert "Ce sujet n’existe pas." in html
    assert "<h1>Page introuvable</h1>" in html
    assert "Retour aux villes" in html


async def test_error_page_is_english_for_an_english_browser(client):
    response = await client.get("/t/999999", headers=ENGLISH)
    html = await response.text()
    assert response.status == 404
    assert "<h1>Page not found</h1>" in html and "This thread does not exist." in html


async def test_login_failure_is_explained_in_french(forum, client):
    await forum.user("lea")
    response = await submit(client, "/login", {"name": "lea", "password": PASSWORD + "x"})
    html = await response.text()
    assert response.status == 400
    assert "Pseudonyme ou mot de passe incorrect." in html
    assert "Wrong pseudonym or password." not in html


async def test_form_errors_with_a_parameter_are_french(forum, client):
    board = await forum.board("Metz")
    lea = await forum.user("lea")
    thread_id, _ = await forum.thread(board, lea)
    await submit(client, "/login", {"name": "lea", "password": PASSWORD})
    too_long = "x" * (forum.config.body_max + 1)
    response = await submit(client, f"/t/{thread_id}/reply",
                            {"body": too_long, "action": "publish"},
                            form_page=f"/t/{thread_id}/reply")
    assert response.status == 413
    assert f"Ce message est trop long ({forum.config.body_max} caractères au maximum)." \
        in await response.text()


async def test_the_site_default_language_is_a_setting(aiohttp_client, tmp_path, database_url):
    config = Config.from_env(env={}, data_dir=tmp_path / "d", default_locale="en",
                             database_url=database_url)
    client = await aiohttp_client(create_app(config))
    neither = await client.get("/", headers={"Accept-Language": "de-DE"})
    assert '<html lang="en">' in await neither.text()
    french = await client.get("/", headers={"Accept-Language": "fr-FR"})
    assert '<html lang="fr">' in await french.text()
