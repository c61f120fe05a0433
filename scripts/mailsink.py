"""A local SMTP sink: accepts every message and writes it to a folder as an .eml file.

Used by `make run` (so the portal's email can be read without a real mail server) and by the
browser tests. Nothing is relayed anywhere.

Command line (prints one line when listening, then one line per message):

    python scripts/mailsink.py --port 1025 --dir .run/mail
    python scripts/mailsink.py --port 0 --dir /tmp/mail      # a free port, printed on start

In-process, e.g. from a pytest fixture (the repo root is on sys.path under `python -m pytest`):

    from scripts.mailsink import MailSink

    with MailSink(tmp_path / "mail") as sink:   # a free port on 127.0.0.1
        app.config.update(SMTP_HOST=sink.host, SMTP_PORT=sink.port)
        ...
        message = sink.wait_for(1)[0]            # email.message.EmailMessage
        assert message["To"] == "dsl@example.org"

Each file holds the message as received, preceded by `Return-Path:` and one `Delivered-To:` header
per envelope recipient, as a delivering mail server would add them.
"""

from __future__ import annotations

import argparse
import email
import email.policy
import itertools
import os
import signal
import socket
import sys
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from email.message import EmailMessage
from pathlib import Path
from types import TracebackType
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session

__all__ = ["MailSink", "main", "read_messages"]


def _free_port(host: str) -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])


def _parse(data: bytes) -> EmailMessage:
    message = email.message_from_bytes(data, policy=email.policy.default)
    assert isinstance(message, EmailMessage)
    return message


def read_messages(directory: str | os.PathLike[str]) -> list[EmailMessage]:
    """Every .eml file in `directory`, oldest first."""
    files = sorted(Path(directory).glob("*.eml"))
    return [_parse(f.read_bytes()) for f in files]


class _Handler:
    def __init__(self, directory: Path, on_message: Callable[[Path, EmailMessage], None] | None):
        self.directory = directory
        self.on_message = on_message
        self._seq = itertools.count(1)
        self._lock = threading.Lock()

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        content = envelope.original_content or b""
        if isinstance(content, str):  # pragma: no cover - aiosmtpd gives bytes
            content = content.encode("utf-8")
        trace = f"Return-Path: <{envelope.mail_from or ''}>\r\n"
        trace += "".join(f"Delivered-To: {rcpt}\r\n" for rcpt in envelope.rcpt_tos)
        data = trace.encode("utf-8") + content
        with self._lock:
            stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S.%fZ")
            name = f"{stamp}-{next(self._seq):04d}.eml"
        self.directory.mkdir(parents=True, exist_ok=True)
        tmp = self.directory / f".{name}.tmp"
        tmp.write_bytes(data)
        path = self.directory / name
        tmp.replace(path)  # atomic: readers never see half a message
        if self.on_message is not None:
            self.on_message(path, _parse(data))
        return "250 Message accepted for delivery"


class MailSink:
    """An SMTP server on a background thread that saves every message to `directory`."""

    def __init__(
        self,
        directory: str | os.PathLike[str],
        host: str = "127.0.0.1",
        port: int = 0,
        on_message: Callable[[Path, EmailMessage], None] | None = None,
    ) -> None:
        self.directory = Path(directory)
        self.host = host
        self.port = port or _free_port(host)
        self._handler = _Handler(self.directory, on_message)
        self._controller: Controller | None = None

    def start(self) -> MailSink:
        self.directory.mkdir(parents=True, exist_ok=True)
        self._controller = Controller(
            self._handler, hostname=self.host, port=self.port, ready_timeout=10
        )
        self._controller.start()
        return self

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    def __enter__(self) -> MailSink:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def messages(self) -> list[EmailMessage]:
        return read_messages(self.directory)

    def clear(self) -> None:
        for f in self.directory.glob("*.eml"):
            f.unlink()

    def wait_for(self, count: int = 1, timeout: float = 10.0) -> list[EmailMessage]:
        """Wait until at least `count` messages have arrived; return them all."""
        deadline = time.monotonic() + timeout
        while True:
            found = self.messages()
            if len(found) >= count or time.monotonic() >= deadline:
                if len(found) < count:
                    raise TimeoutError(f"{len(found)} of {count} messages after {timeout}s")
                return found
            time.sleep(0.05)


def _print_message(path: Path, message: EmailMessage) -> None:
    print(
        f"mailsink: {datetime.now().strftime('%H:%M:%S')} to {message.get('To', '?')}: "
        f"{message.get('Subject', '(no subject)')}  -> {path}",
        flush=True,
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=1025, help="0 picks a free port")
    parser.add_argument("--dir", default=".run/mail", help="where .eml files are written")
    args = parser.parse_args(argv)

    sink = MailSink(args.dir, host=args.host, port=args.port, on_message=_print_message)
    try:
        sink.start()
    except (OSError, RuntimeError, TimeoutError) as exc:
        print(f"mailsink: cannot listen on {args.host}:{sink.port}: {exc}", file=sys.stderr)
        return 1
    print(
        f"mailsink: listening on {sink.host}:{sink.port}, writing to {sink.directory}/",
        flush=True,
    )
    stop = threading.Event()

    def _stop(*_: Any) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    try:
        stop.wait()
    finally:
        sink.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
