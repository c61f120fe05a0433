"""The encrypted attachment store, and uploads that never touch the disk in plaintext.

Werkzeug spools uploads over 500 KB into temporary files; `InMemoryUploadRequest` keeps them in
memory instead, and the store writes only ciphertext: chunked AES-GCM bound to the attachment's
organisation and id, written to a temporary name and renamed into place so a crash leaves no
half-written file under a real name.

Oversized files (docs/security.md, "uploads"): a view marked `@takes_upload` accepts a body up to
`upload_body_max_bytes` (a phone photo of 15 MB arrives whole, so the description typed beside it
is read as usual), but each file part is kept in memory only up to the attachment limit and the
rest is counted and dropped (`CappedUpload`): memory stays bounded by the attachment limit, no
plaintext reaches the disk, and the page can say how large the file really was.
"""

from __future__ import annotations

import io
import os
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, TypeVar

import filetype
from flask import Request, current_app
from werkzeug.datastructures import FileStorage
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


F = TypeVar("F")

# The attribute `takes_upload` sets on a view function.
_UPLOAD_VIEW = "portal_takes_upload"


def takes_upload(view: F) -> F:
    """Marks a view that receives a file: its body may be up to `upload_body_max_bytes`."""
    setattr(view, _UPLOAD_VIEW, True)
    return view


class CappedUpload(io.BytesIO):
    """A file part kept in memory up to `cap` bytes; the rest is counted and dropped."""

    def __init__(self, cap: int) -> None:
        super().__init__()
        self.cap = cap
        self.total = 0

    def write(self, data: Any) -> int:
        size = len(data)
        room = self.cap - self.tell()
        if room > 0:
            super().write(bytes(data[:room]))
        self.total += size
        return size

    @property
    def truncated(self) -> bool:
        return self.total > self.cap


def received_size(stream: Any) -> int | None:
    """How many bytes of a file the browser sent (all of them, not just those kept)."""
    return stream.total if isinstance(stream, CappedUpload) else None


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

    @property
    def max_content_length(self) -> int | None:
        """MAX_CONTENT_LENGTH, or for a view marked `@takes_upload` the larger upload limit."""
        if self._max_content_length is None and current_app and self.endpoint:
            view = current_app.view_functions.get(self.endpoint)
            if getattr(view, _UPLOAD_VIEW, False):
                settings = current_app.config["PORTAL_SETTINGS"]
                return max(int(settings.upload_body_max_bytes),
                           int(current_app.config["MAX_CONTENT_LENGTH"] or 0))
        return super().max_content_length

    @max_content_length.setter
    def max_content_length(self, value: int | None) -> None:
        self._max_content_length = value

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
        if not current_app:
            return io.BytesIO()  # no settings outside the portal: bounded by the body's limit
        return CappedUpload(int(current_app.config["PORTAL_SETTINGS"].attachment_max_bytes) + 1)


@dataclass(frozen=True)
class CheckedUpload:
    content_type: str
    size: int
    data: bytes


def size_text(size: int) -> str:
    """'10 MB', '512 KB', '300 bytes'."""
    if size >= 1024 * 1024:
        value = size / (1024 * 1024)
        return f"{value:.0f} MB" if value == int(value) or value >= 10 else f"{value:.1f} MB"
    if size >= 1024:
        return f"{size // 1024} KB"
    return f"{size} bytes"


def too_large_advice(max_bytes: int, *, photo: bool) -> str:
    """The limit, and what to do: the part of the message that does not depend on the file."""
    advice = ("on a phone, send the photo at a smaller size (or take a screenshot of it) and "
              "choose it again." if photo else "choose a smaller file.")
    return f"The selected file must be smaller than {size_text(max_bytes)} — {advice}"


def too_large_message(max_bytes: int, size: int | None = None, *, photo: bool = False) -> str:
    """How large the file was (when known), the limit and what to do about it.

    static/js/upload-size.js says the same before a file is sent (the advice comes from here).
    """
    if size is None:
        return (f"The selected file must be smaller than {size_text(max_bytes)}. Choose a "
                "smaller file, or on a phone send the photo at a smaller size.")
    what = "photo" if photo else "file"
    # Never "10 MB" (or "1.0 MB") for a file just over the limit: "over 10 MB" instead.
    shown = size_text(size) if size >= max_bytes * 1.05 else f"over {size_text(max_bytes)}"
    return f"The {what} is {shown}. {too_large_advice(max_bytes, photo=photo)}"


