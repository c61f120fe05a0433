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
from werkzeug.exceptions import RequestEntityTooLarge

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


# How much of the start of a body sent without a Content-Length (chunked) is kept, so that the
# text typed beside an oversized file can still be shown again (children/views.py).
BODY_HEAD_BYTES = 256 * 1024
BODY_HEAD_KEY = "portal.body_head"


class _HeadRecorder(io.RawIOBase):
    """Passes a body through, keeping (in memory) its first `limit` bytes."""

    def __init__(self, raw: Any, limit: int) -> None:
        super().__init__()
        self.raw = raw
        self.limit = limit
        self.head = bytearray()
        self.total = 0

    def readable(self) -> bool:
        return True

    def _keep(self, data: bytes) -> bytes:
        self.total += len(data)
        room = self.limit - len(self.head)
        if room > 0 and data:
            self.head += data[:room]
        return data

    def read(self, size: int | None = -1) -> bytes:
        data = self.raw.read() if size is None or size < 0 else self.raw.read(size)
        return self._keep(bytes(data or b""))

    def readinto(self, buffer: Any) -> int:
        data = self.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)

    def readline(self, size: int | None = -1) -> bytes:
        data = self.raw.readline() if size is None or size < 0 else self.raw.readline(size)
        return self._keep(bytes(data or b""))


class InMemoryUploadRequest(Request):
    """A request whose uploaded files stay in memory, so no plaintext reaches a temp file.

    A body sent without a Content-Length (chunked) is read by the form parser until the size
    limit stops it, so its first part is gone by the time the 413 handler runs: the first
    BODY_HEAD_BYTES are kept (in memory, for this request only) in `environ[BODY_HEAD_KEY]`.
    """

    def __init__(self, environ: Any, *args: Any, **kwargs: Any) -> None:
        chunked = (not environ.get("CONTENT_LENGTH")
                   or environ.get("HTTP_TRANSFER_ENCODING", "").lower() == "chunked")
        if (environ.get("REQUEST_METHOD") == "POST" and chunked
                and environ.get("wsgi.input") is not None):
            recorder = _HeadRecorder(environ["wsgi.input"], BODY_HEAD_BYTES)
            environ["wsgi.input"] = recorder
            environ[BODY_HEAD_KEY] = recorder
        super().__init__(environ, *args, **kwargs)

    def _load_form_data(self) -> None:
        """As Werkzeug, but a chunked body over the limit is refused (413), never cut short:
        Werkzeug reads a chunked url-encoded form only up to the limit and parses what it got,
        so a long text would be saved truncated."""
        super()._load_form_data()
        recorder = self.environ.get(BODY_HEAD_KEY)
        limit = self.max_content_length
        if (isinstance(recorder, _HeadRecorder) and limit is not None
                and recorder.total >= limit and recorder.raw.read(1)):
            raise RequestEntityTooLarge()

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
