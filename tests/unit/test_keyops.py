"""Key operations through the CLI: data-key rotation (and resuming it), master-key rotation,
crypto-shredding, attachments. Runs on SQLite and, when configured, PostgreSQL."""

from __future__ import annotations

import io
import json
import os
import subprocess
from pathlib import Path
from typing import Any

import pyotp
import pytest
from flask import Flask
from sqlalchemy import select

from portal import create_app, keyops
from portal.crypto import (
    DecryptionError,
    KeyRing,
    KeyShredded,
    LocalMasterKey,
    MasterKeyMissing,
    key_id_of,
    new_master_key_b64,
)
from portal.keystore import DatabaseKeyStore
from portal.models import (
    Attachment,
    AuditEvent,
    Child,
    Concern,
    ConcernChild,
    OrgKey,
    Referral,
    School,
    User,
    db,
    keyring,
)
from tests import factories
from tests.conftest import make_test_config

PDF = b"%PDF-1.7\n" + b"attachment body for rotation " * 5000  # several 64 KiB chunks


def _populate(n_children: int = 7) -> dict[str, Any]:
    """A school with children, concerns, a DSL with TOTP, an attachment and a referral."""
    s = factories.school(urn="123456")
    dsl = factories.user("dsl", org=s, email="dsl@oakfield.example.org")
    staff = factories.user("staff", org=s, email="staff@oakfield.example.org")
    adviser = factories.user("la_adviser", org=s.local_authority, email="adv@la.example.org")
    children = [factories.child(s, given=f"Given{i}", family=f"Family{i}")
                for i in range(n_children)]
    for i, child in enumerate(children):
        c = Concern(school_id=s.id, raised_by_id=staff.id)
        c.what_happened = f"narrative {i}"
        c.child_words = f"words {i}"
        db.session.add(c)
        db.session.flush()
        db.session.add(ConcernChild(concern_id=c.id, child_id=child.id))
    att = Attachment(school_id=s.id, content_type="application/pdf", size=len(PDF),
                     uploaded_by_id=dsl.id)
    att.filename = "letter.pdf"
    db.session.add(att)
    db.session.flush()
    keyring().ensure_org(str(s.id))
    from flask import current_app

    current_app.extensions["attachments"].save(str(s.id), att.store_name, io.BytesIO(PDF))
    from portal.models import Incident

    inc = Incident(school_id=s.id, reference="I0001", opened_by_id=dsl.id)
    db.session.add(inc)
    db.session.flush()
    ref = Referral(incident_id=inc.id, school_id=s.id, local_authority_id=s.local_authority_id,
                   sent_by_id=dsl.id)
    ref.packet = json.dumps({"incident": "I0001"})
    db.session.add(ref)
    db.session.commit()
    return {"school": s, "school_id": s.id, "la_id": s.local_authority_id,
            "attachment_id": att.id, "dsl_id": dsl.id, "adviser_id": adviser.id,
            "totp": dsl.totp_secret}


def _data_keys(org_id: str) -> list[OrgKey]:
    return list(db.session.scalars(
        select(OrgKey).where(OrgKey.org_id == org_id, OrgKey.purpose == "data")
    ))


def _school_blobs(school_id: Any) -> list[bytes]:
    org = keyops.Org(str(school_id), "school", "test")
    blobs: list[bytes] = []
    for group in keyops.encrypted_field_groups():
        for batch in keyops.iter_org_rows(group, org):
            for row in batch:
                blobs += [getattr(row, f.column) for f in group.fields
                          if getattr(row, f.column) is not None]
    return blobs


def _active_data_keys() -> set[str]:
    return set(db.session.scalars(
        select(OrgKey.key_id).where(OrgKey.purpose == "data", OrgKey.state == "active")))


def _scope_keys(school_id: Any) -> dict[str, set[str]]:
    """Key ids of the school's values: those under the school's own key, and those under the
    keys of its children's files (docs/security.md, "One child's key")."""
    school_keys = {k.key_id for k in _data_keys(str(school_id))}
    found: dict[str, set[str]] = {"school": set(), "children": set()}
    for blob in _school_blobs(school_id):
        kid = key_id_of(blob)
        found["school" if kid in school_keys else "children"].add(kid)
    return found


