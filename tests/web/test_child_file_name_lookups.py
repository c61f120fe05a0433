"""The child's file's name lookups (R6, `child_file._Builder.named_in`): through the blind
indexes, each run of words looked up once a request whichever text it is in first, they find
exactly the school's other children whose full name or family name a text holds, for random and
awkward names and texts (accents, other scripts, hyphens, apostrophes, possessives), one text
at a time or many in one request."""

from __future__ import annotations

import random
import re

from flask import Flask

from portal.crypto import normalise_for_index
from portal.models import Child
from portal.names import WHOLE_NAME_CHARS, whole_name_char
from portal.services import child_file
from portal.services.child_file import name_spans, runs_together
from tests import factories

NAMES = [("Amira", "Okonkwo"), ("Zoë", "Ó Súilleabháin"), ("Mary-Jane", "O'Neil"),
         ("李", "丽"), ("Ahmed", "Khan-Smith"), ("Jean", "van der Berg"), ("Zoe", "Okonkwo"),
         ("Αλέξης", "Παπαδόπουλος"), ("محمد", "علي"), ("Björn", "Ås"), ("Kai", "Khan")]
FILLER = ["said", "that", "the", "was", "at", "lunch", "and", "with", "ZOE", "okonkwo's",
          "(Khan-Smith)", "o\u2019neil's", "VAN", "der", "berg,", "李丽", "—", "\u201cAmira\u201d",
          "mary", "jane", "Ó", "Súilleabháin.", "Zoë", "khan", "smith"]


def _expected(text: str, others: list[Child]) -> set[object]:
    spans = name_spans(text)
    runs = re.findall(f"[{WHOLE_NAME_CHARS}]+", normalise_for_index(text))

    def in_a_run(c: Child) -> bool:  # "李丽在操场": 李丽 written without a space
        family = "".join(normalise_for_index(c.family_name or "").split())
        long_family = len(family) > 1 and all(whole_name_char(ch) for ch in family)
        return (long_family and any(family in run for run in runs)) or runs_together(c, text)

    return {c.id for c in others
            if normalise_for_index(f"{c.given_name or ''} {c.family_name or ''}") in spans
            or normalise_for_index(c.family_name or c.given_name or "") in spans
            or in_a_run(c)}


def _concern_about(school, staff, child, what: str, words: str | None, at) -> object:
    """A concern sent by `staff` about `child` alone, saying `what` (and the child's `words`)."""
    from portal.models import Concern, ConcernChild, db

    concern = Concern(school_id=school.id, raised_by_id=staff.id, state="submitted",
                      occurred_on=at.date(), submitted_at=at)
    concern.what_happened = what
    concern.child_words = words
    db.session.add(concern)
    db.session.flush()
    db.session.add(ConcernChild(concern_id=concern.id, child_id=child.id))
    db.session.commit()
    return concern


def _file_page(app: Flask, dsl, child) -> str:
    from tests.helpers.signing_in import sign_in

    client = app.test_client()
    sign_in(client, dsl)
    return client.get(f"/children/{child.id}").get_data(as_text=True)


def test_the_name_lookups_find_exactly_the_children_a_text_names(app: Flask) -> None:
    school = factories.school()
    dsl = factories.user("dsl", org=school)
    children = [factories.child(school, given=g, family=f) for g, f in NAMES]
    subject, others = children[0], children[1:]
    rng = random.Random(15)
    texts = [
        "Zoë Ó Súilleabháin and Mary-Jane O'Neil's brother", "李丽在操场", "李 丽 was there",
        "KHAN-SMITH\u2019s coat; Ahmed Khan-Smith", "Jean van der Berg said (van der Berg)",
        "Αλέξης Παπαδόπουλος είπε", "محمد علي", "Björn Ås, bjorn as", "kai khan kai", "nothing",
    ]
    for _ in range(150):
        words = [rng.choice(FILLER) for _ in range(rng.randint(1, 12))]
        if rng.random() < 0.6:
            given, family = rng.choice(NAMES)
            words.insert(rng.randint(0, len(words)), rng.choice(
                [f"{given} {family}", family, f"{family}'s", f"{given.upper()} {family.lower()}",
                 f"{given}  {family}"]))
        texts.append(" ".join(words))
    shared = child_file._Builder(dsl, subject)  # one request: its lookups kept across texts
    for text in texts:
        want = _expected(text, others)
        assert {c.id for c in shared.named_in(text)} == want, text
        assert {c.id for c in child_file._Builder(dsl, subject).named_in(text)} == want, text
    assert any(_expected(text, others) for text in texts)
    assert subject.id not in {c.id for t in texts for c in shared.named_in(t)}


