"""R3 Never dismissed as normal (RULES.md section 7): the one list of phrases, the one message.

Staff "should not dismiss abusive sexual behaviour as 'normal' between children" (000, the
paragraph "A significant proportion"; 001 s5). A reason, advice or note that passes the behaviour
off as banter, a joke, "having a laugh", "boys being boys", "part of growing up", horseplay and the
like is refused with `DISMISSIVE_MESSAGE`. `find_dismissive(text)` returns the phrase as the
person typed it (for "You wrote ..."), or None. Pure Python: no Flask, no database.

How the text is read
--------------------
Before matching, the text is normalised so that spelling games do not get round the rule:

- case, accents (NFKD, combining marks dropped) and a few look-alike letters (Cyrillic U+0430);
- zero-width and other invisible format characters are dropped;
- digits and symbols used for letters: 4 and @ -> a, 3 -> e, 0 -> o, 5 and $ -> s, 7 -> t,
  1 -> i or l (either; so are "!" and "|" between letters);
- repeated letters count once ("baaanter", "jooooke");
- an apostrophe between letters is part of the word ("it's" -> "its");
- other punctuation separates words ("ban-ter" -> "ban ter");
- a run of 2 or more single letters is one word ("b a n t e r", "b.a.n.t.e.r", "j/k");
- 2 or 3 neighbouring pieces that together spell one of the single dismissive words (banter,
  bants, horseplay, pranking, experimenting) count as that word ("ban ter", "ban-ter").

Phrases match whole words only, after this: "Banterbury Road", "urban terrain", "the Joker card",
"a jokey tone" and "the jokester app" are other words and are accepted. Joining only ever happens
for single letters, or for pieces that spell a whole dismissive word exactly, so two honest words
("urban terrain") are never read as one.

What is refused, and what is not
--------------------------------
The rule is about calling the behaviour normal, not about naming it. So:

- "banter" (bants, bantz), "horseplay"/"horsing around", "play fighting", "messing about",
  "rough and tumble", "harmless fun", "attention seeking", "experimenting", any form of "prank"
  (but not "prank call"), "boys will be boys" (girls, kids, lads), "part of growing up",
  "normal for their age", "normal teenage behaviour", "just kidding", "jk" are refused wherever
  they are not quoted;
- a joke: calling it one is refused ("it was a joke", "just a joke", "only joking", "as a
  joke", "for a laugh", "having a laugh"); naming one is not: "Kai made sexual jokes about Mia"
  and "we discussed the joke he made" are honest records (sexual "jokes" are harassment in
  themselves);
- "asked for it" / "was asking for it" is refused unless a request follows at once ("she asked
  for it to stop", "asked for it back", "asked for it to be deleted");
- "jk" written in capitals is a child's initials (R6: other children appear as initials), not
  "just kidding";
- "experimented" (for example "we experimented with a new seating plan") is accepted; only
  "experimenting" describes children's behaviour.

Someone else's words: a phrase entirely inside a matching pair of quotation marks is reported
speech and is accepted ('he said it was "just banter"', "She told me it was “a joke”", «banter»,
'they called it "horseplay"'). Straight and curly, double and single quotes, guillemets and „…“
all count. An apostrophe inside a word (it's, Kai's) or at the end of one (the boys' bags) is not
a quote, and nor is a pair inside a word (ban"t"er). Only the part inside the pair is exempt:
quoted words are left out before the rest is read, so 'it was "a joke"' is accepted and
'"just" banter' is refused. An unclosed quote exempts nothing. Reported speech without quotes
('he said it was just banter') is refused: the message asks for quotes.

Rejecting the dismissal is allowed: a phrase straight after "not", "never", "no", "isn't",
"wasn't" and the like (with at most 2 of "just", "only", "simply", "merely", "a", "an" between,
and nothing but spaces) is accepted: "This was not banter", "It isn't just a joke".

Phrases are added here, with a line in tests/unit/test_dismissive.py, after review with DSLs.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Final

__all__ = ["DISMISSIVE_MESSAGE", "dismissive_message", "find_dismissive"]

DISMISSIVE_MESSAGE: Final = (
    "Do not describe the behaviour as banter, a joke, horseplay or part of growing up. Abusive "
    "behaviour between children is never normal and must never be dismissed as normal (the Derby "
    "and Derbyshire procedure, Children who Present a Risk of Harm to Others). Describe what "
    "happened and why you decided this. If you are "
    "recording someone else's words, put them in quotation marks."
)


def dismissive_message(typed: str | None) -> str:
    """The R3 message, quoting what the person typed when it is known."""
    if not typed:
        return DISMISSIVE_MESSAGE
    return f"You wrote “{typed}”. {DISMISSIVE_MESSAGE}"


# ---------------------------------------------------------------------------------------------
# Normalisation

_LOOKALIKE: Final = {
    # Cyrillic and Greek letters that look like Latin ones; a few Latin letters NFKD keeps.
    "\u0430": "a", "\u0432": "b", "\u0435": "e", "\u0451": "e", "\u0456": "i", "\u0457": "i",
    "\u0458": "j", "\u043a": "k", "\u043c": "m", "\u043d": "h", "\u043e": "o", "\u0440": "p",
    "\u0441": "c", "\u0455": "s", "\u0442": "t", "\u0443": "y", "\u0445": "x", "\u03b1": "a",
    "\u03b2": "b", "\u03b5": "e", "\u03b7": "n", "\u03b9": "i", "\u03ba": "k", "\u03bd": "v",
    "\u03bf": "o", "\u03c1": "p", "\u03c4": "t", "\u03c5": "u", "\u03c7": "x", "\u00f8": "o",
    "\u0142": "l", "\u0111": "d", "\u0131": "i", "\u00e6": "ae", "\u0153": "oe", "\u00df": "ss",
    "\u00fe": "th",
}
# "1" stays "1" and the patterns read it as i or l.
_LEET: Final = {"4": "a", "@": "a", "3": "e", "0": "o", "5": "s", "$": "s", "7": "t", "1": "1"}
_LEET_BETWEEN_LETTERS: Final = frozenset("!|")
# ' and the right and left single quotation marks, modifier apostrophe, grave and acute.
_APOSTROPHES: Final = frozenset("'\u2019\u2018\u02bc`\u00b4")


def _is_letter(ch: str) -> bool:
    return ch == "1" or ch.isalpha()


@dataclass(slots=True)
class _Char:
    ch: str
    lo: int  # first and last index in the original text this character came from
    hi: int


@dataclass(slots=True)
class _Token:
    chars: list[_Char]
    spaced_only: bool  # nothing but whitespace between this token and the one before

    @property
    def text(self) -> str:
        return "".join(c.ch for c in self.chars)


def _characters(text: str, quoted: Sequence[tuple[int, int]]) -> list[_Char]:
    """The text, character by character, normalised; quoted words (and their marks) left out."""
    inside = [False] * len(text)
    for start, end in quoted:
        for i in range(start - 1, end + 1):
            inside[i] = True
    out: list[_Char] = []
    for i, raw in enumerate(text):
        if inside[i]:
            if i == 0 or not inside[i - 1]:
                out.append(_Char(" ", i, i))  # a quotation separates the words either side
            continue
        if unicodedata.category(raw) == "Cf":  # zero-width space, joiners, soft hyphen, BOM
            continue
        for part in unicodedata.normalize("NFKD", raw):
            if unicodedata.category(part) in ("Mn", "Me"):
                continue
            for ch in part.casefold():
                mapped = _LOOKALIKE.get(ch, _LEET.get(ch, ch))
                for m in mapped:
                    out.append(_Char(m, i, i))
    for k, c in enumerate(out):
        if c.ch in _LEET_BETWEEN_LETTERS and 0 < k < len(out) - 1 \
                and _is_letter(out[k - 1].ch) and _is_letter(out[k + 1].ch):
            c.ch = "1"
    return [c for k, c in enumerate(out)
            if not (c.ch in _APOSTROPHES and 0 < k < len(out) - 1
                    and _is_letter(out[k - 1].ch) and _is_letter(out[k + 1].ch))]


def _tokens(chars: Sequence[_Char]) -> list[_Token]:
    tokens: list[_Token] = []
    current: list[_Char] = []
    spaced = True
    for c in chars:
        if _is_letter(c.ch):
            current.append(c)
            continue
        if current:
            tokens.append(_Token(current, spaced))
            current, spaced = [], True
        if not c.ch.isspace():
            spaced = False
    if current:
        tokens.append(_Token(current, spaced))
    return tokens


def _join_single_letters(tokens: Sequence[_Token], *, keep_article: bool) -> list[_Token]:
    """Runs of 2 or more one-letter words become one word ("b a n t e r" -> "banter").

    With keep_article, a run starting with "a" or "i" keeps that letter apart ("a b a n t e r").
    """
    out: list[_Token] = []
    k = 0
    while k < len(tokens):
        end = k
        while end < len(tokens) and len(tokens[end].chars) == 1:
            end += 1
        if end - k >= 2:
            run = list(tokens[k:end])
            if keep_article and len(run) >= 3 and run[0].text in ("a", "i"):
                out.append(run[0])
                run = run[1:]
            out.append(_Token([c for t in run for c in t.chars], run[0].spaced_only))
            k = end
        else:
            out.append(tokens[k])
            k += 1
    return out


def _collapse(chars: Sequence[_Char]) -> list[_Char]:
    """Repeated letters count once ("baaanter" -> "banter")."""
    out: list[_Char] = []
    for c in chars:
        if out and out[-1].ch == c.ch:
            out[-1] = _Char(c.ch, out[-1].lo, c.hi)
        else:
            out.append(c)
    return out


def _squash(word: str) -> str:
    return re.sub(r"(.)\1+", r"\1", word)


@dataclass(slots=True)
class _Normalised:
    tokens: list[_Token]
    text: str  # the tokens joined by single spaces
    token_at: list[int]  # for each character of text, its token (-1 for a space)
    char_at: list[_Char | None]


def _normalised(tokens: Sequence[_Token]) -> _Normalised:
    collapsed = [_Token(_collapse(t.chars), t.spaced_only) for t in tokens]
    parts: list[str] = []
    token_at: list[int] = []
    char_at: list[_Char | None] = []
    for n, token in enumerate(collapsed):
        if n:
            parts.append(" ")
            token_at.append(-1)
            char_at.append(None)
        for c in token.chars:
            parts.append(c.ch)
            token_at.append(n)
            char_at.append(c)
    return _Normalised(collapsed, "".join(parts), token_at, char_at)


def _readings(text: str, quoted: Sequence[tuple[int, int]]) -> list[_Normalised]:
    tokens = _tokens(_characters(text, quoted))
    first = _join_single_letters(tokens, keep_article=False)
    second = _join_single_letters(tokens, keep_article=True)
    readings = [_normalised(first)]
    if [t.text for t in second] != [t.text for t in first]:
        readings.append(_normalised(second))
    return readings


# ---------------------------------------------------------------------------------------------
# The phrases


def _compile(source: str) -> str:
    """A phrase pattern written in plain words, for the normalised text.

    A space between words may be missing (the words were run together); doubled letters count
    once (as in the text); "i" and "l" also match "1". Character classes are copied as written.
    """
    out: list[str] = []
    previous = ""
    in_class = False
    for ch in source:
        if in_class:
            out.append(ch)
            in_class = ch != "]"
            continue
        if ch == "[":
            in_class = True
            out.append(ch)
            previous = ""
            continue
        if ch.isalpha():
            if ch == previous:
                continue
            previous = ch
            out.append({"i": "[i1]", "l": "[l1]"}.get(ch, ch))
            continue
        previous = ""
        out.append(" ?" if ch == " " else ch)
    return "".join(out)


def _after_is_a_request(reading: _Normalised, last_token: int) -> bool:
    """"asked for it to stop", "asked for it back": a request, not "asking for it"."""
    following = last_token + 1
    if following >= len(reading.tokens) or not reading.tokens[following].spaced_only:
        return False
    return reading.tokens[following].text in _REQUEST_WORDS


def _initials(typed: str) -> bool:
    """"JK" in capitals is a child's initials (R6), not "just kidding"."""
    letters = [c for c in typed if c.isalpha()]
    return bool(letters) and all(c.isupper() for c in letters)


