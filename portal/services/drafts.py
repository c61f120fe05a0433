"""Form drafts: what someone has typed into a form and not yet sent, kept encrypted.

One mechanism for every form that takes text (the staff concern form, the DSL's incident
pages, the adviser's answer, the administrators' forms); the web side is `portal/drafts.py`.

A draft is one `FormDraft` row per user and form (`form_key`: the form's endpoint and the ids
of what it is about), holding the form's fields as posted: JSON of {name: text, or a list of
texts for a field posted more than once}, encrypted under the key of the user's organisation
(the school; the local authority for advisers; the deployment's own key for administrators).

* `save` replaces the saved fields (the page posts all of them: autosave, "save and come back");
* `save(merge=True)` never loses anything, for posts whose sender we could not fully check (an
  expired session or page): free text takes the post's text (the last thing the person typed,
  so text they deleted does not come back into the box) and keeps the saved text it replaces
  beside it as an earlier version (`EARLIER` + name), shown folded under the form; an empty post
  never empties a field; any other answer is filled in only where none was saved; fields in
  `never_sets` are never written;
* `rescue` saves a post whose session has expired into its user's draft, only if that session
  ended by idling or reaching its absolute limit (never one revoked on purpose: signed out,
  password changed, account disabled...), finished signing in, and was used in the last week;
* `discard` removes the draft once its form has been sent (the record now holds the text).

Nothing here submits a form, alerts anyone, or reads another user's draft: every lookup is by
the user's own id and organisation.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Final

from sqlalchemy import Select, bindparam, delete, select

from .. import audit
from ..models import AuthSession, FormDraft, User, db
from . import accounts

DraftFields = dict[str, str | list[str]]

# A draft is a person's typing, not a file: generous, but bounded (docs/security.md).
MAX_TEXT: Final = 1_000_000
MAX_FIELDS: Final = 60
MAX_LIST_ITEMS: Final = 50
MAX_NAME: Final = 80
MAX_KEY: Final = 160
# Posted fields never kept: the page's tokens.
NEVER_KEPT: Final = frozenset({"csrf_token", "rescue_key"})

# Sessions that ended by themselves: a post made after one of these may still be rescued.
EXPIRY_REASONS: Final = frozenset({"idle", "expired"})
# How long after its last use an expired session may still rescue a post (a page left open
# overnight on a phone is the case this is for).
RESCUE_WINDOW: Final = dt.timedelta(days=7)
RESCUED: Final = "draft.rescued"


class FieldRefused(ValueError):
    """A service's own check on a form's field failed: `field` names the field, `code` the
    check (the view words it). The drafts' and the concern form's refusals."""

    def __init__(self, field_name: str, code: str) -> None:
        super().__init__(f"{field_name}: {code}")
        self.field = field_name
        self.code = code


class DraftRefused(FieldRefused):
    """Too much to keep (a field too long, too many fields). `field` names the field."""


@dataclass(frozen=True)
class MergeRules:
    """How a rescued post (merge) may change a saved draft."""

    text: frozenset[str] = frozenset()  # free text: added to, never replaced
    never_sets: frozenset[str] = frozenset()  # never written by a rescue
    appends: frozenset[str] = frozenset()  # lists whose new items are added
    # Everything else (choices, dates, ticks): filled in only where nothing was saved.
    extra: Mapping[str, Any] = field(default_factory=dict)


def empty(value: Any) -> bool:
    if value is None:
        return True
    if isinstance(value, str):
        return not value.strip()
    if isinstance(value, list):
        return all(empty(item) for item in value)
    return False


def clean(raw: Any, *, max_text: int = MAX_TEXT) -> DraftFields:
    """The posted fields worth keeping, as text (a list where a name was posted more than once).

    `raw` is a MultiDict (a posted form) or a plain mapping of text or lists of text. The page's
    tokens are left out; too long a field, or too many, is refused (`DraftRefused`).
    """
    out: DraftFields = {}
    getlist = getattr(raw, "getlist", None)
    for name in list(raw.keys()):
        if not isinstance(name, str) or name in NEVER_KEPT:
            continue
        if len(name) > MAX_NAME:
            raise DraftRefused(name[:MAX_NAME], "too_many")
        values = getlist(name) if getlist is not None else raw[name]
        if isinstance(values, str):
            values = [values]
        if not isinstance(values, list):
            continue
        texts = [v for v in values if isinstance(v, str)]
        if len(texts) > MAX_LIST_ITEMS:
            raise DraftRefused(name, "too_many")
        if any(len(v) > max_text for v in texts):
            raise DraftRefused(name, "too_long")
        if len(out) >= MAX_FIELDS:
            raise DraftRefused(name, "too_many")
        out[name] = texts[0] if len(texts) == 1 and not isinstance(raw[name], list) else texts
    return out


def _org(user: User) -> tuple[Any, Any]:
    """(school_id, local_authority_id) of the organisation whose key holds the user's drafts."""
    if user.school_id is not None:
        return user.school_id, None
    if user.local_authority_id is not None:
        return None, user.local_authority_id
    return None, None


