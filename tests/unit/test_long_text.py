"""Long text folded after a few lines (portal/long_text.py): the same HTML as the Jinja macro it
replaced (issue 15: the child's file calls it once per line of its chronology), for short text,
long text, many lines, odd characters, a test id and other classes, and the macro that now calls
it renders the same again."""

from __future__ import annotations

import re
from typing import Any

import pytest
from flask import Flask, render_template_string
from jinja2 import Environment
from markupsafe import Markup, escape

from portal.long_text import by_line, direction, folded

# The macro as it was before portal/long_text.py (templates/_partials/long_text.html at ba2f4d7),
# kept here as the oracle; its `dir="auto"` now the text's direction by most of its letters
# (`text_dir`, a walk).
BEFORE = """
{%- macro folded(text, testid='', classes='govuk-body', limit=420) -%}
{%- set value = (text or '') | trim -%}
{%- if value | length <= limit + 80 and value.count('\\n') < 6 -%}
<p class="{{ classes }} portal-pre" dir="{{ value | text_dir }}"{% if testid %} data-testid="{{ testid }}"{% endif %}>{{ value }}</p>
{%- else -%}
{%- set opening = value[:limit].split('\\n')[:5] | join('\\n') -%}
<div class="portal-folded"{% if testid %} data-testid="{{ testid }}"{% endif %}>
  <p class="{{ classes }} portal-pre" dir="{{ value | text_dir }}">{{ opening | trim }}…</p>
  <details class="govuk-details govuk-!-margin-bottom-2" data-testid="show-all">
    <summary class="govuk-details__summary"><span class="govuk-details__summary-text">Show all<span class="govuk-visually-hidden"> of this text</span> ({{ value.split() | length }} words)</span></summary>
    <div class="govuk-details__text portal-pre" dir="{{ value | text_dir }}">{{ value }}</div>
  </details>
</div>
{%- endif -%}
{%- endmacro -%}
"""  # noqa: E501

SENTENCE = "She said <he> kept \"following\" her & asked for pictures again. "
TEXTS: list[Any] = [
    None, "", "   ", "Playground", "  A line.\n\nAnother line.  \n", "x" * 500, "x" * 501,
    SENTENCE * 8, SENTENCE * 100, "\n".join(f"Line {i}" for i in range(5)),
    "\n".join(f"Line {i} <b>" for i in range(6)), ("word " * 90 + "\n") * 7,
    "Zoë O'Neil said 李丽 was there.", Markup("<em>kept</em> as given"),
    Markup("<em>kept</em>\n") * 8,
]


@pytest.mark.parametrize("text", TEXTS)
@pytest.mark.parametrize(("testid", "classes", "limit"), [
    ("", "govuk-body", 420), ("summary-original", "govuk-body", 420),
    ("a\"b", "govuk-body-s", 420), ("", "govuk-body", 40),
])
def test_the_same_html_as_the_macro_it_replaced(text: Any, testid: str, classes: str,
                                                limit: int) -> None:
    env = Environment(autoescape=True)
    env.filters["text_dir"] = direction
    macro = env.from_string(BEFORE).module.folded  # type: ignore[attr-defined]
    assert folded(text, testid, classes, limit) == str(macro(text, testid, classes, limit))


def test_the_macro_calls_it(app: Flask) -> None:
    source = ('{% from "_partials/long_text.html" import folded %}'
              "{{ folded(text) }}|{{ folded(text, 'words') }}|"
              "{{ folded(text, classes='govuk-body-s') }}")
    for text in (SENTENCE, SENTENCE * 100):
        with app.test_request_context():
            html = render_template_string(source, text=text)
        assert html == "|".join((folded(text), folded(text, "words"),
                                 folded(text, classes="govuk-body-s")))
        assert ("Show all" in html) == (len(text) > 500)


@pytest.mark.parametrize(("text", "way"), [
    ("«لا أريد العودة إلى المنزل»", "rtl"), ("אני לא רוצה לחזור הביתה, Zoë\n" * 9, "rtl"),
    # Typed in English, starting with an Arabic name (a walk: laid out right to left)
    ("محمد filmed 小龙 on his phone and showed Zoë. Mohammed deleted the video.", "ltr"),
    ("قال محمد إن Zoë كانت هناك", "rtl"), ("Zoë said «لا»", "ltr"), ("١٢٣ ...", "ltr")])
def test_text_takes_the_direction_of_most_of_its_letters(text: str, way: str) -> None:
    """A child's words in Arabic or Hebrew are laid out right to left (their quotation marks the
    right way round) on a left-to-right page, short or folded (walk 8); a text in English that
    starts with an Arabic name left to right (a walk: its full stops at its lines' start)."""
    html = str(folded(text))
    blocks = re.findall(r"<(?:p|div) class=\"[^\"]*portal-pre\"[^>]*>", html)
    assert blocks and all(f'dir="{way}"' in b for b in blocks)


def test_the_printed_file_takes_each_texts_direction(app: Flask) -> None:
    """The printable file's paragraphs (children/_text.html) as the page's: a text in Arabic
    right to left, one in English starting with an Arabic name left to right (a walk: the
    printed file laid Arabic out left to right)."""
    source = ('{% from "children/_text.html" import paragraphs %}'
              "{{ paragraphs(a) }}|{{ paragraphs(b) }}")
    with app.test_request_context():
        html = render_template_string(source, a="قال محمد إنه لم يفعل ذلك.\nثم ذهب.",
                                      b="محمد filmed it on his phone.")
    arabic, english = html.split("|")
    assert arabic.count('dir="rtl"') == 2 and english.count('dir="ltr"') == 1


def test_each_line_in_its_own_direction_where_lines_differ(app: Flask) -> None:
    """An Arabic line inside reasons typed in English (a walk: laid out left to right with the
    rest, its full stop at its start): that line in a span of its own direction, on the page,
    folded or not, and in the printed file's paragraphs; text whose lines go one way as
    before."""
    mixed = "He said <sorry> & left.\nقال إنه آسف.\n\nThen he went home."  # noqa: RUF001
    html = str(by_line(mixed))
    assert html == ('<span dir="ltr">He said &lt;sorry&gt; &amp; left.</span>\n'
                    '<span dir="rtl">قال إنه آسف.</span>\n\n'
                    '<span dir="ltr">Then he went home.</span>')
    assert html in str(folded(mixed))
    assert '<span dir="rtl">قال إنه آسف.</span>' in str(folded(mixed * 30))
    # As a browser sends it (a walk: every line break showed as a blank line).
    assert str(by_line(mixed.replace("\n", "\r\n"))) == html
    for one_way in ("A line.\nAnother <b>.", "قال.\nثم ذهب.", "محمد filmed it.\nZoë saw."):
        assert str(by_line(one_way)) == str(escape(one_way))
    with app.test_request_context():
        printed = render_template_string(
            '{% from "children/_text.html" import paragraphs %}{{ paragraphs(t) }}', t=mixed)
    assert re.findall(r'dir="(\w+)"', printed) == ["ltr", "rtl", "ltr"]
