"""Browser-test harness: the real portal in a thread, a real SMTP sink, Debian's headless Chromium.

One session starts, once:
  * a mail sink (scripts/mailsink.py, in-process) on a free port, writing .eml files to a tmp dir;
  * the portal: `create_app(make_test_config(...))` on a migrated SQLite file, mail switched on
    and pointed at the sink, served by werkzeug's threaded server on a free port;
  * Chromium through Playwright's sync API (`executable_path`, never Playwright's own builds).

Every test gets fresh browser contexts sized like a phone (390x844, touch, 2x). Every page made by
`new_page` (and `page`) is watched: a console error, an uncaught script error or a
Content-Security-Policy violation fails the test (`page_problems(page).allow(regex)` for one the
test provokes on purpose). `check_axe(page)` runs axe-core and fails on any violation.

Each test makes its own school and people through `seed` (invented names only), so tests do not
depend on each other's data and may run in any order.

Without Chromium the tests are skipped with a reason, except in CI (`CI` set), where they fail.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from email.message import EmailMessage
from pathlib import Path
from typing import Any, TypeVar

import pyotp
import pytest
from axe_playwright_python.sync_playwright import Axe
from flask import Flask
from playwright.sync_api import (
    Browser,
    BrowserContext,
    ConsoleMessage,
    Locator,
    Page,
    sync_playwright,
)
from sqlalchemy import create_engine
from werkzeug.serving import BaseWSGIServer, make_server

from portal import create_app
from portal import db as database
from tests.conftest import make_test_config
from tests.factories import PASSWORD

T = TypeVar("T")

CHROMIUM = os.environ.get("PORTAL_TEST_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]
PHONE = {
    "viewport": {"width": 390, "height": 844},
    "is_mobile": True,
    "has_touch": True,
    "device_scale_factor": 2,
}
# "Hide this page" goes to another site (the `hide_page_url` setting); in tests it is this
# address, which every context answers itself with a plain page (no network is used).
NEUTRAL_URL = "https://weather.example/today"
NEUTRAL_PAGE = ("<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>"
                "<title>Weather</title><link rel='icon' href='data:,'></head>"
                "<body><main><h1>Weather</h1><p>Dry with sunny spells.</p></main></body></html>")
# Generous enough for a loaded CI machine, short enough that a broken page fails fast.
TIMEOUT_MS = 10_000

HERE = Path(__file__).resolve().parent


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Everything under tests/browser/ is a browser test, whether or not its module says so."""
    for item in items:
        if HERE in Path(str(item.path)).resolve().parents:
            item.add_marker(pytest.mark.browser)


# --------------------------------------------------------------------------------------------
# Mail sink and live server
# --------------------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def mail_sink(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    from scripts.mailsink import MailSink

    with MailSink(tmp_path_factory.mktemp("mail")) as sink:
        yield sink


def read_sink(sink: Any) -> list[EmailMessage]:
    """Every message the sink has received, parsed, oldest first."""
    from scripts.mailsink import read_messages

    messages: list[EmailMessage] = read_messages(sink.directory)
    return messages


@pytest.fixture
def emails_in_sink(mail_sink: Any) -> Callable[[], list[EmailMessage]]:
    """`emails_in_sink()`: every message received so far (all tests share the sink)."""
    return lambda: read_sink(mail_sink)


def wait_for_email(sink: Any, to: str, timeout: float = 10.0) -> EmailMessage:
    """The newest message delivered to `to` (envelope or header), waiting for it to arrive."""
    deadline = time.monotonic() + timeout
    while True:
        for message in reversed(read_sink(sink)):
            recipients = " ".join(message.get_all("Delivered-To", []) + message.get_all("To", []))
            if to.lower() in recipients.lower():
                return message
        if time.monotonic() >= deadline:
            seen = [(m.get("To"), m.get("Subject")) for m in read_sink(sink)]
            raise AssertionError(f"no email to {to} after {timeout}s; the sink has: {seen}")
        time.sleep(0.1)


