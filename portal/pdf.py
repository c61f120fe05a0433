"""Every PDF the portal makes is drawn on `PortalPDF`: fonts for every script, shaped text.

fpdf2's built-in fonts only know Latin-1, so a name such as "李小龙" printed as "?? ?". Instead a
document embeds (subset: only the glyphs it uses) the Noto fonts that Debian packages:

- `NotoSans` for Latin, Greek and Cyrillic, the document's own font (regular and bold);
- fallback fonts for every other script, chosen character by character: Arabic, Hebrew,
  Devanagari, Chinese/Japanese/Korean (`fonts-noto-cjk`), colour emoji
  (`fonts-noto-color-emoji`), and, when installed, the other scripts of `fonts-noto-core`
  (Bengali, Gurmukhi, Gujarati, Tamil, Thai, Ethiopic, ... and symbols).

Text shaping (HarfBuzz, through `uharfbuzz`) joins Arabic letters, forms Devanagari conjuncts and
lays right-to-left runs out in the right order (the Unicode bidirectional algorithm) inside a
left-to-right page.

A fallback font is read only when a character needs it, and only strings that need shaping are
shaped (`PortalPDF.needs_shaping`), so a document in English alone costs about what it did with
the built-in fonts; one with every script costs a few seconds more (most of it the CJK font).

`locate_fonts()` finds the files under `PORTAL_FONT_DIRS` (folders separated by ":"), then
`/usr/share/fonts` and `/usr/local/share/fonts`, and raises `MissingFonts` naming the missing
files and the Debian packages that hold them (`scripts/install-system-deps.sh fonts`). Check a
server with `python -m portal.pdf`.

`printable()` is the one clean-up of text drawn in a PDF: Unicode kept, line breaks normalised,
control characters and explicit bidirectional overrides dropped (so typed text cannot reorder what
the reader sees). fpdf2 escapes PDF string syntax itself and markup is never interpreted.
"""

from __future__ import annotations

import functools
import os
import sys
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fpdf import FPDF
from fpdf.enums import XPos, YPos

FAMILY = "NotoSans"
"""The font family every PDF's own text is set in (`pdf.set_font(FAMILY, "B", 12)`)."""

DEFAULT_FONT_DIRS = ("/usr/share/fonts", "/usr/local/share/fonts")
INSTALL_HINT = ("Install them with scripts/install-system-deps.sh fonts (Debian packages "
                "fonts-noto-core, fonts-noto-cjk and fonts-noto-color-emoji), or set "
                "PORTAL_FONT_DIRS to folders that hold them; see docs/deploy.md.")


@dataclass(frozen=True)
class Face:
    """One font: its fpdf2 family name, what it covers, and the files it may be found as.

    `regular` and `bold` list (file name, face index in a .ttc collection) candidates, first
    found wins. A face with no bold is used for bold text too.
    """

    family: str
    covers: str
    package: str
    regular: tuple[tuple[str, int], ...]
    bold: tuple[tuple[str, int], ...] = ()
    required: bool = True


def _noto(script: str, covers: str, *, bold: bool = True, required: bool = False) -> Face:
    return Face(f"Noto{script}", covers, "fonts-noto-core",
                ((f"NotoSans{script}-Regular.ttf", 0),),
                ((f"NotoSans{script}-Bold.ttf", 0),) if bold else (), required)


BASE = Face(FAMILY, "Latin, Greek and Cyrillic", "fonts-noto-core",
            (("NotoSans-Regular.ttf", 0),), (("NotoSans-Bold.ttf", 0),))

# In the order they are tried for a character the document's font lacks.
FALLBACKS: tuple[Face, ...] = (
    _noto("Arabic", "Arabic, Urdu and Persian", required=True),
    _noto("Hebrew", "Hebrew", required=True),
    _noto("Devanagari", "Hindi, Marathi and Nepali (Devanagari)", required=True),
    # Simplified Chinese forms for the shared ideographs (index 2 of Debian's collection:
    # JP, KR, SC, TC, HK); kana and hangul are in every face.
    Face("NotoSansCJK", "Chinese, Japanese and Korean", "fonts-noto-cjk",
         (("NotoSansCJK-Regular.ttc", 2), ("NotoSansCJKsc-Regular.otf", 0),
          ("NotoSansSC-Regular.otf", 0)),
         (("NotoSansCJK-Bold.ttc", 2), ("NotoSansCJKsc-Bold.otf", 0),
          ("NotoSansSC-Bold.otf", 0))),
    Face("NotoColorEmoji", "emoji", "fonts-noto-color-emoji", (("NotoColorEmoji.ttf", 0),)),
    # The rest of fonts-noto-core: used when present, never required.
    _noto("Bengali", "Bengali"),
    _noto("Gurmukhi", "Punjabi (Gurmukhi)"),
    _noto("Gujarati", "Gujarati"),
    _noto("Tamil", "Tamil"),
    _noto("Telugu", "Telugu"),
    _noto("Kannada", "Kannada"),
    _noto("Malayalam", "Malayalam"),
    _noto("Sinhala", "Sinhala"),
    _noto("Thai", "Thai"),
    _noto("Lao", "Lao"),
    _noto("Khmer", "Khmer"),
    _noto("Myanmar", "Burmese"),
    _noto("Ethiopic", "Amharic and Tigrinya (Ethiopic)"),
    _noto("Armenian", "Armenian"),
    _noto("Georgian", "Georgian"),
    _noto("Symbols", "symbols"),
    _noto("Symbols2", "more symbols", bold=False),
    _noto("Math", "mathematical symbols", bold=False),
)


