"""The safeguarding record: children, concerns, incidents, decisions and each child's chronology.

Names, dates of birth, narratives, the child's words and reasons are `Encrypted`: what belongs
to one child's file under that child's own key (`CHILD_KEY`), what is shared (a concern's or an
incident's narrative) under the school's key. Codes, ids and timestamps stay plain so queues and
counts work without decrypting. Nothing here is ever deleted (RULES.md R1, R5): corrections are
`Addendum` rows. The one exception is a file destroyed at the end of its retention by a DSL
(docs/retention.md, portal/services/retention.py).
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from typing import Any, Final

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    and_,
    select,
)
from sqlalchemy.ext.hybrid import hybrid_property
from sqlalchemy.orm import Mapped, aliased, mapped_column, relationship
from sqlalchemy.sql.elements import ColumnElement, UnaryExpression

from .. import names
from .accounts import User
from .base import (
    Base,
    Encrypted,
    IdMixin,
    UTCDateTime,
    child_key_org,
    corrections_of,
    enc_column,
    holder_org,
    new_id,
    utcnow,
)

# "recorded": read by a DSL and recorded without an incident (a `ConcernOutcome`, issue 13).
CONCERN_STATES: Final = ("draft", "submitted", "picked_up", "recorded")
# A concern not yet dealt with: sent, and neither recorded without an incident nor added to one
# (once "picked_up" it lives on in its incident, which is then what is open or closed).
CONCERN_NOT_DEALT_WITH: Final = ("submitted",)
INCIDENT_STATES: Final = ("open", "closed")


ROLL_STATUSES: Final = ("on_roll", "left", "not_on_roll")


# The fields of one child's file are encrypted under that child's key (`key_org`), so one
# child can be crypto-shredded alone at the end of retention (docs/security.md, "One child's
# key"). Values from before per-child keys still read under the school's key until `flask
# rekey-children` has moved them.
CHILD_KEY: Final = {"org_attr": "key_org", "legacy_org_attr": "school_id"}


class ChildKeyed:
    """A row of one child's file: its `Encrypted` fields use that child's key."""

    @property
    def key_org(self) -> str | None:
        child_id = getattr(self, "child_id", None)
        return None if child_id is None else child_key_org(child_id)


# How a child whose file was destroyed (services/retention.py) appears anywhere: no link.
DESTROYED_CHILD: Final = "A child whose file was destroyed"


class Child(IdMixin, Base):
    __tablename__ = "children"
    __table_args__ = (UniqueConstraint("school_id", "reference"),
                      # One child per UPN in a school (NULL for children not from the roll).
                      Index("uq_children_school_upn", "school_id", "upn_index", unique=True))

    school_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("schools.id"), index=True)
    # The school's reference number ("C0042"): other children's files show only this and initials.
    reference: Mapped[str] = mapped_column(String(20))
    given_name_enc: Mapped[bytes | None] = enc_column()
    family_name_enc: Mapped[bytes | None] = enc_column()
    # The name the child goes by, where it differs from the legal given name (from the roll).
    preferred_name_enc: Mapped[bytes | None] = enc_column()
    dob_enc: Mapped[bytes | None] = enc_column()
    send_enc: Mapped[bytes | None] = enc_column()
    # HMAC blind indexes for exact search by full name and by family name, never by decrypting.
    name_index: Mapped[str] = mapped_column(String(64), index=True)
    family_name_index: Mapped[str] = mapped_column(String(64), index=True)
    # Names the child was recorded under before (a DSL's correction, a change on the roll),
    # encrypted as JSON [[given, family], ...], and their family names' blind indexes (space
    # between): a text written under an earlier name is still redacted in other children's
    # files (R6), as the name was when it was written (`services.children.set_names`).
    former_names_enc: Mapped[bytes | None] = enc_column()
    former_family_indexes: Mapped[str | None] = mapped_column(Text)
    local_authority_code: Mapped[str | None] = mapped_column(String(40))
    # Children sharing a family group may see each other's names in their files (003 s4.6).
    family_group: Mapped[uuid.UUID | None] = mapped_column(index=True)
    # The school roll (docs/roll-import.md): "on_roll" (a pupil of the school's roll, who attends
    # it), "left" (was on the roll; kept, their file is needed) or "not_on_roll" (added by hand,
    # until matched to the roll). Plain, so lists and the import filter without decrypting.
    roll_status: Mapped[str] = mapped_column(String(16), default="on_roll",
                                             server_default="on_roll")
    # From the roll, encrypted: the UPN (matched only through its blind index `upn_index`, never
    # in clear), sex, year group, home address, the home authority as the roll wrote it when it
    # is not one the portal knows, and the day the pupil left.
    upn_enc: Mapped[bytes | None] = enc_column()
    upn_index: Mapped[str | None] = mapped_column(String(64))
    sex_enc: Mapped[bytes | None] = enc_column()
    year_group_enc: Mapped[bytes | None] = enc_column()
    address_enc: Mapped[bytes | None] = enc_column()
    home_authority_text_enc: Mapped[bytes | None] = enc_column()
    left_on_enc: Mapped[bytes | None] = enc_column()
    # What a multi-agency referral form asks for and the roll may not carry (issue 14), recorded
    # by a DSL (or from the roll where its file has the column), encrypted: first language,
    # whether an interpreter is needed, ethnicity, religion, GP and other agencies involved.
    first_language_enc: Mapped[bytes | None] = enc_column()
    interpreter_enc: Mapped[bytes | None] = enc_column()
    ethnicity_enc: Mapped[bytes | None] = enc_column()
    religion_enc: Mapped[bytes | None] = enc_column()
    gp_enc: Mapped[bytes | None] = enc_column()
    other_agencies_enc: Mapped[bytes | None] = enc_column()
    # A leaver's next school as the roll gives it (its URN), encrypted: where a child went is
    # sensitive. A school on the portal is offered the child's file (issue 16).
    destination_school_enc: Mapped[bytes | None] = enc_column()
    # A keyed hash of everything the roll says about the pupil: an import finds the unchanged
    # pupils without decrypting them (equal only for identical roll rows of the same school).
    roll_digest: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))
    # The version of the name search terms (`child_name_terms`) this child was indexed with;
    # 0: not yet (a child from before issue 13, indexed by `flask index-child-names`).
    search_version: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    # A second record of a child merged into another (`ChildMerge`): kept, never searched, and
    # its address leads to the child it was merged into. No foreign key (as
    # `Addendum.target_id`): the merge service sets it once, checking the link.
    merged_into_id: Mapped[uuid.UUID | None] = mapped_column(index=True)
    # When this child's file was destroyed at the end of retention (services/retention.py): the
    # row stays, with its reference only, so other children's files still say "a child"; every
    # encrypted field, search term and blind index of it is gone and its key shredded.
    destroyed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)

    given_name = Encrypted[str](**CHILD_KEY)
    family_name = Encrypted[str](**CHILD_KEY)
    preferred_name = Encrypted[str](**CHILD_KEY)
    dob = Encrypted[dt.date](**CHILD_KEY, kind="date")
    send = Encrypted[bool](**CHILD_KEY, kind="bool")
    upn = Encrypted[str](**CHILD_KEY)
    sex = Encrypted[str](**CHILD_KEY)
    year_group = Encrypted[str](**CHILD_KEY)
    address = Encrypted[str](**CHILD_KEY)
    home_authority_text = Encrypted[str](**CHILD_KEY)
    left_on = Encrypted[dt.date](**CHILD_KEY, kind="date")
    first_language = Encrypted[str](**CHILD_KEY)
    # An interpreter is needed: True yes, False no, None not known.
    interpreter = Encrypted[bool](**CHILD_KEY, kind="bool")
    ethnicity = Encrypted[str](**CHILD_KEY)
    religion = Encrypted[str](**CHILD_KEY)
    gp = Encrypted[str](**CHILD_KEY)  # the GP's name and practice, as the DSL writes them
    other_agencies = Encrypted[str](**CHILD_KEY)  # other agencies already involved, one a line
    destination_school = Encrypted[str](**CHILD_KEY)  # the URN of the school a leaver moved to
    former_names = Encrypted[str](**CHILD_KEY)  # JSON: `earlier_names`

    @property
    def earlier_names(self) -> list[tuple[str, str]]:
        """(given name, family name) the child was recorded under before, oldest first."""
        raw = self.former_names
        return [(str(given), str(family)) for given, family in json.loads(raw)] if raw else []

    @property
    def earlier_full_names(self) -> list[str]:
        """The names recorded before, each as it is written (`names.full_name`)."""
        return [names.full_name(given, family) for given, family in self.earlier_names]

    @property
    def recorded_before(self) -> str:
        """"Jon Smyth, John Smyth": the names recorded before as a reader meets them after
        "Recorded before as" ("" when none); the one place they are put into words."""
        return ", ".join(self.earlier_full_names)

    @property
    def key_org(self) -> str:
        """The key scope of this child's file (made on the first value written under it)."""
        if self.id is None:
            self.id = new_id()
        return child_key_org(self.id)

    @hybrid_property
    def on_roll(self) -> bool:
        """On the school's roll now (a pupil who left, or a child added by hand, is not)."""
        return self.roll_status == "on_roll"

    @on_roll.inplace.setter
    def _on_roll_setter(self, value: bool) -> None:
        self.roll_status = "on_roll" if value else "not_on_roll"

    @on_roll.inplace.expression
    @classmethod
    def _on_roll_expression(cls) -> ColumnElement[bool]:
        return cls.roll_status == "on_roll"

    @property
    def full_name(self) -> str:
        return names.full_name(self.given_name, self.family_name)

    @property
    def initials(self) -> str:
        """portal/names.py `initials`: never a character that can be a whole name ("王")."""
        return names.initials(self.given_name, self.family_name)

    @property
    def redacted_label(self) -> str:
        """How this child appears in another child's file: initials and reference only (the
        reference alone when every name part is in a script whose initial is a whole name; a
        child whose file was destroyed at the end of its retention: only that)."""
        if self.destroyed_at is not None:
            return DESTROYED_CHILD
        initials = self.initials
        return f"{initials} ({self.reference})" if initials else self.reference

    @property
    def named_label(self) -> str:
        """How this child appears to their own school's DSL: name and reference (a child whose
        file was destroyed: only that)."""
        if self.destroyed_at is not None:
            return DESTROYED_CHILD
        return f"{self.full_name} ({self.reference})"


