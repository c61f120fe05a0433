"""The admin feature: organisations and accounts (pages under /admin, `flask create-user`)."""

from __future__ import annotations

import click
from flask import Blueprint, Flask
from flask.cli import with_appcontext

bp = Blueprint("admin", __name__, url_prefix="/admin")


@click.command("create-user")
@click.option("--email", required=True, help="The person's email address (their sign-in name).")
@click.option("--name", "display_name", required=True, help="Their full name.")
@click.option("--role", required=True, type=click.Choice(["staff", "dsl", "la_adviser", "admin"]))
@click.option("--school-urn", default=None, help="The school's URN (staff and dsl).")
@click.option("--authority-code", default=None, help="The local authority's code (la_adviser).")
@click.option("--password", default=None,
              help="Initial password (prompted for, hidden, if not given).")
@with_appcontext
def create_user_command(email: str, display_name: str, role: str, school_urn: str | None,
                        authority_code: str | None, password: str | None) -> None:
    """Create an account. Roles with a second factor set it up at their first sign-in."""
    from sqlalchemy import select

    from ..models import LocalAuthority, School, db
    from ..refusal import Refused
    from ..services import accounts

    school_id = authority_id = None
    if role in ("staff", "dsl"):
        if not school_urn:
            raise click.UsageError(f"--school-urn is needed for the role {role}")
        school = db.session.scalar(select(School).where(School.urn == school_urn))
        if school is None:
            raise click.UsageError(f"No school has the URN {school_urn}")
        school_id = school.id
    elif role == "la_adviser":
        if not authority_code:
            raise click.UsageError("--authority-code is needed for the role la_adviser")
        la = db.session.scalar(
            select(LocalAuthority).where(LocalAuthority.code == authority_code))
        if la is None:
            raise click.UsageError(f"No local authority has the code {authority_code}")
        authority_id = la.id
    if password is None:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    try:
        user, _ = accounts.create_user(
            accounts.NewUser(email=email, display_name=display_name, role=role,
                             school_id=school_id, local_authority_id=authority_id,
                             password=password),
            actor_id=None,
        )
    except Refused as exc:
        db.session.rollback()
        raise click.ClickException(exc.message) from exc
    db.session.commit()
    click.echo(f"Created {user.email} ({role}).")


def init_app(app: Flask) -> None:
    from . import views  # noqa: F401 - registers the routes

    app.register_blueprint(bp)
    app.cli.add_command(create_user_command)
