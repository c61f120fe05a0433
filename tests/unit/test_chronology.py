"""R6: another child's name never shows in a child's file, unless they share a family group."""

from __future__ import annotations

import uuid

from portal.services.chronology import label, redact
from tests import factories


def test_other_children_become_initials_and_reference(app) -> None:
    s = factories.school()
    amira = factories.child(s, given="Amira", family="Okonkwo")
    ben = factories.child(s, given="Benedikt", family="Larkspur")
    text = "Benedikt Larkspur pushed Amira. Later benedikt said LARKSPUR was a nickname."
    out = redact(text, [amira, ben], in_file_of=amira)
    assert "Benedikt" not in out and "benedikt" not in out and "LARKSPUR" not in out
    assert "BL (C0002) pushed Amira" in out
    assert label(ben, amira) == "BL (C0002)"
    assert label(amira, amira) == "Amira Okonkwo"


def test_same_family_group_may_be_named(app) -> None:
    s = factories.school()
    family = uuid.uuid4()
    a = factories.child(s, given="Ruby", family="Thistlewood", family_group=family)
    b = factories.child(s, given="Otis", family="Thistlewood", family_group=family)
    assert label(b, a) == "Otis Thistlewood"
    assert redact("Otis was there", [b], in_file_of=a) == "Otis was there"


def test_words_containing_a_name_are_left_alone(app) -> None:
    s = factories.school()
    a = factories.child(s, given="Zara", family="Quill")
    b = factories.child(s, given="Al", family="Penn")
    assert redact("Alan and Al met by the pennant", [b], in_file_of=a) == (
        "Alan and AP (C0002) met by the pennant"
    )


def test_a_label_already_written_is_never_redacted_again(app) -> None:
    """One pass: "Amira Khan" becomes "AK (C0002)", and that "AK" is not then taken for the
    child whose given name is Ak."""
    s = factories.school()
    zara = factories.child(s, given="Zara", family="Quill")
    amira = factories.child(s, given="Amira", family="Khan")
    ak = factories.child(s, given="Ak", family="Jones")
    out = redact("Amira Khan told Ak; AK Jones denied it.", [amira, ak], in_file_of=zara)
    assert out == "AK (C0002) told AJ (C0003); AJ (C0003) denied it."


def test_two_children_with_the_same_name_never_leave_it_readable(app) -> None:
    s = factories.school()
    zara = factories.child(s, given="Zara", family="Quill")
    first = factories.child(s, given="Noor", family="Haddad")
    second = factories.child(s, given="Noor", family="Haddad")
    out = redact("NOOR HADDAD and noor were there", [first, second], in_file_of=zara)
    assert "noor" not in out.lower() and "haddad" not in out.lower()
    assert out == "NH (C0002) and NH (C0002) were there"


def test_each_part_of_a_name_in_several_parts_is_redacted(app) -> None:
    """Staff write the first part of a long given name: it must not show in another child's
    file (found walking the portal: "an older boy (Maximilian) made him send photos")."""
    s = factories.school()
    harmed = factories.child(s, given="小龙", family="李")
    long_name = factories.child(s, given="Maximilian-Alexander Bartholomew",
                                family="Fairweather-Okoro")
    out = redact("An older boy (Maximilian) and okoro's friend Bartholomew were there.",
                 [harmed, long_name], in_file_of=harmed)
    assert "Maximilian" not in out and "Bartholomew" not in out and "okoro" not in out
    assert out.count(long_name.redacted_label) == 3


def test_ascii_text_folds_as_each_character_would() -> None:
    """The fold of ASCII text at once (issue 15) is the fold character by character: the same
    folded text and the same place in the text for each of its characters."""
    from portal.services.chronology import _fold_char, _fold_each

    every = "".join(chr(code) for code in range(128))
    for text in (every, every[::-1], "Amira\tKHAN\r\nsaid M a i s i e, M.A.I.S.I.E!", ""):
        chars: list[str] = []
        origin: list[int] = []
        for index, char in enumerate(text):
            for folded in _fold_char(char):
                chars.append(folded)
                origin.append(index)
        assert _fold_each(text) == ("".join(chars), origin)
    # Not ASCII: character by character, as before ("Zoë" folds to "zoe").
    assert _fold_each("ZOË Ann") == ("zoe ann", [0, 1, 2, 3, 4, 5, 6])


