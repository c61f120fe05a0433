"""The WSGI entry point: `gunicorn wsgi:app` (see docs/deploy.md), and the app every
`flask --app wsgi ...` command loads.

A missing or wrong setting (no secret key, no master key, a bad URL) is told in one line on
standard error, with exit status 2: not a traceback.
"""

import sys

from portal import create_app
from portal.config import ConfigError

try:
    app = create_app()
except ConfigError as exc:
    print(f"Safeguarding portal: {exc}", file=sys.stderr)
    raise SystemExit(2) from None
