"""A mandatory route's own record of being handed over (RULES.md R4), other than the referral
to children's social care (which is the `Referral` sent through the portal).

One row per report: to the police, the 999 call, a referral to adult social care. Append-only
(R5): a correction is an `Addendum` on the row, never an edit. What was said and to whom is
encrypted under the school's key; the route code and the times stay plain for the dashboard.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import TYPE_CHECKING, Final

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .accounts import User
from .base import Base, Encrypted, IdMixin, UTCDateTime, corrections_of, enc_column, utcnow

if TYPE_CHECKING:
    from .records import Addendum

# The routes handed over by a record of their own (csc_referral: by the portal's referral).
RECORDED_ROUTES: Final = ("police_emergency", "police", "adult_social_care")
# csc_referral to an authority that does not use the portal: the DSL refers by its own front
# door (phone, online form, secure email) and records it here, one row per authority.
OUTSIDE_REFERRAL_ROUTE: Final = "csc_referral"
# How a referral reached an authority's front door outside the portal: each code with the words
# a record's sentence uses and the words the form offers (services/handover.py).
REFERRAL_METHOD_WORDS: Final = {
    "phone": ("by phone", "By phone to its front door or consultation line"),
    "online_form": ("through its online referral form", "Through its online referral form"),
    "secure_email": ("by secure email", "By secure email"),
}
REFERRAL_METHODS: Final = {code: said for code, (said, _) in REFERRAL_METHOD_WORDS.items()}
# How a report reached the police (route `police`), the same way.
POLICE_METHOD_WORDS: Final = {
    "999": ("by calling 999", "Called 999"),
    "101": ("by calling 101", "Called 101"),
    "online": ("online", "Reported online"),
    "in_person": ("in person at a police station", "In person at a police station"),
    "officer_at_school": ("to a police officer at the school",
                          "Told a police officer at the school"),
}
POLICE_METHODS: Final = {code: said for code, (said, _) in POLICE_METHOD_WORDS.items()}


class RouteHandover(IdMixin, Base):
    """The police told, the 999 call, adult social care told: when, how, to whom, reference."""

    __tablename__ = "route_handovers"
    __table_args__ = (
        # The dashboard asks, for its open incidents, which routes have their record.
        Index("ix_route_handovers_incident_route", "incident_id", "route"),
    )

    school_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("schools.id"), index=True)
    incident_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("incidents.id"))
    route: Mapped[str] = mapped_column(String(32))
    # When the police were told, the 999 call was made, the referral was made.
    happened_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    # `police`: a code of POLICE_METHODS; `csc_referral`: a code of REFERRAL_METHODS.
    method: Mapped[str | None] = mapped_column(String(24))
    # `csc_referral` only: the authority referred to outside the portal (a directory code).
    local_authority_code: Mapped[str | None] = mapped_column(String(40))
    recorded_by_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"))
    recorded_by: Mapped[User] = relationship()
    # Its corrections (R5), oldest first: read with it where a page asks (viewonly).
    corrections: Mapped[list[Addendum]] = corrections_of("RouteHandover", "route_handover")
    recorded_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    force_enc: Mapped[bytes | None] = enc_column()
    reference_enc: Mapped[bytes | None] = enc_column()
    no_reference_reason_enc: Mapped[bytes | None] = enc_column()
    caller_enc: Mapped[bytes | None] = enc_column()
    recipient_enc: Mapped[bytes | None] = enc_column()

    force = Encrypted[str]()  # police: which force
    reference = Encrypted[str]()  # the police reference, 999 incident number, ASC reference
    no_reference_reason = Encrypted[str]()  # police: why there is no reference yet
    caller = Encrypted[str]()  # police_emergency: who called
    recipient = Encrypted[str]()  # adult_social_care, csc_referral: which team or person
