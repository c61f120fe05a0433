"""gunicorn settings read from the working directory (`gunicorn wsgi:app` in the app's folder).

The `Server` header names no software or version: gunicorn's own ("gunicorn") is replaced by the
same neutral word the portal sends under any other server (`SERVER_NAME` in portal/security.py).
"""

import gunicorn.http.wsgi

gunicorn.http.wsgi.SERVER = "portal"  # type: ignore[attr-defined]
