"""PDFs in every script: a referral's children named in nine scripts (and emoji in what they said)
read back out of the PDF intact, as a reader's copy and search would get them; the fonts are
found on disk, and their absence is a clear error naming what to install."""

from __future__ import annotations

import datetime as dt
import re
import time
import zlib
from pathlib import Path

import pytest
from flask import Flask
from fpdf.enums import XPos, YPos

from portal import pdf as pdfmod
from portal.models import db
from portal.names import full_name
from portal.pdf import FAMILY, MissingFonts, PortalPDF, locate_fonts, printable
from portal.services import referrals as service
from portal.services.packet import packet_pdf
from tests import factories
from tests.pdftext import drawn_words, extract, shows, squeezed
from tests.referral_data import incident, local

# (given name, family name): the whole name as the portal writes it (`names.full_name`: "given
# family", family name first for a Chinese, Japanese or Korean name: 田中さくら).
NAMES = [
    ("李小龙", ""),                      # Chinese (Han)
    ("Zoë", "Ó Súilleabháin"),           # Latin with accents
    ("Алексей", "Смирнов"),              # Cyrillic
    ("محمد", "الأحمد"),                  # Arabic, right to left, with the lam-alef ligature
    ("דוד", "כהן"),                      # Hebrew, right to left
    ("अनन्या", "शर्मा"),                 # Devanagari: conjuncts and vowel signs
    ("さくら", "田中"),                   # Japanese kana and kanji
    ("김민준", ""),                       # Korean hangul
    ("Ελένη", "Παπαδοπούλου"),           # Greek
]
EMOJI_WORDS = "He sent 😀👍🏽 and then 🔥 after I said no"


def full(given: str, family: str) -> str:
    return full_name(given, family)


@pytest.fixture
def referral_packet(app: Flask) -> dict:
    """A real referral handed over (encrypted, stored, read back) naming every script."""
    factories.authority("derbyshire")
    school = factories.school("Oakfield Academy", "derbyshire")
    dsl = factories.user("dsl", org=school, display_name="Dana Lead", email="dana@oak.example")
    children = [factories.child(school, given, family or "-", dt.date(2013, 1, 1 + n))
                for n, (given, family) in enumerate(NAMES)]
    for child, (_given, family) in zip(children, NAMES, strict=True):
        if not family:  # one-word names: the family name field holds nothing to print
            child.family_name = ""
    inc = incident(school, dsl, [(c, "harmed") for c in children],
                   words={children[0].reference: EMOJI_WORDS},
                   summary="Messages in several languages; emoji 🙂 in the chat.")
    referral, _ = service.hand_over(inc, "derbyshire", dsl, now=local("2026-11-17T11:00"))
    db.session.commit()
    return service.read_packet(referral)


def test_every_script_reads_back_intact_from_the_referral_pdf(referral_packet: dict) -> None:
    assert {c["given_name"] for c in referral_packet["children"]} == {g for g, _ in NAMES}
    started = time.perf_counter()
    data = packet_pdf(referral_packet)
    seconds = time.perf_counter() - started
    text = extract(data)
    for given, family in NAMES:
        name = full(given, family)
        assert shows(text, name), f"{name!r} not found intact in the PDF's text"
    # Emoji: every one there, in its place in the sentence (drawn order, see tests/pdftext.py).
    drawn = squeezed(extract(data, raw=True))
    assert squeezed(EMOJI_WORDS) in drawn and squeezed("emoji 🙂 in the chat") in drawn
    for emoji in ("😀", "👍🏽", "🔥", "🙂"):
        assert emoji in text
    # Nothing was replaced: no "?" where a letter was (the old core fonts printed "?? ?").
    assert "??" not in text
    # The PDF itself maps the lam-alef ligature to lam then alef, in logical order (only the
    # extraction swaps them: see tests/pdftext.py).
    assert b"<06440623>" in b"".join(_streams(data))
    # Subset fonts keep it small; shaping every script stays quick enough for a download.
    assert len(data) < 400_000, len(data)
    assert seconds < 60, seconds