def _read_everything(data: dict[str, Any]) -> None:
    db.session.expire_all()
    names = sorted(c.given_name for c in db.session.scalars(
        select(Child).where(Child.school_id == data["school_id"])))
    assert names == sorted(f"Given{i}" for i in range(len(names)))
    for c in db.session.scalars(select(Concern).where(Concern.school_id == data["school_id"])):
        assert c.what_happened.startswith("narrative ")
        assert c.child_words.startswith("words ")
    assert db.session.get(User, data["dsl_id"]).totp_secret == data["totp"]
    att = db.session.get(Attachment, data["attachment_id"])
    assert att.filename == "letter.pdf"
    from flask import current_app

    store = current_app.extensions["attachments"]
    assert b"".join(store.open(str(data["school_id"]), att.store_name)) == PDF
    assert db.session.scalar(select(Referral)).packet == '{"incident": "I0001"}'


def _invoke(app: Flask, *args: str):
    return app.test_cli_runner().invoke(args=list(args))


# --------------------------------------------------------------------------------------------


def test_rotate_keys_reencrypts_every_value_and_attachment(app: Flask) -> None:
    data = _populate()
    org_id = str(data["school_id"])
    (old,) = _data_keys(org_id)
    old_id = old.key_id
    att_path = keyops.attachment_path(db.session.get(Attachment, data["attachment_id"]))
    before_file = att_path.read_bytes()

    result = _invoke(app, "rotate-keys", "--org", "123456", "--batch-size", "3",
                     "--settle-seconds", "0")
    assert result.exit_code == 0, result.output
    assert "Rotation complete" in result.output
    assert f"Dropped retired keys: {old_id}" in result.output

    db.session.expire_all()
    keys = _data_keys(org_id)
    assert [k.state for k in keys] == ["active"]
    new_id = keys[0].key_id
    assert new_id != old_id
    blobs = _school_blobs(data["school_id"])
    assert len(blobs) >= 7 * 2 + 7 * 4  # names, dob, send; narratives and words
    scopes = _scope_keys(data["school_id"])
    assert scopes["school"] == {new_id}
    # Each child's file is under its own key, rotated with the school's: the active one.
    assert len(scopes["children"]) == 7 and scopes["children"] <= _active_data_keys()
    assert not list(db.session.scalars(select(OrgKey).where(OrgKey.state == "retired")))
    after_file = att_path.read_bytes()
    assert after_file != before_file and key_id_of(after_file) == new_id
    assert not list(att_path.parent.glob(".reencrypt-*"))
    _read_everything(data)
    # The authority's referral packet is under the authority's key, untouched by the school's.
    assert key_id_of(db.session.scalar(select(Referral)).packet_enc) != new_id
    # Audited, without any record content.
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "keys.rotated"))
    assert event is not None and event.detail["active_key_id"] == new_id

    # Idempotent: running again with nothing retired rotates again (a fresh rotation) and
    # everything still reads.
    again = _invoke(app, "rotate-keys", "--org", org_id, "--settle-seconds", "0")
    assert again.exit_code == 0, again.output
    _read_everything(data)


