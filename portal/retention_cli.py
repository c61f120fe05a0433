"""Flask commands of retention (docs/retention.md): `rekey-children` moves values written before
per-child keys to each child's key; `retention-reminders` emails each school's DSLs, once a
month, how many files are due for review (no child detail)."""

from __future__ import annotations

import sys

import click
from flask.cli import with_appcontext

from .crypto import CryptoError
from .models import db


@click.command("rekey-children")
@click.option("--batch-size", default=500, show_default=True, type=click.IntRange(1, 100_000),
              help="Rows moved per transaction.")
@with_appcontext
def rekey_children_command(batch_size: int) -> None:
    """Put every child's file under that child's own key (run once at upgrade). Values stay
    readable meanwhile; safe to interrupt and to run again (it skips what is done)."""
    from .services.child_keys import rekey_children

    try:
        with click.progressbar(length=0, label="Moving", file=sys.stderr) as bar:
            stats = rekey_children(db.session.commit, batch_size=batch_size,
                                   progress=bar.update)
    except KeyboardInterrupt:
        db.session.rollback()
        raise click.ClickException(
            "Interrupted. Finished batches are saved; run the same command again.") from None
    except CryptoError as exc:
        db.session.rollback()
        raise click.ClickException(f"Stopped: {exc}. Run the same command again.") from None
    click.echo(f"Moved {stats.values_moved} values in {stats.rows_seen} records to their "
               "children's keys.")


@click.command("retention-reminders")
@with_appcontext
def retention_reminders_command() -> None:
    """Email each school's DSLs how many files are due for review (run monthly by a timer; a
    school is emailed at most once a calendar month)."""
    from . import notify

    schools = notify.send_retention_reminders()
    click.echo(f"Retention reminders sent for {schools} school{'' if schools == 1 else 's'}.")


COMMANDS = (rekey_children_command, retention_reminders_command)