class ChildNameTerm(Base):
    """One search term of a child's names, as a keyed hash (portal/names.py says which terms;
    portal/services/children.py `index_names` writes them; docs/security.md 3.4 what they
    reveal). Derived data: rebuilt from the encrypted names whenever they are set."""

    __tablename__ = "child_name_terms"
    __table_args__ = (Index("ix_child_name_terms_school_term", "school_id", "term"),)

    child_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("children.id"), primary_key=True)
    term: Mapped[str] = mapped_column(String(32), primary_key=True)
    school_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("schools.id"))


class ChildMerge(IdMixin, Base):
    """Two records of one child made one by a DSL: which was kept, who did it, when and why,
    the names and details chosen, and every row moved to the kept child (so it can be
    explained later). Append-only; the merged record stays, marked `merged_into_id`."""

    __tablename__ = "child_merges"

    school_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("schools.id"), index=True)
    kept_child_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("children.id"), index=True)
    merged_child_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("children.id"), index=True)
    merged_by_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"))
    merged_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Which record each detail was taken from ({"given_name": "kept" | "merged", ...}) and the
    # ids of the rows moved, by table (plain: ids and codes only).
    choices: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    moved: Mapped[dict[str, list[str]]] = mapped_column(JSON, default=dict)
    reasons_enc: Mapped[bytes | None] = enc_column()
    # The details of both records as they were before the merge (JSON), so nothing is lost.
    before_enc: Mapped[bytes | None] = enc_column()

    merged_by: Mapped[User] = relationship()

    reasons = Encrypted[str]()
    before = Encrypted[str]()


