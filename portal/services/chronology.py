"""Each child's chronology, and how other children appear in it (RULES.md R6, 003 s4.6).

A child's file never shows another child's name: other children appear as initials and
reference number, unless they are in the same family group. Entries are written per child
with other children already redacted, and free text is redacted again when a file is shown
(staff may have typed another child's name into a narrative).
"""

from __future__ import annotations

import datetime as dt
import functools
import importlib
import re
import uuid
from collections.abc import Callable, Iterable, Sequence
from typing import Any, Final, NamedTuple, overload

from ..crypto import fold_for_match
from ..models import Child, ChildRecordEntry, Incident, db, utcnow
from ..names import WHOLE_NAME_CHARS, full_name, whole_name_char
from ..wording import sentence


def may_see_name(of: Child, in_file_of: Child, *, name_family: bool = True) -> bool:
    """Whether `of`'s name may appear in `in_file_of`'s file. `name_family=False` (a copy for
    someone outside the school: a subject access request, the police) names no other child,
    not even one of the same family group."""
    if of.id == in_file_of.id:
        return True
    return (name_family and of.family_group is not None
            and of.family_group == in_file_of.family_group)


def label(of: Child, in_file_of: Child, *, name_family: bool = True) -> str:
    """How `of` appears in `in_file_of`'s file: the name, or initials and reference only."""
    return (of.full_name if may_see_name(of, in_file_of, name_family=name_family)
            else of.redacted_label)


# Where a character of a script written without spaces (names.whole_name_char: "王") meets any
# other character, the text a redactor searches, and each name it searches for, have this mark
# between them (a control character, not a letter; one typed in a text or a name is searched
# as `_MARK_TYPED`, which is not a letter either). A word's edge is then
# Python's own (`(?<!\w)`, `(?!\w)`, or beside a mark), where it was a class of every letter
# not of those scripts: compiling that class for each file's pattern cost more than the rest
# of its redaction (issue 15: 2 ms a class, two for each run of names).
_SCRIPT_MARK: Final = "\x00"
_MARK_TYPED: Final = "\x01"
_SCRIPT_EDGE: Final = re.compile(
    f"(?<=[{WHOLE_NAME_CHARS}])(?=[^{WHOLE_NAME_CHARS}])"
    f"|(?<=[^{WHOLE_NAME_CHARS}])(?=[{WHOLE_NAME_CHARS}])")
# Between the parts of a name in several parts ("Mary Jane", "Mary-Jane", "Mary.Jane"); the
# script marks are never part of a name. In a folded text every hyphen is "-" (`_fold_char`),
# so the class each name's pattern repeats has no character past the first 256: one that has
# is compiled into a table of 65,536 (issue 15: 60% of compiling a file's pattern).
_NAME_JOIN: Final = f"[\\s\\-.\\u00b7_{_SCRIPT_MARK}]*"
_NAME_PARTS: Final = re.compile(f"[\\s\\-\\u2010\\u2011.\\u00b7_{_SCRIPT_MARK}]+")
# Hyphens as a folded text has them; a name joined by a dash is one name ("OKONKWO\u2013SMITH" was
# two labels, a walk).
_HYPHENS: Final = str.maketrans({"\u2010": "-", "\u2011": "-", "\u2012": "-", "\u2013": "-",
                                 "\u2212": "-"})
# A name spelt out letter by letter: "M a i s i e", "M.A.I.S.I.E", "M-a-i-s-i-e" (3 or more).
_SPACED_OUT: Final = re.compile(r"(?<!\w)\w(?:[\s.\-\u2010\u2011\u00b7_]{1,3}\w){2,}(?!\w)")
# What may stand between two parts of one child's name written one after the other ("Amira
# Okonkwo-Khan" as "Amira Khan", "محمد 王"): they are one mention, so one label. Not a full stop
# or a comma ("Amira. Amira said", "Khan, Amira": two mentions).
_ONE_MENTION: Final = re.compile(r"[\s\-\u2010\u2011\u00b7_]*")
# `re.compile` keeps the last 512 patterns it compiled in a module-wide cache for the life of
# the process. A redactor's pattern is made of children's names, which must not outlive the
# request that decrypted them, so it is compiled by `re`'s own compiler without that cache.
_compile_uncached: Final[Callable[[str, int], re.Pattern[str]]] = (
    importlib.import_module("re._compiler").compile)


def _marked_name(folded_name: str) -> str:
    """A folded name as the text searched for it has it: with the script marks."""
    return _SCRIPT_EDGE.sub(_SCRIPT_MARK, folded_name)


