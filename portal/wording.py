"""Plain words for every code and every date: the one place codes become words.

Screens (as Jinja filters, registered by `init_app`), emails, the PDF of a referral and the
text the services write all read these functions, so a code is worded the same everywhere and
never shown raw. Codes stay the contract (the JSON packet, the database, the rules engine);
their labels live in `portal.rules.vocabulary` (and account roles in `portal.models`).

Dates and times have one style, in UK time:
- a day: "16 November 2026"; with its weekday when it is an appointment or a due date:
  "Monday 16 November 2026";
- a moment: "16 November 2026 at 9:30am"; "Monday 16 November 2026 at 9:30am".
Never ISO. Free text from older records (reasons assessed before the rules spoke in words) is
passed through `iso_dates_in_words`.

No Flask at import: `init_app` imports what it needs, so the services and the PDF can use this.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Mapping
from functools import lru_cache
from typing import TYPE_CHECKING, Any, Final

from markupsafe import Markup, escape

from .rules import clock_words
from .rules.vocabulary import (
    CONCERN_CATEGORY_LABELS,
    CONCERN_OUTCOME_LABELS,
    CONSIDERATION_LABELS,
    DECISION_LABELS,
    FEATURE_LABELS,
    MILESTONE_LABELS,
    OTHER_ROUTE_LABELS,
    REFERRAL_OUTCOME_LABELS,
    REVIEW_OUTCOME_LABELS,
    ROLE_LABELS,
    ROUTE_LABELS,
    SOURCE_LABELS,
    TRIGGER_LABELS,
    TYPE_LABELS,
)

if TYPE_CHECKING:
    from flask import Flask

__all__ = [
    "KINDS",
    "authority_name",
    "children_named",
    "counted",
    "day",
    "init_app",
    "iso_dates_in_words",
    "label",
    "labels",
    "source_anchor",
    "source_words",
    "time_of_day",
    "when",
]

# Every kind of code, and its words. "role" is a child's role in an incident; "account_role" a
# person's role in the portal (read lazily: portal.models imports the database layer).
KINDS: Final[dict[str, Mapping[str, str]]] = {
    "type": TYPE_LABELS,
    "feature": FEATURE_LABELS,
    "role": ROLE_LABELS,
    "route": ROUTE_LABELS,
    "trigger": TRIGGER_LABELS,
    "consideration": CONSIDERATION_LABELS,
    "decision": DECISION_LABELS,
    "review_outcome": REVIEW_OUTCOME_LABELS,
    "outcome": REFERRAL_OUTCOME_LABELS,
    "milestone": MILESTONE_LABELS,
    "concern_outcome": CONCERN_OUTCOME_LABELS,
    "concern_category": CONCERN_CATEGORY_LABELS,
    "other_route": OTHER_ROUTE_LABELS,
}

# What a code nobody has worded yet shows: never the code itself.
UNKNOWN: Final = "Not recorded in words"


def _kind(kind: str) -> Mapping[str, str]:
    if kind == "account_role":
        from .models import ROLE_LABELS as ACCOUNT_ROLE_LABELS

        return ACCOUNT_ROLE_LABELS
    if kind == "authority":
        return authority_names()
    return KINDS[kind]


def label(code: Any, kind: str) -> str:
    """The words for one code of `kind` ("type", "feature", "route", ...). An answer (outcome)
    on a referral may also be a milestone, so "outcome" reads both."""
    if code is None or code == "":
        return ""
    words = _kind(kind).get(str(code))
    if words is None and kind == "outcome":
        words = MILESTONE_LABELS.get(str(code))
    return words if words is not None else UNKNOWN


def labels(codes: Iterable[Any] | None, kind: str) -> list[str]:
    """The words for each code, in the order given."""
    return [label(code, kind) for code in (codes or [])]


def mid_sentence(words: str) -> str:
    """A label as it reads inside a sentence: "An image or sexual content was passed on" ->
    "an image or sexual content was passed on". A word in capitals stays ("SEND", "LADO")."""
    if len(words) > 1 and words[0].isupper() and not words[1].isupper():
        return words[0].lower() + words[1:]
    return words


def words_list(codes: Iterable[Any] | None, kind: str, empty: str = "") -> str:
    """The words for several codes as one list in a sentence: "Online sexual harassment and an
    image or sexual content was passed on" (each label after the first as it reads mid-
    sentence). The screens (the `words_list` filter), the referral's PDF and its summary."""
    worded = labels(codes, kind)
    return sentence_list(worded[:1] + [mid_sentence(w) for w in worded[1:]], empty)