class MissingFonts(RuntimeError):
    """The fonts a PDF needs are not installed; the message says which and how to install them."""


@dataclass(frozen=True)
class FontFile:
    path: Path
    index: int


@dataclass(frozen=True)
class Located:
    """A face's files on this machine (bold is the regular file when the face has no bold)."""

    face: Face
    regular: FontFile
    bold: FontFile


def font_dirs(environ: Any = None) -> list[Path]:
    """Where fonts are looked for: `PORTAL_FONT_DIRS` first, then the system's font folders."""
    env = os.environ if environ is None else environ
    extra = [d for d in str(env.get("PORTAL_FONT_DIRS", "")).split(os.pathsep) if d.strip()]
    return [Path(d) for d in (*extra, *DEFAULT_FONT_DIRS)]


@functools.lru_cache(maxsize=8)
def _index(dirs: tuple[Path, ...]) -> dict[str, Path]:
    """File name -> first path with that name under `dirs` (searched in order, recursively)."""
    found: dict[str, Path] = {}
    for root in dirs:
        for folder, _subdirs, files in sorted(os.walk(root)):
            for name in sorted(files):
                found.setdefault(name, Path(folder) / name)
    return found


def locate_fonts(dirs: Iterable[Path] | None = None) -> tuple[Located, ...]:
    """The base face then the fallbacks found, in order; `MissingFonts` if a required one is not.

    The folder listing is read once per process: restart the portal after installing fonts.
    """
    index = _index(tuple(font_dirs() if dirs is None else dirs))

    def pick(candidates: tuple[tuple[str, int], ...]) -> FontFile | None:
        for name, number in candidates:
            if name in index:
                return FontFile(index[name], number)
        return None

    located: list[Located] = []
    missing: list[str] = []
    for face in (BASE, *FALLBACKS):
        regular = pick(face.regular)
        bold = pick(face.bold) if face.bold else regular
        if regular is None or bold is None:
            if face.required:
                names = [face.regular[0][0]] if regular is None else []
                names += [face.bold[0][0]] if face.bold and bold is None else []
                missing.append(f"{' and '.join(names)} ({face.covers}, in {face.package})")
            continue
        located.append(Located(face, regular, bold))
    if missing:
        raise MissingFonts("The fonts for PDFs are not installed: " + "; ".join(missing) + ". "
                           + INSTALL_HINT)
    return tuple(located)


@functools.lru_cache(maxsize=64)
def _coverage(path: Path, index: int) -> frozenset[int]:
    """The characters a font file has glyphs for (its cmap), read once per process."""
    from fontTools.ttLib import TTFont

    with TTFont(str(path), fontNumber=index, lazy=True) as font:
        return frozenset(font.getBestCmap() or {})


# Explicit embeddings, overrides and isolates: typed text must not reorder the document.
_BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


def printable(text: Any) -> str:
    """Text as it may be drawn in a PDF: any script kept, no control characters but \\n.

    Composed (NFC); CR LF and CR become \\n, a tab a space; other control characters,
    surrogates, unassigned code points, byte order marks and explicit bidirectional controls
    are dropped. Joiners (ZWJ, ZWNJ) and left/right marks stay: emoji and Indic and Persian
    spelling need them.
    """
    if text is None:
        return ""
    value = unicodedata.normalize("NFC", str(text).replace("\r\n", "\n").replace("\r", "\n"))
    out = []
    for ch in value.replace("\t", " "):
        dropped = ch in _BIDI_CONTROLS or ch == "\ufeff" or (
            ch != "\n" and unicodedata.category(ch) in ("Cc", "Cs", "Cn"))
        if not dropped:
            out.append(ch)
    return "".join(out)


# Characters that need HarfBuzz even in a font that has them: right-to-left letters and bidi
# controls (ordering), combining marks and joiners (placement, ligatures, emoji sequences).
_SHAPED_BIDI = frozenset({"R", "AL", "AN", "NSM", "LRE", "LRO", "RLE", "RLO", "PDF", "LRI", "RLI",
                          "FSI", "PDI"})
_SHAPED_CATEGORIES = frozenset({"Mn", "Mc", "Me", "Cf"})


