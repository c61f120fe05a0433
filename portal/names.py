"""How children's names are cut into search terms, and how a typed search is read (issue 13).

Pure Python: no Flask, no database, no keys. `portal/services/children.py` turns these terms into
keyed hashes (HMAC under the school's index key) and stores only the hashes.

Folding (`fold`): Unicode NFKC, case-folded, accents and other combining marks removed (NFKD),
and a few letters that carry no separate mark written plainly (ø o, ł l, æ ae, ...): "Zoë Ó
Súilleabháin", "ZOE O SUILLEABHAIN" and "Zoe\u0308 O\u0301 ..." all fold alike; Cyrillic, Greek and
Arabic are case-folded and lose their marks the same way (Cyrillic yo as ie, Greek alpha with
tonos as alpha, Arabic harakat).

A name part ("O'Brien-Smith") gives these *words*: its pieces split at spaces, hyphens, dots and
apostrophes ("o", "brien", "smith"), the pieces kept whole across apostrophes ("obrien", "smith"),
and the whole part run together ("obriensmith"); and its *typed words* (`typed_words`, the one
rule a typed search is cut by), so a part with spaces and hyphens is found as it is written
("王-Ó Súilleabháin" gives "王o" and "suilleabhain", as typing it does). So "O'Brien",
"O\u2019Brien" (a typographic apostrophe), "OBrien" and "O Brien" all find it. Scripts written
without spaces (Chinese, Japanese; Korean and Thai names are treated alike) give every run of
characters of the part and of the whole name in either order ("李", "李小", "小龙", "李小龙"),
since there is no word to start from.

A typed search is cut at spaces, commas, semicolons and slashes; within each word, apostrophes,
hyphens and dots are dropped ("O'Brien" -> "obrien", "Mary-Jane" -> "maryjane"): `typed_words`,
which also cuts every name part, so whatever is typed as the name is written is a word of it.
When it changes, `portal.services.children.SEARCH_VERSION` is bumped and `flask index-child-names`
(or `flask init-db`) indexes every child again.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import Final

from .crypto import fold_for_match

__all__ = [
    "MAX_PREFIX",
    "NameTerms",
    "edit_distance",
    "fold",
    "initials",
    "name_terms",
    "query_words",
    "same_name",
    "similar_names",
    "typed_words",
]

# Prefixes longer than this are not indexed (a longer typed word is cut to this length).
MAX_PREFIX: Final = 24
# Runs of a spaceless script longer than this are not indexed (names are far shorter).
MAX_RUN: Final = 12

_PLAIN: Final = str.maketrans({"ø": "o", "ł": "l", "đ": "d", "ð": "d", "æ": "ae", "œ": "oe",
                               "\u0131": "i", "ŀ": "l", "þ": "th", "ħ": "h"})  # \u0131: dotless i
# ' \u2019 \u2018 ` \u00b4 \u02bc \u02bb \u2032: the apostrophes names are typed with.
_APOSTROPHES: Final = "'\u2019\u2018`\u00b4\u02bc\u02bb\u2032"
# - and the Unicode hyphens and dashes, and the full stop ("St. John").
_HYPHENS: Final = "-\u2010\u2011\u2012\u2013\u2014\u2015."
_JOINERS_RE: Final = re.compile(f"[{re.escape(_APOSTROPHES + _HYPHENS)}]")
_PIECE_SPLIT_RE: Final = re.compile(f"[\\s,{re.escape(_APOSTROPHES + _HYPHENS)}]+")
_WORD_SPLIT_RE: Final = re.compile(f"[\\s,{re.escape(_HYPHENS)}]+")
_QUERY_SPLIT_RE: Final = re.compile(r"[\s,;/]+")


def fold(text: str) -> str:
    """Case, width, spacing and accents folded away (see the module's docstring)."""
    return " ".join(fold_for_match(text).translate(_PLAIN).split())


def _spaceless(char: str) -> bool:
    """A character of a script that writes names without spaces between the parts."""
    code = ord(char)
    return (0x3040 <= code <= 0x30FF or 0x3400 <= code <= 0x4DBF or 0x4E00 <= code <= 0x9FFF
            or 0xF900 <= code <= 0xFAFF or 0xAC00 <= code <= 0xD7AF or 0x1100 <= code <= 0x11FF
            or 0x0E00 <= code <= 0x0E7F or 0x20000 <= code <= 0x2FFFF)


# The characters of the scripts in which one character can be a whole name part (Han,
# Hiragana, Katakana, Hangul), as a regular expression's class (`whole_name_char`); with the
# iteration and closing marks written inside names (々 in 佐々木, a walk: the name was not found).
WHOLE_NAME_CHARS: Final = "".join(
    f"\\U{low:08x}-\\U{high:08x}" for low, high in (
        (0x1100, 0x11FF), (0x3005, 0x3007), (0x3040, 0x30FF), (0x3130, 0x318F),
        (0x31F0, 0x31FF),
        (0x3400, 0x4DBF), (0x4E00, 0x9FFF), (0xA960, 0xA97F), (0xAC00, 0xD7FF),
        (0xF900, 0xFAFF), (0xFF65, 0xFFDC), (0x1B000, 0x1B16F), (0x20000, 0x3FFFF)))
_WHOLE_NAME_CHAR: Final = re.compile(f"[{WHOLE_NAME_CHARS}]")


def whole_name_char(char: str) -> bool:
    """A character of a script in which one character can be a whole name part (Han,
    Hiragana, Katakana, Hangul): "王" is a whole family name, so it is never an initial."""
    return _WHOLE_NAME_CHAR.match(char) is not None


# Zero-width non-joiner: keeps two letters of a joined script apart without a visible gap.
_NON_JOINER: Final = "\u200c"


def _joined_script(char: str) -> bool:
    """A letter that joins the next one when written (Arabic, Syriac, N'Ko, Mongolian)."""
    code = ord(char)
    return (unicodedata.bidirectional(char) == "AL" or 0x07C0 <= code <= 0x07FF
            or 0x1800 <= code <= 0x18AF)


def full_name(given_name: str | None, family_name: str | None) -> str:
    """A child's name as it is written: the given name, then the family name; a name written
    wholly in a script whose names put the family name first, without a space (Chinese,
    Japanese, Korean: 王小明, 山田花子, 김민준), family name first ("小明 王" read as a mistake, a
    walk). The one place a name is put together for people to read: the blind indexes and
    the keyed hashes keep their own fixed form (services/children, services/repeat_harm)."""
    given, family = given_name or "", family_name or ""
    if given.strip() and family.strip() and all(
            whole_name_char(c) for c in given + family if not c.isspace()):
        return f"{family.strip()}{given.strip()}"
    return f"{given} {family}".strip()


def initials(given_name: str | None, family_name: str | None) -> str:
    """The first letter of each name part, as another child's file shows the child (R6). A part
    written in a script where one character can be a whole name gives nothing (its "initial"
    would be the name itself): "Wei 王" is "W", "王 伟" is "" (show the reference alone).
    Two initials of a joined script are kept apart by a zero-width non-joiner (Laila Ahmed in
    Arabic would otherwise read as the word "no"). "?" when the child has no name at all (a
    destroyed file)."""
    parts = [p.strip() for p in (given_name or "", family_name or "") if p and p.strip()]
    if not parts:
        return "?"
    letters = [p[0].upper() for p in parts if not whole_name_char(p[0])]
    out = ""
    for n, letter in enumerate(letters):
        if n and _joined_script(letters[n - 1]) and _joined_script(letter):
            out += _NON_JOINER
        out += letter
    return out


def _has_spaceless(text: str) -> bool:
    return any(_spaceless(c) for c in text)


def typed_words(folded: str) -> list[str]:
    """The words of folded text as a person types them: cut at spaces, commas, semicolons and
    slashes, apostrophes, hyphens and dots dropped within each ("王-o suilleabhain" -> "王o",
    "suilleabhain"). The one rule for a typed search and for the name it must find."""
    return [w for w in (_JOINERS_RE.sub("", raw) for raw in _QUERY_SPLIT_RE.split(folded)) if w]


def _words(part: str) -> set[str]:
    """The words of one folded name part (pieces, pieces across apostrophes, the words as
    typed, the whole)."""
    if not part:
        return set()
    pieces = {p for p in _PIECE_SPLIT_RE.split(part) if p}
    joined = {_JOINERS_RE.sub("", w) for w in _WORD_SPLIT_RE.split(part)}
    whole = {_JOINERS_RE.sub("", "".join(part.split()))}
    return {w for w in pieces | joined | set(typed_words(part)) | whole if w}


def _runs(text: str) -> set[str]:
    """Every run of one to MAX_RUN characters of `text` (a name in a spaceless script)."""
    return {text[i:j] for i in range(len(text))
            for j in range(i + 1, min(len(text), i + MAX_RUN) + 1)}


def _prefixes(word: str) -> set[str]:
    if _has_spaceless(word):
        return _runs(word[: MAX_RUN * 2])
    return {word[:n] for n in range(1, min(len(word), MAX_PREFIX) + 1)}


@dataclass(frozen=True, slots=True)
class NameTerms:
    """What is indexed for one child (before hashing)."""

    given: frozenset[str]  # whole words of the given and preferred names
    family: frozenset[str]  # whole words of the family name
    full: frozenset[str]  # the whole name run together, either order
    prefixes: frozenset[str]  # every prefix of every word (every run, in a spaceless script)


def name_terms(given_name: str | None, family_name: str | None,
               preferred_name: str | None = None) -> NameTerms:
    """The search terms of a child's names (see the module's docstring)."""
    given_parts = [fold(n) for n in (given_name, preferred_name) if n and fold(n)]
    family_part = fold(family_name or "")
    given = set().union(*(_words(p) for p in given_parts)) if given_parts else set()
    family = _words(family_part)
    full: set[str] = set()
    for first in given_parts:
        if family_part:
            for a, b in ((first, family_part), (family_part, first)):
                full.add(_JOINERS_RE.sub("", "".join(f"{a}{b}".split())))
    prefixes: set[str] = set()
    for word in given | family:
        prefixes |= _prefixes(word)
    for whole in full:
        if _has_spaceless(whole):
            prefixes |= _runs(whole[: MAX_RUN * 2])
    return NameTerms(frozenset(given), frozenset(family), frozenset(full), frozenset(prefixes))


def query_words(text: str, *, whole: bool = False) -> list[str]:
    """The words of a typed search, folded, joiners dropped, each at most MAX_PREFIX long
    (MAX_RUN in a spaceless script), as the prefixes are indexed; `whole`: not cut, as whole
    words are (a 29-letter double-barrelled name typed in full was cut, and found no one);
    repeated words once, in the order typed."""
    out: list[str] = []
    for word in typed_words(fold(text)):
        if not whole:
            word = word[:MAX_RUN] if _has_spaceless(word) else word[:MAX_PREFIX]
        if word and word not in out:
            out.append(word)
    return out


def edit_distance(a: str, b: str, *, limit: int = 3) -> int:
    """Levenshtein distance of `a` and `b`, or `limit` + 1 when it is more than `limit`."""
    if abs(len(a) - len(b)) > limit:
        return limit + 1
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        current = [i]
        for j, cb in enumerate(b, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1,
                               previous[j - 1] + (ca != cb)))
        if min(current) > limit:
            return limit + 1
        previous = current
    return min(previous[-1], limit + 1)


