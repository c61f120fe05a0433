"""Argon2id password hashing, with rehash on sign-in when the cost settings change."""

from __future__ import annotations

import threading

from argon2 import PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from zxcvbn import zxcvbn

MIN_LENGTH = 12
# zxcvbn's score (0-4) below which a password is refused: common passwords and their easy
# variants ("password1234", "Qwertyuiop12!") score 0-2; a few random words score 4 (NCSC:
# block the passwords attackers try first, rather than demand symbols).
MIN_STRENGTH = 3


class Passwords:
    """Argon2id hashing. At most `max_concurrent` hashes are computed at once in one process
    (each takes `memory_kib`): a burst of sign-ins waits its turn instead of exhausting memory."""

    def __init__(self, time_cost: int = 3, memory_kib: int = 65536,
                 max_concurrent: int = 2) -> None:
        self._hasher = PasswordHasher(
            time_cost=time_cost, memory_cost=memory_kib, parallelism=1, type=Type.ID
        )
        self._slots = threading.BoundedSemaphore(max(1, max_concurrent))

    def hash(self, password: str) -> str:
        with self._slots:
            return self._hasher.hash(password)

    def verify(self, stored_hash: str, password: str) -> bool:
        try:
            with self._slots:
                return self._hasher.verify(stored_hash, password)
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return False

    def needs_rehash(self, stored_hash: str) -> bool:
        return self._hasher.check_needs_rehash(stored_hash)


def password_problem(password: str) -> str | None:
    """A plain-English reason the password is not acceptable, or None."""
    if len(password) < MIN_LENGTH:
        return f"Password must be {MIN_LENGTH} characters or more"
    if password.strip() != password:
        return "Password must not start or end with a space"
    # Only the first 72 characters are scored (zxcvbn refuses longer input, and its work grows
    # with the length): a password that long is not a common one.
    if zxcvbn(password[:72])["score"] < MIN_STRENGTH:
        return ("Password is too easy to guess: it is, or is like, a password many people use. "
                "Use three or four random words instead")
    return None
