"""The one GOV.UK pagination (the child's chronology, the answered referrals)."""

from portal.pagination import govuk_pagination


def _href(n: int) -> str:
    return f"/p/{n}"


def test_first_last_current_and_neighbours_with_gaps_marked() -> None:
    params = govuk_pagination(5, 9, _href, "Pages")
    shown = [item.get("number", "...") for item in params["items"]]
    assert shown == [1, "...", 4, 5, 6, "...", 9]
    assert [i["number"] for i in params["items"] if i.get("current")] == [5]
    assert params["previous"] == {"href": "/p/4"} and params["next"] == {"href": "/p/6"}
    assert params["landmarkLabel"] == "Pages"


def test_no_gap_between_neighbours_and_no_previous_on_the_first_page() -> None:
    params = govuk_pagination(1, 3, _href, "Pages")
    assert [item.get("number", "...") for item in params["items"]] == [1, 2, 3]
    assert "previous" not in params and params["next"] == {"href": "/p/2"}
    last = govuk_pagination(3, 3, _href, "Pages")
    assert "next" not in last and last["previous"] == {"href": "/p/2"}


def test_marked_to_show_the_same_list_on_small_screens() -> None:
    """`portal-pagination` (static/css/portal.css): the list above at every width, not GOV.UK's
    first, current and last only ("1 3 Next" on page 1 of 3 at 390px, walk 5)."""
    assert govuk_pagination(1, 3, _href, "Pages")["classes"] == "portal-pagination"
