"""Flask commands: init-db, demo, rotate-master-key, rotate-keys, shred-org, index-child-names.

Every command refuses bad arguments with a plain message (``click.ClickException``: exit 1, no
traceback). Messages name organisations, tables, counts and key ids, never record contents.
"""

from __future__ import annotations

import sys
import uuid
from collections.abc import Callable
from pathlib import Path

import click
from flask import Flask, current_app
from flask.cli import with_appcontext

from . import db as database
from . import keyops
from .crypto import (
    CryptoError,
    KeyShredded,
    LocalMasterKey,
    MasterKeyMissing,
)
from .models import DEPLOYMENT_ORG, db, keyring


def _fail(message: str) -> click.ClickException:
    db.session.rollback()
    return click.ClickException(message)


def _resolve(org_text: str) -> keyops.Org:
    try:
        return keyops.resolve_org(org_text)
    except keyops.OrgNotFound as exc:
        raise _fail(str(exc)) from None


def _schema_ready() -> None:
    if database.current_revision(db.engine) is None:
        raise _fail("The database has no tables yet: run `flask init-db` first")


# --------------------------------------------------------------------------------------------


@click.command("init-db")
@with_appcontext
def init_db_command() -> None:
    """Create the database, or upgrade it to the newest schema; seed authorities and keys."""
    engine = db.engine
    before = database.current_revision(engine)
    database.upgrade(engine)
    after = database.current_revision(engine)
    current_app.logger.info("database schema %s -> %s", before, after)
    try:
        created, skipped = keyops.seed_authorities()
    except CryptoError as exc:
        raise _fail(f"Could not create organisation keys: {exc}") from None
    click.echo(f"Database ready (schema {after}; was {before or 'empty'}).")
    _index_child_names()
    _mark_repeat_harm()
    _fill_report_statistics()
    if created:
        click.echo(f"Added local authorities: {', '.join(created)}.")
    if skipped:
        click.echo(f"Not given keys (shredded): {', '.join(skipped)}.")


@click.command("rotate-master-key")
@click.option("--new-key-file", type=click.Path(dir_okay=False, path_type=Path),
              help="File holding the new master key (base64 of 32 bytes, chmod 600).")
@click.option("--new-key-env", metavar="VAR",
              help="Environment variable holding the new master key (base64 of 32 bytes).")
@with_appcontext
def rotate_master_key_command(new_key_file: Path | None, new_key_env: str | None) -> None:
    """Re-wrap every organisation key under a new master key. Records are not touched.

    Stop the portal first: once keys are re-wrapped, processes still holding the old master
    key cannot open keys they have not cached.
    """
    if bool(new_key_file) == bool(new_key_env):
        raise _fail("Give exactly one of --new-key-file PATH or --new-key-env VAR")
    try:
        if new_key_file is not None:
            new_master = LocalMasterKey.from_file(new_key_file)
        else:
            assert new_key_env is not None
            new_master = LocalMasterKey.from_env(new_key_env)
    except MasterKeyMissing as exc:  # includes MasterKeyInvalid
        raise _fail(f"Cannot use the new master key: {exc}") from None
    _schema_ready()
    ring = keyring()
    old_id = ring.master_key_id
    if new_master.key_id == old_id:
        raise _fail(f"The new key is the master key already in use ({old_id}); nothing to do")
    try:
        count = keyops.rotate_master(new_master)
    except CryptoError as exc:
        raise _fail(f"Nothing was changed: {exc}") from None
    keyops.audit("keys.master_rotated", org_id=DEPLOYMENT_ORG, object_type="master_key",
                 object_id=new_master.key_id, detail={"from": old_id, "rewrapped": count})
    db.session.commit()
    source = f"the file {new_key_file}" if new_key_file else f"${new_key_env}"
    click.echo(f"Re-wrapped {count} organisation keys from master key {old_id} to "
               f"{new_master.key_id}. Records touched: none.")
    click.echo("Next:")
    click.echo(f"  1. Put the new key (from {source}) where the portal reads it: "
               "PORTAL_MASTER_KEY in the service's environment, or "
               f"{current_app.config['PORTAL_SETTINGS'].resolved_master_key_file} (chmod 600).")
    click.echo("  2. Restart every portal process (the old key can no longer open any key).")
    click.echo("  3. Keep the old master key, sealed, for as long as you keep database backups "
               "made before now: they can only be read with it.")


@click.command("rotate-keys")
@click.option("--org", "org_text", required=True, metavar="ORG",
              help="School URN, local authority code, organisation id, or 'deployment'.")
@click.option("--batch-size", default=500, show_default=True, type=click.IntRange(1, 100_000),
              help="Rows re-encrypted per transaction.")