class Concern(IdMixin, Base):
    """Raised by any member of staff; once submitted it is never deleted or hidden (R1)."""

    __tablename__ = "concerns"
    # The dashboard's "new concerns" list and the overdue check read by school and state.
    # The alert batcher finds a school's concerns not yet in an alert, and its last alert.
    # Reports (issue 17) read a school's concerns sent in a period.
    __table_args__ = (Index("ix_concerns_school_state", "school_id", "state", "submitted_at"),
                      Index("ix_concerns_school_alerted", "school_id", "alerted_at"),
                      Index("ix_concerns_school_submitted", "school_id", "submitted_at"))

    school_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("schools.id"), index=True)
    raised_by_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"), index=True)
    state: Mapped[str] = mapped_column(String(16), default="submitted")
    occurred_on: Mapped[dt.date | None] = mapped_column(Date)
    online: Mapped[bool] = mapped_column(Boolean, default=False)
    urgent: Mapped[bool] = mapped_column(Boolean, default=False)
    what_happened_enc: Mapped[bytes | None] = enc_column()
    child_words_enc: Mapped[bytes | None] = enc_column()
    child_words_missing_reason_enc: Mapped[bytes | None] = enc_column()
    where_enc: Mapped[bytes | None] = enc_column()
    when_text_enc: Mapped[bytes | None] = enc_column()
    urgent_detail_enc: Mapped[bytes | None] = enc_column()
    submitted_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    picked_up_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    # When an alert email counting this concern went to the school's DSLs (None: not yet).
    alerted_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    # When a DSL of the school first opened it, and when it was escalated to the deputy DSLs
    # and the head because no DSL had (None: not yet).
    dsl_opened_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    escalated_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    picked_up_by_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))

    raised_by: Mapped[User] = relationship(foreign_keys=[raised_by_id])
    children: Mapped[list[ConcernChild]] = relationship(back_populates="concern")

    what_happened = Encrypted[str]()
    child_words = Encrypted[str]()
    child_words_missing_reason = Encrypted[str]()
    where = Encrypted[str]()
    when_text = Encrypted[str]()
    urgent_detail = Encrypted[str]()


