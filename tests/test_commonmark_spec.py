"""Every example of the CommonMark spec through our renderer (forum.markdown.render).

Each must give the spec's HTML once what sanitizing legitimately changes is normalised (our
rel on links, attribute order, entity spelling, whitespace between blocks), except the
examples listed below, each for a stated reason, where we check that reason holds instead.
"""
from __future__ import annotations

import html
import json
import re
from html.parser import HTMLParser
from pathlib import Path

import pytest

from forum.markdown import ALLOWED_TAGS, LINK_REL, render

EXAMPLES = json.loads((Path(__file__).parent / "data" / "commonmark-0.31.2.json").read_text())
SECTIONS_OF_RAW_HTML = {"HTML blocks", "Raw HTML"}

# Security: raw HTML is never passed through (markdown-it's html option is off), so the spec's
# examples of HTML blocks and raw inline HTML show it as text — those two sections whole, and
# these examples of other sections, whose expected HTML holds tags the user typed:
RAW_HTML = {
    21,   # <a href="/bar\/)">
    31,   # <a href="&ouml;&ouml;.html">
    201,  # [foo]: <bar>(baz) — <bar> is an inline tag for the spec
    308, 309,  # <!-- --> ends a list
    344,  # <a href="`">`
    475, 476, 477,  # an <img>/<a> tag wins over emphasis
    491, 494,  # <foo bar=""> and <b> from link destinations that are not ones
    524, 536,  # <bar attr="..."> wins over a link
    642, 643,  # <a href="foo\nbar"> across lines
}
# Security: only http, https and mailto become links; an autolink of any other scheme (irc:,
# made-up ones, "localhost:" read as a scheme) stays text rather than a link a browser follows.
OTHER_SCHEMES = {596, 598, 599, 601}
# Our extension, not CommonMark: bare URLs and addresses become links (linkify). These match
# once such links are turned back into their text.
LINKIFIED = {602, 608, 611, 612}

TAG = re.compile(r"<\s*/?\s*([a-zA-Z][a-zA-Z0-9-]*)")
BARE_LINK = re.compile(r'<a href="(?:mailto:)?([^"]*)">\1</a>')


class _Canonical(HTMLParser):
    """HTML as a comparable string: attributes sorted, entities decoded then escaped one way,
    void elements without "/", whitespace between tags dropped."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.out: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        shown = "".join(f' {name}="{html.escape(value or "")}"' for name, value in sorted(attrs))
        self.out.append(f"<{tag}{shown}>")

    handle_startendtag = handle_starttag

    def handle_endtag(self, tag: str) -> None:
        self.out.append(f"</{tag}>")

    def handle_data(self, data: str) -> None:
        self.out.append(html.escape(data, quote=False))


def canonical(fragment: str) -> str:
    parser = _Canonical()
    parser.feed(fragment)
    parser.close()
    return re.sub(r">\s+<", "><", "".join(parser.out)).strip()


def ours(markdown: str) -> str:
    return render(markdown).replace(f' rel="{LINK_REL}"', "")


def _id(example: dict) -> str:
    return f"{example['example']}-{example['section']}"


@pytest.mark.parametrize("example", EXAMPLES, ids=_id)
def test_commonmark_example(example):
    number, got = example["example"], ours(example["markdown"])
    if example["section"] in SECTIONS_OF_RAW_HTML or number in RAW_HTML:
        tags = {name.lower() for name in TAG.findall(got)}
        assert tags <= ALLOWED_TAGS, f"raw HTML passed through: {got!r}"
        return
    if number in OTHER_SCHEMES:
        assert "<a" not in got and "&lt;" in got, got
        return
    expected = example["html"]
    if number in LINKIFIED:
        got = BARE_LINK.sub(r"\1", got)
    assert canonical(got) == canonical(expected), example["markdown"]


def test_the_listed_exceptions_do_differ_from_the_spec():
    """A fix upstream or here that makes a listed example match should shorten the list."""
    by_number = {example["example"]: example for example in EXAMPLES}
    for number in RAW_HTML | OTHER_SCHEMES | LINKIFIED:
        example = by_number[number]
        assert canonical(ours(example["markdown"])) != canonical(example["html"]), number


def test_entities_written_as_text_stay_text():
    """CommonMark 14 and 28, and the issue's "&amp;copy;": no "©" out of an escaped entity."""
    assert render("\\&copy; &amp;copy;") == "<p>&amp;copy; &amp;copy;</p>"
    assert render("&#87654321;") == "<p>&amp;#87654321;</p>"
    assert render("&copy;") == "<p>©</p>"


@pytest.mark.parametrize("source", ["<irc://foo.bar:2233/baz>", "[chat](irc://foo.bar/x)",
                                    "<made-up-scheme://foo,bar>"])
def test_links_of_other_schemes_are_text_not_links_without_href(source):
    html_ = render(source)
    assert "<a" not in html_ and "foo" in html_


def test_relative_images_stay_but_never_another_host():
    assert 'src="moon.jpg"' in render("![moon](moon.jpg)")
    for source in ("![x](//evil.example/p.gif)", "![x](https://evil.example/p.gif)"):
        assert "evil.example" not in render(source)