def _fold_name(name: str) -> str:
    """A name folded as texts are (`_folded`), a mark typed in it as one typed in a text."""
    return fold_for_match(name).replace(_SCRIPT_MARK, _MARK_TYPED)


def _word_before(first: str) -> str:
    """The edge a whole word starting with `first` needs before it: anything but a letter or
    digit, or a character of a script written without spaces ("محمد王": the given name, then
    the family name, with no space between). Beside such a character the text has a mark: a
    word starting with one needs no letter before that mark."""
    return f"(?<!\\w{_SCRIPT_MARK})" if whole_name_char(first) else r"(?<!\w)"


def _word_after(last: str) -> str:
    """The edge a whole word ending with `last` needs after it (see `_word_before`)."""
    return f"(?!{_SCRIPT_MARK}\\w)" if whole_name_char(last) else r"(?!\w)"


@functools.lru_cache(maxsize=8192)
def _fold_char(char: str) -> str:
    return " " if char.isspace() else fold_for_match(char).translate(_HYPHENS)


# `_fold_char` of every ASCII character at once: each folds to one character (its lower case,
# or a space for whitespace), so an ASCII text folds in place (issue 15: the child's file folds
# every text it shows, one character at a time cost a fifth of its redaction).
_ASCII_FOLD: Final = {code: " " if chr(code).isspace() else chr(code).lower()
                      for code in range(128)}


def _fold_each(text: str) -> tuple[str, list[int]]:
    """`text` folded character by character (`_fold_char`), with the index in `text` of every
    folded character."""
    if text.isascii():
        return text.translate(_ASCII_FOLD), list(range(len(text)))
    chars: list[str] = []
    origin: list[int] = []
    for index, char in enumerate(text):
        for folded in _fold_char(char):
            chars.append(folded)
            origin.append(index)
    return "".join(chars), origin


def _folded(text: str) -> tuple[str, list[int]]:
    """`text` folded as names are matched (crypto.fold_for_match: case, width and accents), with
    the index in `text` of every folded character; letters spelt out one by one are joined,
    and the script marks put in (`_SCRIPT_MARK`: each has the index of the character after it).
    """
    folded_text, origin = _fold_each(text)
    if not _SPACED_OUT.search(folded_text):
        return _with_marks(folded_text, origin)
    keep_chars: list[str] = []
    keep_origin: list[int] = []
    last = 0
    for match in _SPACED_OUT.finditer(folded_text):
        keep_chars.append(folded_text[last:match.start()])
        keep_origin.extend(origin[last:match.start()])
        for i in range(match.start(), match.end()):
            if folded_text[i].isalnum():
                keep_chars.append(folded_text[i])
                keep_origin.append(origin[i])
        last = match.end()
    keep_chars.append(folded_text[last:])
    keep_origin.extend(origin[last:])
    return _with_marks("".join(keep_chars), keep_origin)


def _with_marks(folded_text: str, origin: list[int]) -> tuple[str, list[int]]:
    """`folded_text` with a script mark wherever a character of a script written without spaces
    meets another (`_SCRIPT_MARK`), and `origin` to match."""
    if _SCRIPT_MARK in folded_text:
        folded_text = folded_text.replace(_SCRIPT_MARK, _MARK_TYPED)
    if folded_text.isascii():
        return folded_text, origin
    chars: list[str] = []
    keep_origin: list[int] = []
    last = 0
    for edge in _SCRIPT_EDGE.finditer(folded_text):
        at = edge.start()
        chars.append(folded_text[last:at])
        keep_origin.extend(origin[last:at])
        chars.append(_SCRIPT_MARK)
        keep_origin.append(origin[at])
        last = at
    if not last:
        return folded_text, origin
    chars.append(folded_text[last:])
    keep_origin.extend(origin[last:])
    return "".join(chars), keep_origin


def _compact(folded_name: str) -> str:
    return _NAME_PARTS.sub("", folded_name)


