"""Files that travel with a referral (issue 14), and the nudes rule.

A DSL ticks which of the incident's attachments go with a referral. Each chosen file is copied:
decrypted from the school's store and encrypted again under the receiving authority's key, as a
`ReferralAttachment` named by its own id, so the authority's advisers can read it and nobody
else (the school keeps its original; another authority's advisers get "page not found").

The nudes rule (UK Council for Internet Safety advice, `DO_NOT_VIEW_IMAGES`): images of
children's bodies are never passed on. Uploads already require the uploader to confirm a file is
not such an image; on top of that, when the incident involves images (its types or features are
the image ones of the rules, or the latest assessment says "do not view images"), no image file
of it can be sent at all, only documents (PDF). The service refuses them whatever is posted.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from sqlalchemy import select

from ..attachments import ALLOWED_TYPES, AttachmentStore, size_text
from ..crypto.stream import ChunkReader
from ..models import Attachment, Incident, LocalAuthority, Referral, ReferralAttachment, db
from ..rules.vocabulary import IMAGE_FEATURES, IMAGE_TYPES
from .attachments import clean_filename
from .packet import latest_assessment

NUDES_RULE: Final = (
    "Images cannot be sent with this referral: the incident involves images of children, and "
    "images of children's bodies are never passed on (UK Council for Internet Safety advice on "
    "sharing nudes and semi-nudes). Describe what was seen in the covering note instead."
)
MAX_FILES: Final = 20


class FileRefused(ValueError):
    """A chosen file that cannot travel; the message is safe to show."""


def images_barred(incident: Incident) -> bool:
    """Whether the incident involves images of children, so no image of it may travel."""
    if set(incident.types or []) & IMAGE_TYPES or set(incident.features or []) & IMAGE_FEATURES:
        return True
    assessment = latest_assessment(incident)
    return bool(assessment and "DO_NOT_VIEW_IMAGES" in (assessment.considerations or []))


@dataclass(frozen=True)
class FileChoice:
    """One attachment of the incident as the hand-over page offers it."""

    id: uuid.UUID
    name: str
    kind: str
    size: str
    description: str
    allowed: bool
    why_not: str | None


def _attachments(incident: Incident) -> list[Attachment]:
    return list(db.session.scalars(
        select(Attachment).where(Attachment.incident_id == incident.id,
                                 Attachment.school_id == incident.school_id)
        .order_by(Attachment.uploaded_at)))


def _barred(attachment: Attachment, images: bool) -> bool:
    return images and attachment.content_type.startswith("image/")


def choices(incident: Incident) -> list[FileChoice]:
    """The incident's attachments, each with whether it may travel and why not."""
    images = images_barred(incident)
    return [FileChoice(
        id=a.id, name=clean_filename(a.filename),
        kind=ALLOWED_TYPES.get(a.content_type, a.content_type), size=size_text(a.size),
        description=a.description or "", allowed=not _barred(a, images),
        why_not=NUDES_RULE if _barred(a, images) else None,
    ) for a in _attachments(incident)]


def chosen(incident: Incident, ids: Iterable[str | uuid.UUID]) -> list[Attachment]:
    """The chosen attachments of the incident, in upload order; FileRefused for a file that is
    not the incident's or that the nudes rule keeps back."""
    wanted: set[uuid.UUID] = set()
    for ident in ids:
        try:
            wanted.add(ident if isinstance(ident, uuid.UUID) else uuid.UUID(str(ident)))
        except ValueError:
            raise FileRefused("Choose files of this incident only") from None
    if len(wanted) > MAX_FILES:
        raise FileRefused(f"Choose at most {MAX_FILES} files")
    found = [a for a in _attachments(incident) if a.id in wanted]
    if len(found) != len(wanted):
        raise FileRefused("Choose files of this incident only")
    images = images_barred(incident)
    if any(_barred(a, images) for a in found):
        raise FileRefused(NUDES_RULE)
    return found


def entry(attachment: Attachment, copy_id: uuid.UUID | None = None) -> dict[str, Any]:
    """A file in the packet (schema version 2, `attachments[]`)."""
    return {
        "id": str(copy_id) if copy_id else None,
        "name": clean_filename(attachment.filename),
        "content_type": attachment.content_type,
        "kind": ALLOWED_TYPES.get(attachment.content_type, attachment.content_type),
        "size": size_text(attachment.size),
        "description": attachment.description or None,
    }


def copy_ids(files: list[Attachment]) -> dict[uuid.UUID, uuid.UUID]:
    """A new id for each file's copy, chosen before the packet is frozen (it names them)."""
    return {a.id: uuid.uuid4() for a in files}


def send_copies(store: AttachmentStore, referral: Referral, la: LocalAuthority,
                files: list[Attachment], ids: dict[uuid.UUID, uuid.UUID]) -> list[Path]:
    """Re-encrypt each file for the authority and record its copy (flushes). Returns the paths
    written, so a caller whose commit fails can remove them."""
    written: list[Path] = []
    try:
        for attachment in files:
            copy = ReferralAttachment(
                id=ids[attachment.id], referral_id=referral.id, local_authority_id=la.id,
                source_id=attachment.id, content_type=attachment.content_type,
                size=attachment.size)
            copy.filename = clean_filename(attachment.filename)
            copy.description = attachment.description or None
            db.session.add(copy)
            plain = ChunkReader(store.open(str(attachment.school_id), attachment.store_name))
            store.save(str(la.id), copy.store_name, plain)
            written.append(store.path(copy.store_name))
        db.session.flush()
    except BaseException:
        discard(written)
        raise
    return written


def discard(paths: Iterable[Path]) -> None:
    """Remove copies whose rows were never committed."""
    for path in paths:
        path.unlink(missing_ok=True)


def copies_of(referral: Referral) -> list[ReferralAttachment]:
    return list(db.session.scalars(
        select(ReferralAttachment).where(
            ReferralAttachment.referral_id == referral.id,
            ReferralAttachment.local_authority_id == referral.local_authority_id)
        .order_by(ReferralAttachment.created_at, ReferralAttachment.id)))