def _open_draft_statement(in_school: bool, in_authority: bool) -> Select[FormDraft]:
    """open_draft's statement, built once for each kind of organisation (building it was a
    third of the lookup on every form page: issue 15); the ids are bound when it runs."""
    statement = _OPEN_DRAFT.get((in_school, in_authority))
    if statement is None:
        statement = _OPEN_DRAFT[(in_school, in_authority)] = (
            select(FormDraft)
            .where(
                FormDraft.user_id == bindparam("user_id"),
                FormDraft.form_key == bindparam("form_key"),
                FormDraft.school_id == bindparam("school_id") if in_school
                else FormDraft.school_id.is_(None),
                FormDraft.local_authority_id == bindparam("authority_id") if in_authority
                else FormDraft.local_authority_id.is_(None),
                FormDraft.submitted_concern_id.is_(None),
            )
            .order_by(FormDraft.updated_at.desc())
            .limit(1)
        )
    return statement


_OPEN_DRAFT: Final[dict[tuple[bool, bool], Select[FormDraft]]] = {}


def open_draft(user: User, key: str) -> FormDraft | None:
    """The user's open (not yet sent) draft of the form `key` in their organisation, if any."""
    school_id, authority_id = _org(user)
    params: dict[str, Any] = {"user_id": user.id, "form_key": key}
    if school_id is not None:
        params["school_id"] = school_id
    if authority_id is not None:
        params["authority_id"] = authority_id
    found: FormDraft | None = db.session.scalar(
        _open_draft_statement(school_id is not None, authority_id is not None), params)
    return found


def read(draft: FormDraft | None, cleaner: Callable[[Any], DraftFields] = clean) -> DraftFields:
    if draft is None or not draft.data:
        return {}
    try:
        loaded = json.loads(draft.data)
    except ValueError:
        return {}
    return cleaner(loaded) if isinstance(loaded, dict) else {}


def load(user: User, key: str, cleaner: Callable[[Any], DraftFields] = clean
         ) -> tuple[DraftFields, dt.datetime | None]:
    """What the user's open draft of `key` holds, and when it was last saved."""
    draft = open_draft(user, key)
    return read(draft, cleaner), (draft.updated_at if draft is not None else None)


def _lock_user(user: User) -> None:
    """Serialise draft writes of one user (PostgreSQL; SQLite has one writer anyway)."""
    if db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(select(User.id).where(User.id == user.id).with_for_update())


# A draft keeps the text a rescued post replaced under this prefix (never a form field's name).
EARLIER: Final = "earlier:"


def newest_text(saved: str, incoming: str) -> tuple[str, str]:
    """(the text for the box, the saved text it replaces, or "") for a rescued post: the post is
    the newest text, unless it is empty (a rescue never empties); what it replaces is kept."""
    if not incoming.strip() or incoming == saved:
        return saved, ""
    if not saved.strip() or incoming.startswith(saved):
        return incoming, ""
    return incoming, saved