class Redactor:
    """Replaces the names of children who may not be named in one child's file by their label.

    Full names and each part on its own (whole words), so "Amira Khan", "Amira" and "KHAN" all
    become "AK (C0007)", and so does each part of a name in several parts. Names are matched as
    the roll's search normalises them (`crypto.normalise_for_index`: case, width, spacing) and
    without accents (`crypto.fold_for_match`), so "Maisíe" written "Maisie" or "MAISIE" is
    redacted too, as is a name spelt out ("M a i s i e") or with its parts run together or
    hyphenated ("Mary-Jane", "MaryJane"). Built once for a set of children and reused for every
    text of a file: one compiled pattern, one pass, so a label already written is never
    matched again by a shorter name. Parts of one child's name written one after the other
    ("محمد 王", a given name and the first part of a hyphenated family name) are one mention:
    one label, not one for each part.
    """

    def __init__(self, others: Iterable[Child], in_file_of: Child, *,
                 name_family: bool = True) -> None:
        # The child's own names are never taken for another's: a brother's family name is often
        # the child's own, and so is that of a child of another family (a walk: "Sam Ngugi was
        # crying" read "Sam ZN (C0006) was crying" in Sam's own file). Another child's full
        # name is still hidden, and each part of it that is not the child's own.
        hidden = [other for other in others
                  if not may_see_name(other, in_file_of, name_family=name_family)]
        self._compile(hidden, own=[in_file_of])

    @classmethod
    def outside(cls, others: Iterable[Child], named: Iterable[Child]) -> Redactor:
        """For a text about several children (the referral packet about an incident's
        children, `named`): every one of `others` by their label, and none of the named
        children's own names taken for another's."""
        redactor = cls.__new__(cls)
        redactor._compile(list(others), own=list(named))
        return redactor

    def _compile(self, hidden: list[Child], own: list[Child]) -> None:
        own_names = {_compact(_fold_name(name)) for child in own
                     for name in _name_forms(child)}
        replacements: list[tuple[str, str]] = []
        for other in hidden:
            tag = other.redacted_label
            for name in _name_forms(other):
                folded = _fold_name(name)
                if _long_enough(_compact(folded)) and _compact(folded) not in own_names:
                    replacements.append((folded, tag))
        # Longest first, so a full name wins over its parts; for the same name the first
        # child listed wins.
        replacements.sort(key=lambda pair: -len(_compact(pair[0])))
        self._tags: dict[str, str] = {}
        patterns: list[_Pattern] = []
        firsts: set[str] = set()
        for folded, tag in replacements:
            key = _compact(folded)
            if key not in self._tags:
                self._tags[key] = tag
                parts = [part for part in _NAME_PARTS.split(folded) if part]
                firsts.add(_marked_name(parts[0]))
                # Scripts written without spaces have no word edges: "李丽在" names 李丽.
                patterns.append(_Pattern(
                    _NAME_JOIN.join(re.escape(_marked_name(part)) for part in parts),
                    parts[0][0], parts[-1][-1], not all(whole_name_char(c) for c in key)))
        # Compiled when a text first needs it (`_pattern`): each name's pattern starts with
        # its first part as written (`firsts`), so a text holding none of them names none of
        # these children, and most texts of a file name no other child (issue 15: compiling
        # was a tenth of a child's file whose texts named nobody).
        self._source = _alternatives(patterns) if patterns else None
        self._firsts = tuple(sorted(firsts))
        self._compiled: re.Pattern[str] | None = None

    @property
    def _pattern(self) -> re.Pattern[str] | None:
        if self._compiled is None and self._source is not None:
            self._compiled = _compile_uncached(self._source, 0)
        return self._compiled

    @overload
    def __call__(self, text: str) -> str: ...

    @overload
    def __call__(self, text: None) -> None: ...

    def __call__(self, text: str | None) -> str | None:
        if self._source is None or not text:
            return text
        folded, origin = _folded(text)
        if not any(first in folded for first in self._firsts):
            return text
        pattern = self._pattern
        assert pattern is not None  # (`_source` is set)
        out: list[str] = []
        last = 0
        for match in pattern.finditer(folded):
            if match.end() == match.start():
                continue
            start = origin[match.start()]
            end = origin[match.end() - 1] + 1
            while end < len(text) and not _fold_char(text[end]):
                end += 1  # accents written as separate marks after the last letter
            if start < last:
                continue
            tag = (self._tags.get(_compact(match.group(0)), "")
                   or next(iter(self._tags.values())))
            # (`out` ends with the last label written, if any)
            if not (out and out[-1] == tag and _ONE_MENTION.fullmatch(text, last, start)):
                out.append(text[last:start])
                out.append(tag)
            last = end
        out.append(text[last:])
        return "".join(out)


class _Pattern(NamedTuple):
    """One name as a redactor searches for it."""

    pattern: str
    first: str  # its first letter and its last
    last: str
    whole_words: bool  # found only as whole words (not in a script written without spaces)


