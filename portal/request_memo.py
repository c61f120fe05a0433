"""A per-request memo for the services (reached through `portal.registry.request_memo`).

Something a page asks for many times within one web request and that cannot change within it
(the authority directory: a dashboard asks for it for every incident) is built once and kept in
the request's environ; outside a request there is no memo and it is built afresh each time.
"""

from __future__ import annotations

from typing import Any

from flask import has_request_context, request

_KEY = "portal.memo"


def memo() -> dict[str, Any] | None:
    """This request's memo, or None outside a request."""
    if not has_request_context():
        return None
    found: dict[str, Any] = request.environ.setdefault(_KEY, {})
    return found