def earlier_texts(fields: Mapping[str, Any]) -> dict[str, str]:
    """The earlier versions a draft keeps, by the name of their field."""
    return {name[len(EARLIER):]: value for name, value in fields.items()
            if name.startswith(EARLIER) and isinstance(value, str) and value.strip()}


def add_only(saved: DraftFields, incoming: DraftFields, rules: MergeRules,
             *, max_text: int = MAX_TEXT) -> DraftFields:
    """A rescued post: it never loses what the draft held (see the module's docstring)."""
    combined = dict(saved)
    for name, value in incoming.items():
        if name in rules.never_sets:
            continue
        old = saved.get(name)
        if name in rules.appends and isinstance(value, list):
            kept = list(old) if isinstance(old, list) else []
            combined[name] = [*kept, *[v for v in value if v.strip() and v not in kept]
                              ][:MAX_LIST_ITEMS]
        elif name in rules.text and isinstance(value, str):
            newest, replaced = newest_text(old if isinstance(old, str) else "", value)
            combined[name] = newest
            if replaced:
                before = combined.get(EARLIER + name)
                earlier = (f"{replaced}\n\n{before}" if isinstance(before, str) and before
                           else replaced)
                if len(earlier) > max_text:
                    raise DraftRefused(name, "too_long")
                combined[EARLIER + name] = earlier
        elif empty(old) and not empty(value):
            combined[name] = value
    return combined


def save(user: User, key: str, fields: DraftFields, *, now: dt.datetime, merge: bool = False,
         rules: MergeRules | None = None, max_text: int = MAX_TEXT) -> FormDraft:
    """Keep `fields` (already cleaned) as the user's open draft of `key`. Flushes.

    `merge=True` loses nothing (`add_only` with `rules`); otherwise the fields replace the
    draft's (keeping the earlier versions a rescue kept).
    """
    if not key or len(key) > MAX_KEY:
        raise DraftRefused("form", "bad_key")
    _lock_user(user)
    draft = open_draft(user, key)
    if draft is None:
        school_id, authority_id = _org(user)
        draft = FormDraft(school_id=school_id, local_authority_id=authority_id,
                          user_id=user.id, form_key=key)
        db.session.add(draft)
        saved: DraftFields = {}
    else:
        saved = read(draft)
    if merge:
        combined = add_only(saved, fields, rules or MergeRules(), max_text=max_text)
    else:  # the page posts every field; earlier versions a rescue kept stay until it is sent
        combined = {**{n: v for n, v in saved.items() if n.startswith(EARLIER)}, **fields}
    draft.data = json.dumps(combined, ensure_ascii=False, separators=(",", ":"))
    draft.updated_at = now
    db.session.flush()
    return draft


def discard(user: User, key: str) -> None:
    """Forget the user's open draft of `key` (its form was sent). Flushes."""
    db.session.execute(delete(FormDraft).where(
        FormDraft.user_id == user.id, FormDraft.form_key == key,
        FormDraft.submitted_concern_id.is_(None)))
    db.session.flush()


def session_user(token: str, *, now: dt.datetime) -> User | None:
    """The user of an expired session that may still rescue a post, or None.

    None when there is no such session, when it was revoked for any reason but expiry, when it
    never finished signing in (second factor), or when it was last used over RESCUE_WINDOW ago.
    """
    if not token:
        return None
    row = db.session.get(AuthSession, accounts.token_hash(token))
    if row is None:
        return None
    if row.revoked_at is not None and row.revoked_reason not in EXPIRY_REASONS:
        return None
    user = row.user
    if user is None or not user.active:
        return None
    if user.needs_two_factor and not row.two_factor_done:
        return None
    if now - row.last_seen_at > RESCUE_WINDOW:
        return None
    return user


def record_rescued(user: User, draft: FormDraft, *, via: str, action: str = RESCUED) -> None:
    """Audit a rescue: which form and how (codes only, never what was typed)."""
    audit.record(action, org_id=draft.org_id, actor_id=user.id, object_type="form_draft",
                 object_id=draft.id, detail={"via": via, "form": draft.form_key.split(":")[0]})