def email_text(message: EmailMessage) -> str:
    """Subject and every text part of a message (plain and HTML), decoded."""
    parts = [str(message.get("Subject", ""))]
    for part in message.walk():
        if part.get_content_maintype() == "text":
            parts.append(part.get_content())
    return "\n".join(parts)


@dataclass
class LiveServer:
    app: Flask
    url: str
    server: BaseWSGIServer
    thread: threading.Thread


@pytest.fixture(scope="session")
def live_server(tmp_path_factory: pytest.TempPathFactory, mail_sink: Any) -> Iterator[LiveServer]:
    """The portal on 127.0.0.1:<free port>, on its own migrated SQLite file, mail to the sink."""
    tmp = tmp_path_factory.mktemp("live")
    db_path = tmp / "portal.db"
    engine = create_engine(f"sqlite:///{db_path}")
    database.upgrade(engine)
    engine.dispose()

    # The server must exist (and have its port) before the app knows its own base URL.
    holder: dict[str, Flask] = {}

    def wsgi(environ: dict[str, Any], start_response: Any) -> Any:
        return holder["app"](environ, start_response)

    server = make_server("127.0.0.1", 0, wsgi, threaded=True)
    url = f"http://127.0.0.1:{server.server_port}"
    app = create_app(make_test_config(
        tmp, f"sqlite:///{db_path}",
        mail_enabled=True, mail_host=mail_sink.host, mail_port=mail_sink.port, base_url=url,
        # Every test's users sign in from this one address to one server for the whole session:
        # the per-address limits (tests/web/test_sign_in_limits.py) would refuse them.
        login_rate_limit="", login_request_limit="",
        hide_page_url=NEUTRAL_URL,
    ))
    holder["app"] = app
    thread = threading.Thread(target=server.serve_forever, name="portal-live-server", daemon=True)
    thread.start()
    try:
        yield LiveServer(app=app, url=url, server=server, thread=thread)
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
        with app.app_context():
            from portal.models import db

            db.session.remove()
            db.engine.dispose()


@pytest.fixture
def base_url(live_server: LiveServer) -> str:
    return live_server.url


# --------------------------------------------------------------------------------------------
# Test data inside the live app
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Org:
    id: uuid.UUID
    name: str


@dataclass(frozen=True)
class Person:
    id: uuid.UUID
    email: str
    role: str
    password: str = PASSWORD
    totp_secret: str | None = None
    display_name: str = ""


@dataclass(frozen=True)
class Kid:
    id: uuid.UUID
    reference: str
    given_name: str
    family_name: str
    dob: dt.date

    @property
    def full_name(self) -> str:
        return f"{self.given_name} {self.family_name}"

    @property
    def initials(self) -> str:
        return f"{self.given_name[0]}{self.family_name[0]}".upper()


