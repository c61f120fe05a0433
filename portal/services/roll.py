"""The school roll: previewing a file from the school's management information system, then
importing it in batches that can be resumed (docs/roll-import.md).

Preview (`preview_file`): the checked rows are compared with the school's children by the blind
index of the UPN (the UPN itself is never stored in clear), and with the children added by hand
by normalised name and date of birth ("possible matches"). Pupils whose roll row is unchanged are
recognised by a keyed hash of the row, without decrypting them. The checked rows are kept,
encrypted, in a `RollImport`.

Import (`portal.roll.worker.run_import`, calling a step here per batch): one worker at a time
holds the import under a lease; rows are written in batches, each committed by the worker with
the count of rows done, so a crash or a second click resumes from the last committed batch.
Writing a row is idempotent (found again by its UPN), and re-importing the same file changes
nothing. Pupils on the roll before and absent from the file are marked as left (kept: their file
is needed), as the last step.

Nothing here reads Flask's request.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import partial
from typing import Any, Final, NamedTuple

from sqlalchemy import delete, select, update

from .. import audit, reads, wording
from ..clock import uk_local
from ..crypto import fold_for_match
from ..models import Child, RollContact, RollImport, School, User, db, keyring
from ..rules.directory import load_directory_data
from . import repeat_harm
from .child_file import date_text, describe_status, status_words
from .children import add_child, reserve_child_numbers, set_names
from .roll_csv import OPTIONAL_COLUMNS, ParsedFile, RowProblem, parse_roll

__all__ = [
    "BATCH_SIZE",
    "LEASE",
    "ImportRun",
    "PossibleMatch",
    "Preview",
    "RollChange",
    "RollRefused",
    "attends_from_roll",
    "compare",
    "confirm_import",
    "contact_label",
    "contact_names",
    "contacts_for",
    "describe_status",
    "finish",
    "open_run",
    "preview_file",
    "preview_of",
    "stalled",
    "status_words",
    "take_lease",
    "write_next_batch",
]

UPN_INDEX: Final = "child-upn"
ROW_DIGEST: Final = "roll-row"
BATCH_SIZE: Final = 250
LEASE: Final = dt.timedelta(seconds=60)


class RollRefused(Exception):
    """The file was refused whole: every problem, by row."""

    def __init__(self, problems: list[RowProblem]) -> None:
        super().__init__(f"{len(problems)} problems")
        self.problems = problems


@dataclass(frozen=True, slots=True)
class RollChange:
    row: dict[str, Any]
    child: Child
    changes: list[str]


@dataclass(frozen=True, slots=True)
class PossibleMatch:
    row: dict[str, Any]
    child: Child


@dataclass(slots=True)
class Preview:
    roll_import: RollImport
    new: list[dict[str, Any]] = field(default_factory=list)
    changed: list[RollChange] = field(default_factory=list)
    unchanged: int = 0
    leaving: list[Child] = field(default_factory=list)
    matches: list[PossibleMatch] = field(default_factory=list)
    unknown_authorities: list[str] = field(default_factory=list)


def attends_from_roll(child: Child) -> bool | None:
    """Whether the child attends this school, as the roll says: True for a pupil on the roll
    (a fact, not a question); None when the roll does not settle it (a leaver, or a child added
    by hand), and the DSL answers."""
    return True if child.roll_status == "on_roll" else None


def contacts_for(child: Child) -> list[RollContact]:
    """The child's parents and carers from the roll, in the order the school contacts them."""
    return list(db.session.scalars(
        select(RollContact).where(RollContact.school_id == child.school_id,
                                  RollContact.child_id == child.id)
        .order_by(RollContact.priority)))


@dataclass(frozen=True)
class TypedContact:
    """A parent or carer as a DSL types them for a child not on the roll."""

    name: str
    relationship: str | None = None
    responsibility: bool | None = None  # parental responsibility; None: not known
    phones: tuple[str, ...] = ()
    email: str | None = None
    address: str | None = None


