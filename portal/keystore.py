"""The database-backed store of wrapped organisation keys (crypto.WrappedKeyStore).

Wrapped keys may live in the database: without the master key, held outside it, they are noise.
"""

from __future__ import annotations

import uuid
from collections.abc import Collection
from typing import cast

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from .crypto import KeyPurpose, KeyState, WrappedKey
from .models import OrgKey, ShreddedOrg, db


def shredded_orgs() -> set[uuid.UUID]:
    """The organisations whose keys were shredded (their records can no longer be read)."""
    found: set[uuid.UUID] = set()
    for org in db.session.scalars(select(ShreddedOrg.org_id)):
        try:
            found.add(uuid.UUID(org))
        except ValueError:
            continue
    return found


# Organisations per statement when reading many: well inside every database's parameter limit.
_IN_BATCH = 500


def _to_wrapped(row: OrgKey) -> WrappedKey:
    return WrappedKey(
        org_id=row.org_id,
        key_id=row.key_id,
        purpose=row.purpose,  # type: ignore[arg-type]
        wrapped=row.wrapped,
        master_key_id=row.master_key_id,
        state=row.state,  # type: ignore[arg-type]
        created_at=row.created_at,
    )


class DatabaseKeyStore:
    """Reads and writes `org_keys` through the current session; the caller commits."""

    def __init__(self, session: Session | None = None) -> None:
        self._session = session

    @property
    def session(self) -> Session:
        return self._session if self._session is not None else cast(Session, db.session)

    def list_keys(self, org_id: str) -> list[WrappedKey]:
        rows = self.session.scalars(
            select(OrgKey).where(OrgKey.org_id == org_id).order_by(OrgKey.created_at)
        )
        return [_to_wrapped(r) for r in rows]

    def list_keys_of(self, org_ids: Collection[str]) -> list[WrappedKey]:
        wanted = sorted(set(org_ids))
        found: list[WrappedKey] = []
        for at in range(0, len(wanted), _IN_BATCH):
            found.extend(_to_wrapped(r) for r in self.session.scalars(
                select(OrgKey).where(OrgKey.org_id.in_(wanted[at:at + _IN_BATCH]))
                .order_by(OrgKey.org_id, OrgKey.created_at)))
        return found

    def all_keys(self) -> list[WrappedKey]:
        return [_to_wrapped(r) for r in self.session.scalars(select(OrgKey))]

    def add(self, key: WrappedKey) -> None:
        self.session.add(OrgKey(
            org_id=key.org_id, key_id=key.key_id, purpose=key.purpose, wrapped=key.wrapped,
            master_key_id=key.master_key_id, state=key.state,
            **({"created_at": key.created_at} if key.created_at else {}),
        ))
        self.session.flush()

    def _row(self, org_id: str, key_id: str) -> OrgKey:
        row = self.session.scalar(
            select(OrgKey).where(OrgKey.org_id == org_id, OrgKey.key_id == key_id)
        )
        if row is None:
            raise KeyError(f"no key {key_id} for organisation {org_id}")
        return row

    def replace(self, key: WrappedKey) -> None:
        row = self._row(key.org_id, key.key_id)
        row.wrapped = key.wrapped
        row.master_key_id = key.master_key_id
        row.state = key.state
        self.session.flush()

    def set_state(self, org_id: str, key_id: str, state: KeyState) -> None:
        self._row(org_id, key_id).state = state
        self.session.flush()

    def delete_key(self, org_id: str, key_id: str) -> None:
        self.session.delete(self._row(org_id, key_id))
        self.session.flush()

    def delete_org(self, org_id: str) -> None:
        self.session.execute(delete(OrgKey).where(OrgKey.org_id == org_id))
        if self.session.get(ShreddedOrg, org_id) is None:
            self.session.add(ShreddedOrg(org_id=org_id))
        self.session.flush()

    def is_shredded(self, org_id: str) -> bool:
        return self.session.get(ShreddedOrg, org_id) is not None


__all__ = ["DatabaseKeyStore", "KeyPurpose"]
