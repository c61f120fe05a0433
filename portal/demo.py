"""`flask demo`: invented schools, accounts for every role, children, concerns and incidents.

Every name here is invented. The demo password and TOTP secrets are printed so that anyone can
try the portal; never run this against a database holding real records.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from typing import Any

import pyotp
from flask import current_app
from sqlalchemy import or_, select

from . import clock, wording
from .clock import uk_local
from .models import (
    TWO_FACTOR_ROLES,
    Assessment,
    Child,
    ChildRecordEntry,
    Concern,
    ConcernChild,
    Decision,
    Incident,
    IncidentChild,
    IncidentConcern,
    IncidentRevision,
    LocalAuthority,
    School,
    User,
    db,
    keyring,
)
from .rules import ChildFacts, IncidentFacts, assess
from .services import repeat_harm
from .services.children import add_child
from .services.report_stats import record_statistics

DEMO_PASSWORD = "demo-portal-2026"  # noqa: S105 - printed for the demo, by design

SCHOOLS = (
    # name, URN, authority code, mail slug, children (given, family, age in years, SEND)
    ("Oakfield Academy", "990001", "derbyshire", "oakfield",
     (("Maisie", "Thornbury", 14, False), ("Kieran", "Ashdown", 15, False),
      ("Tobias", "Wrenfield", 13, True), ("Ellowen", "Marchbank", 14, False))),
    ("Riverside Primary School", "990002", "derby-city", "riverside",
     (("Poppy", "Lindqvist", 8, False), ("Jaxon", "Oakridge", 9, False),
      ("Amara", "Fenwicke", 7, True))),
    ("Northgate College", "990003", "darlington", "northgate",
     (("Isla", "Brackenridge", 16, False), ("Reuben", "Calloway", 17, False))),
)
ADMIN_EMAIL = "admin@demo.example.org"
# A second administrator, so the four eyes a school's first DSL needs can be tried.
ADMIN2_EMAIL = "admin2@demo.example.org"


class DemoExists(Exception):
    pass


@dataclass(frozen=True)
class DemoLogin:
    email: str
    role: str
    organisation: str
    password: str
    totp_secret: str | None


def _email(role: str, slug: str) -> str:
    return f"{role.replace('_', '-')}.{slug}@demo.example.org"


def demo_exists() -> bool:
    urns = [s[1] for s in SCHOOLS]
    found = db.session.scalar(select(School.id).where(School.urn.in_(urns)).limit(1))
    user = db.session.scalar(
        select(User.id).where(or_(User.email == ADMIN_EMAIL,
                                  User.email.like("%@demo.example.org"))).limit(1)
    )
    return found is not None or user is not None


def _user(role: str, email: str, name: str, *, school: School | None = None,
          la: LocalAuthority | None = None) -> tuple[User, DemoLogin]:
    passwords = current_app.extensions["passwords"]
    u = User(email=email, display_name=name, role=role,
             password_hash=passwords.hash(DEMO_PASSWORD),
             school_id=school.id if school else None,
             local_authority_id=la.id if la else None)
    db.session.add(u)
    db.session.flush()
    secret = None
    if role in TWO_FACTOR_ROLES:
        secret = pyotp.random_base32()
        u.totp_secret = secret
        u.totp_enrolled = True
    org = school.name if school else la.name if la else "Deployment"
    return u, DemoLogin(email, role, org, DEMO_PASSWORD, secret)


def _birthday(today: dt.date, age: int, offset_days: int) -> dt.date:
    return today - dt.timedelta(days=round(age * 365.25) + offset_days)


def _child(school: School, given: str, family: str, dob: dt.date, send: bool, la_code: str,
           by: User) -> Child:
    return add_child(school, given_name=given, family_name=family, dob=dob, send=send,
                     local_authority_code=la_code, created_by_id=by.id)


def _entry(child: Child, kind: str, body: str, *, author: User, at: dt.datetime,
           incident: Incident | None = None, source: Any = None) -> None:
    e = ChildRecordEntry(
        school_id=child.school_id, child_id=child.id, kind=kind, author_id=author.id,
        occurred_at=at, incident_id=incident.id if incident else None,
        source_type=type(source).__tablename__ if source is not None else None,
        source_id=source.id if source is not None else None,
    )
    e.body = body
    db.session.add(e)


def _concern(school: School, staff: User, children: list[Child], *, occurred: dt.date,
             at: dt.datetime, what: str, words: str | None, where: str,
             online: bool = False, missing_reason: str | None = None) -> Concern:
    c = Concern(school_id=school.id, raised_by_id=staff.id, state="submitted",
                occurred_on=occurred, online=online, submitted_at=at)
    c.what_happened = what
    c.child_words = words
    c.child_words_missing_reason = missing_reason
    c.where = where
    # The time, as staff type it (the date is `occurred_on`: a day and date here said it twice).
    c.when_text = ("At morning break", "At lunchtime", "After school, by the gates",
                   "During PE")[occurred.toordinal() % 4]
    db.session.add(c)
    db.session.flush()
    for child in children:
        db.session.add(ConcernChild(concern_id=c.id, child_id=child.id))
        _entry(child, "concern", "Concern raised.", author=staff, at=at,
               source=c)
    return c


def _incident(school: School, dsl: User, concerns: list[Concern],
              roles: list[tuple[Child, str, str | None]], *, occurred: dt.date,
              reported_at: dt.datetime, opened_at: dt.datetime, types: set[str],
              features: frozenset[str] | set[str] = frozenset(), online: bool = False,
              summary: str) -> Incident:
    """An incident the DSL opened at `opened_at` from `concerns` (raised before it), about
    what was first reported to staff at `reported_at` (before the concerns were raised)."""
    number = school.next_incident_number
    school.next_incident_number = number + 1
    local = uk_local(reported_at)
    facts = IncidentFacts(
        occurred_on=occurred, reported_at=local, types=frozenset(types),
        features=frozenset(features), online=online,
        children=tuple(
            ChildFacts(ref=child.reference, role=role, dob=child.dob,  # type: ignore[arg-type]
                       local_authority=child.local_authority_code or "", send=bool(child.send))
            for child, role, _ in roles
        ),
    )
    result = assess(facts)
    inc = Incident(
        school_id=school.id, reference=f"I{number:04d}", state="open", version=1,
        opened_by_id=dsl.id, opened_at=opened_at, occurred_on=occurred,
        reported_at=reported_at, online=facts.online, types=sorted(types),
        features=sorted(features), mandatory_routes=list(result.mandatory_routes),
        updated_at=opened_at,
    )
    inc.summary = summary
    db.session.add(inc)
    db.session.flush()
    for concern in concerns:
        db.session.add(IncidentConcern(incident_id=inc.id, concern_id=concern.id))
        concern.state = "picked_up"
        concern.picked_up_at = opened_at
        concern.picked_up_by_id = dsl.id
    for position, (child, role, words) in enumerate(roles):
        ic = IncidentChild(incident_id=inc.id, child_id=child.id, school_id=school.id,
                           position=position, role=role, same_school=True)
        ic.child_words = words
        record_statistics(ic, child)
        if words is None:
            ic.child_words_missing_reason = "Not yet spoken to"
        db.session.add(ic)
    # As recording does: the keyed hashes that match repeat harm across an authority's schools.
    repeat_harm.mark_children([child for child, _, _ in roles])
    snapshot = {
        "types": sorted(types), "features": sorted(features), "online": online,
        "occurred_on": occurred.isoformat(), "reported_at": local.isoformat(),
        "children": [{"ref": c.reference, "role": r} for c, r, _ in roles], "summary": summary,
    }
    rev = IncidentRevision(incident_id=inc.id, school_id=school.id, version=1,
                           saved_by_id=dsl.id, saved_at=opened_at)
    rev.snapshot = json.dumps(snapshot)
    db.session.add(rev)
    a = Assessment(
        incident_id=inc.id, school_id=school.id, incident_version=1,
        rules_version=result.rules_version, triggers=list(result.triggers),
        routes=list(result.routes), mandatory_routes=list(result.mandatory_routes),
        considerations=list(result.considerations), assessed_at=opened_at,
    )
    a.result = json.dumps(result.as_json())
    db.session.add(a)
    for child, role, _ in roles:
        others = ", ".join(o.redacted_label for o, _, _ in roles if o is not child)
        _entry(child, "incident",
               f"Incident {inc.reference} opened: "
               f"{wording.sentence_list(wording.labels(sorted(types), 'type')).lower()}. "
               f"This child: {wording.label(role, 'role').lower()}."
               + (f" Also involved: {others}." if others else ""),
               author=dsl, at=opened_at, incident=inc, source=inc)
    return inc


def create_demo(now: dt.datetime | None = None) -> list[DemoLogin]:
    """Create the demo data (the caller commits). Raises DemoExists if it is already there."""
    if demo_exists():
        raise DemoExists("Demo data already exists; nothing changed.")
    now = now or clock.now()
    today = clock.today(now)
    ring = keyring()
    logins: list[DemoLogin] = []
    people: dict[str, dict[str, Any]] = {}
    authorities: dict[str, LocalAuthority] = {}

    for name, urn, la_code, slug, pupils in SCHOOLS:
        la = db.session.scalar(select(LocalAuthority).where(LocalAuthority.code == la_code))
        if la is None:
            raise DemoExists(f"Local authority {la_code} is missing: run `flask init-db` first.")
        authorities[la_code] = la
        school = School(name=name, urn=urn, local_authority_id=la.id)
        db.session.add(school)
        db.session.flush()
        ring.ensure_org(str(school.id))
        staff, login_staff = _user("staff", _email("staff", slug), f"Demo staff ({name})",
                                   school=school)
        dsl, login_dsl = _user("dsl", _email("dsl", slug), f"Demo DSL ({name})", school=school)
        logins += [login_staff, login_dsl]
        children = [
            _child(school, given, family, _birthday(today, age, 40 * i + 17), send, la_code, dsl)
            for i, (given, family, age, send) in enumerate(pupils)
        ]
        people[slug] = {"school": school, "staff": staff, "dsl": dsl, "children": children}

    for code, la in authorities.items():
        _, login = _user("la_adviser", _email("la-adviser", code), f"Demo adviser ({la.name})",
                         la=la)
        logins.append(login)
    ring.ensure_org("deployment")
    _, admin_login = _user("admin", ADMIN_EMAIL, "Demo administrator")
    _, admin2_login = _user("admin", ADMIN2_EMAIL, "Second demo administrator")
    logins += [admin_login, admin2_login]

    # Each story's moments, back-dated from `now` in the order they happened: what happened
    # (its UK day: `clock.today`), then first told to staff, the concern raised, the incident
    # opened, a decision. Days are those moments' UK days, so none comes before what it follows
    # whatever the time `flask demo` runs (tests/unit/test_demo_timeline.py).

    # Oakfield: images shared online under pressure; a separate bullying concern.
    oak = people["oakfield"]
    maisie, kieran, tobias, _ = oak["children"]
    happened, raised = clock.today(now - dt.timedelta(days=2)), now - dt.timedelta(days=1, hours=3)
    c1 = _concern(oak["school"], oak["staff"], [maisie, kieran], occurred=happened,
                  at=raised, online=True,
                  what="Maisie came to me at break upset. She said a boy in her year had kept "
                       "messaging her for a photo and then shared it in a group chat.",
                  words="He said if I didn't send it he'd tell everyone I already had.",
                  where="Outside the science block")
    _concern(oak["school"], oak["staff"], [tobias],
             occurred=clock.today(now - dt.timedelta(days=5)),
             at=now - dt.timedelta(days=4), what="Tobias said older pupils have been taking his "
             "lunch money most days this week.", words="They said it's a tax.",
             where="Lunch queue")
    inc = _incident(oak["school"], oak["dsl"], [c1],
                    [(maisie, "harmed", "He kept asking and then he sent it to the group."),
                     (kieran, "harmed_others", None)],
                    occurred=happened, reported_at=raised - dt.timedelta(minutes=25),
                    opened_at=now - dt.timedelta(hours=20),
                    types={"nudes_sharing"}, features={"coercion", "distributed"}, online=True,
                    summary="Image shared in a year-group chat after repeated pressure.")
    dec = Decision(school_id=oak["school"].id, incident_id=inc.id, kind="take_route",
                   route="consultation", decided_by_id=oak["dsl"].id,
                   decided_at=now - dt.timedelta(hours=19))
    dec.what = "Call the local authority consultation line today."
    dec.reasons = "Coercion and distribution: advice needed on next steps and on the image."
    db.session.add(dec)

    # Riverside: a playground incident between two pupils.
    riv = people["riverside"]
    poppy, jaxon, _ = riv["children"]
    happened, raised = clock.today(now - dt.timedelta(hours=27)), now - dt.timedelta(hours=26)
    c2 = _concern(riv["school"], riv["staff"], [poppy, jaxon], occurred=happened, at=raised,
                  what="Poppy had a red mark on her arm; she said Jaxon pushed her against the "
                       "fence and kicked her when she fell.",
                  words="He always does it when the teachers are not looking.",
                  where="Junior playground")
    _incident(riv["school"], riv["dsl"], [c2],
              [(poppy, "harmed", "He pushed me and then he kicked me."),
               (jaxon, "harmed_others", None)],
              occurred=happened, reported_at=raised - dt.timedelta(minutes=15),
              opened_at=now - dt.timedelta(hours=25), types={"physical"},
              features={"repeated"}, summary="Repeated pushing and kicking in the playground.")

    # Northgate: a concern not yet picked up by the DSL.
    nor = people["northgate"]
    isla, reuben = nor["children"]
    _concern(nor["school"], nor["staff"], [isla, reuben],
             occurred=clock.today(now - dt.timedelta(hours=3)), at=now - dt.timedelta(hours=2),
             what="Isla told me Reuben keeps making comments about her body in class.",
             words=None, missing_reason="Isla did not want to say more at the time.",
             where="Media studies room")
    db.session.flush()
    return logins


def existing_logins() -> list[DemoLogin]:
    """The demo accounts already present (their TOTP secrets decrypted), to print again."""
    users = db.session.scalars(
        select(User).where(User.email.like("%@demo.example.org")).order_by(User.created_at)
    )
    out = []
    for u in users:
        org = (u.school.name if u.school else u.local_authority.name if u.local_authority
               else "Deployment")
        out.append(DemoLogin(u.email, u.role, org, DEMO_PASSWORD,
                             u.totp_secret if u.totp_enrolled else None))
    return out


def format_logins(logins: list[DemoLogin]) -> str:
    rows = [("Email", "Role", "Organisation", "Password", "TOTP secret")]
    rows += [(x.email, x.role, x.organisation, x.password, x.totp_secret or "(not needed)")
             for x in logins]
    widths = [max(len(r[i]) for r in rows) for i in range(5)]
    lines = ["Demo accounts (invented people; never use these on a real instance):", ""]
    for n, row in enumerate(rows):
        lines.append("  ".join(cell.ljust(widths[i]) for i, cell in enumerate(row)).rstrip())
        if n == 0:
            lines.append("  ".join("-" * w for w in widths))
    lines += ["", "For a code, use any authenticator app with the account's TOTP secret."]
    example = next((x for x in logins if x.totp_secret), None)
    if example is not None:
        lines += [f"Or, in the project folder, run (for {example.email}; put another account's "
                  "secret between the quotes for that account):",
                  f"  {totp_command(str(example.totp_secret))}"]
    return "\n".join(lines)


def totp_command(secret: str) -> str:
    """A shell command, run from the project folder, that prints the current code for `secret`
    (the project's own Python: pyotp is installed there, not necessarily system-wide)."""
    code = f"import pyotp; print(pyotp.TOTP('{secret}').now())"
    return f'.venv/bin/python -c "{code}"'