class PortalPDF(FPDF):
    """An A4 (by default) fpdf2 document set in `FAMILY`, with shaping and per-script fallbacks.

    Subclasses may draw a `header()` and `footer()` as usual with `self.set_font(FAMILY, ...)`.

    Shaping every string costs fpdf2 a HarfBuzz call per character while it breaks lines (five
    seconds for a 5,000-word account), so each string drawn is shaped only when it needs to be:
    when it has a character the document's font lacks (another script, emoji: fallback fonts
    are chosen in the same pass), a right-to-left letter, a combining mark or a joiner. Plain
    Latin, Greek and Cyrillic text is drawn with the font's own advance widths, as without
    shaping; it looks the same (NotoSans needs no shaping for them).
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("format", "A4")
        super().__init__(*args, **kwargs)
        located = locate_fonts()
        self._faces = located[1:]
        self._add(located[0], "")
        self._add(located[0], "B")
        self._base_cmap = frozenset(self.fonts[FAMILY.lower()].cmap)  # type: ignore[union-attr]
        self.set_text_shaping(True)
        self._shaping = self.text_shaping
        self.set_font(FAMILY, "", 10)

    def _add(self, located: Located, style: str) -> str:
        """Add a face in a style once; its fpdf2 font key."""
        family = located.face.family
        bold = style == "B" and bool(located.face.bold)
        key = family.lower() + ("B" if bold else "")
        if key not in self.fonts:
            file = located.bold if bold else located.regular
            self.add_font(family, "B" if bold else "", str(file.path),
                          collection_font_number=file.index)
            if located.face is not BASE:
                self._fallback_font_ids.append(key)
        return key

    def get_fallback_font(self, char: str, style: str = "") -> str | None:
        """The first fallback face with a glyph for `char`, added to the document on first use."""
        code = ord(char)
        for located in self._faces:
            if code in _coverage(located.regular.path, located.regular.index):
                return self._add(located, "B" if "B" in style else "")
        return None

    def needs_shaping(self, text: str) -> bool:
        """Whether `text` must go through HarfBuzz and the font fallback (see the class)."""
        for ch in text:
            if ch == "\n":
                continue
            if (ord(ch) not in self._base_cmap
                    or unicodedata.bidirectional(ch) in _SHAPED_BIDI
                    or unicodedata.category(ch) in _SHAPED_CATEGORIES):
                return True
        return False

    def normalize_text(self, text: str) -> str:
        # fpdf2 calls this first in every method that measures or draws a string; each
        # fragment it makes keeps the setting (it is part of the graphics state), so a page
        # break inside a string (header and footer drawn between) changes nothing.
        self.text_shaping = self._shaping if self.needs_shaping(text) else None
        return super().normalize_text(text)


class MarkedPDF(PortalPDF):
    """A sensitive document: its marking (and any further lines) at the top of every page, its
    reference and "page N of M" at the foot."""

    def __init__(self, marking: str, reference: str, *, lines: tuple[str, ...] = ()) -> None:
        super().__init__()
        self.marking, self.reference, self.lines = marking, reference, lines
        self.alias_nb_pages()
        self.set_creator("Safeguarding portal")
        self.set_auto_page_break(auto=True, margin=16)

    def header(self) -> None:
        self.set_font(FAMILY, "B", 9)
        self.cell(0, 5, self.marking, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        self.set_font(FAMILY, "", 9)
        for line in self.lines:
            self.cell(0, 5, line, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        self.ln(2)

    def footer(self) -> None:
        self.set_y(-12)
        self.set_font(FAMILY, "", 8)
        self.cell(0, 5, f"{self.reference} - page {self.page_no()} of {{nb}}", align="C")

    @property
    def width(self) -> float:
        """The width between the margins."""
        return float(self.w - self.l_margin - self.r_margin)

    # Room kept below a heading (mm): a heading never ends a page with what it heads on the
    # next (a walk: "Concern 1 as raised by staff" alone at a page's foot).
    KEEP_WITH_HEADING: float = 25
    KEEP_WITH_KEY: float = 12  # a question's first line of answer, with it

    def _keep(self, room: float) -> None:
        if self.get_y() + room > self.page_break_trigger:
            self.add_page()

    def heading(self, text: str, size: int = 14) -> None:
        self._keep(self.KEEP_WITH_HEADING)
        self.ln(2)
        self.set_font(FAMILY, "B", size)
        self.multi_cell(self.width, size * 0.5, printable(text),
                        new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        self.ln(1)

    def para(self, text: Any, size: int = 10) -> None:
        self.set_font(FAMILY, "", size)
        self.multi_cell(self.width, 5, printable(text) or "-",
                        new_x=XPos.LMARGIN, new_y=YPos.NEXT)

    def row(self, key: str, value: Any) -> None:
        """A question in bold and its answer ("-" for none), never split between pages."""
        self._keep(self.KEEP_WITH_KEY)
        self.set_font(FAMILY, "B", 10)
        self.multi_cell(self.width, 5, printable(key), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        self.para(value if value not in (None, "") else "-")
        self.ln(1)


def main() -> int:
    """`python -m portal.pdf`: list the fonts PDFs will use, or say what is missing."""
    try:
        located = locate_fonts()
    except MissingFonts as exc:
        print(exc, file=sys.stderr)
        return 1
    for item in located:
        bold = "" if item.bold == item.regular else f", bold {item.bold.path}"
        print(f"{item.face.covers}: {item.regular.path}{bold}")
    missing = [f.covers for f in FALLBACKS if f not in {i.face for i in located}]
    if missing:
        print("Not installed (optional): " + ", ".join(missing))
    return 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
