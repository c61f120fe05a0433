"""More information about a referral already sent (a walk: a parents' answer changed after the
referral went, and the only way to tell the authority was to phone).

The school's DSL sends it from the referral's page or the incident's; it is encrypted under the
authority's key as the packet is, goes into each child's chronology at the school (the school's
own record of what it told whom), and every adviser of the authority is emailed a link (nothing
about the children). Until an adviser says they have read it ("I have read it": not by opening
the page, a walk found it marked read while a screen below, unseen) it keeps the referral off
the settled list (`Referral.updates_unread`, read by `settled_rule`), so the inbox lists it
first, and the referral's page says so at the top; the school then sees who read it and when.
"""

from __future__ import annotations

import datetime as dt
from typing import Final

from sqlalchemy import select
from sqlalchemy.orm import joinedload

from .. import audit
from ..models import Incident, LocalAuthority, Referral, ReferralUpdate, User, db
from ..refusal import Problem, Refused
from . import chronology
from .packet import incident_children, reference_for
from .referrals import REFERRAL_UPDATE_ALERT, Alert, advisers_told

RULE: Final = "more_information"
MAX_UPDATE: Final = 10_000
# The chronology line's kind (its heading: "More information sent").
CHRONOLOGY_KIND: Final = "more_information_sent"


def send_update(user: User, referral: Referral, text: str, now: dt.datetime
                ) -> tuple[ReferralUpdate, list[Alert]]:
    """Send `text` to the referral's authority (flushed, audited; the caller commits and
    queues the alerts). Refused when empty or too long."""
    words = (text or "").strip()
    if not words:
        raise Refused(Problem(RULE, "text", "Enter what the local authority should know"))
    if len(words) > MAX_UPDATE:
        raise Refused(Problem(RULE, "text", f"What the local authority should know must be "
                                            f"{MAX_UPDATE:,} characters or fewer"))
    update = ReferralUpdate(referral_id=referral.id, local_authority_id=referral.local_authority_id,
                            school_id=referral.school_id, sent_by_id=user.id, sent_at=now)
    update.text = words
    db.session.add(update)
    referral.updates_unread = (referral.updates_unread or 0) + 1
    referral.updates_last_at = now
    db.session.flush()
    la = db.session.get(LocalAuthority, referral.local_authority_id)
    authority = la.name if la is not None else "the local authority"
    incident = db.session.get(Incident, referral.incident_id)
    assert incident is not None  # a referral's incident is never deleted (R1)
    chronology.add_to_each(
        [child for _, child in incident_children(incident)], CHRONOLOGY_KIND,
        f"More information sent to {authority} for referral {reference_for(referral.id)}: "
        f"{words}", author_id=user.id, incident=incident, source=update, occurred_at=now)
    for org_id in (referral.school_id, referral.local_authority_id):
        audit.record(audit.REFERRAL_UPDATE_SENT, org_id=str(org_id), actor_id=user.id,
                     object_type="referral", object_id=referral.id,
                     detail={"update": str(update.id)})
    advisers = advisers_told(referral.local_authority_id)
    alerts = [Alert(kind=REFERRAL_UPDATE_ALERT, referral_id=referral.id,
                    org_id=str(referral.local_authority_id), to=advisers)] if advisers else []
    return update, alerts


def updates_of(referral: Referral) -> list[ReferralUpdate]:
    """The more information sent about `referral`, oldest first, with who sent and read it
    (in the same statement: one each was read as the page showed it)."""
    return list(db.session.scalars(
        select(ReferralUpdate)
        .options(joinedload(ReferralUpdate.sent_by), joinedload(ReferralUpdate.read_by))
        .where(ReferralUpdate.referral_id == referral.id,
               ReferralUpdate.local_authority_id == referral.local_authority_id)
        .order_by(ReferralUpdate.sent_at, ReferralUpdate.id)))


def mark_read(user: User, referral: Referral, now: dt.datetime) -> list[ReferralUpdate]:
    """An adviser of the referral's authority has read the updates nobody of the authority had
    read (flushed, audited; the caller commits). The ones marked."""
    if user.role != "la_adviser" or user.local_authority_id != referral.local_authority_id:
        return []
    fresh = [u for u in updates_of(referral) if u.read_at is None]
    for update in fresh:
        update.read_by_id, update.read_at = user.id, now
    if fresh or referral.updates_unread:
        referral.updates_unread = 0
    if fresh:
        audit.record(audit.REFERRAL_UPDATE_READ, org_id=str(referral.local_authority_id),
                     actor_id=user.id, object_type="referral", object_id=referral.id,
                     detail={"updates": len(fresh)})
        db.session.flush()
    return fresh