def _key(given: str | None, family: str | None) -> str:
    return _part(given) + _part(family)


def _part(text: str | None) -> str:
    """One name part folded, without spaces, apostrophes or hyphens (`_key` is two of them)."""
    return _JOINERS_RE.sub("", "".join(fold(text or "").split()))


# How many keystrokes apart two names may be and still be asked about: two, or three for a
# name of twelve letters or more (a walk: "Maisy Thornbery" beside Maisie Thornbury, three apart
# in fifteen letters, was not asked about); or each part apart by two at most, one for a part of
# four letters or fewer (a walk: "Maisy Thornberry", two and two apart).
NEAR: Final = 2
NEAR_LONG: Final = 3
LONG_NAME: Final = 12
NEAR_PART: Final = 2
NEAR_SHORT_PART: Final = 1
SHORT_PART: Final = 4


def _parts_near(a: tuple[str, str], b: tuple[str, str]) -> bool:
    """Each part of `a` a keystroke or two from the same part of `b` (`NEAR_PART`)."""
    for mine, theirs in zip(a, b, strict=True):
        if not mine or not theirs:
            return False
        limit = NEAR_SHORT_PART if min(len(mine), len(theirs)) <= SHORT_PART else NEAR_PART
        if edit_distance(mine, theirs, limit=limit) > limit:
            return False
    return True


def similar_names(a: tuple[str | None, str | None], b: tuple[str | None, str | None],
                  *, limit: int | None = None) -> bool:
    """Two (given, family) names a few keystrokes apart once folded ("Amara Fenwick" and
    "Amara Fenwicke"; "Zoe O Suilleabhain" and "Zoë Ó Súilleabháin" are the same), in either
    order of the parts: at most `limit` apart, by default `NEAR`, or `NEAR_LONG` for a long
    name."""
    first = _key(*a)
    if not first:
        return False
    if limit is None:
        limit = NEAR_LONG if len(first) >= LONG_NAME else NEAR
        mine = (_part(a[0]), _part(a[1]))
        if any(_parts_near(mine, theirs) for theirs in ((_part(b[0]), _part(b[1])),
                                                        (_part(b[1]), _part(b[0])))):
            return True
    return any(edit_distance(first, other, limit=limit) <= limit
               for other in (_key(*b), _key(b[1], b[0])) if other)


def same_name(a: tuple[str | None, str | None], b: tuple[str | None, str | None]) -> bool:
    """The same name once folded (case, accents, apostrophes, hyphens, spaces; either order)."""
    first = _key(*a)
    return bool(first) and first in (_key(*b), _key(b[1], b[0]))

