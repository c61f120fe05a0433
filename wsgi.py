"""The WSGI entry point: `gunicorn wsgi:app` (see docs/deploy.md), and the app every
`flask --app wsgi ...` command loads.

A missing or wrong setting (no secret key, no master key, a bad URL) is told in one line on
standard error, with exit status 2: not a traceback.

Everything loaded until the app exists (modules, mappers, the directory) lives as long as the
process: `gc.freeze()` moves those 150,000 objects out of the garbage collector's sight, so the
full collections a busy worker runs no longer walk them again and again (issue 15: measured on
the 1,000,000-incident instance, the collector's share of the dashboard went from 4.9 to 1.5 ms
of CPU a request, averaged over 30 requests).
"""

import gc
import sys

from portal import create_app
from portal.config import ConfigError

try:
    app = create_app()
except ConfigError as exc:
    print(f"Safeguarding portal: {exc}", file=sys.stderr)
    raise SystemExit(2) from None
gc.freeze()
