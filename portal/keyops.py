"""Key operations behind the CLI: seeding keys, master-key rotation, data-key rotation, shredding.

Every encrypted value is found generically: each mapped class's `Encrypted` descriptors name
their column and the attribute holding the owning organisation, so a new encrypted field is
covered by rotation and shredding checks without a change here.

Data-key rotation is resumable and idempotent:

1. ``start_rotation``: if the organisation still has a retired data key, a rotation is already
   in progress and is continued (no second new key); otherwise a new active key is made and
   committed at once.
2. ``reencrypt_org``: every value and attachment not under the active key is re-encrypted, in
   batches, one commit per batch. A value is replaced only if it has not changed since it was
   read (conditional UPDATE), so a portal process writing at the same time is never overwritten.
3. ``finish_rotation``: retired keys found in no record are dropped, but only once every
   other process's key cache has expired (``settle_seconds``), so nothing can still be writing
   under the retired key.

A school's operations cover its children's own keys too (docs/security.md, "One child's
key"): rotating a school also rotates the key of each of its children's files, and shredding a
school shreds them. Values of a child's file are found through the school they belong to.

Messages name tables, counts and key ids, never values.
"""

from __future__ import annotations

import datetime as dt
import os
import tempfile
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from flask import current_app
from sqlalchemy import String, bindparam, false, func, or_, select, update

from . import clock
from .config import Settings
from .crypto import (
    CryptoError,
    FieldContext,
    KeyNotFound,
    KeyRing,
    KeyShredded,
    MasterKeyProvider,
    key_id_of,
)
from .durable import fsync_dir
from .models import (
    DEPLOYMENT_ORG,
    Attachment,
    Base,
    Child,
    Encrypted,
    LocalAuthority,
    OrgKey,
    ReferralAttachment,
    School,
    db,
    keyring,
)
from .models.base import CHILD_ORG_PREFIX, child_key_org

#: How long a portal process may keep using a cached active-key id (KeyRing's default TTL).
KEY_CACHE_SECONDS = 300
#: Bytes of an encrypted value or attachment that always contain the whole header.
_HEADER_BYTES = 66

OrgKind = Literal["school", "local_authority", "deployment"]


class KeyOpsError(Exception):
    """A key operation cannot go ahead; the message says why and what to do."""


class OrgNotFound(KeyOpsError):
    pass


class RecordsRemain(KeyOpsError):
    """Shredding refused: records still need the organisation's keys."""

    def __init__(self, org: Org, counts: dict[str, int]) -> None:
        self.counts = counts
        listed = ", ".join(f"{table} {n}" for table, n in sorted(counts.items()))
        super().__init__(
            f"{org.label} still has {sum(counts.values())} encrypted records ({listed}). "
            "Shredding its keys would make them unreadable for ever. Use --force only when "
            "they may be destroyed (retention period over, no legal hold)."
        )


# --------------------------------------------------------------------------------------------
# Organisations


@dataclass(frozen=True)
class Org:
    id: str
    kind: OrgKind
    label: str

    @property
    def uuid(self) -> uuid.UUID | None:
        return None if self.kind == "deployment" else uuid.UUID(self.id)


def resolve_org(text: str) -> Org:
    """A school (id or URN), a local authority (id or code), or "deployment"."""
    text = (text or "").strip()
    if not text:
        raise OrgNotFound("Enter an organisation: a school URN, a local authority code or an id")
    if text == DEPLOYMENT_ORG:
        return Org(DEPLOYMENT_ORG, "deployment", "the deployment (administrators)")
    try:
        as_uuid: uuid.UUID | None = uuid.UUID(text)
    except ValueError:
        as_uuid = None
    school = db.session.scalar(
        select(School).where(School.id == as_uuid) if as_uuid else
        select(School).where(School.urn == text)
    )
    if school is not None:
        return Org(str(school.id), "school", f"{school.name} (URN {school.urn})")
    la = db.session.scalar(
        select(LocalAuthority).where(LocalAuthority.id == as_uuid) if as_uuid else
        select(LocalAuthority).where(LocalAuthority.code == text)
    )
    if la is not None:
        return Org(str(la.id), "local_authority", f"{la.name} ({la.code})")
    raise OrgNotFound(
        f"No school or local authority matches {text!r}: give a school URN, a local authority "
        "code (e.g. derbyshire), an organisation id, or 'deployment'"
    )


