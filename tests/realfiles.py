"""Real files made at test time (never committed): photos that decode, a PDF that opens, and
damaged copies of them. Pillow makes the images; fpdf2 the PDF."""

from __future__ import annotations

import io
import math
import os

from PIL import Image

MB = 1024 * 1024


def noise_jpeg(megabytes: float, *, quality: int = 95) -> bytes:
    """A real JPEG of about `megabytes` (random noise barely compresses), checked to decode."""
    side = int(math.sqrt(megabytes * MB / 1.174))  # about 1.17 bytes a pixel at quality 95
    image = Image.frombytes("RGB", (side, side), os.urandom(side * side * 3))
    out = io.BytesIO()
    image.save(out, "JPEG", quality=quality)
    data = out.getvalue()
    assert_decodes(data)
    return data


def small_jpeg() -> bytes:
    out = io.BytesIO()
    Image.frombytes("RGB", (64, 48), os.urandom(64 * 48 * 3)).save(out, "JPEG", quality=85)
    return out.getvalue()


def small_png() -> bytes:
    out = io.BytesIO()
    Image.frombytes("RGB", (40, 30), os.urandom(40 * 30 * 3)).save(out, "PNG")
    return out.getvalue()


def small_pdf(text: str = "Notes written by the class teacher") -> bytes:
    from fpdf import FPDF

    pdf = FPDF()
    pdf.add_page()
    pdf.set_font("Helvetica", size=12)
    pdf.cell(text=text)
    return bytes(pdf.output())


def truncated(data: bytes) -> bytes:
    """The first half: a file whose sending or saving was cut short."""
    return data[: len(data) // 2]


def assert_decodes(data: bytes) -> None:
    with Image.open(io.BytesIO(data)) as image:
        image.load()
