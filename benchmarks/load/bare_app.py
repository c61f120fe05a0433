"""A bare Flask page of a given size: the stack's own limit, for the load test's ratio.

    BARE_BYTES=12000 gunicorn -w 2 -k gthread --threads 4 -b 127.0.0.1:8102 \
        --chdir benchmarks/load bare_app:app
"""

import os

from flask import Flask

app = Flask(__name__)
SIZE = int(os.environ.get("BARE_BYTES", "12000"))
ROW = "<tr><td>Incident I0001</td><td>M.T. (C0001)</td><td>open</td></tr>\n"
BODY = ("<!doctype html><html><head><title>Bare</title></head><body><table>\n"
        + ROW * (SIZE // len(ROW)) + "</table></body></html>")


@app.get("/")
def page() -> str:
    return BODY
