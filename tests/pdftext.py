"""The text a reader gets out of a PDF the portal made, as poppler's `pdftotext` extracts it.

The portal's PDFs embed subset fonts and write glyph numbers, not characters, so the text is only
readable through each font's ToUnicode map, which is what a PDF reader's copy and search use.
`pdftotext` (Debian's poppler-utils, installed by `scripts/install-system-deps.sh pdftotext`)
reads it and puts right-to-left runs back into logical (typing) order.

Extraction caveat: when one glyph stands for several letters, poppler reverses those letters
along with the run. Arabic's compulsory lam-alef ligature ("لأ" drawn as one glyph) therefore
comes out as "أل", although the PDF maps that glyph to "لأ" in logical order (a test checks the
map itself). `poppler_reading()` gives the text as poppler prints it.

Colour emoji are bitmaps in a font whose glyph box is taller than the line, so reading order
puts them in a block of their own; `extract(raw=True)` keeps them in their line (it may drop the
space after one, and leaves right-to-left words in drawn order): compare with `squeezed()`.
"""

from __future__ import annotations

import html
import re
import shutil
import subprocess
import tempfile
import unicodedata
from pathlib import Path

import pytest

# Embedding, override, isolate and mark characters poppler wraps right-to-left runs in.
_BIDI_MARKS = re.compile("[\u200e\u200f\u202a-\u202e\u2066-\u2069]")
_LAM_ALEF = re.compile("(\u0644)([\u0622\u0623\u0625\u0627])")


def _pdftotext(data: bytes, *options: str) -> str:
    tool = shutil.which("pdftotext")
    if tool is None:
        pytest.fail("pdftotext is not installed: run scripts/install-system-deps.sh pdftotext "
                    "(Debian package poppler-utils)")
    with tempfile.TemporaryDirectory() as folder:
        source = Path(folder) / "document.pdf"
        source.write_bytes(data)
        done = subprocess.run([tool, *options, "-enc", "UTF-8", str(source), "-"],
                              capture_output=True, timeout=60, check=True)
    return unicodedata.normalize("NFC", done.stdout.decode("utf-8"))


def extract(data: bytes, *, raw: bool = False) -> str:
    """Every page's text, normalised: NFC, bidi marks removed, runs of spaces made one.

    By default in reading order (right-to-left runs in logical order); `raw` in the order the
    text was drawn, which keeps colour emoji in their line (see the module's caveats).
    """
    text = _pdftotext(data, *(["-raw"] if raw else []))
    text = _BIDI_MARKS.sub("", text)
    return re.sub(r"[ \t]+", " ", text)


def drawn_words(data: bytes) -> list[tuple[int, float, str]]:
    """Each word as drawn: (page, left edge in points, the word's characters left to right).

    A right-to-left word comes out reversed here (its first letter is drawn rightmost).
    """
    words = []
    page = 0
    for line in _pdftotext(data, "-bbox").splitlines():
        if "<page " in line:
            page += 1
        found = re.search(r'<word xMin="([0-9.]+)"[^>]*>(.*)</word>', line)
        if found:
            words.append((page, float(found.group(1)), html.unescape(found.group(2))))
    return words


def squeezed(text: str) -> str:
    """`text` without any whitespace."""
    return re.sub(r"\s+", "", text)


def poppler_reading(text: str) -> str:
    """`text` as pdftotext prints it: each lam-alef ligature's two letters swapped (see above)."""
    return _LAM_ALEF.sub(r"\2\1", text)


def shows(extracted: str, text: str) -> bool:
    """`text` appears intact in the extracted text (allowing only the caveat above)."""
    return text in extracted or poppler_reading(text) in extracted
