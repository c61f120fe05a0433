"""What a refused or failed form shows back as typed (portal/failures.py `posted`): the texts,
never a value the page made (a walk saw "Digest 364a2426dcf9..." among what was typed)."""

from __future__ import annotations

from flask import Flask

from portal.failures import posted


def test_typed_texts_are_shown_and_the_pages_own_values_are_not(app: Flask) -> None:
    digest = "364a2426dcf9" * 5 + "abcd"
    typed = "He said it again at lunch.\nقال ذلك مرة أخرى."  # noqa: RUF001
    data = {"csrf_token": "x", "digest": digest, "moved_day": "14", "reasons": typed,
            "school": "0b5f3f6e-8d0b-4c57-9e0e-2f0f3f1c9a11",
            "words": "他今天又说了一遍这句话在午饭的时候当着全班同学的面说的"}
    with app.test_request_context("/", method="POST", data=data):
        shown, hidden = posted()
    assert [(name, value) for name, _, value in shown] == [
        ("reasons", typed), ("words", data["words"])]
    assert ("digest", digest) in hidden and ("moved_day", "14") in hidden
