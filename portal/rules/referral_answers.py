"""How far a referral about several children is answered (walk 10): an authority answers for
every child in a referral or for one child (`ReferralResponse.child_ref`), so the latest answer
is not always true of the referral as a whole. Pure Python: `services.referrals` keeps the
count on the referral (`Referral.children_answered`) and shows it in words.
"""

from __future__ import annotations

from collections.abc import Sequence


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


def status_words(label: str, outcome: str | None, children: int | None,
                 answered: int | None) -> tuple[str, str | None]:
    """(the status, the outcome shown with it) of a referral whose status is `label` ("Answered")
    and latest answer `outcome` ("Early help"), with `children_answered`'s count: "Answered for
    1 of 2 children" and its outcome; "Answered for every child" and "latest answer, for one
    child: ..." once each child has one; with the number of children not known (a referral sent
    before it was kept), "Answered for 1 child"."""
    if answered is None or outcome is None:
        return label, outcome
    if children and answered >= children:
        return f"{label} for every child", f"latest answer, for one child: {outcome}"
    counted = f"{answered} of {children} children" if children else (
        f"{answered} child" if answered == 1 else f"{answered} children")
    return (f"{label} for {counted}",
            outcome if answered == 1 else f"latest answer, for one child: {outcome}")
