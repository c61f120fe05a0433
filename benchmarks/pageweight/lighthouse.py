"""Lighthouse (mobile) performance and accessibility of the sign-in page and signed-in pages.

Needs `npm install --no-save lighthouse` in a temporary folder (not this repository) and the
cookies file written by measure.py --cookies. Each signed-in page gets its session cookie through
Lighthouse's --extra-headers.

    .venv/bin/python benchmarks/pageweight/lighthouse.py \
        --lighthouse /tmp/lh/node_modules/.bin/lighthouse \
        --cookies cookies.json [--pages "sign-in" "dashboard" "child's file"] [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

ROLE = {"sign-in": None, "concern form": "staff", "dashboard": "dsl", "incident": "dsl",
        "child's file": "dsl", "adviser inbox": "la_adviser"}


def main() -> int:
    p = argparse.ArgumentParser()
    p.add_argument("--lighthouse", required=True)
    p.add_argument("--cookies", type=Path, required=True)
    p.add_argument("--pages", nargs="+", default=["sign-in", "dashboard", "child's file"])
    p.add_argument("--json", type=Path)
    args = p.parse_args()
    data = json.loads(args.cookies.read_text())
    out = []
    with tempfile.TemporaryDirectory() as tmp:
        for name in args.pages:
            url = data["urls"][name]
            report = Path(tmp) / "report.json"
            cmd = [args.lighthouse, url, "--chrome-path=/usr/bin/chromium",
                   "--chrome-flags=--headless --no-sandbox", "--form-factor=mobile",
                   "--only-categories=performance,accessibility", "--output=json",
                   f"--output-path={report}", "--quiet"]
            role = ROLE[name]
            if role:
                cmd.append("--extra-headers=" + json.dumps({"Cookie": data["cookies"][role]}))
            subprocess.run(cmd, check=True, timeout=300)
            r = json.loads(report.read_text())
            a = r["audits"]
            row = dict(page=name, final_url=r.get("finalDisplayedUrl") or r.get("finalUrl"),
                       performance=r["categories"]["performance"]["score"],
                       accessibility=r["categories"]["accessibility"]["score"],
                       fcp=a["first-contentful-paint"]["displayValue"],
                       lcp=a["largest-contentful-paint"]["displayValue"],
                       tbt=a["total-blocking-time"]["displayValue"],
                       cls=a["cumulative-layout-shift"]["displayValue"],
                       weight=a["total-byte-weight"]["displayValue"])
            out.append(row)
            print(f"{name:<14} performance {row['performance'] * 100:.0f}  accessibility "
                  f"{row['accessibility'] * 100:.0f}  FCP {row['fcp']}  LCP {row['lcp']}  "
                  f"TBT {row['tbt']}  CLS {row['cls']}  {row['weight']}  -> {row['final_url']}",
                  flush=True)
    if args.json:
        args.json.write_text(json.dumps(out, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
