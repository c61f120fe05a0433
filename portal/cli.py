"""Flask commands: init-db, demo, create-user, rotate-keys, verify-audit..."""

from __future__ import annotations

import click
from flask import Flask, current_app
from flask.cli import with_appcontext

from . import db as database
from .models import db


@click.command("init-db")
@with_appcontext
def init_db_command() -> None:
    """Create the database, or upgrade it to the newest schema."""
    engine = db.engine
    before = database.current_revision(engine)
    database.upgrade(engine)
    after = database.current_revision(engine)
    current_app.logger.info("database schema %s -> %s", before, after)
    click.echo(f"Database ready (schema {after}; was {before or 'empty'}).")


def init_app(app: Flask) -> None:
    app.cli.add_command(init_db_command)