# --------------------------------------------------------------------------------------------
# Where encrypted values live


@dataclass(frozen=True)
class FieldGroup:
    """The encrypted fields of one model that share an owning-organisation attribute."""

    model: type[Any]
    org_attr: str
    fields: tuple[Encrypted[Any], ...]

    @property
    def table(self) -> str:
        return str(self.model.__tablename__)

    @property
    def owner_attr(self) -> str:
        """The attribute naming the organisation the rows belong to: the org attribute, or for
        the fields of a child's file (under the child's key) the school's."""
        return "school_id" if self.org_attr == "key_org" else self.org_attr

    @property
    def org_column(self) -> Any | None:
        """The mapped column holding the org id, or None when it is computed (User.org_id)."""
        mapper = self.model.__mapper__
        return mapper.columns.get(self.owner_attr)

    def columns(self) -> list[Any]:
        return [self.model.__table__.c[f.column] for f in self.fields]

    def org_filter(self, org: Org) -> Any:
        col = self.org_column
        if col is None:
            return None  # filtered in Python on the computed attribute
        if isinstance(col.type, String):  # an org id kept as text (the mail outbox's)
            return col == org.id
        if org.uuid is None:
            return false()
        return col == org.uuid

    def belongs(self, row: Any, org: Org) -> bool:
        value = getattr(row, self.owner_attr)
        return value is not None and str(value) == org.id


def encrypted_field_groups() -> list[FieldGroup]:
    groups: list[FieldGroup] = []
    for mapper in sorted(Base.registry.mappers, key=lambda m: m.class_.__name__):
        cls = mapper.class_
        by_attr: dict[str, list[Encrypted[Any]]] = {}
        seen: set[str] = set()
        for klass in cls.__mro__:
            for name, value in vars(klass).items():
                if isinstance(value, Encrypted) and name not in seen:
                    seen.add(name)
                    by_attr.setdefault(value.org_attr, []).append(value)
        for org_attr, descriptors in sorted(by_attr.items()):
            descriptors.sort(key=lambda d: d.column)
            groups.append(FieldGroup(cls, org_attr, tuple(descriptors)))
    return groups


def _group_query(group: FieldGroup, org: Org) -> Any:
    query = select(group.model).where(or_(*(c.is_not(None) for c in group.columns())))
    condition = group.org_filter(org)
    if condition is not None:
        query = query.where(condition)
    return query


def iter_org_rows(
    group: FieldGroup, org: Org, batch_size: int = 500
) -> Iterator[list[Any]]:
    """Batches of the org's rows holding at least one encrypted value, in id order (keyset)."""
    last: Any = None
    pk = group.model.__mapper__.primary_key[0]
    while True:
        query = _group_query(group, org).order_by(pk).limit(batch_size)
        if last is not None:
            query = query.where(pk > last)
        rows = list(db.session.scalars(query))
        if not rows:
            return
        last = getattr(rows[-1], pk.key)
        yield [r for r in rows if group.belongs(r, org)]


def count_org_records(org: Org) -> dict[str, int]:
    """Rows per table holding at least one encrypted value under the org (plus attachments)."""
    counts: dict[str, int] = {}
    for group in encrypted_field_groups():
        if group.org_column is not None:
            n = db.session.scalar(
                select(func.count()).select_from(_group_query(group, org).subquery())
            ) or 0
        else:
            n = sum(len(batch) for batch in iter_org_rows(group, org))
        if n:
            counts[group.table] = counts.get(group.table, 0) + n
    files = sum(1 for _ in _attachment_files(org))
    if files:
        counts["attachment files"] = files
    return counts


def key_ids_in_use(org: Org) -> set[str]:
    """Every key id found in the org's encrypted values and attachment files."""
    found: set[str] = set()
    for group in encrypted_field_groups():
        for batch in iter_org_rows(group, org):
            for row in batch:
                for f in group.fields:
                    blob = getattr(row, f.column)
                    if blob is not None:
                        found.add(key_id_of(blob))
    for _ctx, path in _attachment_files(org):
        with path.open("rb") as fh:
            found.add(key_id_of(fh.read(_HEADER_BYTES)))
    return found


# --------------------------------------------------------------------------------------------
# Attachments