def test_names_tried_together_redact_as_names_tried_one_by_one(app, monkeypatch) -> None:
    """The redactor tries each run of whole-word names together, where the text has the first
    letter of one, and finds a word's edge beside a character of a script written without
    spaces by a mark put there (issue 15): the same text out as the pattern that tried each
    name, with its word edges as a class of letters, at every place in the unmarked text (the
    redactor before), for names with accents, hyphens, parts, names inside names, names in
    scripts written without spaces, names mixing scripts, and text around them."""
    import random

    from portal.names import WHOLE_NAME_CHARS
    from portal.services import chronology

    # A word's edge as it was: anything but a letter that is not of those scripts.
    before, after = f"(?<![^\\W{WHOLE_NAME_CHARS}])", f"(?![^\\W{WHOLE_NAME_CHARS}])"

    def one_by_one(patterns: list[chronology._Pattern]) -> str:
        return "|".join(f"{before}(?:{p.pattern}){after}" if p.whole_words else p.pattern
                        for p in patterns)

    s = factories.school()
    zara = factories.child(s, given="Zara", family="Quill")
    names = [("Al", "Penn"), ("Alan", "Pennant"), ("Maisíe", "O'Neil"), ("Mary-Jane", "Kay"),
             ("Noor", "Haddad"), ("Noor", "Al-Haddad"), ("小龙", "李"), ("Ak", "Jones"),
             ("Ümit", "Çelik"), ("Jo", "Ng"), ("Dee", "Dee-Anne"), ("محمد", "王-Øyvind"),
             ("Li", "Wong"), ("민준", "김"), ("Ann王", "Lee"), ("ゆい", "佐藤・Kato"),
             ("Zo\x00e", "Marks"), ("Дмитрий", "Волков")]
    others = [factories.child(s, given=g, family=f) for g, f in names]
    words = [w for g, f in names for w in (g, f, f"{g} {f}", f"{g}{f}".upper(), f"{f}{g}")] + [
        "and", "the", "pennant", "alan's", "M a i s i e", "MARY JANE", "-", "(", ").", "\n",
        "李小龙在", "oneil", "al-", "jo,", "ng!", "dee", "  ", "pen", "王", "在", "・", "ann",
        "\x00", "\x01", "'", "Li王", "王Li", "김민준이", "x", "\u2010", "\u2011", "Al\u2011",
        "Mary\u2010Jane", "Noor\u2011Al\u2010Haddad", "Дмитрий", "Дима"]
    rng = random.Random(15)
    texts = [rng.choice(("", " ")).join(rng.choice(words) for _ in range(rng.randint(1, 30)))
             for _ in range(600)]
    for name_family in (True, False):
        marked = chronology.Redactor(others, zara, name_family=name_family)
        with monkeypatch.context() as m:
            m.setattr(chronology, "_alternatives", one_by_one)
            # (a mark typed in a text searched as one typed in a name, as before: the same)
            m.setattr(chronology, "_with_marks", lambda text, origin: (
                text.replace(chronology._SCRIPT_MARK, chronology._MARK_TYPED), origin))
            m.setattr(chronology, "_marked_name", lambda name: name)
            # Hyphens as they were, each its own character between a name's parts.
            m.setattr(chronology, "_NAME_JOIN", r"[\s\-\u2010\u2011.\u00b7_]*")
            m.setattr(chronology, "_fold_char", lambda char: " " if char.isspace()
                      else chronology.fold_for_match(char))
            single = chronology.Redactor(others, zara, name_family=name_family)
            expected = [single(text) for text in texts]
        assert marked._pattern is not None and single._pattern is not None
        assert marked._pattern.pattern != single._pattern.pattern
        # No class of those scripts, and no hyphen past the first 256 characters
        assert WHOLE_NAME_CHARS[:8] not in marked._pattern.pattern
        assert "\\u2010" not in marked._pattern.pattern
        for text, out in zip(texts, expected, strict=True):
            assert marked(text) == out, text


def test_parts_of_one_name_written_together_are_one_label(app) -> None:
    """Walk 10: a given name and the first part of a hyphenated family name ("محمد 王") came
    out as "م (C0005) م (C0005)". One mention, one label; two mentions, or two children, two."""
    s = factories.school()
    zara = factories.child(s, given="Zara", family="Quill")
    mo = factories.child(s, given="محمد", family="王-Øyvind Ñúñez")
    mj = factories.child(s, given="Mary-Jane", family="Okonkwo-Smith")
    ann = factories.child(s, given="Ann", family="Lee")
    anna = factories.child(s, given="Anna", family="Leeming")
    others = [mo, mj, ann, anna]
    m, j, a, b = (c.redacted_label for c in others)
    for text, out in [
        ("محمد 王 hit him", f"{m} hit him"),
        ("محمد 王-Øyvind Ñúñez hit him", f"{m} hit him"),
        ("then 王 Øyvind and Øyvind Ñúñez, and nunez-محمد", f"then {m} and {m}, and {m}"),
        ("Mary-Jane Smith and MARY JANE okonkwo", f"{j} and {j}"),
        ("Mary Smith told Ann", f"{j} told {a}"),
        ("Ann Leeming, Anna Lee", f"{a} {b}, {b} {a}"),  # two children: two labels
        ("Ann. Ann said: Lee, Ann", f"{a}. {a} said: {a}, {a}"),  # two mentions: two labels
        # A name joined by a dash or a hyphen of another kind is one name (a walk: two labels)
        ("OKONKWO\u2013SMITH, Okonkwo\u2011Smith and Mary\u2010Jane", f"{j}, {j} and {j}"),
    ]:
        assert redact(text, others, in_file_of=zara) == out, text


