"""The WSGI entry point: `gunicorn wsgi:app` (see docs/deploy.md)."""

from portal import create_app

app = create_app()