def attachment_context(att: Attachment) -> FieldContext:
    """Where an attachment's content is bound: its school and its store name (the id as hex).

    The same context as ``AttachmentStore.save(str(att.school_id), att.store_name, ...)``.
    """
    from .attachments import AttachmentStore

    return AttachmentStore.context(str(att.school_id), att.store_name)


def attachment_path(att: Attachment | ReferralAttachment) -> Path:
    store = current_app.extensions.get("attachments")
    if store is not None:
        return Path(store.path(att.store_name))
    settings: Settings = current_app.config["PORTAL_SETTINGS"]
    return Path(settings.resolved_attachment_dir) / att.store_name


def _attachment_files(org: Org) -> Iterator[tuple[FieldContext, Path]]:
    """(context, path) of each of the org's stored attachment files (read eagerly): a school's
    attachments, or an authority's copies of the files sent with its referrals."""
    from .attachments import AttachmentStore

    if org.kind == "school":
        query = select(Attachment).where(Attachment.school_id == org.uuid).order_by(Attachment.id)
        found = [(attachment_context(att), attachment_path(att))
                 for att in db.session.scalars(query)]
    elif org.kind == "local_authority":
        copies = select(ReferralAttachment).where(
            ReferralAttachment.local_authority_id == org.uuid).order_by(ReferralAttachment.id)
        found = [(AttachmentStore.context(str(copy.local_authority_id), copy.store_name),
                  attachment_path(copy)) for copy in db.session.scalars(copies)]
    else:
        return
    for ctx, path in found:
        if path.is_file():
            yield ctx, path


def reencrypt_attachment(ring: KeyRing, ctx: FieldContext, path: Path) -> bool:
    """Re-encrypt one stored file under the active key: temp file beside it, then os.replace."""
    with path.open("rb") as fh:
        if not ring.needs_reencrypt(ctx.org_id, fh.read(_HEADER_BYTES)):
            return False
    fd, tmp_name = tempfile.mkstemp(prefix=".reencrypt-", dir=path.parent)
    tmp = Path(tmp_name)
    try:
        with path.open("rb") as src, os.fdopen(fd, "wb") as dst:
            ring.reencrypt_stream(ctx, src, dst)
            dst.flush()
            os.fsync(dst.fileno())
        os.chmod(tmp, 0o600)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    fsync_dir(path.parent)
    return True


# --------------------------------------------------------------------------------------------
# Data-key rotation


@dataclass
class ReencryptStats:
    rows_seen: int = 0
    values_reencrypted: int = 0
    values_changed_meanwhile: int = 0
    attachments_reencrypted: int = 0
    batches: int = 0
    complete: bool = False


@dataclass
class RotationResult:
    active_key_id: str
    resumed: bool
    stats: ReencryptStats
    dropped: list[str] = field(default_factory=list)
    kept_retired: list[str] = field(default_factory=list)
    settle_until: dt.datetime | None = None


class Interrupted(KeyOpsError):
    """Raised by ``reencrypt_org`` when ``max_batches`` is reached (used to test resumption)."""


def retired_data_keys(org: Org) -> list[str]:
    return [k.key_id for k in keyring().keys_of(org.id)
            if k.purpose == "data" and k.state == "retired"]


def start_rotation(org: Org) -> tuple[str, bool]:
    """Make a new active data key, unless a rotation is still in progress.

    Returns (active key id, resumed). Commits, so the new key exists before any value uses it.
    """
    ring = keyring()
    keys = [k for k in ring.keys_of(org.id) if k.purpose == "data"]
    if not keys:
        if _is_shredded(org):
            raise KeyOpsError(f"The keys of {org.label} were shredded; nothing can be rotated")
        raise KeyOpsError(f"{org.label} has no data key yet (run `flask init-db` first)")
    if any(k.state == "retired" for k in keys):
        return ring.active_key_id(org.id), True
    new_id = ring.rotate_org_key(org.id)
    for scope in child_scopes(org):
        # Each child's file gets a new key with its school's (a child's key made since a
        # rotation began is new already, so a resumed rotation makes none).
        if not any(k.state == "retired" for k in ring.keys_of(scope) if k.purpose == "data"):
            ring.rotate_org_key(scope)
    db.session.commit()
    return new_id, False


