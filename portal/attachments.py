"""The encrypted attachment store, and uploads that never touch the disk in plaintext.

Werkzeug spools uploads over 500 KB into temporary files; `InMemoryUploadRequest` keeps them in
memory instead (bounded by MAX_CONTENT_LENGTH), and the store writes only ciphertext: chunked
AES-GCM bound to the attachment's organisation and id, written to a temporary name and renamed
into place so a crash leaves no half-written file under a real name.
"""

from __future__ import annotations

import io
import os
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import filetype
from flask import Request

from .crypto import FieldContext, KeyRing
from .durable import fsync_dir

# What a DSL may attach: photos of handwritten notes and documents. Checked by content, never by
# the name or the browser's claimed type.
ALLOWED_TYPES = {
    "image/jpeg": "JPEG image",
    "image/png": "PNG image",
    "image/webp": "WebP image",
    "image/heic": "HEIC image",
    "application/pdf": "PDF document",
}


class AttachmentRefused(ValueError):
    """The upload is not acceptable; the message is safe to show the user."""


class InMemoryUploadRequest(Request):
    """A request whose uploaded files stay in memory, so no plaintext reaches a temp file."""

    def _get_file_stream(
        self,
        total_content_length: int | None,
        content_type: str | None,
        filename: str | None = None,
        content_length: int | None = None,
    ) -> IO[bytes]:
        return io.BytesIO()


@dataclass(frozen=True)
class CheckedUpload:
    content_type: str
    size: int
    data: bytes


def check_upload(data: bytes, max_bytes: int) -> CheckedUpload:
    """Size and type checked by content; raises AttachmentRefused with a plain message."""
    if not data:
        raise AttachmentRefused("The selected file is empty")
    if len(data) > max_bytes:
        megabytes = max_bytes // (1024 * 1024)
        raise AttachmentRefused(f"The selected file must be smaller than {megabytes} MB")
    kind = filetype.guess(data[:8192])
    if kind is None or kind.mime not in ALLOWED_TYPES:
        raise AttachmentRefused(
            "The selected file must be a photo (JPEG, PNG, WebP or HEIC) or a PDF"
        )
    return CheckedUpload(content_type=kind.mime, size=len(data), data=data)


class AttachmentStore:
    """Files named by attachment id, holding only ciphertext."""

    def __init__(self, root: Path, keyring: KeyRing) -> None:
        self.root = root
        self.keyring = keyring

    @staticmethod
    def context(org_id: str, attachment_id: str) -> FieldContext:
        return FieldContext(org_id, "attachments", "content", attachment_id)

    def path(self, attachment_id: str) -> Path:
        if not attachment_id.isalnum():  # ids are uuid hex: no path tricks possible
            raise ValueError("bad attachment id")
        return self.root / attachment_id

    def save(self, org_id: str, attachment_id: str, source: IO[bytes] | Any) -> int:
        self.root.mkdir(parents=True, exist_ok=True, mode=0o700)
        final = self.path(attachment_id)
        fd, temp = tempfile.mkstemp(dir=self.root, prefix=".incoming-")
        try:
            with os.fdopen(fd, "wb") as handle:
                written = self.keyring.encrypt_stream(
                    self.context(org_id, attachment_id), source, handle
                )
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(temp, final)
            fsync_dir(self.root)  # the rename itself must survive a crash
        except BaseException:
            Path(temp).unlink(missing_ok=True)
            raise
        return written

    def open(self, org_id: str, attachment_id: str) -> Iterator[bytes]:
        """Decrypted chunks; each is authenticated before it is yielded."""
        with open(self.path(attachment_id), "rb") as handle:
            yield from self.keyring.decrypt_stream(self.context(org_id, attachment_id), handle)
