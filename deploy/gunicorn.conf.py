"""gunicorn settings for the portal (docs/deploy.md section 4):
`gunicorn -c deploy/gunicorn.conf.py wsgi:app`.

gunicorn serves only the proxy, on the loopback interface. The proxy (nginx, docs/deploy.md
section 5) reads every request body in full before passing it on (`proxy_request_buffering on`),
so a client sending a body one byte every two seconds holds an nginx connection (cheap, and
limited per address) and never one of gunicorn's eight threads (issue 11, item 10). These limits
are the second line: a request line, header or body that is too large is refused here too
(bodies by the app's MAX_CONTENT_LENGTH: the attachment limit plus 256 KB).

The `Server` header names no software or version: gunicorn's own ("gunicorn") is replaced by the
same neutral word the portal sends under any other server (`SERVER_NAME` in portal/security.py).
"""

import gunicorn.http.wsgi

gunicorn.http.wsgi.SERVER = "portal"  # type: ignore[attr-defined]

bind = "127.0.0.1:8000"
workers = 2
worker_class = "gthread"
threads = 4
# A worker silent for this long (a request stuck in Python or on a read) is killed and replaced.
timeout = 30
graceful_timeout = 30
# Idle keep-alive connections from the proxy are closed after this many seconds.
keepalive = 5
# Request line, number of headers and size of each header (gunicorn refuses larger with 400).
limit_request_line = 4094
limit_request_fields = 50
limit_request_field_size = 8190
# Recycle workers now and then (also clears their key caches).
max_requests = 1000
max_requests_jitter = 100