@dataclass
class Seed:
    """Makes schools, people and children in the live portal's database (committed at once)."""

    app: Flask

    def run(self, fn: Callable[[], T]) -> T:
        """Call `fn` inside an app context and commit; returns its result."""
        from portal.models import db

        with self.app.app_context():
            try:
                result = fn()
                db.session.commit()
                return result
            finally:
                db.session.remove()

    def school(self, name: str | None = None, la_code: str = "derbyshire") -> Org:
        from tests import factories

        tag = uuid.uuid4().hex[:6]

        def make() -> Org:
            s = factories.school(name=name or f"Larkspur Primary {tag}", la_code=la_code,
                                 urn=str(int(tag, 16) % 900000 + 100000))
            return Org(id=s.id, name=s.name)

        return self.run(make)

    def user(self, role: str, org: Org, *, display_name: str | None = None,
             enrolled: bool = True) -> Person:
        from portal.models import School, db
        from tests import factories

        email = f"{role}-{uuid.uuid4().hex[:8]}@example.test"

        def make() -> Person:
            school = db.session.get(School, org.id)
            u = factories.user(role, email=email, org=school, enrolled=enrolled,
                               display_name=display_name or f"Test {role.upper()} Person")
            return Person(id=u.id, email=u.email, role=role, totp_secret=u.totp_secret,
                          display_name=u.display_name)

        return self.run(make)

    def child(self, org: Org, given: str, family: str, dob: dt.date,
              la_code: str = "derbyshire") -> Kid:
        from portal.models import School, db
        from tests import factories

        def make() -> Kid:
            school = db.session.get(School, org.id)
            assert school is not None
            c = factories.child(school, given=given, family=family, dob=dob, la_code=la_code)
            return Kid(id=c.id, reference=c.reference, given_name=given, family_name=family,
                       dob=dob)

        return self.run(make)

    def concern(self, org: Org, raised_by: Person, kids: list[Kid]) -> uuid.UUID:
        """A concern about `kids` sent by `raised_by` two hours ago: an image passed round at
        lunch yesterday. Waiting for a safeguarding lead."""
        from portal.clock import LONDON
        from portal.models import Concern, ConcernChild, db

        def make() -> uuid.UUID:
            now = dt.datetime.now(dt.UTC)
            concern = Concern(school_id=org.id, raised_by_id=raised_by.id, state="submitted",
                              occurred_on=dt.datetime.now(LONDON).date() - dt.timedelta(days=1),
                              submitted_at=now - dt.timedelta(hours=2))
            concern.what_happened = "An image was passed round at lunch."
            db.session.add(concern)
            db.session.flush()
            for kid in kids:
                db.session.add(ConcernChild(concern_id=concern.id, child_id=kid.id))
            return concern.id

        return self.run(make)

    def incident(self, org: Org, dsl: Person, kids: list[tuple[Kid, str, str]]) -> uuid.UUID:
        """An incident opened by `dsl` from its own `concern` about `kids` (each with its role
        in the incident and local authority), its facts saved: nudes shared, with coercion,
        happened and reported yesterday at 09:30."""
        from portal.clock import LONDON
        from portal.models import Child, Concern, User, db
        from portal.services import incidents as svc

        concern_id = self.concern(org, dsl, [kid for kid, _, _ in kids])

        def make() -> uuid.UUID:
            user = db.session.get(User, dsl.id)
            concern = db.session.get(Concern, concern_id)
            assert user is not None and concern is not None
            now = dt.datetime.now(dt.UTC)
            yesterday = dt.datetime.now(LONDON).date() - dt.timedelta(days=1)
            incident = svc.open_incident(user, [concern], now)
            svc.save_facts(user, incident, incident.version, svc.FactsInput(
                occurred_on=yesterday,
                reported_at_local=dt.datetime.combine(yesterday, dt.time(9, 30)),
                types=frozenset({"nudes_sharing"}), features=frozenset({"coercion"})), now)
            for kid, role, la in kids:
                child = db.session.get(Child, kid.id)
                svc.save_child(user, incident, incident.version, child, svc.ChildInput(
                    role=role, dob=kid.dob, local_authority=la), now)
            return incident.id

        return self.run(make)

    def last_totp_step(self, email: str) -> int:
        from portal.models import User, db

        def read() -> int:
            u = db.session.scalar(db.select(User).where(User.email == email))
            return int(u.totp_last_step or 0) if u else 0

        return self.run(read)

    def age_sessions(self, email: str, minutes: int) -> int:
        """Moves `email`'s live sessions `minutes` into the past (idle expiry); how many."""
        from portal.models import AuthSession, User, db

        def age() -> int:
            u = db.session.scalar(db.select(User).where(User.email == email))
            assert u is not None
            rows = db.session.scalars(db.select(AuthSession).where(
                AuthSession.user_id == u.id, AuthSession.revoked_at.is_(None))).all()
            for row in rows:
                row.last_seen_at = row.last_seen_at - dt.timedelta(minutes=minutes)
                row.created_at = row.created_at - dt.timedelta(minutes=minutes)
            return len(rows)

        return self.run(age)


