"""RULES.md section 1: `portal.rules` is pure Python: no Flask, no database, no network, no clock.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
RULES_DIR = REPO / "portal" / "rules"
FORBIDDEN_PACKAGES = ("flask", "flask_login", "flask_wtf", "flask_sqlalchemy", "sqlalchemy",
                      "alembic", "psycopg", "psycopg2", "werkzeug", "requests", "httpx", "urllib3")
NETWORK_IMPORT = re.compile(
    r"^\s*(?:import|from)\s+(?:socket|ssl|smtplib|http|urllib|requests|httpx|urllib3|ftplib)\b",
    re.MULTILINE,
)
CLOCK = re.compile(
    r"\b(?:datetime\.now|datetime\.utcnow|datetime\.today|date\.today|time\.time|time\.monotonic"
    r"|time\.perf_counter|time\.localtime|time\.gmtime)\b"
    r"|\bfrom\s+time\s+import\b"
    r"|\b(?:now|today|utcnow)\(\)",
)


def imported_modules() -> list[str]:
    code = "import json, sys; import portal.rules; print(json.dumps(sorted(sys.modules)))"
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, timeout=60,
        check=True,
    )
    modules: list[str] = json.loads(result.stdout)
    return modules


def test_import_loads_no_web_or_database_packages() -> None:
    modules = imported_modules()
    loaded = {m.split(".")[0] for m in modules}
    assert not loaded & set(FORBIDDEN_PACKAGES), sorted(loaded & set(FORBIDDEN_PACKAGES))


def test_import_loads_only_the_rules_from_our_package() -> None:
    ours = [m for m in imported_modules() if m == "portal" or m.startswith("portal.")]
    assert all(m == "portal" or m == "portal.rules" or m.startswith("portal.rules.")
               for m in ours), ours


def test_our_imported_modules_do_not_use_the_network() -> None:
    ours = [m for m in imported_modules() if m == "portal" or m.startswith("portal.")]
    for module in ours:
        parts = module.split(".")
        path = REPO.joinpath(*parts)
        source = path / "__init__.py" if path.is_dir() else path.with_suffix(".py")
        text = source.read_text(encoding="utf-8")
        assert not NETWORK_IMPORT.search(text), f"{source} imports a network module"


def test_rules_sources_never_read_the_clock() -> None:
    sources = sorted(RULES_DIR.glob("*.py"))
    assert sources
    offenders = []
    for source in sources:
        for number, line in enumerate(source.read_text(encoding="utf-8").splitlines(), 1):
            if CLOCK.search(line):
                offenders.append(f"{source.name}:{number}: {line.strip()}")
    assert not offenders, offenders


def test_rules_sources_import_no_web_or_database_package() -> None:
    pattern = re.compile(
        r"^\s*(?:import|from)\s+(?:" + "|".join(FORBIDDEN_PACKAGES) + r")\b", re.MULTILINE
    )
    for source in sorted(RULES_DIR.glob("*.py")):
        text = source.read_text(encoding="utf-8")
        assert not pattern.search(text), source
        assert not NETWORK_IMPORT.search(text), source


def test_clock_pattern_catches_what_it_should() -> None:
    for bad in ("x = dt.datetime.now()", "d = date.today()", "t = time.time()",
                "datetime.utcnow()", "from time import time"):
        assert CLOCK.search(bad), bad
    for fine in ("reported = incident.reported_at.date()", "age_on(dob, on)"):
        assert not CLOCK.search(fine), fine