CHOOSE_AGAIN = "Choose the file again"


def ask_to_choose_again(form: Any) -> None:
    """A form coming back with a problem: a file chosen (and not itself refused) is not kept,
    so say to choose it again beside the file question."""
    upload = form.file.data
    if isinstance(upload, FileStorage) and upload.filename and not form.file.errors:
        form.file.errors = [f"{CHOOSE_AGAIN}: a chosen file is not kept when the page comes back"]

UNREADABLE = ("The selected file could not be opened: it may be damaged or only partly saved. "
              "Check that it opens on your device, then choose it again")


def refuse_upload(form: Any, error: AttachmentRefused) -> None:
    """An upload refused (too large, not an allowed kind, unreadable): nothing of it kept, and
    why beside the file question."""
    from .models import db

    db.session.rollback()
    form.file.errors = [*list(form.file.errors), str(error)]


def commit_or_discard(store: AttachmentStore, attachment: Any | None) -> None:
    """Commit the request's work; if the commit fails, the file stored for `attachment` (whose
    row was then never saved) is removed again, and the error goes on."""
    from .models import db
    from .services.attachments import discard_file

    try:
        db.session.commit()
    except BaseException:
        db.session.rollback()
        if attachment is not None:
            discard_file(store, attachment)
        raise


def check_upload(data: bytes, max_bytes: int, received: int | None = None) -> CheckedUpload:
    """Size and type checked by content; raises AttachmentRefused with a plain message.

    `received` is the size the browser sent when only the first part was kept (CappedUpload).
    """
    size = max(len(data), received or 0)
    if not data:
        raise AttachmentRefused("The selected file is empty. Check that it opens on your "
                                "device, then choose it again")
    if size > max_bytes:
        kind = filetype.guess(data[:8192])
        raise AttachmentRefused(too_large_message(
            max_bytes, size, photo=bool(kind and kind.mime.startswith("image/"))))
    kind = filetype.guess(data[:8192])
    if kind is None or kind.mime not in ALLOWED_TYPES:
        raise AttachmentRefused(
            "The selected file must be a photo (JPEG, PNG, WebP or HEIC) or a PDF"
        )
    return CheckedUpload(content_type=kind.mime, size=len(data), data=data)


# Photos larger than this many pixels are refused rather than decoded (a decompression bomb).
MAX_PIXELS = 80_000_000


def check_readable(upload: CheckedUpload) -> None:
    """Raises AttachmentRefused(UNREADABLE) for a file that is cut short or damaged.

    JPEG, PNG and WebP are decoded (a JPEG at an eighth of its size, which still reads every
    byte of it); a PDF must end with its end-of-file marker; a HEIC must have its boxes whole.
    Nothing is kept from the decoding.
    """
    data = upload.data
    if upload.content_type == "application/pdf":
        if b"%%EOF" not in data[-2048:]:
            raise AttachmentRefused(UNREADABLE)
        return
    if upload.content_type == "image/heic":
        if not _iso_boxes_whole(data):
            raise AttachmentRefused(UNREADABLE)
        return
    import warnings

    from PIL import Image, UnidentifiedImageError

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as image:
                width, height = image.size
                if width * height > MAX_PIXELS:
                    raise AttachmentRefused(UNREADABLE)
                if image.format == "JPEG":
                    image.draft("RGB", (max(1, width // 8), max(1, height // 8)))
                image.load()
    except AttachmentRefused:
        raise
    except (OSError, SyntaxError, ValueError, UnidentifiedImageError, EOFError,
            Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise AttachmentRefused(UNREADABLE) from exc


def _iso_boxes_whole(data: bytes) -> bool:
    """The top-level boxes of an ISO media file (HEIC) add up to the file's length."""
    at = 0
    while at < len(data):
        if at + 8 > len(data):
            return False
        size = int.from_bytes(data[at:at + 4], "big")
        if size == 1:
            if at + 16 > len(data):
                return False
            size = int.from_bytes(data[at + 8:at + 16], "big")
        elif size == 0:
            return True  # the last box runs to the end of the file
        if size < 8 or at + size > len(data):
            return False
        at += size
    return True


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