def test_interrupted_rotation_resumes_without_a_second_new_key(app: Flask) -> None:
    data = _populate(n_children=9)
    org_id = str(data["school_id"])
    org = keyops.resolve_org("123456")
    (old,) = _data_keys(org_id)
    old_id = old.key_id

    new_id, resumed = keyops.start_rotation(org)
    assert not resumed
    with pytest.raises(keyops.Interrupted):
        keyops.reencrypt_org(org, batch_size=2, max_batches=2)
    db.session.expire_all()
    ids = [key_id_of(b) for b in _school_blobs(data["school_id"])]
    assert old_id in ids and new_id in ids  # really halfway
    _read_everything(data)  # the portal keeps serving meanwhile

    # Values written by the portal during the rotation use the new key (a new child's file
    # its own new key).
    child = factories.child(db.session.get(School, data["school_id"]), given="Given9")
    assert key_id_of(child.given_name_enc) in _active_data_keys() - {old_id}
    concern = Concern(school_id=data["school_id"], raised_by_id=data["dsl_id"])
    concern.what_happened = "narrative 10"
    concern.child_words = "words 10"
    db.session.add(concern)
    assert key_id_of(concern.what_happened_enc) == new_id
    db.session.commit()

    # Resumed while the retired key may still be cached elsewhere: kept for now.
    result = _invoke(app, "rotate-keys", "--org", org_id)
    assert result.exit_code == 0, result.output
    assert "Resuming the rotation" in result.output
    assert "kept until" in result.output
    db.session.expire_all()
    assert {k.key_id: k.state for k in _data_keys(org_id)} == {old_id: "retired",
                                                               new_id: "active"}
    scopes = _scope_keys(data["school_id"])
    assert scopes["school"] == {new_id} and scopes["children"] <= _active_data_keys()

    # Once the settle time is over the retired key is dropped, still with no new key.
    result = _invoke(app, "rotate-keys", "--org", org_id, "--settle-seconds", "0")
    assert result.exit_code == 0, result.output
    assert "Resuming the rotation" in result.output
    assert f"Dropped retired keys: {old_id}" in result.output
    db.session.expire_all()
    assert [(k.key_id, k.state) for k in _data_keys(org_id)] == [(new_id, "active")]
    _read_everything(data)


def test_retired_key_still_referenced_is_not_dropped(app: Flask) -> None:
    data = _populate(n_children=2)
    org = keyops.resolve_org(str(data["school_id"]))
    (old,) = _data_keys(org.id)
    keyops.start_rotation(org)
    dropped, kept, _ = keyops.finish_rotation(org, settle_seconds=0)
    assert dropped == [] and kept == [old.key_id]


def test_value_changed_during_rotation_is_not_overwritten(app: Flask, monkeypatch) -> None:
    if db.engine.dialect.name == "sqlite":
        pytest.skip("SQLite allows one writer: a concurrent edit cannot interleave here")
    _populate(n_children=1)
    org = keyops.resolve_org("123456")
    keyops.start_rotation(org)
    concern_id = db.session.scalar(select(Concern.id))
    real = KeyRing.reencrypt

    def reencrypt_while_a_user_edits(self: KeyRing, ctx: Any, blob: bytes) -> bytes:
        out = real(self, ctx, blob)
        # child_words is the concern's first encrypted column: its row is not locked yet.
        if ctx.table == "concerns" and ctx.column == "child_words":
            # Another process saves a new value between our read and our write.
            with db.engine.begin() as conn:
                fresh = self.encrypt(ctx, "edited meanwhile")
                conn.execute(Concern.__table__.update().where(Concern.__table__.c.id == concern_id)
                             .values(child_words_enc=fresh))
        return out

    monkeypatch.setattr(KeyRing, "reencrypt", reencrypt_while_a_user_edits)
    stats = keyops.reencrypt_org(org)
    assert stats.values_changed_meanwhile == 1
    db.session.expire_all()
    concern = db.session.get(Concern, concern_id)
    assert concern.child_words == "edited meanwhile"
    assert concern.what_happened == "narrative 0"


def test_rotate_master_key_rewraps_and_old_master_cannot_unwrap(
    app: Flask, tmp_path: Path
) -> None:
    data = _populate(n_children=2)
    new_key = new_master_key_b64()
    key_file = tmp_path / "new-master.key"
    key_file.write_text(new_key + "\n")
    key_file.chmod(0o600)
    count = db.session.query(OrgKey).count()
    old_master_id = keyring().master_key_id

    result = _invoke(app, "rotate-master-key", "--new-key-file", str(key_file))
    assert result.exit_code == 0, result.output
    assert f"Re-wrapped {count} organisation keys" in result.output
    assert "Records touched: none" in result.output
    new_master = LocalMasterKey.from_b64(new_key)
    db.session.expire_all()
    assert {k.master_key_id for k in db.session.scalars(select(OrgKey))} == {new_master.key_id}

    # The old master opens nothing any more.
    from tests.conftest import MASTER_KEY

    old_master = LocalMasterKey.from_b64(MASTER_KEY)
    assert old_master.key_id == old_master_id
    for wk in DatabaseKeyStore().all_keys():
        with pytest.raises(DecryptionError):
            old_master.unwrap(wk.wrapped, wk.aad())
    old_ring = KeyRing(old_master, DatabaseKeyStore())
    child = db.session.scalar(select(Child))
    with pytest.raises(MasterKeyMissing):
        old_ring.decrypt(Child.given_name.context(child), child.given_name_enc)

    # A fresh app configured with the new master reads everything.
    url = app.config["SQLALCHEMY_DATABASE_URI"]
    db.session.commit()
    fresh = create_app(make_test_config(tmp_path / "fresh", url, master_key_b64=new_key,
                                        attachment_dir=str(tmp_path / "instance" / "attachments")))
    with fresh.app_context():
        _read_everything(data)
        db.session.remove()
        db.engine.dispose()