def test_a_name_run_into_a_script_written_without_spaces_is_redacted(app) -> None:
    """Walk 10: "محمد王" (the given name, then the family name with no space) left the given
    name readable, as a whole word needs an edge and 王 is a letter. A character of a script
    written without spaces is an edge; a letter of a script written with them is not."""
    s = factories.school()
    zara = factories.child(s, given="Zara", family="Quill")
    mo = factories.child(s, given="محمد", family="王-Øyvind Ñúñez")
    li = factories.child(s, given="Li", family="Wong")
    m, w = mo.redacted_label, li.redacted_label
    for text, out in [("محمد王 was there", f"{m} was there"), ("王محمد", m),
                      ("Li王 and 王Li", f"{w}{m} and {m}{w}"), ("Lisa and Lin", "Lisa and Lin")]:
        assert redact(text, [mo, li], in_file_of=zara) == out, text


def test_no_childs_name_is_left_in_the_processs_pattern_cache(app) -> None:
    """The redactor's pattern is made of names decrypted for one request: `re`'s module cache
    (its last 512 patterns, for the life of the process) must not keep it."""
    import re

    s = factories.school()
    zara = factories.child(s, given="Zara", family="Quill")
    other = factories.child(s, given="Wendeline", family="Ōtsukaya-Brühl")
    assert redact("Wendeline was there", [other], in_file_of=zara) == "WŌ (C0002) was there"
    cached = " ".join(str(key) for name in vars(re) if name.startswith("_cache")
                      for key in getattr(re, name))
    assert "wendeline" not in cached.lower()


def test_the_name_a_child_goes_by_is_hidden_too(app) -> None:
    """A walk: "Dima" (the name Дмитрий Волков goes by, from the school roll) was readable in
    other children's files. The name a child goes by is one of their names: hidden as the
    others, and never taken from the child whose file it is."""
    s = factories.school()
    zara = factories.child(s, given="Zara", family="Quill")
    dmitri = factories.child(s, given="Дмитрий", family="Волков")
    dmitri.preferred_name = "Dima"
    out = redact("Dima pushed him; DIMA said sorry.", [dmitri], in_file_of=zara)
    assert out == f"{dmitri.redacted_label} pushed him; {dmitri.redacted_label} said sorry."
    zara.preferred_name = "Zee"
    assert redact("Zee saw Dima", [dmitri], in_file_of=zara) == \
        f"Zee saw {dmitri.redacted_label}"


def test_a_shared_line_ends_its_text_once_before_who_else_was_involved(app) -> None:
    """A reason typed without a full stop ran on into "Also involved"; one typed with its own
    inside a quote got a second."""
    from portal.models import ChildRecordEntry, Incident, db
    from portal.services.chronology import add_to_each

    s = factories.school()
    dsl = factories.user("dsl", org=s)
    incident = Incident(school_id=s.id, reference="I0001", opened_by_id=dsl.id)
    db.session.add(incident)
    db.session.flush()
    zara = factories.child(s, given="Zara", family="Quill")
    omar = factories.child(s, given="Omar", family="Haddad")
    endings = {"Reasons: refer today": "Reasons: refer today. Also involved",
               'Advice: "refer today."': 'Advice: "refer today." Also involved',
               "理由 今天转介。": "理由 今天转介。 Also involved"}
    for typed in endings:
        add_to_each([zara, omar], "consultation_call", typed, author_id=dsl.id,
                    incident=incident, source=None, occurred_at=None)
    lines = {(e.child_id, e.body) for e in
             db.session.query(ChildRecordEntry).filter_by(kind="consultation_call")}
    assert lines == {pair for ending in endings.values() for pair in (
        (zara.id, f"{ending}: OH ({omar.reference})."),
        (omar.id, f"{ending}: ZQ ({zara.reference})."))}