# What ends a sentence in the scripts a DSL may type in: the full stop, "!", "?" and "…",
# the ideographic full stop and its wide "!" and "?", the Arabic question mark, the Urdu full
# stop and the Devanagari danda.
_SENTENCE_ENDS: Final = (".", "!", "?", "\u2026", "\u3002", "\uff01", "\uff1f", "\u061f",
                         "\u06d4", "\u0964")
# What may close a sentence after its full stop: quotes and brackets ('He said "refer today."').
_CLOSERS: Final = "\"'\u201d\u2019\u00bb)]\u300d\u300f\uff09"


def sentence(text: str | None) -> str:
    """`text` ending as a sentence: a full stop added unless it ends with one, "!" or "?",
    in any script, or with one inside a closing quote or bracket (a reason typed with its own
    full stop got a second, a walk; so did '"refer today."' and "今天转介。")."""
    text = (text or "").rstrip()
    if not text:
        return ""  # nothing typed: no full stop standing alone
    return text if text.rstrip(_CLOSERS).endswith(_SENTENCE_ENDS) else text + "."


def sentence_list(items: Iterable[str], empty: str = "") -> str:
    """"A, B and C"."""
    parts = [str(i) for i in items if i]
    if not parts:
        return empty
    return parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " and " + parts[-1]


# ---------------------------------------------------------------------------------------------
# Local authorities


@lru_cache(maxsize=1)
def authority_names() -> dict[str, str]:
    """Each authority code's name, from the packaged directory (portal/data/authorities.json)."""
    from .rules.directory import load_directory_data

    return {a["code"]: a["name"] for a in load_directory_data()["authorities"]}


def authority_name(code: Any) -> str:
    if not code:
        return ""
    return authority_names().get(str(code)) or "a local authority not in the directory"


# ---------------------------------------------------------------------------------------------
# Dates and times


def with_relationship(name: str | None, relationship: str | None) -> str:
    """"Máire Ó Súilleabháin (Mother)": a parent or carer named with who they are to the child;
    "Olena Koval, aunt (kinship carer)" where the relationship has brackets of its own (a walk
    read "Olena Koval (Aunt (kinship carer))")."""
    name = name or ""
    if not relationship:
        return name
    return f"{name}, {relationship}" if "(" in relationship else f"{name} ({relationship})"


def time_of_day(at: dt.datetime | dt.time) -> str:
    """"9:30am", "2:05pm" (the clock as people say it), in UK time."""
    return clock_words.time_of_day(clock_words.uk_local(at) if isinstance(at, dt.datetime) else at)


def day(on: dt.date | dt.datetime | str | None, *, weekday: bool = False) -> str:
    """"16 November 2026" ("Monday 16 November 2026" with `weekday`). A datetime is read in UK
    time; an ISO date string (a stored packet) is read first."""
    if not on:  # None, "", or a key a stored packet does not have
        return ""
    if isinstance(on, str):
        parsed = _parse_iso(on)
        if parsed is None:
            return on
        on = parsed
    if isinstance(on, dt.datetime):
        on = clock_words.uk_local(on).date()
    return clock_words.day_words(on, weekday=weekday)


def when(at: dt.datetime | str | None, *, weekday: bool = False) -> str:
    """"16 November 2026 at 9:30am" in UK time ("Monday 16 November ..." with `weekday`). An
    ISO string (a stored packet: UTC with "Z", or local without an offset) is read first."""
    if not at:
        return ""
    if isinstance(at, str):
        parsed = _parse_iso(at)
        if parsed is None:
            return at
        if not isinstance(parsed, dt.datetime):
            return day(parsed, weekday=weekday)
        at = parsed
    # One conversion to UK time for the day and the clock (a list calls this for every row).
    return clock_words.moment_words(clock_words.uk_local(at), weekday=weekday)


