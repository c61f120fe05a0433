"""The referral packet's own pages (issue 14): a child's details a referral form asks for,
filled in from the hand-over ("Missing: first language — add it"), and the files sent with a
referral, downloaded by the receiving authority's advisers (everyone else: 404)."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any, Final

from flask import (
    current_app,
    redirect,
    render_template,
    request,
    stream_with_context,
    url_for,
)
from flask_login import current_user
from sqlalchemy import select
from werkzeug.exceptions import NotFound
from werkzeug.wrappers import Response

from .. import audit, drafts
from ..access import (
    can_record_incident,
    can_work_referrals,
    check_writable,
    get_incident_or_404,
    get_referral_or_404,
    require,
)
from ..attachments import AttachmentStore
from ..drafts import keeps_drafts
from ..flashes import NAME, flash_naming
from ..models import ReferralAttachment, User, db
from ..services import referrals as referral_service
from ..services import roll
from ..services.attachments import content_disposition, download_name
from ..services.handover import tel_href
from ..services.packet import incident_children
from . import bp
from .forms import CARER_PARTS, CARER_SLOTS, ChildDetailsForm, phone_pieces

log = logging.getLogger(__name__)

_DETAILS = ("address", "first_language", "ethnicity", "religion", "gp", "other_agencies")
# A yes / no / not known question's answer as stored (interpreter, parental responsibility).
_ANSWERS: Final = {"yes": True, "no": False, "unknown": None}
_ANSWER_OF: Final = {value: key for key, value in _ANSWERS.items()}


def _user() -> User:
    user: User = current_user._get_current_object()
    return user


@bp.route("/incidents/<uuid:incident_id>/hand-over/<code>/children/<uuid:child_id>",
          methods=["GET", "POST"])
@require(can_record_incident)
@keeps_drafts(can_record_incident, ChildDetailsForm)
def child_details(incident_id: Any, code: str, child_id: Any) -> Any:
    """A child's first language, interpreter, ethnicity, religion, GP, other agencies and
    address, for the referral to `code`; saved on the child's record (encrypted)."""
    user = _user()
    incident = get_incident_or_404(user, incident_id)
    child = next((c for _, c in incident_children(incident) if c.id == child_id), None)
    if child is None or len(code) > 40:
        raise NotFound()
    back = url_for("referrals.hand_over", incident_id=incident.id, code=code)
    form = ChildDetailsForm()
    if request.method == "GET":
        for name in _DETAILS:
            getattr(form, name).data = getattr(child, name) or ""
        form.interpreter.data = _ANSWER_OF[child.interpreter]
        _fill_carers(form, child)
        drafts.restore(form)
    if form.validate_on_submit():
        check_writable(child)  # a file sent to another school: this copy is read-only
        changed, removed = _save_details(form, child)
        if changed:
            audit.record(audit.CHILD_DETAILS_UPDATED, org_id=str(child.school_id),
                         actor_id=user.id, object_type="child", object_id=child.id,
                         detail={"fields": sorted(changed), "incident_id": str(incident.id)})
        db.session.commit()
        flash_naming(child.id, _saved_words(incident, code, removed))
        return redirect(back)
    return render_template("referrals/child_details.html", form=form, child=child,
                           incident=incident, back=back, carer_slots=CARER_SLOTS,
                           carers_typed=roll.kept_by_hand(child),
                           carers=roll.contacts_for(child) if not roll.kept_by_hand(child)
                           else None,
                           page_title=f"{child.full_name}: details for the referral")


def _fill_carers(form: Any, child: Any) -> None:
    """The parents and carers a DSL typed for a child not on the roll, in the form's boxes."""
    if not roll.kept_by_hand(child):
        return
    for (prefix, _), person in zip(CARER_SLOTS, roll.typed_contacts(child), strict=False):
        values = {"name": person.name, "relationship": person.relationship,
                  "responsibility": _ANSWER_OF[person.responsibility],
                  "phone": person.phones[0] if person.phones else "",
                  "phone2": ", ".join(person.phones[1:]), "email": person.email,
                  "address": person.address}
        for part in CARER_PARTS:
            getattr(form, f"{prefix}_{part}").data = values[part] or ""