def test_pdf_fonts_are_embedded_subsets_and_each_script_has_its_font(
    referral_packet: dict,
) -> None:
    data = packet_pdf(referral_packet)
    # Subset TrueType/OpenType fonts (tag "ABCDEF+" before the name), one for each script met.
    families = set(re.findall(rb"/BaseFont /[A-Z]{6}\+([A-Za-z0-9]+)", data))
    for needed in (b"NotoSans", b"NotoSansBold", b"NotoSansArabicBold", b"NotoSansHebrewBold",
                   b"NotoSansDevanagariBold", b"NotoSansCJKSCBold"):
        assert needed in families, (needed, families)
    # Colour emoji: a Type 3 font whose glyphs are the emoji font's own images.
    assert b"/Subtype /Type3" in data and b"/Subtype /Image" in data
    # No core (unembedded, Latin-1 only) font anywhere.
    assert b"/Helvetica" not in data and b"/FontFile2" in data


def test_a_packet_in_english_alone_loads_no_other_script() -> None:
    packet = {"schema_version": 1, "reference": "R-0000ABCD",
              "to": {"name": "Derbyshire County Council", "convening": True},
              "from": {"dsl": {"name": "Dana Lead"}, "school": {"name": "Oakfield"}},
              "incident": {"summary": "Only English here – with “quotes”."},  # noqa: RUF001
              "children": [{"ref": "C0001", "given_name": "Mia", "family_name": "Harbottle"}],
              "assessment": None, "school_actions": {}}
    data = packet_pdf(packet)
    fonts = set(re.findall(rb"/BaseFont /[A-Z]{6}\+([A-Za-z0-9]+)", data))
    assert fonts == {b"NotoSans", b"NotoSansBold"}, fonts
    assert b"/Type3" not in data
    text = extract(data)
    assert "Only English here – with “quotes”." in text  # noqa: RUF001
    assert "Mia Harbottle" in text and "R-0000ABCD - page 1 of 3" in text
    assert len(data) < 60_000, len(data)