class ConcernChild(IdMixin, Base):
    __tablename__ = "concern_children"
    __table_args__ = (UniqueConstraint("concern_id", "child_id"),)

    concern_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("concerns.id"), index=True)
    child_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("children.id"), index=True)

    concern: Mapped[Concern] = relationship(back_populates="children")
    child: Mapped[Child] = relationship()


class ConcernOutcome(IdMixin, Base):
    """A DSL's triage of a concern recorded without an incident (R1, R2): who, when, what, why,
    and for a concern of another kind the other route it took. Never edited or deleted: a
    correction is an `Addendum` (target_type "concern_outcome") that keeps the original (R5)."""

    __tablename__ = "concern_outcomes"

    school_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("schools.id"), index=True)
    concern_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("concerns.id"), index=True)
    # "no_further_action" | "other_concern"; for the latter, what kind and the route it took.
    kind: Mapped[str] = mapped_column(String(32))
    category: Mapped[str | None] = mapped_column(String(32))
    route: Mapped[str | None] = mapped_column(String(32))
    route_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    decided_by_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"))
    decided_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    reasons_enc: Mapped[bytes | None] = enc_column()
    route_detail_enc: Mapped[bytes | None] = enc_column()
    route_reference_enc: Mapped[bytes | None] = enc_column()

    decided_by: Mapped[User] = relationship()

    reasons = Encrypted[str]()
    route_detail = Encrypted[str]()
    route_reference = Encrypted[str]()


class FormDraft(IdMixin, Base):
    """What someone has typed into a form and not yet sent, encrypted, so nothing is lost to a
    lost signal or an expired session (portal/services/drafts.py, docs/security.md).

    One open draft per user and form: `form_key` names the form and the object it is about
    (the endpoint and its ids, e.g. "incidents.summary:<incident id>"; "concerns.new" for the
    staff concern form). Encrypted under the key of the user's organisation when it was saved
    (`org_id`: the school, the local authority, or the deployment's own key for
    administrators). The table keeps its first name (`concern_drafts`): the table name is bound
    into every encrypted value, so renaming it would make the drafts already saved unreadable.
    """

    __tablename__ = "concern_drafts"
    __table_args__ = (Index("ix_concern_drafts_user_form", "user_id", "form_key"),)

    school_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("schools.id"), index=True)
    local_authority_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("local_authorities.id"))
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"), index=True)
    form_key: Mapped[str] = mapped_column(String(160), default="concerns.new",
                                          server_default="concerns.new")
    data_enc: Mapped[bytes | None] = enc_column()
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    # The concern form only: the concern a sent draft became (its text is then cleared).
    submitted_concern_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("concerns.id"))

    data = Encrypted[str](org_attr="org_id")  # JSON of the form's fields

    @property
    def org_id(self) -> str:
        """The organisation whose key protects this draft (as `User.org_id`)."""
        return holder_org(self.school_id, self.local_authority_id)


