"""Small real files for upload tests: a PNG and a PDF, each carrying a canary that must never be
found in plain text anywhere it is stored."""

from __future__ import annotations

import struct
import zlib
from typing import Any

from flask import Flask

from portal.models import Incident, db
from tests import factories

CANARY = b"canary-plaintext-7f3a"


def png_bytes(extra: bytes = CANARY) -> bytes:
    """A real 1x1 PNG with a text chunk holding `extra`."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)
    pixels = zlib.compress(b"\x00\xff\x00\x00")
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"tEXt", b"note\x00" + extra)
            + chunk(b"IDAT", pixels) + chunk(b"IEND", b""))


PDF = (b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
       b"2 0 obj<</Type/Pages/Kids[]/Count 0>>endobj\n% " + CANARY + b"\ntrailer<</Root 1 0 R>>\n"
       b"%%EOF\n")


def setup_world(app: Flask) -> dict[str, Any]:
    school = factories.school()
    dsl = factories.user("dsl", org=school)
    staff = factories.user("staff", org=school)
    incident = Incident(school_id=school.id, reference="I0001", opened_by_id=dsl.id)
    db.session.add(incident)
    db.session.commit()
    return {"school": school, "dsl": dsl, "staff": staff, "incident": incident}
