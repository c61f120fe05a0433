"""Declarative base, column types and the encrypted-field descriptor shared by every model."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterable
from inspect import getattr_static as inspect_static
from typing import Any, Final, Generic, TypeVar, overload

from flask import current_app
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy import DateTime, LargeBinary, MetaData, TypeDecorator, inspect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, object_session, relationship
from sqlalchemy.orm.exc import UnmappedInstanceError

from .. import clock
from ..crypto import (
    DecryptionError,
    FieldContext,
    KeyNotFound,
    KeyRing,
    KeyShredded,
    parse_field,
)

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


db = SQLAlchemy(model_class=Base)

# The deployment itself is an organisation for keys: administrators' secrets live under it.
DEPLOYMENT_ORG = "deployment"


def holder_org(school_id: uuid.UUID | None, local_authority_id: uuid.UUID | None) -> str:
    """The organisation whose key protects a row held for a school, a local authority or
    (neither: an administrator's) the deployment itself."""
    if school_id:
        return str(school_id)
    if local_authority_id:
        return str(local_authority_id)
    return DEPLOYMENT_ORG


def utcnow() -> dt.datetime:
    """The one clock (`portal.clock.now`), as the models' column defaults and older callers
    name it."""
    return clock.now()


def new_id() -> uuid.UUID:
    return uuid.uuid4()


class UTCDateTime(TypeDecorator[dt.datetime]):
    """Stores UTC; always gives back an aware UTC datetime (SQLite forgets the zone)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Any) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(dt.UTC)

    def process_result_value(self, value: dt.datetime | None, dialect: Any) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=dt.UTC)
        return value.astimezone(dt.UTC)


class IdMixin:
    """UUID primary key made in Python, so encrypted fields can bind to the row before flush."""

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)


# A child's own key scope (docs/security.md, "One child's key"): the fields of one child's file
# are encrypted under it, so that child alone can be crypto-shredded at the end of retention.
# The child's id is unique across schools; the prefix keeps it apart from school ids.
CHILD_ORG_PREFIX = "child:"


def child_key_org(child_id: uuid.UUID | str) -> str:
    """The key scope ("organisation" of the key ring) of one child's file."""
    return CHILD_ORG_PREFIX + (child_id.hex if isinstance(child_id, uuid.UUID)
                               else uuid.UUID(str(child_id)).hex)


def not_yet_written(obj: Any) -> bool:
    """Whether `obj` (a mapped row) has not been written to the database yet: new, flushed
    never, so nothing in the database refers to it (its key scope, its name terms)."""
    state = inspect(obj, raiseerr=False)
    return state is not None and (state.transient or state.pending)


def _new_child(obj: Any) -> bool:
    """Whether `obj` is a child not yet written to the database (its file's scope is new)."""
    return getattr(obj, "__tablename__", None) == "children" and not_yet_written(obj)


def keyring() -> KeyRing:
    """The application's key ring (set up in create_app)."""
    ring: KeyRing = current_app.extensions["keyring"]
    return ring


T = TypeVar("T")

_OPENED: Final = "portal.opened_child_scopes"


def _open_child_scopes(obj: Any, own: str, ring: KeyRing) -> None:
    """Open the keys of every child whose rows the session holds, in one read of the store,
    when the first of them is read: each child's file has its own key, and a page listing 40
    children would otherwise look up 40 keys one statement at a time (and again whenever the
    cache's five minutes run out). Reads only what is loaded (never an expired attribute), and
    each scope once per session: a scope found without keys is left to the usual lookup."""
    try:
        session = object_session(obj)
    except UnmappedInstanceError:  # columns read without the ORM (`plain_value`)
        session = None
    if session is None:
        return
    done: set[str] = session.info.setdefault(_OPENED, set())
    scopes = set()
    for row in list(session.identity_map.values()):
        org = _child_scope_loaded(row)
        if org is not None and org not in done:
            scopes.add(org)
    if own not in done:
        scopes.add(own)
    if scopes:
        done.update(scopes)
        ring.open_scopes(scopes)


def _child_scope_loaded(row: Any) -> str | None:
    """The child key scope of `row` from its loaded columns only (None if not child-keyed)."""
    loaded = inspect(row).dict
    if getattr(type(row), "__tablename__", None) == "children":
        child_id = loaded.get("id")
    elif _is_child_keyed(type(row)):
        child_id = loaded.get("child_id")
    else:
        return None
    return None if child_id is None else child_key_org(child_id)


_child_keyed: dict[type, bool] = {}


def _is_child_keyed(model: type) -> bool:
    found = _child_keyed.get(model)
    if found is None:
        found = _child_keyed[model] = any(
            isinstance(v, Encrypted) and v.org_attr == "key_org"
            for klass in model.__mro__ for v in vars(klass).values())
    return found


class _ColumnsOf:
    """What an `Encrypted` field reads of its row (id, organisation columns, key scope), given
    as columns loaded without the ORM: `key_org` is worked out by the model's own property, so
    there is one rule for each model's key scope."""

    def __init__(self, model: type, columns: dict[str, Any]) -> None:
        self.__dict__.update(columns)
        self.__tablename__ = model.__tablename__  # type: ignore[attr-defined]
        self._model = model

    def __getattr__(self, name: str) -> Any:
        if name == "key_org":
            scope = inspect_static(self._model, "key_org", None)
            if isinstance(scope, property) and scope.fget is not None:
                return scope.fget(self)
        raise AttributeError(name)


def plain_value(model: type, name: str, blob: bytes | None, **columns: Any) -> Any:
    """The plaintext of `model.<name>` stored as `blob`, for a read model that loads columns
    (Core rows) rather than ORM objects: the same keys, scopes, fallbacks and errors as reading
    the attribute of a loaded object. `columns` are the row's columns the field's key is bound
    to: always `id`, and the organisation column (`school_id`, or the field's own); a field of
    a child's file also needs `child_id` (a child's own fields: `id` alone) and `school_id` for
    values from before per-child keys. None for None.

    Decrypting many children's values: open their keys first in one read of the key store,
    with `open_child_scopes_for`, as loading their objects would."""
    if blob is None:
        return None
    field = inspect_static(model, name)
    if not isinstance(field, Encrypted):
        raise TypeError(f"{model.__name__}.{name} is not an encrypted field")
    return field._decode(field.decrypt_blob(_ColumnsOf(model, columns), blob))


def open_child_scopes_for(child_ids: Iterable[uuid.UUID]) -> None:
    """Open the keys of these children's files in one read of the key store (keys already
    open are skipped): before `plain_value` decrypts values of many children's files."""
    keyring().open_scopes({child_key_org(child_id) for child_id in child_ids})


class Encrypted(Generic[T]):
    """A model attribute stored encrypted in the `<name>_enc` column.

    The ciphertext is bound to (organisation, table, column, row id): copied to another row,
    column or organisation it no longer decrypts. `org_attr` names the attribute holding the
    owning organisation's id, which must be set before the value.

    `legacy_org_attr`: where values written before the field moved to its own key scope (a
    child's key, docs/security.md) were bound; such values still read until `flask
    rekey-children` has moved them. A scope with no key yet (a child's first value) gets its
    keys when a value is first written (never on reading).
    """

    def __init__(self, org_attr: str = "school_id", kind: str = "text",
                 legacy_org_attr: str | None = None) -> None:
        self.org_attr = org_attr
        self.kind = kind  # "text" | "date" | "bool" | "bytes"
        self.legacy_org_attr = legacy_org_attr

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name
        self.column = f"{name}_enc"
        self._cache_key = f"_decrypted_{name}"  # where `__get__` keeps the plaintext

    def context(self, obj: Any) -> FieldContext:
        org_id, row_id = self._scope(obj)
        return FieldContext(org_id, obj.__tablename__, self.name, row_id)

    def _scope(self, obj: Any) -> tuple[str, str]:
        """(organisation, row id) of the value on `obj`, as `context` binds them."""
        org = getattr(obj, self.org_attr)
        if org is None:
            raise ValueError(f"{type(obj).__name__}.{self.org_attr} must be set before {self.name}")
        row_id = getattr(obj, "id", None)
        if row_id is None:
            row_id = obj.id = new_id()
        return str(org), str(row_id)

    def _legacy_org(self, obj: Any, org_id: str) -> str | None:
        """The legacy scope of `obj` (see `legacy_org_attr`) when it differs from `org_id`, its
        own: None for a field that never moved, a row without one, or one scope for both."""
        if self.legacy_org_attr is None:
            return None
        org = getattr(obj, self.legacy_org_attr)
        if org is None:
            return None
        legacy = str(org)
        return None if legacy == org_id else legacy

    def decrypt_blob(self, obj: Any, blob: bytes) -> bytes:
        """The plaintext of `blob`, a value of this field on `obj` (its own scope or, not yet
        moved, the legacy one). A shredded scope raises `KeyShredded`.

        Each piece of work once: the header is read once (`parse_field`) for every try, a
        context built only for the scope tried (a value not yet moved, under a school key
        already open, never builds its own), and a key open in the cache found with one look."""
        ring = keyring()
        org_id, row_id = self._scope(obj)
        legacy_org = self._legacy_org(obj, org_id)
        sealed = parse_field(blob)
        table = obj.__tablename__
        if legacy_org is not None and ring.holds_key(legacy_org, sealed.key_id):
            # Not yet moved to its child's key, under a school key already open: asking the
            # store for a child key that does not hold it cost two statements per child on a
            # page listing older files' children.
            try:
                return ring.decrypt_sealed(
                    FieldContext(legacy_org, table, self.name, row_id), sealed)
            except DecryptionError:
                pass  # a key of the same id in another scope: the usual way below
        ctx = FieldContext(org_id, table, self.name, row_id)
        try:
            plain = ring.decrypt_if_open(ctx, sealed)
            if plain is None:
                if org_id.startswith(CHILD_ORG_PREFIX):
                    _open_child_scopes(obj, org_id, ring)
                plain = ring.decrypt_sealed(ctx, sealed)
            return plain
        except KeyShredded:
            raise
        except KeyNotFound:
            if legacy_org is None:
                raise
            try:
                return ring.decrypt_sealed(
                    FieldContext(legacy_org, table, self.name, row_id), sealed)
            except KeyNotFound:
                # Under neither key of this row: a value copied from another child's file.
                raise DecryptionError(
                    f"value for {ctx.table}.{ctx.column} row {ctx.row_id} is under a key of "
                    "neither its child nor its school") from None

    def encrypt_payload(self, obj: Any, payload: str | bytes) -> bytes:
        """`payload` encrypted for this field on `obj`, making the scope's keys on first use."""
        ring = keyring()
        ctx = self.context(obj)
        if ctx.org_id.startswith(CHILD_ORG_PREFIX) and _new_child(obj) \
                and not ring.has_active_key(ctx.org_id):
            # A child not yet in the database has no key yet: make it now (ensure_org checks
            # the store all the same), not after a lookup that can only fail. A school's roll
            # adds thousands at once: three statements each for the key, not six.
            ring.ensure_org(ctx.org_id, purposes=("data",))
        try:
            return ring.encrypt(ctx, payload)
        except KeyShredded:
            raise
        except KeyNotFound:
            if not ctx.org_id.startswith(CHILD_ORG_PREFIX):
                raise  # an organisation's keys are made with it (onboarding, `flask seed-keys`)
            ring.clear_cache(ctx.org_id)
            ring.ensure_org(ctx.org_id, purposes=("data",))  # a child's file is never searched
            return ring.encrypt(ctx, payload)

    @overload
    def __get__(self, obj: None, owner: type) -> Encrypted[T]: ...
    @overload
    def __get__(self, obj: object, owner: type) -> T | None: ...
    def __get__(self, obj: object | None, owner: type) -> Any:
        if obj is None:
            return self
        blob = getattr(obj, self.column)
        if blob is None:
            return None
        # A page reads the same field many times (names in lists, redaction): decrypt once per
        # loaded object. The cache is keyed on the ciphertext itself, so a new value or a
        # re-encryption is never answered from it; it lives only as long as the object.
        cache_key = self._cache_key
        cached = obj.__dict__.get(cache_key)
        if cached is not None and cached[0] is blob:
            return cached[1]
        value = self._decode(self.decrypt_blob(obj, blob))
        obj.__dict__[cache_key] = (blob, value)
        return value

    def _decode(self, raw: bytes) -> Any:
        if self.kind == "bytes":
            return raw
        text = raw.decode("utf-8")
        if self.kind == "date":
            return dt.date.fromisoformat(text)
        if self.kind == "bool":
            return text == "1"
        return text

    def __set__(self, obj: object, value: T | None) -> None:
        if value is None:
            setattr(obj, self.column, None)
            return
        if self.kind == "date":
            payload: str | bytes = value.isoformat()  # type: ignore[attr-defined]
        elif self.kind == "bool":
            payload = "1" if value else "0"
        else:
            payload = value  # type: ignore[assignment]
        setattr(obj, self.column, self.encrypt_payload(obj, payload))


def enc_column() -> Mapped[bytes | None]:
    return mapped_column(LargeBinary, nullable=True)


def corrections_of(owner: str, target_type: str) -> Any:
    """The relationship to a row's corrections (R5: `Addendum` rows whose target is the row, of
    its school), oldest first, read with it where a page asks (viewonly). `owner` the model's
    class name, `target_type` the `Addendum.target_type` that names it."""
    return relationship(
        primaryjoin=f"and_(foreign(Addendum.target_id) == {owner}.id, "
                    f"foreign(Addendum.school_id) == {owner}.school_id, "
                    f"Addendum.target_type == '{target_type}')",
        order_by="Addendum.created_at", viewonly=True)