def kept_by_hand(child: Child) -> bool:
    """Whether a DSL keeps the child's names and parents and carers up to date: any child not
    on the roll (added by hand, or a leaver). A pupil on the roll has the roll's, replaced at
    each import: changed here, they would be changed back at the next without a word (and the
    school's system is where the school keeps them)."""
    return child.roll_status != "on_roll"


def typed_contacts(child: Child) -> list[TypedContact]:
    """`child`'s parents and carers as a DSL typed them (`contacts_for`), to show in a form."""
    return [_as_typed(c) for c in contacts_for(child)]


def _as_typed(contact: RollContact) -> TypedContact:
    return TypedContact(contact.name or "", contact.relationship, contact.responsibility,
                        tuple(contact.phone_list), contact.email, contact.address)


class ContactsSaved(NamedTuple):
    changed: bool
    removed: int  # parents or carers no longer listed


def set_typed_contacts(child: Child, contacts: list[TypedContact]) -> ContactsSaved:
    """Replace the parents and carers of `child`, not on the roll (`kept_by_hand`), by
    `contacts` (first contacted first). Who was told of an incident (R9) keeps the names as
    they were then, in its own record."""
    if not kept_by_hand(child):
        raise ValueError("a pupil on the roll has the roll's parents and carers")
    wanted = [c for c in contacts if c.name]
    kept = contacts_for(child)
    if [_as_typed(c) for c in kept] == wanted:
        return ContactsSaved(False, 0)
    # Each row kept where it was (its id is what the parents-told form ticks), the rest gone.
    for gone in kept[len(wanted):]:
        db.session.delete(gone)
    for priority, person in enumerate(wanted, start=1):
        if priority <= len(kept):
            _write_contact(kept[priority - 1], person.name, person.relationship,
                           person.responsibility, person.phones, person.email, person.address)
        else:
            _add_contact(child, priority, person.name, person.relationship,
                         person.responsibility, person.phones, person.email, person.address)
    return ContactsSaved(True, max(0, len(kept) - len(wanted)))


def _add_contact(child: Child, priority: int, *parts: Any) -> None:
    """A new parent or carer of `child` (`_write_contact`'s parts), contacted `priority`th."""
    contact = RollContact(school_id=child.school_id, child_id=child.id, priority=priority)
    _write_contact(contact, *parts)
    db.session.add(contact)


def _write_contact(contact: RollContact, name: str | None, relationship: str | None,
                   responsibility: bool | None, phones: Iterable[str], email: str | None,
                   address: str | None) -> None:
    """A parent's or carer's details on their row (encrypted), from the roll or typed by a
    DSL: the one place they are written."""
    contact.name = name
    contact.relationship = relationship
    contact.responsibility = responsibility
    contact.phones = "\n".join(phones) or None  # one a line
    contact.email = email
    contact.address = address


def contact_label(contact: RollContact) -> str:
    """"Máire Ó Súilleabháin (Mother)": how a parent or carer is named in an R9 record."""
    return wording.with_relationship(contact.name, contact.relationship)


def contact_names(contacts: Iterable[RollContact]) -> str | None:
    names = [contact_label(c) for c in contacts]
    return ", ".join(names) or None


# ---------------------------------------------------------------------------------------------
# Preview


def _authority_names() -> dict[str, str]:
    """The authorities the portal knows (portal/data/authorities.json, and any an administrator
    added), code -> name."""
    names = {a["code"]: a["name"] for a in load_directory_data()["authorities"]}
    names.update({la.code: la.name for la in reads.authorities().values()})
    return names


def _digest_of(indexer: Callable[[str], str], row: dict[str, Any]) -> str:
    body = {k: v for k, v in row.items() if k not in ("row", "link_child_id")}
    return indexer(json.dumps(body, sort_keys=True, ensure_ascii=False))


def _expected_status(row: dict[str, Any]) -> str:
    return "left" if row.get("left_on") else "on_roll"