# The staff concern form's drafts were the first of these: the old name still reads them.
ConcernDraft = FormDraft


class Incident(IdMixin, Base):
    """An incident a DSL records from one or more concerns. Facts follow RULES.md section 2.

    Each save appends an `IncidentRevision`; `version` guards against two DSLs silently
    overwriting each other.
    """

    __tablename__ = "incidents"
    __table_args__ = (
        UniqueConstraint("school_id", "reference"),
        # The dashboard's open incidents, by school and state.
        Index("ix_incidents_school_state", "school_id", "state", "opened_at"),
        # Reports (issue 17): a school's incidents opened in a period.
        Index("ix_incidents_school_opened", "school_id", "opened_at"),
    )

    school_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("schools.id"), index=True)
    reference: Mapped[str] = mapped_column(String(20))
    state: Mapped[str] = mapped_column(String(16), default="open", index=True)
    version: Mapped[int] = mapped_column(Integer, default=1)
    opened_by_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"))
    # Its corrections (R5), oldest first: read with it where a page asks (viewonly).
    corrections: Mapped[list[Addendum]] = corrections_of("Incident", "incident")
    # Its latest two assessments, newest first (the result, and what the last one changed):
    # read with it where a page asks (viewonly).
    last_two_assessments: Mapped[list[Assessment]] = relationship(
        primaryjoin=lambda: _last_two_assessments(), order_by=lambda: NEWEST_ASSESSMENT_FIRST,
        viewonly=True)
    opened_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    closed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    occurred_on: Mapped[dt.date | None] = mapped_column(Date)
    reported_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    online: Mapped[bool] = mapped_column(Boolean, default=False)
    sexual_activity: Mapped[bool] = mapped_column(Boolean, default=False)
    immediate_danger: Mapped[bool] = mapped_column(Boolean, default=False)
    crime_suspected: Mapped[bool] = mapped_column(Boolean, default=False)
    arrested: Mapped[bool] = mapped_column(Boolean, default=False)
    types: Mapped[list[str]] = mapped_column(JSON, default=list)
    features: Mapped[list[str]] = mapped_column(JSON, default=list)
    adults_harmed: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    summary_enc: Mapped[bytes | None] = enc_column()
    # Plain codes from the latest assessment, for dashboards ("mandatory route not handed over").
    mandatory_routes: Mapped[list[str]] = mapped_column(JSON, default=list)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)

    children: Mapped[list[IncidentChild]] = relationship(
        back_populates="incident", order_by="IncidentChild.position"
    )

    summary = Encrypted[str]()


class IncidentConcern(IdMixin, Base):
    __tablename__ = "incident_concerns"
    __table_args__ = (UniqueConstraint("incident_id", "concern_id"),)

    incident_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("incidents.id"), index=True)
    concern_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("concerns.id"), index=True)