@pytest.fixture
def seed(live_server: LiveServer) -> Seed:
    return Seed(live_server.app)


# --------------------------------------------------------------------------------------------
# Chromium
# --------------------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    if not (os.path.isfile(CHROMIUM) and os.access(CHROMIUM, os.X_OK)):
        why = f"Chromium not found at {CHROMIUM} (PORTAL_TEST_CHROMIUM)"
        if os.environ.get("CI"):
            pytest.fail(f"browser tests must run in CI, but {why}: run `make browser-deps`",
                        pytrace=False)
        pytest.skip(f"{why}: run `make browser-deps` (scripts/browser-deps.sh) to install it")
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


# Problems already reported to the team and tolerated here so they do not make every test flaky;
# each has its own deterministic test that fails until it is fixed (see test_sign_in.py).
KNOWN_ISSUES: list[str] = []  # console messages to tolerate (none at present)


@dataclass
class PageProblems:
    """Console errors, uncaught exceptions and CSP violations seen by one page."""

    found: list[str] = field(default_factory=list)
    allowed: list[re.Pattern[str]] = field(
        default_factory=lambda: [re.compile(p) for p in KNOWN_ISSUES])

    def allow(self, pattern: str) -> None:
        """Tolerate messages matching `pattern` (for a failure the test provokes on purpose)."""
        self.allowed.append(re.compile(pattern))

    def unexpected(self) -> list[str]:
        return [m for m in self.found if not any(p.search(m) for p in self.allowed)]


_PROBLEMS: dict[int, PageProblems] = {}

# Reported through the console, so a violation on any page of the walk is caught: Chromium logs
# most of them itself, this also catches the ones it only reports as an event.
_CSP_LISTENER = """
document.addEventListener('securitypolicyviolation', (e) => {
  console.error(`CSP violation: ${e.violatedDirective} blocked ${e.blockedURI || 'inline'}` +
                ` at ${e.sourceFile || document.location.href}:${e.lineNumber}`);
});
"""


def page_problems(page: Page) -> PageProblems:
    return _PROBLEMS.setdefault(id(page), PageProblems())


def _watch(page: Page) -> None:
    problems = page_problems(page)

    def on_console(message: ConsoleMessage) -> None:
        text = message.text
        if message.type == "error" or "Content Security Policy" in text:
            where = message.location.get("url", "") if message.location else ""
            problems.found.append(f"console {message.type}: {text} ({where or page.url})")

    page.on("console", on_console)
    page.on("pageerror", lambda error: problems.found.append(f"page error: {error} ({page.url})"))


def assert_no_page_problems(page: Page) -> None:
    bad = page_problems(page).unexpected()
    assert not bad, "the browser reported problems:\n  " + "\n  ".join(bad)


@pytest.fixture
def new_page(browser: Browser, live_server: LiveServer) -> Iterator[Callable[..., Page]]:
    """`new_page(**context_options)`: a page in a fresh phone-sized context (own cookies).

    Every page it makes is watched; problems fail the test at teardown.
    """
    contexts: list[BrowserContext] = []
    pages: list[Page] = []

    def make(tab_of: Page | None = None, **options: Any) -> Page:
        """A page in a new context, or (`tab_of=page`) a new tab beside `page` (same cookies)."""
        if tab_of is not None:
            context = tab_of.context
        else:
            context = browser.new_context(base_url=live_server.url, **{**PHONE, **options})
            context.set_default_timeout(TIMEOUT_MS)
            context.add_init_script(_CSP_LISTENER)
            context.route(NEUTRAL_URL, lambda route: route.fulfill(
                status=200, content_type="text/html; charset=utf-8", body=NEUTRAL_PAGE))
            contexts.append(context)
        page = context.new_page()
        _watch(page)
        pages.append(page)
        return page

    yield make
    try:
        problems = [p for page in pages for p in page_problems(page).unexpected()]
    finally:
        for page in pages:
            _PROBLEMS.pop(id(page), None)
        for context in contexts:
            context.close()
    if problems:
        pytest.fail("the browser reported problems:\n  " + "\n  ".join(problems), pytrace=False)