def _save_details(form: Any, child: Any) -> tuple[list[str], int]:
    """The form's details on the child's record: the fields changed, and how many parents or
    carers are no longer listed."""
    changed = []
    for name in _DETAILS:
        value = getattr(form, name).data or None
        if getattr(child, name) != value:
            setattr(child, name, value)
            changed.append(name)
    interpreter = _ANSWERS.get(form.interpreter.data or "unknown")
    if child.interpreter != interpreter:
        child.interpreter = interpreter
        changed.append("interpreter")
    removed = 0
    if roll.kept_by_hand(child) and _carers_posted():
        saved = roll.set_typed_contacts(child, _carers_from(form, child))
        if saved.changed:
            changed.append("parents_carers")
        removed = saved.removed
    return changed, removed


def _saved_words(incident: Any, code: str, removed: int) -> str:
    """What saving the details says: that a referral already sent is not changed by them (a
    walk: the message on top of the sent referral read as if the authority had the new
    details), and parents or carers no longer listed."""
    words = f"{NAME}'s details are saved."
    if removed:
        words += (" One parent or carer is" if removed == 1 else
                  f" {removed} parents or carers are") + " no longer listed."
    line = next((line for line in referral_service.incident_handover(
        incident, referral_service.utcnow()).lines if line.code == code), None)
    if line is not None and line.referral is not None:
        words += (f" The referral already sent to {line.name} is not changed: phone them with "
                  "anything new.")
    return words


def _carers_posted() -> bool:
    """Whether the post holds the parents and carers' boxes (a page from before they were on
    the form leaves the child's as they are, not emptied)."""
    return any(f"{prefix}_name" in request.form for prefix, _ in CARER_SLOTS)


def _distinct_numbers(numbers: list[str]) -> tuple[str, ...]:
    """Each number once, however it was spaced (the same number in both boxes was sent twice,
    as "Phone" and "Other phone", walk 5)."""
    seen: dict[str, str] = {}
    for number in numbers:
        seen.setdefault(tel_href(number) or number, number)  # its digits, as a link dials them
    return tuple(seen.values())


def _carers_from(form: Any, child: Any) -> list[roll.TypedContact]:
    """The parents and carers typed in the form (empty boxes left out), then any more the
    child has than the form shows (a leaver's third contact from the roll stays)."""
    typed = []
    for prefix, _ in CARER_SLOTS:
        value = {part: getattr(form, f"{prefix}_{part}").data or None for part in CARER_PARTS}
        if value["name"]:
            typed.append(roll.TypedContact(
                name=value["name"], relationship=value["relationship"],
                responsibility=_ANSWERS.get(value["responsibility"] or "unknown"),
                phones=_distinct_numbers(phone_pieces(value["phone"])
                                         + phone_pieces(value["phone2"])),
                email=value["email"], address=value["address"]))
    return typed + roll.typed_contacts(child)[len(CARER_SLOTS):]


@bp.get("/referrals/<uuid:referral_id>/files/<uuid:file_id>")
@require(can_work_referrals)
def referral_file(referral_id: Any, file_id: Any) -> Response:
    """A file sent with a referral, decrypted under the authority's key: its advisers only."""
    user = _user()
    referral = get_referral_or_404(user, referral_id)
    copy = db.session.scalar(select(ReferralAttachment).where(
        ReferralAttachment.id == file_id, ReferralAttachment.referral_id == referral.id,
        ReferralAttachment.local_authority_id == referral.local_authority_id,
        ReferralAttachment.local_authority_id == user.local_authority_id))
    if copy is None:
        raise NotFound()
    store: AttachmentStore = current_app.extensions["attachments"]
    chunks = store.open(str(copy.local_authority_id), copy.store_name)
    first = next(chunks, b"")  # a missing file or a wrong key fails here, as an error page
    audit.record(audit.ATTACHMENT_DOWNLOADED, org_id=str(copy.local_authority_id),
                 actor_id=user.id, object_type="referral_attachment", object_id=copy.id,
                 detail={"referral_id": str(referral.id)})
    db.session.commit()

    def body() -> Iterator[bytes]:
        try:
            if first:
                yield first
            yield from chunks
        except Exception:
            log.error("referral file %s failed to decrypt while streaming", copy.id)
            raise

    response = Response(stream_with_context(body()), mimetype=copy.content_type,
                        direct_passthrough=True)
    response.content_length = copy.size
    response.headers.set("Content-Disposition", "attachment",
                         **content_disposition(download_name(copy)))
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Cache-Control"] = "no-store"
    return response
