"""Children: finding a child, a child's file (and its printable copy), and incident attachments.

DSLs only (everyone else, and any other school's ids, get 404 from `portal.access`). Every view of
a child's file is audited; the printed copy is audited as an export.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Iterator
from typing import Any

from flask import (
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    stream_with_context,
    url_for,
)
from flask_login import current_user
from flask_wtf.csrf import CSRFError
from markupsafe import Markup
from werkzeug.exceptions import NotFound, RequestEntityTooLarge
from werkzeug.sansio.multipart import Data, Epilogue, Field, File, MultipartDecoder, NeedData
from werkzeug.wrappers import Response

from .. import drafts, once
from ..access import (
    can_record_incident,
    get_attachment_or_404,
    get_child_or_404,
    get_incident_or_404,
    read_only_reason,
    require,
)
from ..attachments import (
    BODY_HEAD_KEY,
    CHOOSE_AGAIN,
    AttachmentRefused,
    AttachmentStore,
    ask_to_choose_again,
    commit_or_discard,
    received_size,
    refuse_upload,
    size_text,
    takes_upload,
    too_large_advice,
    too_large_message,
)
from ..models import Child, Incident, db, utcnow
from ..pagination import govuk_pagination
from ..reads import commit_keeping_loaded
from ..services import attachments as attachment_service
from ..services import child_file
from ..services import transfer as transfer_service
from . import bp
from .forms import NUDES_WARNING, AttachmentForm, SearchForm
from .merge_views import merged_target

log = logging.getLogger(__name__)


def _user() -> Any:
    return current_user._get_current_object()


def _store() -> AttachmentStore:
    store: AttachmentStore = current_app.extensions["attachments"]
    return store


def _max_bytes() -> int:
    return int(current_app.config["PORTAL_SETTINGS"].attachment_max_bytes)


# ---------------------------------------------------------------------------------------------
# Finding a child


@bp.route("/children", methods=["GET", "POST"])
@require(can_record_incident)
def search() -> Any:
    """Find a child. The name is posted (never in the URL, so never in an access log); the
    results are the answer to the post. A name in the query string is ignored."""
    form = SearchForm() if request.method == "POST" else SearchForm(formdata=None)
    results = None
    more = False
    status = 200
    if request.method == "POST":
        if form.validate():
            found = child_file.find_children(_user(), form.name.data)
            results, more = found.rows, found.more
            db.session.commit()
        else:
            status = 400
    return render_template(
        "children/search.html", page_title="Children", form=form, results=results, more=more,
        recent=child_file.recent_children(_user()),
    ), status


# ---------------------------------------------------------------------------------------------
# A child's file


def _file_child(user: Any, child_id: Any) -> Child:
    """The child whose file this is (404 outside the user's school); a record merged into
    another redirects to it, so both addresses keep working."""
    child = get_child_or_404(user, child_id)
    merged_into = merged_target(child)
    if merged_into is not None:
        abort(redirect(merged_into))
    return child


def _newest_first() -> bool:
    return request.args.get("order", "newest") != "oldest"


@bp.get("/children/<uuid:child_id>")
@require(can_record_incident)
def file(child_id: Any) -> Any:
    user = _user()
    child = _file_child(user, child_id)
    newest_first = _newest_first()
    page = request.args.get("page", 1, type=int)
    record = child_file.build_child_file(user, child, newest_first=newest_first,
                                         page=page if page and page > 0 else 1)
    # The file's moves, in one statement: the transfers (the panel and read-only share them),
    # the sealed files and the copies (children/_file_exports.html).
    panels, transfers = transfer_service.file_panels(user, child)
    child_file.record_view(user, child, newest_first=newest_first)
    commit_keeping_loaded()
    sent = transfers.sent
    return render_template("children/file.html", page_title=f"Child {child.reference}",
                           file=record, pagination=_pagination(record, newest_first),
                           transfers=transfers, file_panels=panels,
                           read_only=read_only_reason(sent.sent_at if sent else None))


def _pagination(record: child_file.ChildFile, newest_first: bool) -> dict[str, Any] | None:
    """GOV.UK pagination for the file's pages: first, last, and the pages either side."""
    if record.pages <= 1:
        return None
    order = None if newest_first else "oldest"

    def href(number: int) -> str:
        return url_for("children.file", child_id=record.child.id, order=order,
                       page=number if number > 1 else None) + "#chronology"

    return govuk_pagination(record.page, record.pages, href, "Pages of the chronology")


@bp.get("/children/<uuid:child_id>/print")
@require(can_record_incident)
def print_file(child_id: Any) -> Any:
    user = _user()
    child = _file_child(user, child_id)
    newest_first = request.args.get("order", "oldest") != "oldest"
    record = child_file.build_child_file(user, child, newest_first=newest_first)
    received = transfer_service.received_packets(user, child)
    child_file.record_print(user, child)
    commit_keeping_loaded()  # the audit event; what is printed stays loaded (issue 15)
    return render_template(
        "children/print.html", page_title=f"Child {child.reference}", file=record,
        printed_by=user.display_name, printed_at=child_file.when_text(utcnow()),
        received=received, at_school=transfer_service.at_school,
    )


# ---------------------------------------------------------------------------------------------
# Attachments


@bp.app_context_processor
def _attachment_helpers() -> dict[str, Any]:
    """For templates/children/_incident_attachments.html, included on the incident page."""

    def incident_attachments(incident: Incident) -> list[attachment_service.AttachmentRow]:
        return attachment_service.incident_attachments(_user(), incident)

    return {
        "incident_attachments": incident_attachments,
        "blank_upload_fields": _blank_upload_fields,
        "nudes_warning": NUDES_WARNING,
        **_upload_limit_words(_max_bytes()),
    }


@functools.lru_cache(maxsize=8)
def _upload_limit_words(max_bytes: int) -> dict[str, Any]:
    """The upload limit in words, worked out once per limit (issue 15: this context processor
    runs on every page, and wording the limit four times was most of its ~10 µs)."""
    return {
        "attachment_max_size": size_text(max_bytes),
        "attachment_max_bytes": max_bytes,
        "attachment_too_large_photo": too_large_advice(max_bytes, photo=True),
        "attachment_too_large_file": too_large_advice(max_bytes, photo=False),
    }


_BLANK_UPLOAD_FIELDS = "portal.blank_upload_fields"


def _blank_upload_fields() -> Markup:
    """The fields of a blank upload form (children/_upload_fields.html), rendered once per app
    and size limit (the only setting they show): they hold the form's structure and that limit,
    never anything of a user or a request (the CSRF token and the one-time key are written
    around them, per request). The incident page shows this form on every visit. Rendered
    afresh while templates reload."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    kept: dict[int, Markup] = app.extensions.setdefault(_BLANK_UPLOAD_FIELDS, {})
    limit = _max_bytes()
    fields = kept.get(limit)
    if fields is None:
        fields = Markup(render_template(  # noqa: S704 - an autoescaped template's output
            "children/_upload_fields.html", form=AttachmentForm(formdata=None)))
        if not app.jinja_env.auto_reload:
            kept[limit] = fields
    return fields


def _incident_page(incident: Incident) -> str | None:
    """The incident's own page (in the incidents blueprint), if there is one."""
    rules = sorted(
        (rule for rule in current_app.url_map.iter_rules()
         if rule.endpoint.startswith("incidents.") and rule.arguments == {"incident_id"}
         and "GET" in (rule.methods or ())),
        key=lambda rule: len(rule.rule),
    )
    return url_for(rules[0].endpoint, incident_id=incident.id) if rules else None


def _upload_page(incident: Incident, form: AttachmentForm, status: int = 200) -> Any:
    return render_template(
        "children/upload.html", page_title=f"Add a file to incident {incident.reference}",
        incident=incident, form=form, back_url=_incident_page(incident),
        attachments=attachment_service.incident_attachments(_user(), incident),
    ), status


def _refusal_status() -> int:
    """413 for a body over the portal's usual request limit (only an upload may send one: a
    protocol error, as the rest of the portal answers it), else 200, as every form of the
    portal answers its errors: the page is the same either way."""
    limit = current_app.config.get("MAX_CONTENT_LENGTH")
    length = request.content_length
    recorder = request.environ.get(BODY_HEAD_KEY)
    if length is None and recorder is not None:  # sent chunked: what was read
        length = recorder.total
    return 413 if limit and length and length > limit else 200


@bp.route("/incidents/<uuid:incident_id>/attachments", methods=["GET", "POST"])
@takes_upload
@require(can_record_incident)
def upload_attachment(incident_id: Any) -> Any:
    """Add a file. Whatever goes wrong, the page comes back with the description and tick kept,
    and a message saying what to do (a chosen file itself cannot be kept: "Choose the file
    again")."""
    user = _user()
    incident = get_incident_or_404(user, incident_id)
    form = AttachmentForm()
    if not form.is_submitted():
        return _upload_page(incident, form)
    valid = form.validate()
    upload = form.file.data
    if not valid:  # the page again with its error summary (200, as every form answers)
        ask_to_choose_again(form)
        return _upload_page(incident, form)
    store = _store()
    once.claim()  # before the file is stored: a repeat stores nothing
    try:
        attachment = attachment_service.add_attachment(
            store,
            incident=incident,
            uploader=user,
            filename=upload.filename,
            description=form.description.data,
            data=upload.stream.read(),
            max_bytes=_max_bytes(),
            received=received_size(upload.stream),
        )
    except AttachmentRefused as exc:
        refuse_upload(form, exc)
        return _upload_page(incident, form, _refusal_status())
    target = once.done(url_for("children.upload_attachment", incident_id=incident.id))
    commit_or_discard(store, attachment)
    flash("File uploaded", "success")
    return redirect(target)


@bp.errorhandler(CSRFError)
def page_expired(error: CSRFError) -> Any:
    """The upload page open too long (its form token expired): the page again with what was
    typed, and what to do. Elsewhere in this blueprint: as the application does (a form that
    keeps drafts keeps what was typed: portal/drafts.py)."""
    if request.endpoint != "children.upload_attachment" or request.method != "POST":
        return drafts.page_expired(error)
    incident = _upload_incident_or_response()
    if not isinstance(incident, Incident):
        return incident
    form = AttachmentForm(formdata=None, data={
        "description": (request.form.get("description") or "").strip(),
        "confirm": request.form.get("confirm") in ("y", "on", "true", "1"),
    })
    form.file.errors = [f"The page was open for a long time, so the file was not uploaded. "
                        f"{CHOOSE_AGAIN} and select Upload file"]
    return _upload_page(incident, form, 400)


def _upload_incident_or_response() -> Incident | Any:
    """The incident of a failed upload if the signed-in user may add to it, else the response
    to give (sign in, or 404)."""
    if not current_user.is_authenticated:
        manager = current_app.login_manager  # type: ignore[attr-defined]
        return manager.unauthorized()
    user = _user()
    try:
        if not can_record_incident(user):
            raise NotFound()
        return get_incident_or_404(user, request.view_args.get("incident_id")
                                   if request.view_args else None)
    except NotFound:
        return render_template("errors/404.html"), 404


# The most of an oversized upload read to recover what was typed beside the file.
_OVERSIZE_READ_FACTOR = 2


def _typed_fields() -> dict[str, str]:
    """The small text fields of a multipart body too large for the form parser.

    Reads at most a few times the upload limit, streaming: file parts are discarded as they
    arrive (no plaintext kept, in memory or on disk), text parts are kept up to 64 KB each.
    """
    boundary = request.mimetype_params.get("boundary")
    if request.mimetype != "multipart/form-data" or not boundary:
        return {}
    stream: Any = request.environ.get("wsgi.input")
    length = request.content_length
    cap = _OVERSIZE_READ_FACTOR * int(request.max_content_length or 0)
    recorder = request.environ.get(BODY_HEAD_KEY)
    if recorder is not None:
        # Sent chunked: the form parser has read part of it already. Start again from the
        # kept head, then what is left of the body.
        stream = _Replay(bytes(recorder.head), recorder.raw)
    elif stream is None or length is None:
        return {}
    budget = cap if length is None else min(length, cap)
    decoder = MultipartDecoder(boundary.encode("latin-1"), max_form_memory_size=64 * 1024)
    fields: dict[str, str] = {}
    current: str | None = None
    buffer = bytearray()
    try:
        finished = False
        while not finished:
            chunk = stream.read(min(16 * 1024, budget)) if budget > 0 else b""
            budget -= len(chunk)
            decoder.receive_data(chunk or None)
            while True:
                event = decoder.next_event()
                if isinstance(event, NeedData):
                    break
                if isinstance(event, Epilogue):
                    finished = True
                    break
                if isinstance(event, File):
                    current = None
                elif isinstance(event, Field):
                    current, buffer = event.name, bytearray()
                elif isinstance(event, Data) and current is not None:
                    buffer += event.data
                    if not event.more_data:
                        fields[current] = buffer.decode("utf-8", "replace")
                        current = None
            if not chunk:
                break
    except (ValueError, RequestEntityTooLarge, OSError):
        pass  # malformed, over the field limit, or cut off: keep what was read
    return fields


class _Replay:
    """Bytes already read, then the rest of a stream."""

    def __init__(self, head: bytes, rest: Any) -> None:
        self.head = head
        self.rest = rest

    def read(self, size: int) -> bytes:
        if self.head:
            out, self.head = self.head[:size], self.head[size:]
            return out
        return bytes(self.rest.read(size) or b"")


@bp.errorhandler(RequestEntityTooLarge)
def too_large(error: RequestEntityTooLarge) -> Any:
    """A body over even the upload limit: the upload page again, with the message and what was
    typed if it could be read; if not, how to get it back (the browser's Back button)."""
    if request.endpoint != "children.upload_attachment":
        return render_template("errors/413.html"), 413
    # Read what was typed first: the body may be slow to arrive (a phone on a weak signal), and
    # no database transaction (a session's last-seen time) may be held open while it does.
    typed = _typed_fields()
    incident = _upload_incident_or_response()
    if not isinstance(incident, Incident):
        return incident
    form = AttachmentForm(formdata=None, data={
        "description": (typed.get("description") or "").strip(),
        "confirm": typed.get("confirm") in ("y", "on", "true", "1"),
    })
    message = too_large_message(_max_bytes(), request.content_length)
    if "description" not in typed:
        message += (" What you typed beside the file could not be kept, because the file was so "
                    "large: use your browser's Back button to return to the form, where it "
                    "should still be")
    form.file.errors = [message]
    return _upload_page(incident, form, 413)


@bp.get("/attachments/<uuid:attachment_id>")
@require(lambda user: user is not None)
def download_attachment(attachment_id: Any) -> Response:
    """The decrypted file, as a download, to those `portal.access` lets see it."""
    user = _user()
    attachment = get_attachment_or_404(user, attachment_id)
    chunks = attachment_service.open_for_download(_store(), user, attachment)
    db.session.commit()

    def body() -> Iterator[bytes]:
        try:
            yield from chunks
        except Exception:
            # Never a partial file: the exception aborts the response (the connection is
            # dropped before the declared length is reached).
            log.error("attachment %s failed to decrypt while streaming", attachment.id)
            raise

    response = Response(stream_with_context(body()), mimetype=attachment.content_type,
                        direct_passthrough=True)
    response.content_length = attachment.size
    name = attachment_service.download_name(attachment)
    response.headers.set("Content-Disposition", "attachment",
                         **attachment_service.content_disposition(name))
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Cache-Control"] = "no-store"
    return response