@click.option("--settle-seconds", default=keyops.KEY_CACHE_SECONDS, show_default=True,
              type=click.FloatRange(0), help="Keep retired keys this long after the rotation "
              "started, until every portal process's key cache has expired; 0 if the portal "
              "is stopped.")
@with_appcontext
def rotate_keys_command(org_text: str, batch_size: int, settle_seconds: float) -> None:
    """Rotate an organisation's data key and re-encrypt its records while the portal serves.

    Safe to interrupt and to run again: a rotation in progress is resumed (no new key),
    values already under the active key are skipped, and retired keys are dropped once no
    record uses them.
    """
    _schema_ready()
    org = _resolve(org_text)
    try:
        active, resumed = keyops.start_rotation(org)
        click.echo(("Resuming the rotation" if resumed else "New data key")
                   + f" {active} for {org.label}.")
        total = keyops.count_rotation_work(org)
        with click.progressbar(length=total, label="Re-encrypting", show_pos=True,
                               file=sys.stderr) as bar:
            stats = keyops.reencrypt_org(org, batch_size=batch_size, progress=bar.update)
        dropped, kept, settle_until = keyops.finish_rotation(org, settle_seconds=settle_seconds)
    except KeyboardInterrupt:
        db.session.rollback()
        raise click.ClickException(
            "Interrupted. Finished batches are saved; run the same command again to resume."
        ) from None
    except keyops.KeyOpsError as exc:
        raise _fail(str(exc)) from None
    except CryptoError as exc:
        raise _fail(f"Rotation stopped: {exc}. Finished batches are saved; fix the cause and "
                    "run the same command again.") from None
    keyops.audit("keys.rotated", org_id=org.id, object_type="organisation", object_id=org.id,
                 detail={"active_key_id": active, "resumed": resumed,
                         "values": stats.values_reencrypted,
                         "attachments": stats.attachments_reencrypted, "dropped": dropped})
    db.session.commit()
    click.echo(f"Re-encrypted {stats.values_reencrypted} values and "
               f"{stats.attachments_reencrypted} attachments in {stats.rows_seen} records.")
    if stats.values_changed_meanwhile:
        click.echo(f"{stats.values_changed_meanwhile} values changed while running; "
                   "run the command again to check them.")
    if dropped:
        click.echo(f"Dropped retired keys: {', '.join(dropped)}.")
    if settle_until is not None:
        click.echo(f"Retired keys {', '.join(kept)} are kept until "
                   f"{settle_until:%Y-%m-%d %H:%M:%S} UTC (other portal processes may still "
                   "use them); run the same command again after that to drop them.")
    elif kept:
        click.echo(f"Retired keys still in use, kept: {', '.join(kept)}; run again.")
    if not kept:
        click.echo("Rotation complete.")


@click.command("shred-org")
@click.argument("org_text", metavar="ORG")
@click.option("--force", is_flag=True, help="Shred even though records still need the keys.")
@with_appcontext
def shred_org_command(org_text: str, force: bool) -> None:
    """Destroy an organisation's keys (crypto-shredding): its records become unreadable for ever.

    Refused while any record or attachment still needs the keys, unless --force.
    """
    _schema_ready()
    org = _resolve(org_text)
    if keyops._is_shredded(org):
        raise _fail(f"The keys of {org.label} were already shredded")
    try:
        destroyed, counts = keyops.shred(org, force=force)
    except keyops.RecordsRemain as exc:
        raise _fail(str(exc)) from None
    keyops.audit("keys.shredded", org_id=DEPLOYMENT_ORG, object_type="organisation",
                 object_id=org.id,
                 detail={"keys": destroyed, "records": sum(counts.values()),
                         "tables": sorted(counts), "forced": force})
    db.session.commit()
    unreadable = sum(counts.values())
    click.echo(f"Shredded {destroyed} keys of {org.label}; {unreadable} records can no longer "
               "be read. Backups made before now still hold its wrapped keys until they expire.")


@click.command("demo")
@with_appcontext
def demo_command() -> None:
    """Fill a fresh instance with invented schools, accounts, children and incidents."""
    from . import demo

    engine = db.engine
    database.upgrade(engine)
    try:
        keyops.seed_authorities()
        logins = demo.create_demo()
    except demo.DemoExists as exc:
        db.session.rollback()
        click.echo(str(exc))
        try:
            logins = demo.existing_logins()
        except CryptoError:
            return
        if logins:
            click.echo(demo.format_logins(logins))
        return
    except (CryptoError, KeyShredded) as exc:
        raise _fail(f"Could not create the demo: {exc}") from None
    keyops.audit("demo.created", org_id=DEPLOYMENT_ORG, object_type="deployment",
                 detail={"accounts": len(logins)})
    db.session.commit()
    click.echo(demo.format_logins(logins))


