# ruff: noqa: RUF001  (curly quotes, guillemets and look-alike letters are what is under test)
"""R3 never dismissed as normal: the one check in portal.rules.dismissive, table by table.

Each row is (text, what find_dismissive must return as typed) for refusals, or a text that must be
accepted. The rules these tables follow are in the module's docstring.
"""

from __future__ import annotations

import pytest

from portal.refusal import Refused
from portal.rules.dismissive import DISMISSIVE_MESSAGE, dismissive_message, find_dismissive
from portal.services import recording, referrals

REFUSED: list[tuple[str, str]] = [
    # The phrases, plain.
    ("banter", "banter"),
    ("It was just banter between friends", "banter"),
    ("bantz", "bantz"),
    ("only bants", "bants"),
    ("It's a joke", "It's a joke"),
    ("it was just a joke", "just a joke"),
    ("he was joking", "was joking"),
    ("They were only JOKING", "only JOKING"),
    ("He said it was all a joke.", "all a joke"),
    ("joking around", "joking around"),
    ("just kidding", "just kidding"),
    ("only kidding", "only kidding"),
    ("jk", "jk"),
    ("having a laugh", "having a laugh"),
    ("having a laff", "having a laff"),
    ("it was all a larf", "all a larf"),
    ("they did it for a laugh", "for a laugh"),
    ("boys will be boys", "boys will be boys"),
    ("Boys being boys", "Boys being boys"),
    ("girls will be girls", "girls will be girls"),
    ("kids being kids", "kids being kids"),
    ("part of growing up", "part of growing up"),
    ("It is all part of growing up.", "part of growing up"),
    ("horseplay", "horseplay"),
    ("horse play", "horse play"),
    ("horsing around in the changing room", "horsing around"),
    ("It was a prank", "prank"),
    ("pranking each other", "pranking"),
    ("just messing about", "messing about"),
    ("messing around", "messing around"),
    ("mucking about", "mucking about"),
    ("play fighting", "play fighting"),
    ("a play fight at break", "play fight"),
    ("normal for their age", "normal for their age"),
    ("experimenting", "experimenting"),
    ("They were just experimenting", "just experimenting"),
    ("attention seeking", "attention seeking"),
    ("attention-seeking", "attention-seeking"),
    ("she asked for it", "asked for it"),
    ("She was asking for it.", "asking for it"),
    ("harmless fun", "harmless fun"),
    ("rough and tumble", "rough and tumble"),
    ("rough & tumble", "rough & tumble"),
    ("normal teenage behaviour", "normal teenage behaviour"),
    # Case, accents, look-alike letters.
    ("It was BANTER", "BANTER"),
    ("BÄNTÉR", "BÄNTÉR"),
    ("bañter", "bañter"),
    ("b\u0430nter", "b\u0430nter"),  # Cyrillic a
    ("ｂａｎｔｅｒ", "ｂａｎｔｅｒ"),  # full-width letters
    # Repeated letters.
    ("baaanter", "baaanter"),
    ("it was just a jooooke", "just a jooooke"),
    ("bOyS wIlL bE bOyS", "bOyS wIlL bE bOyS"),
    # Digits and symbols for letters.
    ("b4nter", "b4nter"),
    ("b@nter", "b@nter"),
    ("it was just a j0k3", "just a j0k3"),
    ("having a l4ugh", "having a l4ugh"),
    ("p4rt of gr0wing up", "p4rt of gr0wing up"),
    ("boys w1ll be boys", "boys w1ll be boys"),
    ("p1ay f1ghting", "p1ay f1ghting"),
    ("rough and tumb1e", "rough and tumb1e"),
    ("j0k!ng ar0und", "j0k!ng ar0und"),
    ("hor$eplay", "hor$eplay"),
    # Spacing and punctuation inside a word; zero-width characters.
    ("b a n t e r", "b a n t e r"),
    ("b.a.n.t.e.r", "b.a.n.t.e.r"),
    ("ban-ter", "ban-ter"),
    ("ban ter", "ban ter"),
    ("b_a_n_t_e_r", "b_a_n_t_e_r"),
    ("ban\u200bter", "ban\u200bter"),
    ("ban\u00adter", "ban\u00adter"),
    ("It was a b a n t e r thing", "b a n t e r"),
    ("it was a j o k e", "it was a j o k e"),
    ("j/k", "j/k"),
    ("horse-play", "horse-play"),
    ("play-fighting", "play-fighting"),
    ("boys-will-be-boys", "boys-will-be-boys"),
    ("it was banter.Then he left", "banter"),
    ("banter!", "banter"),
    # Reported speech without quotes, or with quotes not closed or around other words.
    ("he said it was just banter", "banter"),
    ("He said it was 'just banter", "banter"),
    ('He said it was "just banter', "banter"),
    ('"just" banter', "banter"),
    ('ban"t"er', 'ban"t"er'),
    # Saying it is not abuse is not a negation of the dismissal.
    ("It was banter, not abuse", "banter"),
    ("No, just banter", "banter"),
    ("Nothing more than banter", "banter"),
]