def _changes(child: Child, row: dict[str, Any]) -> list[str]:
    """What the roll changes about this pupil, in words."""
    out: list[str] = []

    def name_change(label: str, old: str | None, new: str | None) -> None:
        if (old or None) != (new or None):
            out.append(f"{label}: {old or 'none'} becomes {new or 'none'}")

    name_change("Legal forename", child.given_name, row["given_name"])
    name_change("Legal surname", child.family_name, row["family_name"])
    name_change("Preferred name", child.preferred_name, row["preferred_name"])
    dob = dt.date.fromisoformat(row["dob"])
    if child.dob != dob:
        out.append(f"Date of birth: {date_text(child.dob)} becomes {date_text(dob)}")
    name_change("Sex", child.sex, row["sex"])
    name_change("Year group", child.year_group, row["year_group"])
    if bool(child.send) != row["send"]:
        out.append("Special educational needs: " + ("now yes" if row["send"] else "now no"))
    if (child.home_authority_text or None) != row["home_la_text"] \
            or (row["home_la_code"] and child.local_authority_code != row["home_la_code"]):
        out.append(f"Home local authority: now {row['home_la_text'] or 'not given'}")
    if (child.address or None) != row["address"]:
        out.append("Home address changed")
    for name in OPTIONAL_COLUMNS:
        if name in row:
            name_change(name.replace("_", " ").capitalize(), getattr(child, name), row[name])
    status = _expected_status(row)
    if child.roll_status != status:
        if status == "left":
            out.append(f"Left the school on {date_text(dt.date.fromisoformat(row['left_on']))}")
        else:
            out.append("Back on the roll")
    if not out:
        out.append("Parents or carers changed")
    return out


def compare(school: School, rows: list[dict[str, Any]],
            roll_import: RollImport) -> Preview:
    """The file's checked rows against the school's children: new, changed (in words),
    unchanged, leaving, and children added by hand who may be a new pupil."""
    upn_indexer = keyring().blind_indexer(str(school.id), UPN_INDEX)
    digester = keyring().blind_indexer(str(school.id), ROW_DIGEST)
    by_index = {upn_indexer(row["upn"].casefold()): row for row in rows}
    known = {c.upn_index: c for c in db.session.scalars(
        select(Child).where(Child.school_id == school.id, Child.upn_index.is_not(None)))}
    out = Preview(roll_import=roll_import)
    for index, row in by_index.items():
        child = known.get(index)
        if child is None:
            out.new.append(row)
        elif child.roll_digest == _digest_of(digester, row) \
                and child.roll_status == _expected_status(row):
            out.unchanged += 1
        else:
            out.changed.append(RollChange(row, child, _changes(child, row)))
    out.leaving = sorted((c for i, c in known.items()
                          if i not in by_index and c.roll_status == "on_roll"),
                         key=lambda c: (c.family_name or "", c.given_name or ""))
    out.matches = _possible_matches(school, out.new)
    out.unknown_authorities = sorted({r["home_la_text"] for r in rows
                                      if r["home_la_text"] and not r["home_la_code"]})
    return out


def preview_of(roll_import: RollImport) -> Preview:
    """The preview of a file not yet confirmed, compared with the records as they are now."""
    school = db.session.get(School, roll_import.school_id)
    assert school is not None
    return compare(school, json.loads(roll_import.rows or "[]"), roll_import)


def preview_file(user: User, school: School, data: bytes, now: dt.datetime) -> Preview:
    """Check the file and compare it with the school's children; keep the checked rows in a new
    `RollImport` (flushes; the caller commits). RollRefused with every problem if any row is
    malformed: nothing of the file is kept then."""
    parsed: ParsedFile = parse_roll(data, authorities=_authority_names(), today=now.date())
    if parsed.problems:
        raise RollRefused(parsed.problems)
    # Newer files replace previews nobody confirmed.
    db.session.execute(update(RollImport).where(
        RollImport.school_id == school.id, RollImport.state == "previewed",
    ).values(state="replaced", rows_enc=None))
    roll_import = RollImport(school_id=school.id, created_by_id=user.id, created_at=now,
                             total_rows=len(parsed.rows))
    out = compare(school, parsed.rows, roll_import)
    roll_import.new_count = len(out.new)
    roll_import.changed_count = len(out.changed)
    roll_import.unchanged_count = out.unchanged
    roll_import.leaving_count = len(out.leaving)
    roll_import.rows = json.dumps(parsed.rows, ensure_ascii=False)
    db.session.add(roll_import)
    db.session.flush()
    audit.record(audit.ROLL_PREVIEWED, org_id=str(school.id), actor_id=user.id,
                 object_type="roll_import", object_id=roll_import.id, at=now,
                 detail={"rows": len(parsed.rows), "new": len(out.new),
                         "changed": len(out.changed), "leaving": len(out.leaving)})
    return out