def test_right_to_left_text_is_shaped_and_laid_out_right_to_left() -> None:
    """The first word typed is drawn rightmost, and each word's first letter at its right."""
    document = PortalPDF()
    document.add_page()
    for line in ("Name: דוד כהן (Hebrew)", "Name: محمد الأحمد"):
        document.multi_cell(0, 6, printable(line), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    data = bytes(document.output())
    text = extract(data)
    assert "דוד כהן" in text and shows(text, "محمد الأحمد")
    words = [word for _page, _x, word in drawn_words(data)]
    # Left to right as drawn: the left-to-right label, then the Hebrew words in reverse order,
    # each drawn from its last letter to its first.
    assert words[:4] == ["Name:", "ןהכ", "דוד", "(Hebrew)"]
    # Arabic: "محمد" (typed first) is drawn right of "الأحمد", its letters joined (contextual
    # forms shape to the same letters when read back) and the lam-alef made one glyph.
    assert words[4] == "Name:" and words[6] == "دمحم"
    assert words[5].startswith("دمحل") and words[5].endswith("\u0627")  # alef


def test_typed_bidi_overrides_cannot_reorder_the_pdf() -> None:
    document = PortalPDF()
    document.add_page()
    document.set_font(FAMILY, "", 10)
    document.multi_cell(0, 6, printable("Attachment: \u202efdp.exe\u202c"))
    text = extract(bytes(document.output()))
    assert "Attachment: fdp.exe" in text and "exe.pdf" not in text


def test_missing_fonts_name_the_files_packages_and_the_fix(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with pytest.raises(MissingFonts) as raised:
        locate_fonts([tmp_path])
    message = str(raised.value)
    for expected in ("NotoSans-Regular.ttf", "NotoSansArabic-Regular.ttf",
                     "NotoSansHebrew-Regular.ttf", "NotoSansDevanagari-Regular.ttf",
                     "NotoSansCJK-Regular.ttc", "NotoColorEmoji.ttf", "fonts-noto-core",
                     "fonts-noto-cjk", "fonts-noto-color-emoji",
                     "scripts/install-system-deps.sh fonts", "PORTAL_FONT_DIRS"):
        assert expected in message, expected

    # A packet download on a server without the fonts fails with that message, not "?"s.
    monkeypatch.setattr(pdfmod, "DEFAULT_FONT_DIRS", ())
    monkeypatch.setenv("PORTAL_FONT_DIRS", str(tmp_path))
    with pytest.raises(MissingFonts, match="fonts for PDFs are not installed"):
        packet_pdf({"reference": "R-0000ABCD", "children": []})


def test_fonts_are_found_in_portal_font_dirs_and_only_what_is_missing_is_named(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    system = {item.face.family: item for item in locate_fonts()}
    # Every required font but the CJK ones, linked into a folder of our own.
    for item in system.values():
        if item.face.required and item.face.family != "NotoSansCJK":
            for file in {item.regular.path, item.bold.path}:
                (tmp_path / file.name).symlink_to(file)
    monkeypatch.setattr(pdfmod, "DEFAULT_FONT_DIRS", ())
    monkeypatch.setenv("PORTAL_FONT_DIRS", f"{tmp_path / 'nowhere'}:{tmp_path}")
    with pytest.raises(MissingFonts) as raised:
        PortalPDF()
    message = str(raised.value)
    assert "NotoSansCJK-Regular.ttc and NotoSansCJK-Bold.ttc" in message
    assert "Chinese, Japanese and Korean, in fonts-noto-cjk" in message
    assert "NotoSans-Regular" not in message and "Arabic" not in message

    pdfmod._index.cache_clear()  # the folder listing is read once per process
    cjk = system["NotoSansCJK"]
    for file in {cjk.regular.path, cjk.bold.path}:
        (tmp_path / file.name).symlink_to(file)
    found = locate_fonts()
    assert all(item.regular.path.parent == tmp_path for item in found)
    # The optional scripts (Bengali, Thai, ...) are simply not used when absent.
    assert {item.face.family for item in found} == {
        f.family for f in (pdfmod.BASE, *pdfmod.FALLBACKS) if f.required}


def test_font_check_command_lists_the_fonts(capsys: pytest.CaptureFixture[str]) -> None:
    assert pdfmod.main() == 0
    out = capsys.readouterr().out
    assert "Latin, Greek and Cyrillic: " in out and "NotoSans-Regular.ttf" in out
    assert "Chinese, Japanese and Korean: " in out


def _streams(data: bytes) -> list[bytes]:
    """Every stream of the PDF, inflated when it is compressed."""
    out = []
    for match in re.finditer(rb"stream\r?\n(.*?)\r?\nendstream", data, re.S):
        try:
            out.append(zlib.decompress(match.group(1)))
        except zlib.error:
            out.append(match.group(1))
    return out


def test_only_text_that_needs_it_is_shaped_and_a_page_break_keeps_the_shaping() -> None:
    document = PortalPDF()
    assert not document.needs_shaping("Zoë Ó Súilleabháin, Алексей, Ελένη – “ok”\n")  # noqa: RUF001
    for text in ("李", "محمد", "דוד", "अनन्या", "😀", "e\u0301x", "a\u200db"):
        assert document.needs_shaping(text), text

    class WithFooter(PortalPDF):
        def footer(self) -> None:
            self.set_y(-12)
            self.set_font(FAMILY, "", 8)
            self.cell(0, 5, f"Page {self.page_no()}")  # plain text: drawn unshaped

    document = WithFooter()
    document.add_page()
    # One long string in Arabic and English, broken over pages (footer drawn in between).
    sentence = "قال إنه سيخبر الجميع said he would tell everyone. "
    document.multi_cell(0, 8, printable(sentence * 120), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    data = bytes(document.output())
    assert document.page_no() > 1
    text = extract(data)
    assert "Page 1" in text and f"Page {document.page_no()}" in text
    # Every word of every repetition, whole (lines break between words, in either direction).
    assert text.count("everyone") == 120 and text.count("الجميع") == 120
    assert text.count("سيخبر") == 120 and text.count("would") == 120


@pytest.mark.parametrize("room_left", [6.0, 15.0, 22.0])
def test_a_heading_or_a_question_never_ends_a_page(room_left: float) -> None:
    """A walk found "Concern 1 as raised by staff" and "Raised" alone at a page's foot, what
    they head on the next page. Whatever room is left, each starts the page its text is on."""
    from portal.pdf import MarkedPDF

    for draw in ("heading", "row"):
        out = MarkedPDF("OFFICIAL-SENSITIVE", "R-TEST")
        out.add_page()
        while out.get_y() + 5 < out.page_break_trigger - room_left:
            out.para("A line of what happened.")
        before = out.page
        if draw == "heading":
            out.heading("Concern 1 as raised by staff", 11)
            out.row("Raised", "2 December 2026 at 4:43am")
        else:
            out.row("What happened", "Seen at break: images passed round a group chat.")
        if out.page == before:  # drawn on the first page: with what it heads
            assert out.get_y() <= out.page_break_trigger
        else:  # moved whole to the next page: nothing of it left on the first
            assert out.page == before + 1
            page_one = extract(bytes(out.output())).split("R-TEST - page 1")[0]
            assert "Concern 1" not in page_one and "What happened" not in page_one, room_left