ACCEPTED: list[str] = [
    # Honest records.
    "Kai pressured Mia for an image; referral made.",
    "Parents were told on Monday by the DSL.",
    "She said it was not funny",
    # Other words that contain the letters.
    "Banterbury Road CCTV checked",
    "The jokester app was used",
    "urban terrain",
    "urban-terrain",
    "The ban terminated at half term",
    "the Joker card",
    "a jokey tone",
    "We experimented with a new seating plan.",
    "Year 11 pupils in room 4, C0001 and C0002",
    "Mia said she was laughing with friends before it happened",
    "the boys' changing room",
    "Kai's phone was taken",
    # Naming a sexual "joke" is describing the behaviour, not excusing it.
    "Kai made sexual jokes about Mia in the group chat",
    "We discussed the joke he made with his parents",
    # Requests, not "asking for it".
    "She asked for it to stop",
    "Mia asked for it back",
    "Mia asked for it to be deleted",
    # A prank call is a call.
    "He made a prank call to her house",
    # Initials in capitals (R6), not "just kidding".
    "JK (C0003) saw it",
    "J.K. was present",
    # Rejecting the dismissal.
    "This was not banter",
    "It isn't just a joke",
    "This is not boys being boys: it is sexual harassment",
    "It was never harmless fun",
    # Someone else's words, in quotes (each style).
    "he said it was 'just banter'",
    'he said it was "just banter"',
    "She told me it was “a joke”",
    "She told me it was ‘a joke’",
    "Kai called it «banter» when asked",
    "Kai called it ‹banter› when asked",
    "Kai called it „banter“ when asked",
    'they called it "horseplay"',
    "they called it ‘horseplay’",
    "his mum said 'boys will be boys' and we challenged this",
    "Kai said it was 'only kidding', but Mia was upset",
    "the boys' answer was 'just banter'",
    "“It was b4nter,” Kai said.",
]


@pytest.mark.parametrize(("text", "typed"), REFUSED)
def test_refused(text: str, typed: str | None) -> None:
    assert find_dismissive(text) == typed


@pytest.mark.parametrize("text", ACCEPTED)
def test_accepted(text: str) -> None:
    assert find_dismissive(text) is None


def test_nothing_to_check() -> None:
    assert find_dismissive(None) is None
    assert find_dismissive("") is None


def test_message_quotes_what_was_typed_and_explains_why() -> None:
    message = dismissive_message("b4nter")
    assert message.startswith("You wrote “b4nter”. ")
    assert message.endswith(DISMISSIVE_MESSAGE)
    # The source (seed 000) cited by its name, as every page cites it (issue 14).
    assert "never normal" in DISMISSIVE_MESSAGE
    assert "Derby and Derbyshire procedure, Children who Present a Risk of Harm to Others" in (
        DISMISSIVE_MESSAGE)
    assert "quotation marks" in DISMISSIVE_MESSAGE


def test_recording_and_referrals_give_the_same_message() -> None:
    text = "It was just b4nter"
    with pytest.raises(Refused) as recorded:
        recording.check_reasons(text)
    with pytest.raises(Refused) as referred:
        referrals.check_reasons(text)
    assert recorded.value.rule == "R3"
    assert recorded.value.message == str(referred.value) == dismissive_message("b4nter")


def test_services_use_the_one_module() -> None:
    assert referrals.check_reasons is recording.check_reasons  # one R2/R3 check, not two
    assert recording.find_dismissive is find_dismissive
    assert recording.DISMISSIVE_MESSAGE is DISMISSIVE_MESSAGE
    assert not hasattr(referrals, "_DISMISSIVE")