def _match_key(given: str | None, family: str | None, dob: dt.date | str | None) -> str | None:
    if not dob or not given or not family:
        return None
    return f"{fold_for_match(given)}|{fold_for_match(family)}|{dob}"


def _possible_matches(school: School, new_rows: list[dict[str, Any]]) -> list[PossibleMatch]:
    """Children never matched to the roll (no UPN: added by hand, or marked on the roll before
    the school imported one) with the same normalised name (legal or preferred given name) and
    date of birth as a new pupil of the roll: shown for the DSL to check, never merged."""
    by_hand = list(db.session.scalars(select(Child).where(
        Child.school_id == school.id, Child.roll_status != "left",
        Child.upn_index.is_(None), Child.merged_into_id.is_(None),
        Child.destroyed_at.is_(None))))
    if not by_hand:
        return []
    keys: dict[str, list[Child]] = {}
    for child in by_hand:
        key = _match_key(child.given_name, child.family_name,
                         child.dob.isoformat() if child.dob else None)
        if key:
            keys.setdefault(key, []).append(child)
    out: list[PossibleMatch] = []
    for row in new_rows:
        found: dict[uuid.UUID, Child] = {}
        for given in (row["given_name"], row["preferred_name"]):
            for child in keys.get(_match_key(given, row["family_name"], row["dob"]) or "", []):
                found[child.id] = child
        out.extend(PossibleMatch(row, child) for child in found.values())
    return out


# ---------------------------------------------------------------------------------------------
# Confirm and import


def confirm_import(user: User, roll_import: RollImport, links: dict[str, uuid.UUID],
                   now: dt.datetime) -> bool:
    """Start the import the user previewed (flushes). `links`: UPN -> the child added by hand
    the DSL confirmed is that pupil. False when it was already confirmed (a second click) or
    replaced: nothing changes then."""
    if roll_import.state != "previewed":
        return False
    if links:
        rows = json.loads(roll_import.rows or "[]")
        for row in rows:
            if row["upn"] in links:
                row["link_child_id"] = str(links[row["upn"]])
        roll_import.rows = json.dumps(rows, ensure_ascii=False)
    roll_import.state = "importing"
    roll_import.confirmed_by_id = user.id
    roll_import.confirmed_at = now
    db.session.flush()
    return True


def stalled(roll_import: RollImport, now: dt.datetime) -> bool:
    """Confirmed, not finished, and no worker has held it for a lease's length: the server
    stopped part way (the page offers to continue)."""
    if roll_import.state != "importing":
        return False
    held_until = roll_import.lease_until or (
        (roll_import.confirmed_at or roll_import.created_at) + LEASE)
    return held_until < now


def take_lease(import_id: uuid.UUID, now: dt.datetime) -> bool:
    """Hold the import for this worker (the caller commits at once); False if another worker
    holds it or it is not being imported."""
    taken = db.session.execute(update(RollImport).where(
        RollImport.id == import_id, RollImport.state == "importing",
        (RollImport.lease_until.is_(None)) | (RollImport.lease_until < now),
    ).values(lease_until=now + LEASE))
    return bool(getattr(taken, "rowcount", 0) == 1)