def test_rotate_master_key_from_environment(app: Flask, monkeypatch) -> None:
    _populate(n_children=1)
    monkeypatch.setenv("NEW_PORTAL_MASTER", new_master_key_b64())
    result = _invoke(app, "rotate-master-key", "--new-key-env", "NEW_PORTAL_MASTER")
    assert result.exit_code == 0, result.output
    event = db.session.scalar(
        select(AuditEvent).where(AuditEvent.action == "keys.master_rotated"))
    assert event is not None


@pytest.mark.parametrize("args, message", [
    ([], "exactly one of"),
    (["--new-key-env", "NO_SUCH_VARIABLE_SET"], "is not set"),
    (["--new-key-env", "BAD_KEY"], "not valid base64"),
    (["--new-key-file", "/nonexistent/key"], "does not exist"),
])
def test_rotate_master_key_refuses_bad_arguments(app: Flask, monkeypatch, args, message) -> None:
    monkeypatch.setenv("BAD_KEY", "not base64!")
    monkeypatch.delenv("NO_SUCH_VARIABLE_SET", raising=False)
    result = _invoke(app, "rotate-master-key", *args)
    assert result.exit_code == 1
    assert message in result.output
    assert "Traceback" not in result.output


def test_rotate_master_key_refuses_a_world_readable_file(app: Flask, tmp_path: Path) -> None:
    key_file = tmp_path / "loose.key"
    key_file.write_text(new_master_key_b64())
    os.chmod(key_file, 0o644)
    result = _invoke(app, "rotate-master-key", "--new-key-file", str(key_file))
    assert result.exit_code == 1 and "chmod 600" in result.output


def test_shred_org_refused_while_records_exist_then_forced(app: Flask) -> None:
    data = _populate(n_children=3)
    school_id = data["school_id"]

    refused = _invoke(app, "shred-org", "123456")
    assert refused.exit_code == 1
    assert "children 3" in refused.output and "concerns 3" in refused.output
    assert "attachment files 1" in refused.output
    assert "Traceback" not in refused.output
    db.session.expire_all()
    assert _data_keys(str(school_id))

    forced = _invoke(app, "shred-org", "123456", "--force")
    assert forced.exit_code == 0, forced.output
    assert "Shredded 2 keys" in forced.output
    db.session.expire_all()
    assert not _data_keys(str(school_id))
    child = db.session.scalar(select(Child).where(Child.school_id == school_id))
    with pytest.raises(KeyShredded):
        _ = child.given_name
    # The authority's own records are untouched.
    assert db.session.scalar(select(Referral)).packet == '{"incident": "I0001"}'
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "keys.shredded"))
    assert event.object_id == str(school_id) and event.detail["forced"] is True

    again = _invoke(app, "shred-org", "123456", "--force")
    assert again.exit_code == 1 and "already shredded" in again.output
    rotate = _invoke(app, "rotate-keys", "--org", "123456")
    assert rotate.exit_code == 1 and "shredded" in rotate.output


def test_shred_org_without_records_needs_no_force(app: Flask) -> None:
    factories.authority("dorset")
    db.session.commit()
    result = _invoke(app, "shred-org", "dorset")
    assert result.exit_code == 0, result.output


@pytest.mark.parametrize("args", [
    ["rotate-keys", "--org", "no-such-school"],
    ["rotate-keys", "--org", "123456", "--batch-size", "0"],
    ["rotate-keys"],
    ["shred-org", "00000000-0000-0000-0000-000000000000"],
    ["shred-org"],
])
def test_commands_refuse_bad_arguments_without_a_traceback(app: Flask, args) -> None:
    _populate(n_children=1)
    result = _invoke(app, *args)
    assert result.exit_code in (1, 2), result.output
    assert "Traceback" not in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)


