"""The portal's load mix for locust (see benchmarks/README.md, "Load").

Every simulated user signs in once (password, then a TOTP code from its own secret) and then
works with no think time, so 20 users are 20 requests always in flight, or with
LOCUST_THINK="MIN,MAX" a pause of MIN to MAX seconds between pages (a person reading):

- DSLs (10): dashboard (3), an incident page (2), a child's file (2) of their own school;
- staff (6): open the concern form, then submit a concern about a child of their school;
- advisers (4): their authority's referrals inbox.

Accounts and targets come from targets.py (LOCUST_TARGETS=path). `BareUser` hits the bare page
(bare_app.py) instead and is run on its own: `locust ... BareUser`.
"""

from __future__ import annotations

import datetime as dt
import itertools
import json
import os
import random
import re
from urllib.parse import urlencode

import gevent.event
import pyotp
from locust import FastHttpUser, between, constant, events, task

CSRF = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"|'
                  r'name="csrf_token" value="([^"]+)"|value="([^"]+)" name="csrf_token"')
FORM = {"Content-Type": "application/x-www-form-urlencoded"}


def _targets() -> dict:
    path = os.environ.get("LOCUST_TARGETS")
    return json.load(open(path)) if path else {"dsl": [], "staff": [], "la_adviser": []}


TARGETS = _targets()
SIGNED_IN = {"n": 0}
ALL_IN = gevent.event.Event()
EXPECTED = int(os.environ.get("LOCUST_EXPECT_USERS", "20"))


@events.test_start.add_listener
def _reset(environment, **_kw) -> None:  # type: ignore[no-untyped-def]
    SIGNED_IN["n"] = 0
    ALL_IN.clear()
NEXT = {role: itertools.cycle(accts) for role, accts in TARGETS.items() if accts}
THINK = os.environ.get("LOCUST_THINK")
PAUSE = between(*(float(x) for x in THINK.split(","))) if THINK else constant(0)


def csrf(text: str) -> str:
    m = CSRF.search(text)
    if not m:
        raise RuntimeError("no csrf token in page")
    return next(g for g in m.groups() if g)


class PortalUser(FastHttpUser):
    abstract = True
    role = ""
    wait_time = PAUSE

    def on_start(self) -> None:
        self.account = next(NEXT[self.role])
        page = self.client.get("/sign-in", name="sign-in (GET)").text
        r = self.client.post("/sign-in", data=urlencode({
            "csrf_token": csrf(page), "email": self.account["email"],
            "password": self.account["password"]}), headers=FORM, name="sign-in (POST)")
        if self.account.get("totp_secret"):
            page = r.text  # followed the redirect to the code page
            self.client.post("/sign-in/code", data=urlencode({
                "csrf_token": csrf(page), "code": pyotp.TOTP(self.account["totp_secret"]).now()}),
                headers=FORM, name="sign-in code (POST)")
        # Each page once before measuring: a worker's first request for a page compiles its
        # templates and unwraps its school's keys, a cost paid once per worker, not per page.
        self.warm_up()
        # Measure only once everyone is signed in: the sign-ins (argon2) are not the mix.
        SIGNED_IN["n"] += 1
        if SIGNED_IN["n"] >= EXPECTED:
            self.environment.runner.stats.reset_all()
            print(f"all {EXPECTED} users signed in; statistics reset", flush=True)
            ALL_IN.set()
        ALL_IN.wait()


    def warm_up(self) -> None:
        for path in self.warm_paths():
            self.client.get(path, name="warm-up (not measured)")

    def warm_paths(self) -> list[str]:
        return []


class DSL(PortalUser):
    role = "dsl"
    fixed_count = 10

    def warm_paths(self) -> list[str]:
        return ["/dashboard", f"/incidents/{self.account['incidents'][0]}",
                f"/children/{self.account['children'][0]}"]

    @task(3)
    def dashboard(self) -> None:
        self.client.get("/dashboard", name="dashboard")

    @task(2)
    def incident(self) -> None:
        self.client.get(f"/incidents/{random.choice(self.account['incidents'])}",
                        name="incident page")

    @task(2)
    def child(self) -> None:
        self.client.get(f"/children/{random.choice(self.account['children'])}",
                        name="child's file")


class Staff(PortalUser):
    role = "staff"
    fixed_count = 6

    def warm_paths(self) -> list[str]:
        return ["/concerns/new"]

    @task
    def concern(self) -> None:
        page = self.client.get("/concerns/new", name="concern form (GET)").text
        d = dt.date.today()
        body = urlencode({
            "csrf_token": csrf(page), "child_ids": [random.choice(self.account["children"])],
            "what_happened": "A pupil came to me at break upset; benchmark concern.",
            "child_words": "They said it happens most days.", "child_words_missing_reason": "",
            "occurred_on": [str(d.day), str(d.month), str(d.year)],
            "when_text": "morning break", "where": "the corridor", "online": "no",
            "urgent": "no", "submit": "y"}, doseq=True)
        with self.client.post("/concerns/new", data=body, headers=FORM, allow_redirects=False,
                              name="concern submit (POST)", catch_response=True) as r:
            if r.status_code != 302:
                r.failure(f"not accepted: {r.status_code}")


class Adviser(PortalUser):
    role = "la_adviser"
    fixed_count = 4

    def warm_paths(self) -> list[str]:
        return ["/referrals"]

    @task
    def inbox(self) -> None:
        self.client.get("/referrals", name="adviser inbox")


class BareUser(FastHttpUser):
    wait_time = constant(0)

    @task
    def bare(self) -> None:
        self.client.get("/", name="bare page")
