"""Page weight of the main pages in Chromium (Playwright), cold cache, signed in.

For each page: the number of requests, the bytes over the wire as Chromium counts them
(headers + body as transferred: the portal serves its CSS, JS and SVG pre-gzipped and never
compresses pages, which carry secrets and user text (BREACH)), and what the same responses
would weigh if every one were gzip-compressed (level 6). Also writes the session cookies for
Lighthouse.

    .venv/bin/python benchmarks/pageweight/measure.py --base http://127.0.0.1:8101 \
        --logins $PORTAL_INSTANCE/logins.json --targets targets.json [--json out.json]
"""

from __future__ import annotations

import argparse
import gzip
import json
import sys
from pathlib import Path
from typing import Any

import pyotp
from playwright.sync_api import Browser, sync_playwright

ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]
GOAL_KB = 100


def sign_in(browser: Browser, base: str, account: dict[str, Any]) -> dict[str, Any]:
    ctx = browser.new_context()
    page = ctx.new_page()
    page.goto(f"{base}/sign-in")
    page.fill("input[name=email]", account["email"])
    page.fill("input[name=password]", account["password"])
    page.click("button[type=submit], input[type=submit]")
    if account.get("totp_secret"):
        page.wait_for_url("**/sign-in/code")
        page.fill("input[name=code]", pyotp.TOTP(account["totp_secret"]).now())
        page.click("button[type=submit], input[type=submit]")
    page.wait_for_url("**/home")
    state = ctx.storage_state()
    ctx.close()
    return state


def weigh(browser: Browser, url: str, state: dict[str, Any] | None) -> dict[str, Any]:
    ctx = browser.new_context(storage_state=state) if state else browser.new_context()
    page = ctx.new_page()
    rows: list[dict[str, Any]] = []

    def done(request: Any) -> None:
        response = request.response()
        if response is None:
            return
        sizes = request.sizes()
        try:
            body = response.body()
        except Exception:
            body = b""
        headers = sizes["responseHeadersSize"]
        rows.append(dict(url=request.url, status=response.status,
                         wire=headers + sizes["responseBodySize"], body=len(body),
                         gzip=headers + len(gzip.compress(body, 6))))

    page.on("requestfinished", done)
    page.goto(url, wait_until="networkidle")
    status = page.evaluate("document.title")
    ctx.close()
    return dict(url=url, title=status, requests=len(rows),
                wire=sum(r["wire"] for r in rows), gzip=sum(r["gzip"] for r in rows),
                html=next((r["body"] for r in rows if r["url"] == url), 0), resources=rows)


def main() -> int:
    p = argparse.ArgumentParser()
    p.add_argument("--base", required=True)
    p.add_argument("--logins", type=Path, required=True)
    p.add_argument("--targets", type=Path, required=True)
    p.add_argument("--json", type=Path)
    p.add_argument("--cookies", type=Path, help="write {role: Cookie header} for Lighthouse")
    args = p.parse_args()
    logins = json.loads(args.logins.read_text())["logins"]
    targets = json.loads(args.targets.read_text())
    used = {x["email"] for role in targets.values() for x in role}
    # Accounts the load test does not use (a TOTP code is accepted once per account).
    dsl = next(x for x in reversed(logins) if x["role"] == "dsl" and x["email"] not in used)
    staff = next(x for x in logins if x["role"] == "staff" and x["email"] not in used)
    adviser = next(x for x in reversed(logins) if x["role"] == "la_adviser"
                   and x["email"] not in used)
    # The DSL's school's records: the same as the load targets use, for a DSL of the same shape.
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
    import uuid

    from sqlalchemy import func, select

    from portal import create_app
    from portal.models import ChildRecordEntry, Incident, db
    app = create_app()
    with app.app_context():
        sid = uuid.UUID(dsl["school_id"])
        incident = db.session.scalar(select(Incident.id).where(Incident.school_id == sid)
                                     .order_by(Incident.opened_at.desc()).limit(1))
        child = db.session.execute(
            select(ChildRecordEntry.child_id, func.count()).where(ChildRecordEntry.school_id == sid)
            .group_by(ChildRecordEntry.child_id).order_by(func.count().desc()).limit(1)).first()[0]
    out = []
    cookies: dict[str, str] = {}
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path="/usr/bin/chromium", args=ARGS)
        states = {}
        for role, acct in (("staff", staff), ("dsl", dsl), ("la_adviser", adviser)):
            states[role] = sign_in(browser, args.base, acct)
            cookies[role] = "; ".join(f"{c['name']}={c['value']}"
                                      for c in states[role]["cookies"])
        pages = [("sign-in", "/sign-in", None), ("concern form", "/concerns/new", "staff"),
                 ("dashboard", "/dashboard", "dsl"), ("incident", f"/incidents/{incident}", "dsl"),
                 ("child's file", f"/children/{child}", "dsl"),
                 ("adviser inbox", "/referrals", "la_adviser")]
        for name, path, role in pages:
            row = weigh(browser, args.base + path, states[role] if role else None)
            row["page"] = name
            out.append(row)
            print(f"{name:<14} {row['requests']:>2} requests  wire {row['wire'] / 1024:7.1f} KB  "
                  f"gzip {row['gzip'] / 1024:6.1f} KB  html {row['html'] / 1024:6.1f} KB  "
                  f"({row['title']})", flush=True)
        browser.close()
    heaviest = max(out, key=lambda r: r["wire"])
    print(f"heaviest: {heaviest['page']} {heaviest['wire'] / 1024:.1f} KB over the wire, "
          f"{heaviest['gzip'] / 1024:.1f} KB if all gzip (goal < {GOAL_KB} KB)")
    if args.json:
        args.json.write_text(json.dumps(out, indent=1))
    if args.cookies:
        args.cookies.write_text(json.dumps({"urls": {r["page"]: r["url"] for r in out},
                                            "cookies": cookies}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
