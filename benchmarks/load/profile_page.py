"""Profile one page with pyinstrument through Flask's test client, signed in as a load account.

    PORTAL_INSTANCE=... .venv/bin/python benchmarks/load/profile_page.py TARGETS.json ROLE PATH [N]

PATH may contain {incident} or {child} (the account's first target).
"""

import json
import re
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

import pyotp
from pyinstrument import Profiler

from portal import create_app

targets = json.loads(Path(sys.argv[1]).read_text())
role, path = sys.argv[2], sys.argv[3]
n = int(sys.argv[4]) if len(sys.argv) > 4 else 20
acct = targets[role][-1]
app = create_app()
c = app.test_client()
tok = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')
page = c.get("/sign-in").text
r = c.post("/sign-in", data={"csrf_token": tok.search(page).group(1), "email": acct["email"],
                             "password": acct["password"]}, follow_redirects=True)
if acct.get("totp_secret"):
    r = c.post("/sign-in/code", data={"csrf_token": tok.search(r.text).group(1),
                                      "code": pyotp.TOTP(acct["totp_secret"]).now()},
               follow_redirects=True)
path = path.format(incident=(acct.get("incidents") or [""])[0],
                   child=(acct.get("children") or [""])[0])
assert c.get(path).status_code == 200, c.get(path).status_code
p = Profiler(interval=0.0005)
p.start()
for _ in range(n):
    c.get(path)
p.stop()
print(p.output_text(unicode=False, color=False))
