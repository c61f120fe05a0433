"""Accounts and their server-side sessions."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Final

from sqlalchemy import Boolean, ForeignKey, Integer, LargeBinary, String, Uuid, false
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import Base, Encrypted, IdMixin, UTCDateTime, enc_column, holder_org, utcnow
from .orgs import LocalAuthority, School

ROLES: Final = ("staff", "dsl", "la_adviser", "admin")
ROLE_LABELS: Final = {
    "staff": "Member of staff",
    "dsl": "Designated safeguarding lead",
    "la_adviser": "Local authority adviser",
    "admin": "Administrator",
}
# Roles that must sign in with a second factor.
TWO_FACTOR_ROLES: Final = frozenset({"dsl", "la_adviser", "admin"})

# Whether an account may use its role (see docs/security.md, "Administrators"):
#   approved         yes
#   awaiting_peer    a new DSL (or a role change to DSL) of a school that has DSLs, or a new
#                    adviser of an authority that has advisers: one of them must approve first;
#                    the account can sign in but reads nothing
#   awaiting_admin   a school's first DSL (an authority's first adviser): proposed by one
#                    administrator, to be confirmed by a different one (four eyes); until then
#                    no set-up link is sent
#   declined         a DSL of the school (adviser of the authority) declined it, with reasons;
#                    the account reads nothing
APPROVALS: Final = ("approved", "awaiting_peer", "awaiting_admin", "declined")


class User(IdMixin, Base):
    __tablename__ = "users"

    email: Mapped[str] = mapped_column(String(254), unique=True)
    display_name: Mapped[str] = mapped_column(String(120))
    role: Mapped[str] = mapped_column(String(16))
    school_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("schools.id"), index=True)
    local_authority_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("local_authorities.id"), index=True
    )
    password_hash: Mapped[str] = mapped_column(String(255))
    password_changed_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    totp_secret_enc: Mapped[bytes | None] = enc_column()
    totp_enrolled: Mapped[bool] = mapped_column(Boolean, default=False)
    # The last TOTP time step accepted: a code from that step or earlier is refused (no reuse).
    totp_last_step: Mapped[int] = mapped_column(Integer, default=0)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    failed_logins: Mapped[int] = mapped_column(Integer, default=0)
    failed_window_start: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    locked_until: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    last_login_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    # The one-time set-up link (own password, own authenticator app): only its SHA-256 is kept.
    # A new link replaces the hash, so the previous link stops working; using it clears it.
    setup_token_hash: Mapped[bytes | None] = mapped_column(LargeBinary(32), index=True)
    setup_expires_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    # True from creation until the person has chosen their own password through the link.
    setup_pending: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    approval: Mapped[str] = mapped_column(String(16), default="approved",
                                          server_default="approved")
    # The administrator who proposed a first DSL (the confirming one must be someone else).
    proposed_by_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    # The role held before a change to DSL that is waiting for approval (restored if declined).
    previous_role: Mapped[str | None] = mapped_column(String(16))
    declined_reasons_enc: Mapped[bytes | None] = enc_column()
    # A DSL's contact details for the referrals they hand over (issue 14), asked at the
    # hand-over and remembered: role (job title), direct phone and when they can be reached.
    job_title_enc: Mapped[bytes | None] = enc_column()
    direct_phone_enc: Mapped[bytes | None] = enc_column()
    availability_enc: Mapped[bytes | None] = enc_column()
    # Who an unopened urgent concern is escalated to (docs/mail.md): a school's deputy DSLs
    # (DSL accounts with this flag) and its headteacher (one account of the school).
    deputy_dsl: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    headteacher: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())

    school: Mapped[School | None] = relationship()
    local_authority: Mapped[LocalAuthority | None] = relationship()

    totp_secret = Encrypted[str](org_attr="org_id")
    declined_reasons = Encrypted[str](org_attr="org_id")
    job_title = Encrypted[str](org_attr="org_id")
    direct_phone = Encrypted[str](org_attr="org_id")
    availability = Encrypted[str](org_attr="org_id")

    @property
    def approved(self) -> bool:
        return self.approval == "approved"

    @property
    def org_id(self) -> str:
        """The organisation whose key protects this account's secrets."""
        return holder_org(self.school_id, self.local_authority_id)

    @property
    def needs_two_factor(self) -> bool:
        return self.role in TWO_FACTOR_ROLES

    # Flask-Login protocol: the session id, not the user id, identifies a signed-in session.
    @property
    def is_active(self) -> bool:
        return self.active

    @property
    def is_authenticated(self) -> bool:
        return True

    @property
    def is_anonymous(self) -> bool:
        return False

    def get_id(self) -> str:
        return str(self.id)


class AuthSession(Base):
    """A signed-in session held on the server; the cookie carries only its random token.

    Logging out, changing the password or disabling the account revokes rows here, which ends
    the session at once wherever the cookie is.
    """

    __tablename__ = "auth_sessions"

    # SHA-256 of the token: a stolen database does not give usable session cookies.
    token_hash: Mapped[bytes] = mapped_column(LargeBinary(32), primary_key=True)
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"), index=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_seen_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Set once the password and (where required) the second factor have both been checked.
    two_factor_done: Mapped[bool] = mapped_column(Boolean, default=False)
    revoked_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    revoked_reason: Mapped[str | None] = mapped_column(String(40))

    user: Mapped[User] = relationship()


class UnknownAddressThrottle(Base):
    """Failed sign-ins with an email address that has no account, counted exactly as an
    account's are (the same three columns as on `users`, the same compare-and-set in
    services/accounts.py), so that "Too many attempts" comes after the same number of tries for
    the same time whether or not the address has an account (docs/security.md 5).

    Keyed by a blind index (HMAC) of the normalised address: the address is never stored."""

    __tablename__ = "sign_in_unknown_addresses"

    address_index: Mapped[str] = mapped_column(String(64), primary_key=True)
    failed_logins: Mapped[int] = mapped_column(Integer, default=0)
    failed_window_start: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    locked_until: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    # For clearing out rows no longer needed (their back-off long over).
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
