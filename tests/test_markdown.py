"""Markdown is cooked once into safe HTML: CommonMark, tables, strikethrough, autolinks."""
from __future__ import annotations

import pytest

from forum.markdown import LINK_REL, render


def test_commonmark_with_tables_strikethrough_and_autolinks():
    html = render("| année | caméras |\n|---|---|\n| 2014 | 72 |\n\n~~35~~ https://example.org/a")
    assert "<table>" in html and "<td>72</td>" in html
    assert "<s>35</s>" in html
    assert f'<a href="https://example.org/a" rel="{LINK_REL}">' in html


@pytest.mark.parametrize("source", [
    "[x](javascript:alert(1))",
    "[x](JaVaScRiPt:alert(1))",
    "[x](java\tscript:alert(1))",
    "[x](&#106;avascript:alert(1))",
    "[x](vbscript:msgbox(1))",
    "[x](data:text/html;base64,PHNjcmlwdD4=)",
    "<a href=\"javascript:alert(1)\">x</a>",
    "[x](<javascript:alert(1)>)",
])
def test_dangerous_link_schemes_never_become_links(source):
    html = render(source).lower()
    assert 'href="javascript' not in html and 'href="vbscript' not in html
    assert 'href="data:' not in html and "href=\"java\tscript" not in html


@pytest.mark.parametrize("tag", [
    "script", "iframe", "object", "embed", "form", "input", "base", "meta", "link", "svg",
    "math", "template", "noscript", "style",
])
def test_raw_html_tags_are_escaped(tag):
    html = render(f"<{tag} src=x onload=alert(1)>texte</{tag}>")
    assert f"<{tag}" not in html


def test_no_event_handlers_or_style_attributes():
    html = render('<img src="/x.png" onerror="alert(1)" style="x">\n\n![a](/x.png "t")')
    assert "onerror=" not in html.replace("&lt;", "").split("<img")[-1]
    assert "style=" not in html.split("<p>")[-1]


def test_remote_images_are_dropped_so_no_third_party_is_called():
    assert "tracker.example" not in render("![pixel](https://tracker.example/p.gif)")
    assert 'src="/files/1.png"' in render("![photo](/files/1.png)")


def test_code_is_not_linkified():
    assert "<a " not in render("`https://example.org`")
