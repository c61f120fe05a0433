"""How far a referral about several children is answered, in words (walk 10)."""

from __future__ import annotations

from portal.rules.referral_answers import (
    children_answered,
    some_child_unanswered,
    status_words,
)


def test_the_count_is_kept_only_while_the_latest_answer_is_for_one_child() -> None:
    assert children_answered([], 2) is None
    assert children_answered([None], 2) is None
    assert children_answered(["C0001", None], 2) is None
    assert children_answered(["C0001"], 2) == 1
    assert children_answered(["C0001", "C0001"], 3) == 1
    assert children_answered(["C0001", "C0002"], 2) == 2
    assert children_answered([None, "C0002"], 3) == 3  # each child has an answer
    assert children_answered([None, "C0002"], None) == 1  # not known how many: its own
    assert children_answered(["C0001", "C0002", "C0003"], 2) == 2


def test_the_words_are_true_of_the_whole_referral() -> None:
    assert status_words("Answered", "Early help", 2, None) == ("Answered", "Early help")
    assert status_words("New", None, 2, None) == ("New", None)
    assert status_words("Answered", "Early help", 2, 1) == (
        "Answered for 1 of 2 children", "Early help")
    assert status_words("Answered", "Early help", 3, 2) == (
        "Answered for 2 of 3 children", "latest answer, for one child: Early help")
    assert status_words("Answered", "Early help", 2, 2) == (
        "Answered for every child", "latest answer, for one child: Early help")
    # Counted child by child, the status is how many have an answer: "Awaiting decision for
    # every child" after a strategy meeting for one of them was false of the other's decision.
    assert status_words("Awaiting decision", "Strategy meeting arranged", None, 1) == (
        "Answered for 1 child", "Strategy meeting arranged")
    assert status_words("Awaiting decision", "Strategy meeting arranged", 2, 2) == (
        "Answered for every child", "latest answer, for one child: Strategy meeting arranged")
    assert status_words("Answered", "Early help", None, 2) == (
        "Answered for 2 children", "latest answer, for one child: Early help")


def test_a_child_without_an_answer_keeps_the_referral_open() -> None:
    assert some_child_unanswered(2, 1)
    assert not some_child_unanswered(2, 2)
    assert not some_child_unanswered(2, None)  # the latest answer is for every child
    assert not some_child_unanswered(None, 1)  # children not counted (sent before they were)
