"""Passwords attackers try first are refused wherever a password is chosen (one rule)."""

from __future__ import annotations

import pytest

from portal.passwords import password_problem


@pytest.mark.parametrize("weak", ["password1234", "Password1234!", "qwertyuiop12",
                                  "123456789012", "iloveyou1234", "aaaaaaaaaaaa"])
def test_common_passwords_are_refused(weak: str) -> None:
    problem = password_problem(weak)
    assert problem is not None and "too easy to guess" in problem


@pytest.mark.parametrize("good", ["correct horse battery staple", "a-new-password-2026",
                                  "rowan's own password", "Ďáblova řeka 7 mostů"])
def test_random_words_are_accepted(good: str) -> None:
    assert password_problem(good) is None



def test_a_long_passphrase_is_accepted() -> None:
    """zxcvbn refuses input over 72 characters: a long passphrase must still be checked and
    accepted, never an error."""
    assert password_problem(" ".join(["the quiet heron waits by the canal lock"] * 4)) is None
