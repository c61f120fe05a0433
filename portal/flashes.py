"""Messages shown once on the next page ("... is saved") that name a child, without the name
in the session cookie.

Flask keeps flashed messages in its session: a cookie that is signed, not encrypted, so any text
put there can be read from the browser's cookies until the next page shows it. A message naming
a child therefore holds the child's id and the words around the name; the name is read again, as
the signed-in user may see it, when the message is shown (`flash_text`, used by
templates/_partials/flash.html).
"""

from __future__ import annotations

import uuid
from typing import Any, Final

from flask import flash
from flask_login import current_user
from werkzeug.exceptions import NotFound

from . import access

NAME: Final = "{name}"  # where the child's name goes in a message's words
_UNKNOWN: Final = "the child"  # a child the user can no longer see (merged, or moved away)

# A message to flash: words, or words naming a child (`naming`).
Message = str | dict[str, str]


def naming(child_id: uuid.UUID, words: str) -> dict[str, str]:
    """A message of `words`, `NAME` in them replaced when shown by the full name of the child
    `child_id` (a dict, not text: Flask's session serialiser keeps it as it is)."""
    return {"words": words, "child": str(child_id)}


def flash_naming(child_id: uuid.UUID, words: str, category: str = "success") -> None:
    """Show `words` on the next page, naming the child `child_id` (`naming`)."""
    flash(naming(child_id, words), category)  # type: ignore[arg-type]


def flash_text(message: Any) -> str:
    """A flashed message in words: as flashed, or with the child's name put back in."""
    if not isinstance(message, dict):
        return str(message)
    words = str(message.get("words", ""))
    try:
        name = access.get_child_or_404(current_user, message.get("child")).full_name
    except (NotFound, ValueError):
        name = ""
    if not name:  # (a file destroyed at the end of its retention names no one)
        name = _UNKNOWN.capitalize() if words.startswith(NAME) else _UNKNOWN
    return words.replace(NAME, name)