@dataclass
class ImportRun:
    """An import being written by the worker that holds its lease (`open_run`)."""

    roll_import: RollImport
    school: School
    rows: list[dict[str, Any]]
    upn_indexer: Callable[[str], str]
    digester: Callable[[str], str]
    names: dict[str, str]

    @property
    def rows_left(self) -> bool:
        return self.roll_import.done_rows < len(self.rows)


def open_run(import_id: uuid.UUID) -> ImportRun:
    """The import whose lease this worker holds, ready to write from where it last stopped."""
    roll_import = db.session.get(RollImport, import_id)
    assert roll_import is not None
    school = db.session.get(School, roll_import.school_id)
    assert school is not None
    org = str(school.id)
    return ImportRun(roll_import, school, json.loads(roll_import.rows or "[]"),
                     keyring().blind_indexer(org, UPN_INDEX),
                     keyring().blind_indexer(org, ROW_DIGEST), _authority_names())


def write_next_batch(run: ImportRun, *, batch_size: int,
                     clock: Callable[[], dt.datetime]) -> None:
    """Write the next `batch_size` rows and count them done, renewing the lease (flushes; the
    worker commits each batch, so a stopped import resumes after the last one committed)."""
    roll_import = run.roll_import
    batch = run.rows[roll_import.done_rows:roll_import.done_rows + batch_size]
    _write_batch(run.school, roll_import, batch, run.upn_indexer, run.digester, run.names,
                 clock())
    roll_import.done_rows += len(batch)
    roll_import.lease_until = clock() + LEASE
    db.session.flush()


def finish(run: ImportRun, now: dt.datetime) -> None:
    """Mark the leavers and the import done, the last step (flushes; the worker commits)."""
    roll_import, rows = run.roll_import, run.rows
    left = _mark_leavers(run.school, {run.upn_indexer(r["upn"].casefold()) for r in rows}, now)
    roll_import.leavers_done = True
    roll_import.state = "done"
    roll_import.finished_at = now
    roll_import.lease_until = None
    roll_import.rows = None  # the rows live on in the children's records
    audit.record(audit.ROLL_IMPORTED, org_id=str(run.school.id),
                 actor_id=roll_import.confirmed_by_id, object_type="roll_import",
                 object_id=roll_import.id, at=now, detail={"rows": len(rows), "left": left})
    db.session.flush()


def _write_batch(school: School, roll_import: RollImport, batch: list[dict[str, Any]],
                 upn_indexer: Callable[[str], str], digester: Callable[[str], str],
                 names: dict[str, str], now: dt.datetime) -> None:
    indexes = {upn_indexer(row["upn"].casefold()): row for row in batch}
    found = {c.upn_index: c for c in db.session.scalars(select(Child).where(
        Child.school_id == school.id, Child.upn_index.in_(list(indexes))))}
    # Which rows change which child (None: a new one), before writing any.
    todo: list[tuple[str, dict[str, Any], str, Child | None]] = []
    for index, row in indexes.items():
        digest = _digest_of(digester, row)
        child = found.get(index)
        if child is not None and child.roll_digest == digest \
                and child.roll_status == _expected_status(row):
            continue  # unchanged (or written by an earlier, interrupted run)
        if child is None and row.get("link_child_id"):
            child = _linkable(school, uuid.UUID(row["link_child_id"]))
            if child is not None:
                audit.record(audit.ROLL_MATCHED, org_id=str(school.id),
                             actor_id=roll_import.confirmed_by_id, object_type="child",
                             object_id=child.id, at=now,
                             detail={"roll_import_id": str(roll_import.id)})
        todo.append((index, row, digest, child))
    numbers = reserve_child_numbers(school, sum(1 for *_, child in todo if child is None))
    written: list[Child] = []
    for index, row, digest, child in todo:
        if child is None:
            # Every field set before the child is first written: one INSERT, no UPDATE.
            child = add_child(school, number=next(numbers), given_name=row["given_name"],
                              family_name=row["family_name"],
                              dob=dt.date.fromisoformat(row["dob"]), send=row["send"],
                              local_authority_code=row["home_la_code"],
                              authority_from_school=False,
                              created_by_id=roll_import.confirmed_by_id, on_roll=True,
                              preferred_name=row["preferred_name"],
                              fill=partial(_apply_fields, row=row, index=index,
                                           digest=digest, names=names))
            audit.record(audit.CHILD_CREATED, org_id=str(school.id),
                         actor_id=roll_import.confirmed_by_id, object_type="child",
                         object_id=child.id, at=now, detail={"via": "roll"})
            _add_contacts(child, row, replace=False)  # a new child has none to replace
        else:
            _apply_fields(child, row, index, digest, names)
            _add_contacts(child, row, replace=True)
        db.session.flush()
        written.append(child)
    # The UPN, names or date of birth may have changed: so may the keyed hashes that match
    # repeat harm across an authority's schools (the batch's children at once).
    repeat_harm.mark_children(written)


