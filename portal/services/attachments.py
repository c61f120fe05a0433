"""Attachments on an incident: photos of notes and documents, kept only as ciphertext.

Checked by content (`portal.attachments.check_upload`), written encrypted to the store under the
attachment's id (`Attachment.store_name`, which the key-rotation command relies on), with the
original file name and an optional description encrypted in the row. Attachments are never
deleted (R1). Uploads and downloads are audited with ids and codes only.
"""

from __future__ import annotations

import datetime as dt
import io
import unicodedata
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, Final
from urllib.parse import quote

from sqlalchemy import ColumnElement, Select, bindparam, select

from .. import audit
from ..access import attachment_visible_bound
from ..attachments import (
    ALLOWED_TYPES,
    AttachmentStore,
    check_readable,
    check_upload,
    size_text,
)
from ..kept import kept
from ..models import Attachment, Incident, ReferralAttachment, User, db, new_id
from ..models.base import plain_value
from .child_file import when_text

EXTENSIONS: Final = {
    "image/jpeg": ".jpg",
    "image/png": ".png",
    "image/webp": ".webp",
    "image/heic": ".heic",
    "application/pdf": ".pdf",
}
MAX_NAME: Final = 150
MAX_DESCRIPTION: Final = 500


def clean_filename(name: str | None) -> str:
    """The last part of the name the browser sent, without control characters, bounded."""
    base = (name or "").replace("\\", "/").rsplit("/", 1)[-1]
    base = "".join(ch for ch in base if unicodedata.category(ch)[0] != "C").strip(" .")
    return base[:MAX_NAME] or "file"


def content_disposition(name: str) -> dict[str, str]:
    """As `flask.send_file` does: an ASCII name, and the UTF-8 one when they differ."""
    try:
        name.encode("ascii")
    except UnicodeEncodeError:
        simple = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode("ascii")
        simple = " ".join(simple.split())  # the spaces left where other scripts' letters were
        stem, dot, extension = simple.rpartition(".")
        if not (stem if dot else simple).strip(" ._-"):  # nothing Latin but the extension
            simple = f"file.{extension}" if dot else "file"
        return {"filename": simple, "filename*": f"UTF-8''{quote(name, safe='')}"}
    return {"filename": name}


def download_name(attachment: Attachment | ReferralAttachment) -> str:
    """The stored name with the extension of the type the content really is."""
    name = clean_filename(attachment.filename)
    stem = name.rsplit(".", 1)[0] if "." in name else name
    return f"{stem or 'file'}{EXTENSIONS.get(attachment.content_type, '')}"


def add_attachment(
    store: AttachmentStore,
    *,
    incident: Incident | None,
    uploader: Any,
    filename: str | None,
    description: str | None,
    data: bytes,
    max_bytes: int,
    received: int | None = None,
    school_id: uuid.UUID | None = None,
) -> Attachment:
    """Check, encrypt and store an upload on `incident`; raises AttachmentRefused.

    `received` is how many bytes the browser sent, when only the first part was kept. Without
    an incident, `school_id` says whose file it is (a file received from a child's previous
    school: services/file_export.py).

    Flushes and writes the audit event; the caller commits. The file is written before the
    commit, so a committed row always has its file (`discard_file` cleans up on failure).
    """
    if incident is None and school_id is None:
        raise ValueError("an attachment belongs to an incident or, without one, a school")
    checked = check_upload(data, max_bytes, received)
    check_readable(checked)
    attachment = Attachment(
        id=new_id(),
        school_id=incident.school_id if incident is not None else school_id,
        incident_id=incident.id if incident is not None else None,
        content_type=checked.content_type,
        size=checked.size,
        uploaded_by_id=uploader.id,
    )
    attachment.filename = clean_filename(filename)
    attachment.description = (description or "").strip()[:MAX_DESCRIPTION] or None
    db.session.add(attachment)
    db.session.flush()
    store.save(str(attachment.school_id), attachment.store_name, io.BytesIO(checked.data))
    audit.record(
        audit.ATTACHMENT_UPLOADED, org_id=str(attachment.school_id), actor_id=uploader.id,
        object_type="attachment", object_id=attachment.id,
        detail={"incident_id": str(incident.id) if incident is not None else None,
                "content_type": checked.content_type,
                "size": checked.size},
    )
    return attachment


def discard_file(store: AttachmentStore, attachment: Attachment) -> None:
    """Remove the file of an upload whose row was never committed (nothing else deletes)."""
    store.path(attachment.store_name).unlink(missing_ok=True)


def open_for_download(store: AttachmentStore, user: Any, attachment: Attachment) -> Iterator[bytes]:
    """Decrypted chunks of `attachment`, with the first already read and checked.

    Reading the first chunk before anything is sent means a missing file, a wrong key or a
    tampered header fails as an error page, not as a download. A chunk that fails to decrypt
    later raises from the iterator, so the server aborts the response rather than finish it.
    The download is audited (flushed) once the first chunk has decrypted.
    """
    chunks = store.open(str(attachment.school_id), attachment.store_name)
    first = next(chunks, b"")
    audit.record(
        audit.ATTACHMENT_DOWNLOADED, org_id=str(attachment.school_id), actor_id=user.id,
        object_type="attachment", object_id=attachment.id,
        detail={"incident_id": str(attachment.incident_id) if attachment.incident_id else None},
    )

    def stream() -> Iterator[bytes]:
        if first:
            yield first
        yield from chunks

    return stream()


@dataclass(frozen=True)
class AttachmentRow:
    id: uuid.UUID
    name: str
    description: str
    kind: str
    size: str
    uploaded_by: str
    uploaded_at: str


def incident_attachments(user: Any, incident: Incident) -> list[AttachmentRow]:
    """The attachments on `incident` that `user` may see, oldest first."""
    # Columns, not objects, in a statement built once per thread (issue 15): the page shows
    # these only, decrypted as the objects' attributes would be (`plain_value`).
    visible, scope = attachment_visible_bound(user)
    rows = db.session.execute(_incident_attachments(visible),
                              {"incident_id": incident.id, **scope}).all()
    return [
        AttachmentRow(
            id=a.id,
            name=clean_filename(plain_value(Attachment, "filename", a.filename_enc,
                                            id=a.id, school_id=a.school_id)),
            description=plain_value(Attachment, "description", a.description_enc,
                                    id=a.id, school_id=a.school_id) or "",
            kind=ALLOWED_TYPES.get(a.content_type, a.content_type),
            size=size_text(a.size),
            uploaded_by=a.display_name or "Unknown user",
            uploaded_at=when_text(a.uploaded_at),
        )
        for a in rows
    ]


@kept  # one per kind of `attachment_visible_bound`
def _incident_attachments(visible: ColumnElement[bool]) -> Select[
        uuid.UUID, uuid.UUID, str, int, dt.datetime, bytes | None, bytes | None, str]:
    return (select(Attachment.id, Attachment.school_id, Attachment.content_type, Attachment.size,
                   Attachment.uploaded_at, Attachment.filename_enc, Attachment.description_enc,
                   User.display_name)
            .outerjoin(User, User.id == Attachment.uploaded_by_id)
            .where(visible, Attachment.incident_id == bindparam("incident_id"))
            .order_by(Attachment.uploaded_at))
