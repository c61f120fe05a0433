"""Each child's own key (docs/security.md, "One child's key"): moving rows of a child's file to
another child's key (a merge), and moving values written before per-child keys from the
school's key to the child's (`flask rekey-children`).

Rows of a child's file are the models whose `Encrypted` fields take their key from `key_org`
(`models.records.CHILD_KEY`); `child_keyed_fields` finds them, so a new such model is covered
without a change here.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from ..crypto import key_id_of
from ..models import Base, Encrypted, db, keyring
from ..models.base import CHILD_ORG_PREFIX


def child_keyed_fields(model: type[Any]) -> list[Encrypted[Any]]:
    """The model's `Encrypted` fields kept under the key of the row's child."""
    found: dict[str, Encrypted[Any]] = {}
    for klass in model.__mro__:
        for name, value in vars(klass).items():
            if (isinstance(value, Encrypted) and value.org_attr == "key_org"
                    and name not in found):
                found[name] = value
    return sorted(found.values(), key=lambda f: f.name)


def child_keyed_models() -> list[type[Any]]:
    """Every model with fields under a child's key, by name."""
    models = [m.class_ for m in Base.registry.mappers if child_keyed_fields(m.class_)]
    return sorted(models, key=lambda m: m.__name__)


def move_to_child(rows: Iterable[Any], child_id: uuid.UUID) -> int:
    """Give each row (a row of one child's file) to `child_id`, re-encrypting its values under
    that child's key; the number of rows moved. The caller flushes and commits."""
    moved = 0
    for row in rows:
        fields = child_keyed_fields(type(row))
        values = {f.name: getattr(row, f.name) for f in fields}
        row.child_id = child_id
        for f in fields:
            setattr(row, f.name, values[f.name])
        moved += 1
    return moved


@dataclass
class RekeyStats:
    rows_seen: int = 0
    values_moved: int = 0
    batches: int = 0


def _needs_move(row: Any, fields: list[Encrypted[Any]], own_keys: dict[str, set[str]]) -> bool:
    """True if a value of the row is still under its school's key (not its child's)."""
    org = row.key_org
    if org is None or not org.startswith(CHILD_ORG_PREFIX):
        return False
    if org not in own_keys:
        own_keys[org] = {k.key_id for k in keyring().keys_of(org)}
    return any(getattr(row, f.column) is not None
               and key_id_of(getattr(row, f.column)) not in own_keys[org] for f in fields)


def rekey_children(end_batch: Callable[[], None], *, batch_size: int = 500,
                   progress: Callable[[int], None] | None = None) -> RekeyStats:
    """Move every value of children's files still under a school's key to its child's key,
    calling `end_batch` (the command's commit) after each batch (an interruption loses one
    batch; running again skips what is done).
    Destroyed children's files hold no values, so they are never touched."""
    if batch_size < 1:
        raise ValueError("the batch size must be 1 or more")
    stats = RekeyStats()
    own_keys: dict[str, set[str]] = {}
    for model in child_keyed_models():
        fields = child_keyed_fields(model)
        pk = model.__mapper__.primary_key[0]
        last: Any = None
        while True:
            query = select(model).where(
                *([] if last is None else [pk > last])).order_by(pk).limit(batch_size)
            rows = list(db.session.scalars(query))
            if not rows:
                break
            last = getattr(rows[-1], pk.key)
            for row in rows:
                stats.rows_seen += 1
                if not _needs_move(row, fields, own_keys):
                    continue
                own = own_keys[row.key_org]
                for f in fields:
                    blob = getattr(row, f.column)
                    if blob is None or key_id_of(blob) in own:
                        continue
                    setattr(row, f.name, getattr(row, f.name))  # read there, written here
                    stats.values_moved += 1
            end_batch()
            own_keys.clear()
            stats.batches += 1
            if progress is not None:
                progress(len(rows))
    return stats
