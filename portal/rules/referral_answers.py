"""How far a referral about several children is answered (walk 10): an authority answers for
every child in a referral or for one child (`ReferralResponse.child_ref`), so the latest answer
is not always true of the referral as a whole. Pure Python: `services.referrals` keeps the
count on the referral (`Referral.children_answered`) and shows it in words.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final

ANSWERED: Final = "Answered"  # the status of a referral with an answer (services.referrals)


def children_answered(answers: Sequence[str | None], children: int | None) -> int | None:
    """None while the latest of `answers` (each answer's child, oldest first; None for an answer
    for every child) is for every child, or there is none: the latest answer is then true of the
    whole referral. Otherwise how many of the referral's `children` (None: not known) have an
    answer, their own or one for every child."""
    if not answers or answers[-1] is None:
        return None
    own = len({ref for ref in answers if ref is not None})
    if None in answers and children:
        return children  # an earlier answer for every child: each has one
    return min(own, children) if children else own


def some_child_unanswered(children: int | None, answered: int | None) -> bool:
    """Whether a referral answered child by child (`children_answered`'s count) still has a
    child with no answer: the authority's decision for that child is still due, so the
    referral is not settled. Not known (children not counted: a referral sent before they
    were): False, as before the count was kept."""
    return answered is not None and children is not None and answered < children


def status_words(label: str, outcome: str | None, children: int | None,
                 answered: int | None) -> tuple[str, str | None]:
    """(the status, the outcome shown with it) of a referral whose status is `label` ("Answered")
    and latest answer `outcome` ("Early help"), with `children_answered`'s count: "Answered for
    1 of 2 children" and its outcome; "Answered for every child" and "latest answer, for one
    child: ..." once each child has one; with the number of children not known (a referral sent
    before it was kept), "Answered for 1 child". Counted child by child, the status is how many
    have an answer, whatever the latest was: "Awaiting decision for every child" after a
    strategy meeting for one child was false of the child already decided (walk of 1 December)."""
    if answered is None or outcome is None:
        return label, outcome
    label = ANSWERED
    if children and answered >= children:
        return f"{label} for every child", f"latest answer, for one child: {outcome}"
    counted = f"{answered} of {children} children" if children else (
        f"{answered} child" if answered == 1 else f"{answered} children")
    return (f"{label} for {counted}",
            outcome if answered == 1 else f"latest answer, for one child: {outcome}")
