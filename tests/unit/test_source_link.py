"""A reason's source as a link (portal/wording.py `source_link`): each link made once per
process, the same words and anchor as made afresh, escaped."""

from __future__ import annotations

from portal.wording import RULES_PAGE, _source_link, source_link


def test_a_source_in_words_with_the_anchor_of_its_trigger_or_consideration() -> None:
    for _ in range(2):  # made, then the kept one
        link = source_link("000, 002 s4", trigger="IMMEDIATE_DANGER")
        assert link.startswith(f'<a class="govuk-link" href="{RULES_PAGE}#immediate-danger">')
        assert "section 4" in link and "000" not in link and "002" not in link
        assert f'href="{RULES_PAGE}#6-considerations"' in source_link("002 s4",
                                                                      consideration="ONLINE")
        assert 'href="/how-the-portal-decides#how-sources-are-cited"' in source_link("004")
    assert source_link("") == "" and source_link(None) == ""


def test_the_kept_link_is_the_link_made_afresh_and_escaped() -> None:
    for source in ("000, 002 s4 \"Strategy Meeting\"", "<b>003</b> s2.1", "2026-11-16 guidance"):
        for trigger, consideration in ((None, None), ("IMMEDIATE_DANGER", None), (None, "X")):
            assert source_link(source, trigger, consideration) == \
                _source_link(source, trigger, consideration)
    assert "<b>" not in source_link("<b>003</b> s2.1")
    assert "16 November 2026" in source_link("2026-11-16 guidance")
    # Not a string (an older stored reason's list): made afresh, the same words.
    assert source_link(["000"]) == _source_link(["000"], None, None)


def test_a_range_of_sections_reads_as_one() -> None:
    """A walk: the harmful sexual behaviour trigger's source read "section 2-section 4"."""
    words = source_link("001 s3, s5; 002 s2-s4", trigger="HARMFUL_SEXUAL_BEHAVIOUR")
    assert "sections 2 to 4" in words and "section 2-" not in words
    assert "sections 3 and 5" in words  # as docs/rules.md says it (a walk)
    assert "sections 1, 4 and 6" in source_link("003 s1, s4, s6")
    assert "sections 1.2 to 1.4" in source_link("003 s1.2–s1.4")  # noqa: RUF001