class IncidentChild(ChildKeyed, IdMixin, Base):
    """A child's part in an incident: their role and the facts the rules need."""

    __tablename__ = "incident_children"
    __table_args__ = (UniqueConstraint("incident_id", "child_id"),)

    incident_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("incidents.id"), index=True)
    child_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("children.id"), index=True)
    school_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("schools.id"), index=True)
    position: Mapped[int] = mapped_column(Integer, default=0)
    role: Mapped[str] = mapped_column(String(16))
    same_school: Mapped[bool] = mapped_column(Boolean, default=True)
    household: Mapped[str | None] = mapped_column(String(40))
    child_words_enc: Mapped[bytes | None] = enc_column()
    child_words_missing_reason_enc: Mapped[bytes | None] = enc_column()
    added_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Coarse statistics codes for reports (issue 17; docs/security.md, "Plain statistics for
    # reports"), copied from the child's encrypted roll details when the child is put in the
    # incident (as they were then):
    # year group "N", "R", "1".."14" or "U"; sex "F", "M" or "U"; SEND "Y", "N" or "U"
    # (portal/services/report_figures.py). None: not yet recorded (`fill_statistics`).
    stat_year_group: Mapped[str | None] = mapped_column(String(2))
    stat_sex: Mapped[str | None] = mapped_column(String(1))
    stat_send: Mapped[str | None] = mapped_column(String(1))

    incident: Mapped[Incident] = relationship(back_populates="children")
    child: Mapped[Child] = relationship()

    child_words = Encrypted[str](**CHILD_KEY)
    child_words_missing_reason = Encrypted[str](**CHILD_KEY)


class IncidentRevision(IdMixin, Base):
    """Every saved state of an incident's facts, append-only (R5)."""

    __tablename__ = "incident_revisions"
    __table_args__ = (UniqueConstraint("incident_id", "version"),)

    incident_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("incidents.id"), index=True)
    school_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("schools.id"), index=True)
    version: Mapped[int] = mapped_column(Integer)
    saved_by_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"))
    saved_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    # A save from a form loaded at an older version, merged with the saves made since (issue
    # 12): the version the form was loaded at. None: saved on the version it was loaded at.
    merged_from_version: Mapped[int | None] = mapped_column(Integer)
    snapshot_enc: Mapped[bytes | None] = enc_column()

    snapshot = Encrypted[str]()  # JSON of the facts and narrative as saved


class Assessment(IdMixin, Base):
    """The rules engine's answer for one revision, with the rules version that gave it."""

    __tablename__ = "assessments"

    incident_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("incidents.id"), index=True)
    school_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("schools.id"), index=True)
    incident_version: Mapped[int] = mapped_column(Integer)
    rules_version: Mapped[str] = mapped_column(String(20))
    triggers: Mapped[list[str]] = mapped_column(JSON)
    routes: Mapped[list[str]] = mapped_column(JSON)
    mandatory_routes: Mapped[list[str]] = mapped_column(JSON)
    considerations: Mapped[list[str]] = mapped_column(JSON)
    result_enc: Mapped[bytes | None] = enc_column()
    assessed_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)

    result = Encrypted[str]()  # the full JSON output (reasons name children by reference)


# An incident's assessments, newest first: by the revision assessed, then by when.
NEWEST_ASSESSMENT_FIRST: Final[tuple[UnaryExpression[Any], ...]] = (
    Assessment.incident_version.desc(), Assessment.assessed_at.desc())


def _last_two_assessments() -> ColumnElement[bool]:
    """`Incident.last_two_assessments`: the incident's assessments among its newest two (found
    by the assessments index on the incident, whether joined to the incident or read alone)."""
    newer = aliased(Assessment)
    return and_(Assessment.incident_id == Incident.id, Assessment.id.in_(
        select(newer.id).where(newer.incident_id == Incident.id)
        .order_by(newer.incident_version.desc(), newer.assessed_at.desc()).limit(2)))


class Decision(ChildKeyed, IdMixin, Base):
    """Who decided what, when and why (R2). Append-only."""

    __tablename__ = "decisions"
    # The dashboard's "Reviews due": a school's decisions with a review date, oldest first.
    __table_args__ = (Index("ix_decisions_school_review", "school_id", "review_on"),)

    school_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("schools.id"), index=True)
    incident_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("incidents.id"), index=True)
    child_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("children.id"), index=True)
    # e.g. "take_route", "decline_route", "no_further_action", "early_help", "close"
    kind: Mapped[str] = mapped_column(String(32))
    route: Mapped[str | None] = mapped_column(String(32))
    decided_by_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"))
    decided_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    what_enc: Mapped[bytes | None] = enc_column()
    reasons_enc: Mapped[bytes | None] = enc_column()
    # R10: when this decision is to be reviewed (no further action, support in school, or a
    # review that said "review again"). Plain, for the dashboard's "Reviews due" list.
    review_on: Mapped[dt.date | None] = mapped_column(Date)
    # A review (kind "review") names the decision it reviewed and its outcome code. No foreign
    # key, like `Addendum.target_id`: the row is never changed and the service checks the link.
    reviews_id: Mapped[uuid.UUID | None] = mapped_column(index=True)
    review_outcome: Mapped[str | None] = mapped_column(String(32))

    decided_by: Mapped[User] = relationship()
    # Its corrections (R5), oldest first: read with it where a page asks (viewonly).
    corrections: Mapped[list[Addendum]] = corrections_of("Decision", "decision")

    what = Encrypted[str](**CHILD_KEY)
    reasons = Encrypted[str](**CHILD_KEY)

    @property
    def key_org(self) -> str | None:
        """The child's key for a decision about one child, else the school's."""
        if self.child_id is not None:
            return child_key_org(self.child_id)
        return None if self.school_id is None else str(self.school_id)