def _parse_iso(text: str) -> dt.date | dt.datetime | None:
    value = text.strip()
    try:
        if "T" in value or " " in value:
            return dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
        return dt.date.fromisoformat(value)
    except ValueError:
        return None


_ISO_IN_TEXT = re.compile(
    r"\b(\d{4}-\d{2}-\d{2})(?:[T ](\d{2}:\d{2})(?::\d{2}(?:\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?)?\b")


def iso_dates_in_words(text: Any) -> str:
    """Free text with every ISO date or time in it put in words (older stored reasons)."""
    if text is None:
        return ""

    def words(match: re.Match[str]) -> str:
        return when(match.group(0)) if match.group(2) else day(match.group(1))

    return _ISO_IN_TEXT.sub(words, str(text))


def children_named(text: Any, names: Mapping[str, str]) -> str:
    """A reason of the rules, which name children by reference only ("C0007 (14) harmed
    others"), with each child's name put in for a reader who may know it: "Kai Harmer (C0007,
    14) harmed others"; `names` maps references to names. A reference not in `names` stays as
    it is. ISO dates are put in words too (`iso_dates_in_words`)."""
    worded = iso_dates_in_words(text)
    if not names:
        return worded
    pattern = re.compile(r"\b(" + "|".join(re.escape(ref) for ref in sorted(names, key=len,
                                                                               reverse=True))
                         + r")\b(?: \(([^()]*)\))?")

    def named(found: re.Match[str]) -> str:
        ref, aside = found.group(1), found.group(2)
        return f"{names[ref]} ({ref}{', ' + aside if aside else ''})"

    return pattern.sub(named, worded)


# ---------------------------------------------------------------------------------------------
# Sources: a reason's "000, 002 s4" as the procedures' names, with a link to docs/rules.md


_SOURCE_CODE = re.compile(r"\b(00[0-4])\b")
_SECTION = re.compile(r"\bs(\d+(?:\.\d+)*)\b")
# "s2-s4": a range of sections ("section 2-section 4" on screen, a walk).
_SECTIONS = re.compile(r"\bs(\d+(?:\.\d+)*)\s*[-\u2013]\s*s?(\d+(?:\.\d+)*)\b")
# "s3, s5": several sections of one document ("sections 3 and 5", as docs/rules.md says it).
_SECTION_LIST = re.compile(r"\bs\d+(?:\.\d+)*(?:,\s*s\d+(?:\.\d+)*)+\b")


def _sections_listed(found: re.Match[str]) -> str:
    numbers = [part.strip()[1:] for part in found.group(0).split(",")]
    return f"sections {', '.join(numbers[:-1])} and {numbers[-1]}"


def source_words(source: Any) -> str:
    """"000, 002 s4 "Strategy Meeting"" as "Derby and Derbyshire procedure, ... (2024);
    Darlington ... guidance (2025), section 4 "Strategy Meeting"": never a file number."""
    if not source:
        return ""
    text = _SECTIONS.sub(r"sections \1 to \2", str(source))
    text = _SECTION_LIST.sub(_sections_listed, text)
    text = _SECTION.sub(r"section \1", text)
    text = _SOURCE_CODE.sub(lambda m: SOURCE_LABELS[m.group(1)], text)
    return iso_dates_in_words(text)


# The page that shows docs/rules.md (portal.main.views.how_the_portal_decides).
RULES_PAGE: Final = "/how-the-portal-decides"


def heading_id(text: str) -> str:
    """The id of a heading of the rules pages: a trigger's by its code ("IMMEDIATE_DANGER",
    docs/rules.md's "IMMEDIATE_DANGER (on screen...)" or the page's "A child is in immediate
    danger": "immediate-danger"), any other by its words ("6-considerations")."""
    first = text.split(" ", 1)[0]
    if re.fullmatch(r"[A-Z][A-Z0-9_]+", first):
        return first.lower().replace("_", "-")
    code = _TRIGGER_BY_LABEL.get(text.strip())
    if code is not None:
        return code.lower().replace("_", "-")
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


_TRIGGER_BY_LABEL: Final = {label: code for code, label in TRIGGER_LABELS.items()}