def _linkable(school: School, child_id: uuid.UUID) -> Child | None:
    child = db.session.get(Child, child_id)
    if child is None or child.school_id != school.id or child.roll_status == "left" \
            or child.upn_index is not None or child.merged_into_id is not None:
        return None
    return child


def _set_if_changed(child: Child, name: str, value: Any) -> None:
    """Encrypt a new value only when it differs (an unchanged field keeps its ciphertext)."""
    if getattr(child, name) != value:
        setattr(child, name, value)


def _apply_fields(child: Child, row: dict[str, Any], index: str, digest: str,
                  names: dict[str, str]) -> None:
    """The row's names and details on the child (the names through `set_names` when they
    changed, so search follows)."""
    preferred = (row["preferred_name"] or "").strip() or None
    if (child.given_name, child.family_name, child.preferred_name) != (
            row["given_name"], row["family_name"], preferred):
        # Through the one place names change, so search finds the new names (and goes-by name).
        set_names(child, given_name=row["given_name"], family_name=row["family_name"],
                  preferred_name=preferred)
    _set_if_changed(child, "dob", dt.date.fromisoformat(row["dob"]))
    _set_if_changed(child, "send", row["send"])
    _set_if_changed(child, "upn", row["upn"])
    _set_if_changed(child, "sex", row["sex"])
    _set_if_changed(child, "year_group", row["year_group"])
    _set_if_changed(child, "address", row["address"])
    _set_if_changed(child, "home_authority_text", row["home_la_text"])
    for name in OPTIONAL_COLUMNS:
        if name in row:  # only when the file has the column
            _set_if_changed(child, name, row[name])
    _set_if_changed(child, "left_on", dt.date.fromisoformat(row["left_on"])
                    if row.get("left_on") else None)
    if row["home_la_code"] in names:
        child.local_authority_code = row["home_la_code"]
    child.upn_index = index
    child.roll_status = _expected_status(row)
    child.roll_digest = digest


def _add_contacts(child: Child, row: dict[str, Any], *, replace: bool) -> None:
    """The file's contacts for the child, replacing the last import's when `replace`."""
    if replace:
        db.session.execute(delete(RollContact).where(RollContact.child_id == child.id))
    for person in row["contacts"]:
        _add_contact(child, person["priority"], person["name"], person["relationship"],
                     person["responsibility"], person["phones"], person["email"],
                     person["address"])


def _mark_leavers(school: School, in_file: set[str], now: dt.datetime) -> int:
    """Pupils on the roll before and absent from this file: left (kept, never deleted)."""
    count = 0
    for child in db.session.scalars(select(Child).where(
            Child.school_id == school.id, Child.roll_status == "on_roll",
            Child.upn_index.is_not(None))):
        if child.upn_index not in in_file:
            child.roll_status = "left"
            child.left_on = uk_local(now).date()
            count += 1
    db.session.flush()
    return count


def imports_of(school_id: uuid.UUID, limit: int = 5) -> Iterable[RollImport]:
    return db.session.scalars(select(RollImport).where(
        RollImport.school_id == school_id, RollImport.state.in_(("importing", "done")))
        .order_by(RollImport.created_at.desc()).limit(limit))
