"""`flask backup` and `flask restore`."""

from __future__ import annotations

from pathlib import Path

import click
from flask.cli import with_appcontext

from ..crypto import CryptoError
from ..models import db
from .restoring import restore_backup
from .sealing import BackupError, RestoredButUnverified
from .writing import write_backup


@click.command("backup")
@click.argument("out", metavar="OUT.portalbackup",
                type=click.Path(dir_okay=False, path_type=Path))
@with_appcontext
def backup_command(out: Path) -> None:
    """Write an encrypted, consistent backup of the database and attachments while serving.

    Only this instance's master key opens it; keep the master key (and old ones, after a
    rotation) for as long as the backup.
    """
    try:
        summary = write_backup(out)
    except (BackupError, CryptoError) as exc:
        db.session.rollback()
        raise click.ClickException(f"No backup written: {exc}") from None
    rows = sum(summary.tables.values())
    click.echo(f"Backup written to {summary.path} ({summary.size} bytes, encrypted): {rows} rows "
               f"in {len(summary.tables)} tables and {summary.attachments} attachment files; "
               f"schema {summary.schema_revision}.")
    if summary.missing_attachments:
        click.echo(f"Warning: {len(summary.missing_attachments)} attachment files were missing "
                   "from the store and are not in the backup: "
                   f"{', '.join(summary.missing_attachments)}", err=True)


@click.command("restore")
@click.argument("source", metavar="IN.portalbackup",
                type=click.Path(dir_okay=False, path_type=Path))
@click.option("--force", is_flag=True,
              help="Replace everything in a database that already holds rows.")
@with_appcontext
def restore_command(source: Path, force: bool) -> None:
    """Restore a backup into a fresh instance that has the same master key."""
    try:
        summary = restore_backup(source, force=force)
    except RestoredButUnverified as exc:
        db.session.rollback()
        raise click.ClickException(
            f"The backup was loaded, but a check afterwards failed: {exc}. Do not use this "
            "instance; investigate, then restore again with --force."
        ) from None
    except (BackupError, CryptoError) as exc:
        db.session.rollback()
        raise click.ClickException(f"Nothing restored: {exc}") from None
    manifest = summary.manifest
    rows = sum(summary.tables.values())
    click.echo(f"Restored {rows} rows in {len(summary.tables)} tables and "
               f"{summary.attachments} attachment files from the backup made "
               f"{manifest['created_at']} (schema {manifest['schema_revision']}). "
               "Every part matched its checksum and every table its row count.")
    click.echo(f"audit trail intact: {summary.audit_events} events in "
               f"{summary.audit_chains} chains")