def _fill_report_statistics() -> None:
    """Statistics codes for reports on every child's part in an incident still without them
    (migration 0025 fills them when it runs inside the portal; this catches the rest)."""
    from .services.report_stats import fill_statistics

    try:
        with db.engine.begin() as connection:
            done = fill_statistics(connection)
    except CryptoError as exc:
        raise _fail(f"Could not record statistics for reports: {exc}") from None
    if done:
        click.echo(f"Statistics for reports recorded: {done}.")
    from .services import report_summary

    # The reports' summary counts those codes: recounted when they were just filled, or when
    # the summary is empty while there are records (rows written around the portal).
    if done or report_summary.needs_rebuild(db.session()):
        schools = report_summary.rebuild(db.session())
        db.session.commit()
        click.echo(f"Reports' summary counted for {schools} school{'' if schools == 1 else 's'}.")


def backfill_child_names() -> int:
    """Index every child not yet indexed for search, committing each batch (a stopped run
    carries on from where it was); the number done."""
    from .services.children import index_batch

    done = 0
    while step := index_batch():
        db.session.commit()
        done += step
    return done


def backfill_repeat_harm() -> int:
    """Mark every child who harmed others and has no mark yet, committing each batch (a
    stopped run carries on from where it was); the number of children done."""
    from .services.repeat_harm import mark_batch

    done = 0
    seen: set[uuid.UUID] = set()
    while step := mark_batch(seen):
        db.session.commit()
        done += step
    return done


def _backfill(run: Callable[[], int], failed: str, done_words: str) -> None:
    """Run a backfill: `failed` and the reason if a key cannot be read, `done_words` and how
    many rows it did (nothing when there was nothing to do)."""
    try:
        done = run()
    except CryptoError as exc:
        raise _fail(f"{failed}: {exc}") from None
    if done:
        click.echo(f"{done_words}: {done}.")


def _index_child_names() -> None:
    _backfill(backfill_child_names, "Could not index children's names",
              "Children's names indexed for search")


def _mark_repeat_harm() -> None:
    _backfill(backfill_repeat_harm, "Could not mark repeat harm across schools",
              "Children who harmed others marked for their authorities")


@click.command("index-child-names")
@with_appcontext
def index_child_names_command() -> None:
    """Write the search terms of every child not yet indexed (run at upgrade; `init-db` runs it
    too). Safe to run again or after an interruption: it carries on where it stopped."""
    _schema_ready()
    _index_child_names()
    click.echo("Every child's names can be searched.")


@click.command("send-alerts")
@with_appcontext
def send_alerts_command() -> None:
    """Send the new-concern alerts held back to batch them (run every minute by a timer)."""
    from . import notify

    schools = notify.send_waiting_alerts()
    click.echo(f"Alerts sent for {schools} school{'' if schools == 1 else 's'}.")


@click.command("send-mail")
@click.option("--once", is_flag=True, help="One round, then stop (for a timer or a test).")
@click.option("--every", type=float, default=None,
              help="Seconds between rounds (default: the mail_sender_every_seconds setting).")
@with_appcontext
def send_mail_command(once: bool, every: float | None) -> None:
    """The mail sender: deliver the outbox, retrying with back-off; escalate unopened urgent
    concerns. Runs until stopped (SIGTERM or Ctrl-C); safe to run on several hosts at once."""
    import signal
    import threading

    from flask import current_app

    from . import notify, outbox

    if once:
        done = notify.send_round()
        click.echo(f"Mail sent: {done.sent}; not sent yet: {outbox.waiting_count()}.")
        return
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    interval = every if every is not None else float(
        app.config["PORTAL_SETTINGS"].mail_sender_every_seconds)
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    click.echo(f"Mail sender running: a round every {interval:g} seconds.")
    outbox.run_sender(app, every=interval, tick=notify.send_round, stop=stop)
    click.echo("Mail sender stopped.")


def init_app(app: Flask) -> None:
    from .audit import verify_audit_command
    from .backup import backup_command, restore_command

    for command in (init_db_command, rotate_master_key_command, rotate_keys_command,
                    shred_org_command, demo_command, verify_audit_command,
                    backup_command, restore_command, send_alerts_command, send_mail_command,
                    index_child_names_command):
        app.cli.add_command(command)
    from .retention_cli import COMMANDS as RETENTION_COMMANDS

    for command in RETENTION_COMMANDS:
        app.cli.add_command(command)


__all__ = ["init_app"]
