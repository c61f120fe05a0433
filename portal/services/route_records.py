"""Each route handover record in plain words (RULES.md R4): the one wording, shared by the
incident page, each child's file and the referral packet the local authority reads."""

from __future__ import annotations

from .. import wording
from ..models import OUTSIDE_REFERRAL_ROUTE, POLICE_METHODS, REFERRAL_METHODS, RouteHandover
from ..rules import Directory
from .localtime import directory_from_db

__all__ = ["record_text"]


def record_text(record: RouteHandover, directory: Directory | None = None) -> str:
    """One record in plain words: 'Reported to Derbyshire Constabulary on 30 November 2026 at
    10:15 by calling 101, reference 14/1234/26'."""
    when = wording.when(record.happened_at)
    if record.route == OUTSIDE_REFERRAL_ROUTE:
        method = REFERRAL_METHODS.get(record.method or "", "")
        authority = _authority_name(record.local_authority_code, directory)
        text = (f"Referral made outside the portal to {authority} on {when}"
                + (f" {method}" if method else "") + f", to {record.recipient}")
        if record.reference:
            return f"{text}, reference {record.reference}"
        return f"{text}. No reference yet: {record.no_reference_reason}"
    if record.route == "police":
        method = POLICE_METHODS.get(record.method or "", "")
        text = f"Reported to {record.force} on {when}" + (f" {method}" if method else "")
        if record.reference:
            return f"{text}, reference {record.reference}"
        return f"{text}. No police reference yet: {record.no_reference_reason}"
    if record.route == "police_emergency":
        text = f"999 called by {record.caller} on {when}"
        if record.reference:
            return f"{text}, incident number {record.reference}"
        return f"{text}. No incident number given"
    if record.route == "adult_social_care":
        text = f"Referred to {record.recipient} on {when}"
        if record.reference:
            return f"{text}, reference {record.reference}"
        return f"{text}. No reference given"
    return f"Recorded on {when}"


def _authority_name(code: str | None, directory: Directory | None = None) -> str:
    """An authority's name in words (never its code) for a record's text."""
    if not code:
        return "the local authority"
    directory = directory if directory is not None else directory_from_db()
    return directory[code].name if code in directory else "a local authority no longer listed"
