"""The one check for every `next` / return-to target: a path on this site, nothing else.

Browsers are forgiving about what they treat as "another host": `//evil`, `/\\evil`, `/\t/evil`
(tabs and newlines are stripped before parsing), `https:evil`, and a few Unicode characters that
some clients fold to a slash. Rather than list the bad forms, only one shape is allowed: a single
`/` followed by a character that is neither `/` nor `\\`, and after that printable ASCII only
(no controls, no spaces, no backslashes, nothing outside ASCII). Anything else is refused, so the
caller falls back to its default page.
"""

from __future__ import annotations

import re

# A single "/" then one safe character, then printable ASCII without backslash or space.
_SAFE_PATH = re.compile(r"/(?:[!-.0-\[\]-~][!-\[\]-~]*)?")
MAX_LENGTH = 2048


def safe_next(target: object) -> str | None:
    """`target` if it is a plain path on this site, else None."""
    if not isinstance(target, str) or not target or len(target) > MAX_LENGTH:
        return None
    if not _SAFE_PATH.fullmatch(target):
        return None
    lowered = target.lower()
    # Percent-encoded slashes, backslashes and controls are refused too: a proxy or a later
    # redirect may decode them once.
    if re.search(r"%(?:2f|5c|0[0-9a-f]|1[0-9a-f]|7f|e2|ef|c0|c1)", lowered):
        return None
    return target
