"""SQLAlchemy 2 typed models, split by aggregate. Import from here."""

from .accounts import (
    ROLE_LABELS,
    ROLES,
    TWO_FACTOR_ROLES,
    AuthSession,
    UnknownAddressThrottle,
    User,
)
from .audit import AuditEvent
from .base import DEPLOYMENT_ORG, Base, Encrypted, db, keyring, new_id, utcnow
from .exports import Disclosure, ReceivedFile, SealedExport
from .handover import (
    OUTSIDE_REFERRAL_ROUTE,
    POLICE_METHOD_WORDS,
    POLICE_METHODS,
    RECORDED_ROUTES,
    REFERRAL_METHOD_WORDS,
    REFERRAL_METHODS,
    RouteHandover,
)
from .orgs import LocalAuthority, OrgKey, School, ShreddedOrg
from .outbox import OutboxAttempt, OutboxMessage
from .records import (
    Addendum,
    Assessment,
    Attachment,
    Child,
    ChildMerge,
    ChildNameTerm,
    ChildRecordEntry,
    Concern,
    ConcernChild,
    ConcernDraft,
    ConcernOutcome,
    Decision,
    FormDraft,
    Incident,
    IncidentChild,
    IncidentConcern,
    IncidentRevision,
    ParentContact,
)
from .referrals import (
    ConsultationCall,
    Referral,
    ReferralAttachment,
    ReferralResponse,
    ReferralUpdate,
)
from .repeat_harm import RepeatHarmMark
from .report_summary import ReportMonth
from .retention import RetentionReview, RetentionTombstone
from .roll import RollContact, RollImport
from .submissions import SubmissionKey
from .transfer import TRANSFER_STATES, FileTransfer, SchoolTerm, TransferAttachment

__all__ = [
    "DEPLOYMENT_ORG",
    "OUTSIDE_REFERRAL_ROUTE",
    "POLICE_METHODS",
    "POLICE_METHOD_WORDS",
    "RECORDED_ROUTES",
    "REFERRAL_METHODS",
    "REFERRAL_METHOD_WORDS",
    "ROLES",
    "ROLE_LABELS",
    "TRANSFER_STATES",
    "TWO_FACTOR_ROLES",
    "Addendum",
    "Assessment",
    "Attachment",
    "AuditEvent",
    "AuthSession",
    "Base",
    "Child",
    "ChildMerge",
    "ChildNameTerm",
    "ChildRecordEntry",
    "Concern",
    "ConcernChild",
    "ConcernDraft",
    "ConcernOutcome",
    "ConsultationCall",
    "Decision",
    "Disclosure",
    "Encrypted",
    "FileTransfer",
    "FormDraft",
    "Incident",
    "IncidentChild",
    "IncidentConcern",
    "IncidentRevision",
    "LocalAuthority",
    "OrgKey",
    "OutboxAttempt",
    "OutboxMessage",
    "ParentContact",
    "ReceivedFile",
    "Referral",
    "ReferralAttachment",
    "ReferralResponse",
    "ReferralUpdate",
    "RepeatHarmMark",
    "ReportMonth",
    "RetentionReview",
    "RetentionTombstone",
    "RollContact",
    "RollImport",
    "RouteHandover",
    "School",
    "SchoolTerm",
    "SealedExport",
    "ShreddedOrg",
    "SubmissionKey",
    "TransferAttachment",
    "UnknownAddressThrottle",
    "User",
    "db",
    "keyring",
    "new_id",
    "utcnow",
]
