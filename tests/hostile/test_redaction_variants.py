"""Issue 11, item 13 (R6): another child's name written without its accent, in capitals, with
its accent as a separate mark, spelt out letter by letter, or with its parts joined differently
is still redacted from a child's file. Names are folded as the roll's search normalises them
(crypto.normalise_for_index), and without accents (crypto.fold_for_match)."""

from __future__ import annotations

import pytest

from portal.crypto import fold_for_match, normalise_for_index
from portal.services.chronology import redact
from tests import factories


@pytest.mark.parametrize("written", [
    "Maisie", "MAISIE", "maisíe", "Maisi\u0301e", "M a i s i e", "M.A.I.S.I.E", "M-a-i-s-i-e",
    "\uff2d\uff41\uff49\uff53\u00ed\uff45",  # full-width letters
    "Maisie Dúbhghaill", "Maisíe Dubhghaill", "DUBHGHAILL", "Dubhghaill's",
    "M a i s i e  D u b h g h a i l l",
])
def test_variants_of_a_name_are_redacted(app, written: str) -> None:
    s = factories.school()
    harmed = factories.child(s, given="Ava", family="Stone")
    other = factories.child(s, given="Maisíe", family="Dúbhghaill")
    out = redact(f"At lunch {written} took the phone.", [harmed, other], in_file_of=harmed)
    assert out.startswith("At lunch ") and out.endswith(" took the phone.")
    assert other.redacted_label in out
    folded = fold_for_match(out.replace(" ", "").replace(".", "").replace("-", ""))
    assert "maisie" not in folded and "dubhghaill" not in folded, out


def test_parts_joined_differently_are_redacted(app) -> None:
    s = factories.school()
    harmed = factories.child(s, given="Ava", family="Stone")
    other = factories.child(s, given="Mary Jane", family="Oyelaran-Price")
    for written in ("Mary-Jane", "MaryJane", "mary jane", "Oyelaran Price", "OyelaranPrice"):
        out = redact(f"{written} was there", [harmed, other], in_file_of=harmed)
        assert out == f"{other.redacted_label} was there", (written, out)


def test_ordinary_words_are_left_alone(app) -> None:
    s = factories.school()
    harmed = factories.child(s, given="Ava", family="Stone")
    other = factories.child(s, given="Isa", family="Lee")
    text = "He said it is a game. A b c d. The leeway was fine; Isabel came."
    assert redact(text, [harmed, other], in_file_of=harmed) == text


def test_the_shared_normaliser_is_the_roll_searchs_plus_accents() -> None:
    for value in ("  Maisíe   DÚBHGHAILL ", "\uff2d\uff41\uff49\uff53\uff49\uff45"):
        assert fold_for_match(value) == fold_for_match(normalise_for_index(value))
    assert fold_for_match("Maisíe  Dúbhghaill") == "maisie dubhghaill"