_REQUEST_WORDS: Final = frozenset(_squash(w) for w in (
    "to", "not", "back", "be", "again", "from", "deleted", "removed", "returned", "taken",
    "kept", "shared", "sent", "on", "in", "at", "during", "after", "before", "via", "over",
    "through", "twice",
))
_NEGATIONS: Final = frozenset(_squash(w) for w in (
    "not", "never", "no", "nor", "isnt", "wasnt", "werent", "arent", "aint", "dont", "didnt",
    "doesnt", "cant", "cannot", "couldnt", "wouldnt", "shouldnt", "wont",
))
_BETWEEN_NEGATION: Final = frozenset(_squash(w) for w in (
    "just", "only", "simply", "merely", "a", "an",
))

_BE: Final = "(?:will be|will always be|being|are|are just|be|r)"
_GROUPS: Final = ("boys", "girls", "kids", "lads", "children")

# (pattern, filter): the filter, given the reading, the match's last token and the typed text,
# says the match is not dismissive after all.
_Filter = Callable[[_Normalised, int, str], bool]
_PHRASES: Final[tuple[tuple[str, _Filter | None], ...]] = (
    ("banter(?:s|ing|ed|y)?|bants|bantz|banterz", None),
    ("(?:just|only|was|were|is|are|its|it is|it was|all|as|being|for) "
     "(?:a )?(?:bit of a |big )?jok(?:e|es|ing)", None),
    ("jok(?:ing|ed) (?:around|about)(?! [a-z1])", None),
    ("jk", lambda _r, _t, typed: _initials(typed)),
    ("(?:just|only|was|were|am|im|i am|is|are) kidding|kidding (?:around|about)(?! [a-z1])",
     None),
    ("(?:having|have|had|has|for|just|only|all|was|were|its|it was|it is) a (?:bit of a )?"
     "(?:laugh|laff|larf|giggle)|(?:just|only) (?:laughing|giggling|a laugh|a laff)", None),
    *((f"{g} {_BE} {g}", None) for g in _GROUPS),
    ("(?:part of|just|only) growing up|part of (?:being|becoming) a (?:teenager|teen|child|kid)",
     None),
    ("horse plays?|horse playing|hors(?:ing|ed) (?:around|about)", None),
    ("pranks?(?! calls?(?![a-z1]))|prank(?:ing|ed|ster|sters)", None),
    ("(?:messing|mucking|fooling|larking|goofing|messed|mucked|fooled|mess) (?:about|around)",
     None),
    ("play (?:fight|fights|fighting|fought|wrestling|wrestle)", None),
    ("normal (?:for|at) (?:their|his|her|them|that|this|the|a child of (?:their|his|her)|"
     "children of (?:their|that|this)) ages?", None),
    ("(?:just |only )?experimenting", None),
    ("attention (?:seeking|seeker|seekers)", None),
    ("ask(?:ed|ing|s)? for it", lambda r, t, _typed: _after_is_a_request(r, t)),
    ("brought it on (?:herself|himself|themselves|themself)", None),
    ("harmless (?:fun|joke|jokes|banter|laugh|laughs|game|games)|(?:just|only|all) (?:a )?"
     "(?:bit of )?fun|bit of fun|(?:just|only) a game", None),
    ("rough (?:and |n )?tumble", None),
    ("(?:normal|typical) (?:teenage|teenager|teenagers|teen|adolescent|childhood|child|kid|kids|"
     "boy|boys|girl|girls|playground) behavio(?:u)?rs?", None),
)
_PATTERNS: Final = tuple(
    (re.compile(r"(?=(?<![^ ])(" + _compile(source) + r")(?![^ ]))"), check)
    for source, check in _PHRASES
)
# Single words that may be split up with spaces or punctuation ("ban ter", "ban-ter").
_SPLIT_WORDS: Final = re.compile(_compile(
    "banter(?:s|ing|ed|y)?|bants|bantz|horseplay(?:s|ing)?|pranking|pranked|experimenting"))