def _alternatives(patterns: list[_Pattern]) -> str:
    """One regular expression trying `patterns` in order, those of whole words only at a word's
    start and end. Each run of whole-word patterns with the same edge before them shares it, and
    is tried only where the text has the first letter of one of them (the same matches as
    testing each edge for each name at every place in the text, which cost most of a file's
    redaction, issue 15)."""
    out: list[str] = []
    run: list[_Pattern] = []

    def close_run() -> None:
        if run:
            # The first letters as a class of those in the first 256 (a small table) and
            # each other one on its own (a class with one compiles into a table of 65,536).
            firsts = sorted({item.first for item in run})
            narrow = "".join(re.escape(first) for first in firsts if ord(first) < 256)
            ahead = [f"[{narrow}]"] if narrow else []
            ahead += [re.escape(first) for first in firsts if ord(first) >= 256]
            out.append(_word_before(run[0].first) + "(?=" + "|".join(ahead) + ")(?:"
                       + "|".join(item.pattern + _word_after(item.last) for item in run) + ")")
            run.clear()

    for item in patterns:
        if run and _word_before(item.first) != _word_before(run[0].first):
            close_run()
        if item.whole_words:
            run.append(item)
        else:
            close_run()
            out.append(item.pattern)
    close_run()
    return "|".join(out)


def _name_forms(child: Child) -> list[str]:
    """Every way staff may write a child's name: the full name, the given and family names, the
    name they go by ("Dima" for Дмитрий: a walk found it readable in other children's files),
    and each part of a name in several parts ("Maximilian-Alexander Bartholomew" is often
    written "Maximilian"). Parts of one letter are left alone (initials are what a label
    shows), except a character that can be a whole name on its own ("王", see
    names.whole_name_char)."""
    known_as = (child.preferred_name or "").strip()
    forms: list[str] = [known_as]
    parts: list[str] = [known_as]
    # The names the child has now, then those they were recorded under before (a text written
    # then still names them: `Child.earlier_names`).
    current = ((child.given_name or "").strip(), (child.family_name or "").strip())
    for given, family in (current, *child.earlier_names):
        # The full name either way round: as the portal shows it (`names.full_name`: family
        # name first for Chinese, Japanese and Korean names) and given name first, as staff
        # may type it.
        forms += [full_name(given, family), f"{given} {family}".strip(), given, family]
        if any(whole_name_char(c) for c in given + family):
            forms.append(f"{family}{given}")  # written family name first, without a space
        parts += [given, family]
    for name in parts:
        forms.extend(part for part in re.split(r"[\s\-\u2010\u2011]+", name) if part)
    return [f for f in dict.fromkeys(forms) if _long_enough(f)]


def _long_enough(name: str) -> bool:
    """Two letters or more, or one character that is a whole name ("王")."""
    return len(name) >= 2 or (len(name) == 1 and whole_name_char(name))


def redact(text: str, others: Iterable[Child], in_file_of: Child, *,
           name_family: bool = True) -> str:
    """`text` with the names of `others` who may not be named in `in_file_of`'s file replaced
    by their label (see `Redactor`)."""
    return Redactor(others, in_file_of, name_family=name_family)(text)


def add_entry(
    child: Child,
    kind: str,
    body: str,
    *,
    author_id: uuid.UUID | None,
    incident: Incident | None = None,
    source: Any = None,
    occurred_at: dt.datetime | None = None,
) -> ChildRecordEntry:
    """Append one line to `child`'s chronology (flushes; never edited afterwards)."""
    entry = ChildRecordEntry(
        school_id=child.school_id,
        child_id=child.id,
        kind=kind,
        author_id=author_id,
        occurred_at=occurred_at or utcnow(),
        incident_id=incident.id if incident is not None else None,
        source_type=getattr(type(source), "__tablename__", None) if source is not None else None,
        source_id=getattr(source, "id", None),
    )
    entry.body = body
    db.session.add(entry)
    db.session.flush()
    return entry


def add_to_each(
    children: Sequence[Child],
    kind: str,
    text: str,
    *,
    author_id: uuid.UUID | None,
    incident: Incident,
    source: Any,
    occurred_at: dt.datetime | None,
) -> None:
    """One line about something shared by `children` in each one's chronology: `text` with the
    others' names redacted, then who else was involved (R6: as `label` shows them there)."""
    for child in children:
        others = [c for c in children if c.id != child.id]
        body = redact(text, others, child)
        if others:  # after the text's last sentence, ended once ("...tomorrow Also involved")
            also = ", ".join(label(o, child) for o in others)
            body = f"{sentence(body)} Also involved: {also}."
        add_entry(child, kind, body, author_id=author_id, incident=incident, source=source,
                  occurred_at=occurred_at)