def test_a_child_a_text_names_is_hidden_in_every_text_of_the_page(app: Flask) -> None:
    """A walk: a concern linked to Tobias only said "Kieran Ashdown was there." in what
    happened and "Kieran hit me. Ellowen saw." in his words, and another concern "Ellowen
    Marchbank helped"; Tobias's file hid the full names and left "Kieran" and "Ellowen"
    readable. A child a text of the page names by full or family name is hidden in every text
    of the page, each part of their name too, whichever text named them first; a first name
    alone of a child no text names stays (common words that are names survive)."""
    import datetime as dt


    school = factories.school()
    dsl = factories.user("dsl", org=school)
    staff = factories.user("staff", org=school)
    tobias = factories.child(school, "Tobias", "Wrenfield")
    kieran = factories.child(school, "Kieran", "Ashdown")
    ellowen = factories.child(school, "Ellowen", "Marchbank")
    factories.child(school, "Maisie", "Thornbury")
    at = dt.datetime(2026, 11, 20, 10, tzinfo=dt.UTC)
    for n, (what, words) in enumerate([
            ("Kieran Ashdown was there.", '"Kieran hit me. Ellowen saw. Maisie cried."'),
            ("Later: Ellowen Marchbank helped him up.", None)]):
        _concern_about(school, staff, tobias, what, words, at + dt.timedelta(hours=n))
    page = _file_page(app, dsl, tobias)
    for name in ("Kieran", "Ashdown", "Ellowen", "Marchbank"):
        assert name not in page, name
    assert f"{kieran.redacted_label} hit me. {ellowen.redacted_label} saw." in page
    assert f"{kieran.redacted_label} was there." in page
    assert "Maisie cried." in page  # named by no text of the page: her first name alone stays


def test_a_full_name_written_without_a_space_is_found_and_hidden(app: Flask) -> None:
    """A walk: "李小龙 (a classmate) was present" in a concern about Tomasz, the school having
    李 小龙, showed "李小龙" in full in Tomasz's file (and in the copy sent to his next school):
    the name lookups cut the text at spaces only. A full name run together in a script written
    without spaces is found, in either order of its parts, and hidden on the whole page; its
    one-character family name alone inside another word is not looked for (李 in 行李)."""
    import datetime as dt


    school = factories.school()
    dsl = factories.user("dsl", org=school)
    staff = factories.user("staff", org=school)
    tomasz = factories.child(school, "Tomasz", "Wiśniewski-Achebe")
    xiaolong = factories.child(school, "小龙", "李")  # given 小龙, family 李
    jiwoo = factories.child(school, "김", "지우")  # entered family name first, as given
    hasegawa = factories.child(school, "美穂", "長谷川")
    sasaki = factories.child(school, "美奈子", "佐々木")
    sato = factories.child(school, "花子", "佐藤")
    factories.child(school, "伟", "王")  # named by no text
    at = dt.datetime(2026, 11, 20, 10, tzinfo=dt.UTC)
    what = "李小龙 (a classmate) was present. 김지우도 봤어요. 行李 left behind."
    concern = _concern_about(school, staff, tomasz, what, "他说小龙推了我", at)
    # Japanese: a name longer than four characters, one written with 々, a family name with an
    # honorific (the third walk saw each in full).
    _concern_about(school, staff, tomasz, "長谷川美穂さんが見ていた。佐々木さんと佐藤さんも。",
                   None, at + dt.timedelta(hours=1))
    builder = child_file._Builder(dsl, tomasz)
    assert {c.id for c in builder.named_in(concern.what_happened)} == {xiaolong.id, jiwoo.id}
    assert {c.id for c in builder.named_in("長谷川美穂さんが見ていた。佐々木さんと佐藤さんも。")} \
        == {hasegawa.id, sasaki.id, sato.id}
    assert not builder.named_in("行李 left behind. 王子様")  # one character alone: not a name
    page = _file_page(app, dsl, tomasz)
    for name in ("李小龙", "小龙", "김지우", "지우", "長谷川", "美穂", "佐々木", "佐藤"):
        assert name not in page, name
    assert f"{xiaolong.redacted_label} (a classmate) was present." in page