def source_anchor(trigger: str | None = None, consideration: str | None = None) -> str:
    """Where the rules page (`rules_document`) explains a trigger, the considerations, or how
    sources are cited."""
    if trigger and trigger in TRIGGER_LABELS:
        return f"{RULES_PAGE}#{heading_id(trigger)}"
    if consideration:
        return f"{RULES_PAGE}#6-considerations"
    return f"{RULES_PAGE}#how-sources-are-cited"


def source_link(source: Any, trigger: str | None = None,
                consideration: str | None = None) -> Markup:
    """The source in words, as a link to the part of the rules page that explains it."""
    if not source:
        return Markup("")
    if type(source) is str and type(trigger) in _CODE_TYPES \
            and type(consideration) in _CODE_TYPES:
        return _kept_source_link(source, trigger, consideration)
    return _source_link(source, trigger, consideration)


_CODE_TYPES: Final = frozenset({str, type(None)})


def _source_link(source: Any, trigger: str | None, consideration: str | None) -> Markup:
    href = source_anchor(trigger, consideration)
    return Markup('<a class="govuk-link" href="{}">{}</a>').format(href, source_words(source))


# The rules' citations and codes are a few dozen strings: each link is made once per process
# (the incident page shows one for each reason: the regular expressions ran for each).
_kept_source_link: Final = lru_cache(maxsize=512)(_source_link)


@lru_cache(maxsize=1)
def rules_document() -> Markup:
    """docs/how-the-portal-decides.md (the rules in plain words, for DSLs and advisers; the
    technical account with the codes is docs/rules.md) as HTML, each heading with its
    `heading_id`. HTML written in the file is shown as text, never passed through
    (markdown-it's "commonmark" preset with html off)."""
    from pathlib import Path

    from markdown_it import MarkdownIt

    source = Path(__file__).resolve().parent.parent / "docs" / "how-the-portal-decides.md"
    md = MarkdownIt("commonmark", {"html": False}).enable("table")
    tokens = md.parse(source.read_text(encoding="utf-8"))
    classes = {"h1": "govuk-heading-l", "h2": "govuk-heading-m", "h3": "govuk-heading-s",
               "h4": "govuk-heading-s", "p": "govuk-body", "ul": "govuk-list govuk-list--bullet",
               "ol": "govuk-list govuk-list--number", "table": "govuk-table", "a": "govuk-link"}
    for number, token in enumerate(tokens):
        if token.type.endswith("_open") and token.tag in classes:
            token.attrSet("class", classes[token.tag])
        if token.type == "heading_open":
            token.attrSet("id", heading_id(tokens[number + 1].content))
    return Markup(md.renderer.render(tokens, md.options, {}))  # noqa: S704 - escaped by markdown-it


def paragraphs(text: Any) -> Markup:
    """Escaped text, one <p> per line (for filters that build HTML)."""
    return Markup("").join(Markup('<p class="govuk-body">{}</p>').format(escape(p))
                           for p in str(text or "").split("\n") if p.strip())


# ---------------------------------------------------------------------------------------------
# Jinja


def counted(number: int, singular: str, plural: str | None = None) -> str:
    """`number` with its noun in the right number: "1 school", "0 schools", "3 lines"
    (`plural` when adding "s" is wrong: "1 child", "2 children")."""
    return f"{number} {singular if number == 1 else (plural or singular + 's')}"


def init_app(app: Flask) -> None:
    """Registers the filters: `{{ code | words('type') }}`, `{{ codes | words_list('feature') }}`,
    `{{ at | when }}`, `{{ at | when(weekday=True) }}`, `{{ on | day }}`, `{{ code | authority }}`,
    `{{ r.source | source_link(trigger=r.trigger) }}`, `{{ text | in_words }}`,
    `{{ text | sentence }}`."""
    app.add_template_filter(label, "words")
    app.add_template_filter(words_list, "words_list")
    app.add_template_filter(when, "when")
    app.add_template_filter(day, "day")
    app.add_template_filter(time_of_day, "time_of_day")
    app.add_template_filter(authority_name, "authority")
    app.add_template_filter(source_words, "source_words")
    app.add_template_filter(source_link, "source_link")
    app.add_template_filter(iso_dates_in_words, "in_words")
    app.add_template_filter(children_named, "children_named")
    app.add_template_filter(counted, "counted")
    app.add_template_filter(sentence, "sentence")
    app.add_template_filter(sentence_list, "sentence_list")