# ---------------------------------------------------------------------------------------------
# Quotation marks

# Straight and curly double quotes, low and reversed ones, full-width, and the CJK pair.
_DOUBLE_QUOTES: Final = frozenset('"\u201c\u201d\u201e\u201f\uff02\u301d\u301e')
_GUILLEMETS: Final = frozenset("\u00ab\u00bb")
_SINGLE_GUILLEMETS: Final = frozenset("\u2039\u203a")
_PAIRED_FAMILIES: Final = (_DOUBLE_QUOTES, _GUILLEMETS, _SINGLE_GUILLEMETS)
# Straight and curly single quotes, low and reversed ones, and the backtick.
_SINGLE_QUOTES: Final = frozenset("'\u2018\u2019\u201a\u201b`")
_ALL_QUOTES: Final = _DOUBLE_QUOTES | _GUILLEMETS | _SINGLE_GUILLEMETS | _SINGLE_QUOTES
_DASHES: Final = frozenset("-\u2013\u2014")
_BEFORE_OPENING: Final = frozenset("([{/:;,") | _DASHES | _ALL_QUOTES
_AFTER_CLOSING: Final = frozenset(".,;:!?)]}/\u2026") | _DASHES | _ALL_QUOTES


def _quoted(text: str) -> list[tuple[int, int]]:
    """The spans (start, end) inside each matching pair of quotation marks."""
    spans: list[tuple[int, int]] = []
    for family in _PAIRED_FAMILIES:
        marks = [i for i, ch in enumerate(text) if ch in family]
        spans.extend((marks[k] + 1, marks[k + 1]) for k in range(0, len(marks) - 1, 2))
    # A pair inside a word (ban"t"er) is not a quotation.
    spans = [(start, end) for start, end in spans
             if not (start > 1 and text[start - 2].isalnum())
             and not (end + 1 < len(text) and text[end + 1].isalnum())]
    opened: int | None = None
    for i, ch in enumerate(text):
        if ch not in _SINGLE_QUOTES:
            continue
        before = text[i - 1] if i else ""
        after = text[i + 1] if i + 1 < len(text) else ""
        if before.isalnum() and after.isalnum():
            continue  # it's, Kai's: an apostrophe
        can_open = (not before or before.isspace() or before in _BEFORE_OPENING) \
            and bool(after) and not after.isspace()
        can_close = bool(before) and not before.isspace() \
            and (not after or after.isspace() or after in _AFTER_CLOSING)
        if opened is None and can_open:
            opened = i
        elif opened is not None and can_close:
            spans.append((opened + 1, i))
            opened = None
    return spans