PARENT_REASONS: Final = ("csc_advised", "police_advised", "child_at_risk", "other")


class ParentContact(ChildKeyed, IdMixin, Base):
    """R9: whether a child's parents or carers were told, when and by whom, or why not.

    Append-only (R5): a later record for the same child on the same incident supersedes this
    one for display; this one stays and is shown in the history.
    """

    __tablename__ = "parent_contacts"
    # `number` counts the records of one child on one incident (1, 2, ...): the highest is the
    # current one, whatever the clock says, and two DSLs cannot both write "the next" record.
    __table_args__ = (UniqueConstraint("incident_id", "child_id", "number",
                                       name="uq_parent_contacts_incident_child_number"),)

    school_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("schools.id"), index=True)
    incident_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("incidents.id"))
    child_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("children.id"), index=True)
    number: Mapped[int] = mapped_column(Integer)
    told: Mapped[bool] = mapped_column(Boolean)
    told_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    # Why they were not told: one of PARENT_REASONS (None when told).
    reason: Mapped[str | None] = mapped_column(String(32))
    recorded_by_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"))
    recorded_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    by_whom_enc: Mapped[bytes | None] = enc_column()
    detail_enc: Mapped[bytes | None] = enc_column()
    # Who was told, chosen from the child's parents and carers on the roll, as written then
    # ("Máire Ó Súilleabháin (Mother)"): the roll may change later, this record does not.
    told_whom_enc: Mapped[bytes | None] = enc_column()

    recorded_by: Mapped[User] = relationship()

    by_whom = Encrypted[str](**CHILD_KEY)
    detail = Encrypted[str](**CHILD_KEY)
    told_whom = Encrypted[str](**CHILD_KEY)


class Addendum(IdMixin, Base):
    """A correction that keeps the original: who, when, why and the corrected text (R5)."""

    __tablename__ = "addenda"

    school_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("schools.id"), index=True)
    target_type: Mapped[str] = mapped_column(String(32))
    target_id: Mapped[uuid.UUID] = mapped_column(index=True)
    field: Mapped[str] = mapped_column(String(40))
    author_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    correction_enc: Mapped[bytes | None] = enc_column()
    reason_enc: Mapped[bytes | None] = enc_column()

    author: Mapped[User] = relationship()

    correction = Encrypted[str]()
    reason = Encrypted[str]()


class ChildRecordEntry(ChildKeyed, IdMixin, Base):
    """One line of a child's chronology. Other children appear only as initials + reference."""

    __tablename__ = "child_record_entries"

    school_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("schools.id"), index=True)
    child_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("children.id"), index=True)
    incident_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("incidents.id"))
    kind: Mapped[str] = mapped_column(String(32))
    source_type: Mapped[str | None] = mapped_column(String(32))
    source_id: Mapped[uuid.UUID | None] = mapped_column()
    occurred_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    # When the line was written (None for lines from before it was kept, migration 0033):
    # lines of the same time are shown in the order they were written.
    recorded_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, default=utcnow)
    author_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))
    body_enc: Mapped[bytes | None] = enc_column()

    body = Encrypted[str](**CHILD_KEY)


class Attachment(IdMixin, Base):
    """A file kept encrypted in the attachment store; only metadata lives here."""

    __tablename__ = "attachments"

    school_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("schools.id"), index=True)
    incident_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("incidents.id"), index=True)
    concern_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("concerns.id"), index=True)
    content_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int] = mapped_column(Integer)
    uploaded_by_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"))
    uploaded_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    filename_enc: Mapped[bytes | None] = enc_column()
    description_enc: Mapped[bytes | None] = enc_column()

    filename = Encrypted[str]()
    description = Encrypted[str]()

    @property
    def store_name(self) -> str:
        """The file's name in the attachment store: the row id, nothing about its content."""
        return self.id.hex