@pytest.fixture
def page(new_page: Callable[..., Page]) -> Page:
    return new_page()


# --------------------------------------------------------------------------------------------
# Checks and the sign-in helper
# --------------------------------------------------------------------------------------------

_AXE: Any = None


def check_axe(page: Page, *, context: Any = None) -> None:
    """axe-core on the page as it is now: zero violations (and no console or CSP problems)."""
    global _AXE
    if _AXE is None:
        _AXE = Axe()
    page.wait_for_load_state("load")
    results = _AXE.run(page, context=context)
    violations = results.response["violations"]
    if violations:
        lines = [f"axe-core: {len(violations)} violation(s) on {page.url}"]
        for v in violations:
            lines.append(f"- {v['id']} ({v.get('impact')}): {v['help']}  <{v['helpUrl']}>")
            for node in v["nodes"][:5]:
                lines.append(f"    at {', '.join(map(str, node['target']))}")
                lines.append(f"       {node.get('html', '')[:200]}")
                summary = (node.get("failureSummary") or "").replace("\n", " / ")
                if summary:
                    lines.append(f"       {summary[:300]}")
            if len(v["nodes"]) > 5:
                lines.append(f"    ... and {len(v['nodes']) - 5} more")
        pytest.fail("\n".join(lines), pytrace=False)
    assert_no_page_problems(page)


def assert_no_horizontal_scroll(page: Page, width: int = 390) -> None:
    scroll_width = page.evaluate("document.documentElement.scrollWidth")
    assert scroll_width <= width, (
        f"{page.url} scrolls sideways: scrollWidth {scroll_width} > {width}")


def menu_link(page: Page, name: str) -> Locator:
    """The header's navigation link `name`, shown: on a phone it sits behind the "Menu"
    button, which this opens."""
    page.wait_for_load_state("load")  # GOV.UK Frontend's script has made (or not) the button
    menu = page.get_by_role("button", name="Menu")
    if menu.is_visible() and menu.get_attribute("aria-expanded") != "true":
        menu.click()
    return page.get_by_role("navigation", name="Menu").get_by_role("link", name=name)


def fresh_totp(secret: str, last_step: int) -> tuple[str, int]:
    """A code for a step the server has not seen (waits for the next step if needed)."""
    totp = pyotp.TOTP(secret)
    while True:
        now = int(time.time()) // 30
        for step in (now, now + 1):
            if step > last_step:
                return totp.generate_otp(step), step
        time.sleep(0.5)


_USED_STEPS: dict[str, int] = {}


@pytest.fixture
def sign_in(seed: Seed) -> Callable[..., None]:
    """`sign_in(page, email, password, totp_secret=None)`: through the real forms, to /home.

    With `totp_secret` it also fills the security code page with a code for a time step never
    used before (so the server's replay check never refuses it).
    """

    def do(page: Page, email: str, password: str = PASSWORD,
           totp_secret: str | None = None) -> None:
        if not re.search(r"/sign-in/?(\?|$)", page.url):
            page.goto("/sign-in")
        page.get_by_label("Email address").fill(email)
        page.get_by_label("Password", exact=True).fill(password)
        page.get_by_role("button", name="Sign in").click()
        page.wait_for_load_state()
        if totp_secret:
            page.wait_for_url(re.compile(r"/sign-in/code$"))
            last = max(_USED_STEPS.get(totp_secret, 0), seed.last_totp_step(email))
            code, step = fresh_totp(totp_secret, last)
            _USED_STEPS[totp_secret] = step
            page.get_by_label("Security code").fill(code)
            page.get_by_role("button", name="Continue").click()
        page.wait_for_url(lambda url: "/sign-in" not in url)

    return do