def test_rotating_an_authority_and_the_deployment(app: Flask) -> None:
    data = _populate(n_children=1)
    la_id = str(data["la_id"])
    admin = factories.user("admin", email="admin@example.org")
    admin_secret = admin.totp_secret
    db.session.commit()
    for org in ("derbyshire", "deployment"):
        result = _invoke(app, "rotate-keys", "--org", org, "--settle-seconds", "0")
        assert result.exit_code == 0, result.output
        assert "Rotation complete" in result.output
    db.session.expire_all()
    (la_key,) = _data_keys(la_id)
    assert key_id_of(db.session.scalar(select(Referral)).packet_enc) == la_key.key_id
    adviser = db.session.get(User, data["adviser_id"])
    assert key_id_of(adviser.totp_secret_enc) == la_key.key_id
    assert adviser.totp_secret
    assert db.session.get(User, admin.id).totp_secret == admin_secret


def test_init_db_seeds_authorities_and_keys(app: Flask) -> None:
    result = _invoke(app, "init-db")
    assert result.exit_code == 0, result.output
    assert "Added local authorities" in result.output
    from portal.models import LocalAuthority

    codes = set(db.session.scalars(select(LocalAuthority.code)))
    assert {"derbyshire", "derby-city", "darlington"} <= codes
    orgs = set(db.session.scalars(select(OrgKey.org_id)))
    assert "deployment" in orgs
    assert {str(i) for i in db.session.scalars(select(LocalAuthority.id))} <= orgs
    again = _invoke(app, "init-db")
    assert again.exit_code == 0 and "Added" not in again.output


def test_demo_fills_a_fresh_instance_once(app: Flask) -> None:
    result = _invoke(app, "demo")
    assert result.exit_code == 0, result.output
    for role in ("staff", "dsl", "la_adviser", "admin"):
        assert f" {role} " in result.output
    # The hint for a code works exactly as printed, run in the project folder: it prints the
    # current code of the account whose secret it names.
    command = next(line.strip() for line in result.output.splitlines()
                   if line.strip().startswith(".venv/bin/python -c"))
    run = subprocess.run(command, shell=True, cwd=Path(__file__).resolve().parents[2],
                         capture_output=True, text=True, timeout=60, check=False)
    assert run.returncode == 0 and not run.stderr, run.stderr
    named = [u for u in db.session.scalars(select(User).where(User.totp_enrolled))
             if u.totp_secret and f"'{u.totp_secret}'" in command]
    assert len(named) == 1
    assert pyotp.TOTP(named[0].totp_secret).verify(run.stdout.strip(), valid_window=1)
    from portal.models import Assessment, ChildRecordEntry, Incident, IncidentChild

    assert db.session.query(Incident).count() >= 2
    assert db.session.query(IncidentChild).count() >= 4
    assert db.session.query(Assessment).count() >= 2
    assert db.session.query(ChildRecordEntry).count() >= 5
    dsl = db.session.scalar(select(User).where(User.email == "dsl.oakfield@demo.example.org"))
    assert dsl.totp_enrolled and dsl.totp_secret in result.output
    from flask import current_app

    assert current_app.extensions["passwords"].verify(dsl.password_hash, "demo-portal-2026")
    a = db.session.scalar(select(Assessment))
    assert json.loads(a.result)["rules_version"] == a.rules_version

    incidents = db.session.query(Incident).count()
    again = _invoke(app, "demo")
    assert again.exit_code == 0 and "already exists" in again.output
    assert dsl.totp_secret in again.output  # the logins are printed again (make run)
    assert db.session.query(Incident).count() == incidents


def test_key_operations_keep_the_audit_chain_intact(app: Flask) -> None:
    _populate(n_children=1)
    assert _invoke(app, "demo").exit_code == 0
    assert _invoke(app, "rotate-keys", "--org", "123456", "--settle-seconds", "0").exit_code == 0
    result = _invoke(app, "verify-audit")
    assert result.exit_code == 0, result.output