# ---------------------------------------------------------------------------------------------
# The check


def _negated(reading: _Normalised, first_token: int) -> bool:
    """The phrase follows "not", "never", "isn't"...: the writer is rejecting the dismissal."""
    k = first_token
    skipped = 0
    while k > 0 and reading.tokens[k].spaced_only:
        before = reading.tokens[k - 1].text
        if before in _NEGATIONS:
            return True
        if before not in _BETWEEN_NEGATION or skipped == 2:
            return False
        skipped += 1
        k -= 1
    return False


def _typed(text: str, lo: int, hi: int) -> str:
    return " ".join(text[lo:hi + 1].split())


def _hits(text: str) -> list[tuple[int, int]]:
    """Every unexcused dismissive phrase, as (first, last) indexes into text."""
    quoted = _quoted(text)
    hits: set[tuple[int, int]] = set()

    def consider(reading: _Normalised, first_token: int, last_token: int,
                 check: _Filter | None) -> None:
        lo = reading.tokens[first_token].chars[0].lo
        hi = reading.tokens[last_token].chars[-1].hi
        if _negated(reading, first_token):
            return
        if check is not None and check(reading, last_token, _typed(text, lo, hi)):
            return
        hits.add((lo, hi))

    for reading in _readings(text, quoted):
        for pattern, check in _PATTERNS:
            for m in pattern.finditer(reading.text):
                start, end = m.span(1)
                consider(reading, reading.token_at[start], reading.token_at[end - 1], check)
        tokens = reading.tokens
        for first in range(len(tokens)):
            for size in (2, 3):
                if first + size > len(tokens):
                    break
                joined = _squash("".join(t.text for t in tokens[first:first + size]))
                if _SPLIT_WORDS.fullmatch(joined):
                    consider(reading, first, first + size - 1, None)
    return sorted(hits)


def find_dismissive(text: str | None) -> str | None:
    """The first phrase in `text` that dismisses abusive behaviour as normal (R3), as typed."""
    if not text:
        return None
    hits = _hits(text)
    if not hits:
        return None
    lo, hi = hits[0]
    return _typed(text, lo, hi)