def _is_shredded(org: Org) -> bool:
    from .models import ShreddedOrg

    return db.session.get(ShreddedOrg, org.id) is not None


def child_scopes(org: Org) -> list[str]:
    """The key scopes of a school's children's files that have keys (none for other orgs)."""
    if org.kind != "school" or org.uuid is None:
        return []
    scopes = {child_key_org(i) for i in db.session.scalars(
        select(Child.id).where(Child.school_id == org.uuid))}
    with_keys = db.session.scalars(select(OrgKey.org_id).where(
        OrgKey.org_id.startswith(CHILD_ORG_PREFIX)).distinct())
    return sorted(scopes.intersection(with_keys))


def count_rotation_work(org: Org) -> int:
    """Rows and attachment files to look at (for the progress bar)."""
    return sum(count_org_records(org).values())


def reencrypt_org(
    org: Org,
    *,
    batch_size: int = 500,
    progress: Callable[[int], None] | None = None,
    max_batches: int | None = None,
) -> ReencryptStats:
    """Re-encrypt every value and attachment of the org that is not under the active key.

    One commit per batch: an interruption loses at most the current batch, and running again
    skips what is done. ``max_batches`` stops (raising ``Interrupted``) after that many batches.
    """
    if batch_size < 1:
        raise KeyOpsError("The batch size must be 1 or more")
    ring = keyring()
    actives: dict[str, str | None] = {}

    def active_of(scope: str) -> str | None:
        if scope not in actives:
            try:
                actives[scope] = ring.active_key_id(scope)
            except KeyNotFound:
                actives[scope] = None  # a child's file not yet under its own key
        return actives[scope]

    stats = ReencryptStats()

    def batch_done(n: int) -> None:
        db.session.commit()
        stats.batches += 1
        if progress is not None:
            progress(n)
        if max_batches is not None and stats.batches >= max_batches:
            raise Interrupted(f"stopped after {stats.batches} batches")

    for group in encrypted_field_groups():
        table = group.model.__table__
        pk_col = table.c[group.model.__mapper__.primary_key[0].name]
        for batch in iter_org_rows(group, org, batch_size):
            changes: dict[str, list[dict[str, Any]]] = {f.column: [] for f in group.fields}
            for row in batch:
                stats.rows_seen += 1
                for f in group.fields:
                    blob = getattr(row, f.column)
                    if blob is None:
                        continue
                    scope = f.context(row).org_id
                    if key_id_of(blob) == active_of(scope):
                        continue
                    try:
                        new = ring.reencrypt(f.context(row), blob)
                    except KeyShredded:
                        raise
                    except KeyNotFound:
                        # A value of a child's file still under its school's key (from before
                        # per-child keys): read there, written under the child's own key.
                        new = f.encrypt_payload(row, f.decrypt_blob(row, blob))
                    actives.pop(scope, None)
                    changes[f.column].append({"row_id": row.id, "old": blob, "new": new})
            for column, params in changes.items():
                if params:
                    done = _update_unchanged(table, pk_col, column, params)
                    stats.values_reencrypted += done
                    stats.values_changed_meanwhile += len(params) - done
            batch_done(len(batch))

    pending: list[tuple[FieldContext, Path]] = []
    for ctx, path in list(_attachment_files(org)):
        pending.append((ctx, path))
        if len(pending) >= batch_size:
            stats.attachments_reencrypted += sum(
                reencrypt_attachment(ring, a, p) for a, p in pending
            )
            batch_done(len(pending))
            pending = []
    if pending:
        stats.attachments_reencrypted += sum(reencrypt_attachment(ring, a, p) for a, p in pending)
        batch_done(len(pending))
    stats.complete = True
    return stats


def _update_unchanged(table: Any, pk_col: Any, column: str, params: list[dict[str, Any]]) -> int:
    """Write each new ciphertext only where the row still holds the old one (no lost updates:
    a value edited since it was read keeps the edit). One statement per batch and column where
    the driver reports the rows matched by a batch; returns how many were written."""
    col = table.c[column]
    stmt = (update(table)
            .where(pk_col == bindparam("row_id"), col == bindparam("old"))
            .values({column: bindparam("new")})
            .execution_options(synchronize_session=False))
    conn = db.session.connection()
    if conn.dialect.supports_sane_multi_rowcount:
        return int(conn.execute(stmt, params).rowcount)
    return sum(int(conn.execute(stmt, p).rowcount) for p in params)


