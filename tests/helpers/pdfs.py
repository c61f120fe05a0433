"""Reading a PDF the portal served back as text, for tests."""

from __future__ import annotations

import re
import zlib

from tests.pdftext import extract


def pdf_text(data: bytes) -> str:
    """The PDF's objects and content streams, inflated (fpdf2 compresses them), as Latin-1 text,
    then the text a reader extracts from it (the fonts are embedded subsets, so content streams
    hold glyph numbers: tests/pdftext.py)."""
    out = [data.decode("latin-1")]
    for match in re.finditer(rb"stream\r?\n(.*?)\r?\nendstream", data, re.S):
        try:
            out.append(zlib.decompress(match.group(1)).decode("latin-1"))
        except zlib.error:
            continue
    out.append(extract(data))
    return "\n".join(out)


def pdf_shows(text: str, typed: str) -> bool:
    """`typed` drawn in the PDF, as a reader extracts it."""
    return typed in text