def finish_rotation(
    org: Org, *, settle_seconds: float = KEY_CACHE_SECONDS, now: dt.datetime | None = None
) -> tuple[list[str], list[str], dt.datetime | None]:
    """Drop retired data keys that no value uses, once other processes' caches have expired.

    Returns (dropped, kept, settle_until): ``settle_until`` is set when keys were kept only
    because the rotation is too recent.
    """
    ring = keyring()
    retired = retired_data_keys(org)
    scopes = [scope for scope in child_scopes(org)
              if any(k.purpose == "data" and k.state == "retired" for k in ring.keys_of(scope))]
    if not retired and not scopes:
        return [], [], None
    now = now or clock.now()
    active = [k for k in ring.keys_of(org.id) if k.purpose == "data" and k.state == "active"]
    started = max((k.created_at for k in active if k.created_at), default=None)
    if started is not None:
        if started.tzinfo is None:
            started = started.replace(tzinfo=dt.UTC)
        settle_until = started + dt.timedelta(seconds=settle_seconds)
        if now < settle_until:
            return [], retired, settle_until
    in_use = key_ids_in_use(org)
    dropped = ring.drop_retired_keys(org.id, in_use=in_use)
    for scope in scopes:  # children's retired keys: counted, not listed (one per child)
        ring.drop_retired_keys(scope, in_use=in_use)
    db.session.commit()
    kept = [k for k in retired if k not in dropped]
    return dropped, kept, None


def rotate_org(
    org: Org,
    *,
    batch_size: int = 500,
    progress: Callable[[int], None] | None = None,
    max_batches: int | None = None,
    settle_seconds: float = KEY_CACHE_SECONDS,
) -> RotationResult:
    active, resumed = start_rotation(org)
    stats = reencrypt_org(org, batch_size=batch_size, progress=progress, max_batches=max_batches)
    dropped, kept, settle_until = finish_rotation(org, settle_seconds=settle_seconds)
    return RotationResult(active, resumed, stats, dropped, kept, settle_until)


# --------------------------------------------------------------------------------------------
# Master key, seeding, shredding


def rotate_master(new_master: MasterKeyProvider) -> int:
    """Re-wrap every organisation key under ``new_master`` and commit. Records are untouched."""
    ring = keyring()
    try:
        count = ring.rewrap_all(new_master)
    except CryptoError:
        db.session.rollback()
        raise
    db.session.commit()
    return count


def seed_authorities() -> tuple[list[str], list[str]]:
    """Create missing local authorities from the packaged directory; ensure every org has keys.

    Returns (authorities created, organisations skipped because their keys were shredded).
    """
    from .crypto import KeyShredded
    from .rules.directory import load_directory_data

    created: list[str] = []
    skipped: list[str] = []
    existing = {la.code for la in db.session.scalars(select(LocalAuthority))}
    for entry in load_directory_data()["authorities"]:
        if entry["code"] in existing:
            continue
        db.session.add(LocalAuthority(code=entry["code"], name=entry["name"], directory=entry))
        created.append(entry["code"])
    db.session.flush()
    ring = keyring()
    orgs = [DEPLOYMENT_ORG]
    orgs += [str(i) for i in db.session.scalars(select(LocalAuthority.id))]
    orgs += [str(i) for i in db.session.scalars(select(School.id))]
    for org_id in orgs:
        try:
            ring.ensure_org(org_id)
        except KeyShredded:
            skipped.append(org_id)
    db.session.commit()
    return created, skipped


def shred(org: Org, *, force: bool = False) -> tuple[int, dict[str, int]]:
    """Destroy the org's keys. Refused (``RecordsRemain``) while records need them, unless forced.

    Returns (keys destroyed, records made unreadable). The caller audits and commits.
    """
    counts = count_org_records(org)
    if counts and not force:
        raise RecordsRemain(org, counts)
    ring = keyring()
    destroyed = ring.shred_org(org.id)
    for scope in child_scopes(org):  # the keys of its children's files go with it
        ring.shred_org(scope)
    return destroyed, counts


def audit(action: str, **kwargs: Any) -> None:
    """Append an audit event (flushed with the operation; the caller commits)."""
    from . import audit as audit_module

    audit_module.record(action, **kwargs)
