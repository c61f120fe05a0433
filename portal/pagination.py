"""GOV.UK pagination (the `govukPagination` macro's parameters) for a page of a list: the first
and last pages, the current one and its neighbours, gaps marked."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any


def govuk_pagination(page: int, pages: int, href: Callable[[int], str],
                     label: str) -> dict[str, Any]:
    """The macro's parameters for page `page` of `pages`; `href(n)` the address of page n,
    `label` what the navigation is called for screen readers."""
    items: list[dict[str, Any]] = []
    previous = 0
    for number in range(1, pages + 1):
        if number in (1, pages) or abs(number - page) <= 1:
            if previous and number - previous > 1:
                items.append({"ellipsis": True})
            items.append({"number": number, "href": href(number), "current": number == page})
            previous = number
    # `portal-pagination`: this list shown on small screens too (static/css/portal.css), not
    # GOV.UK's first, current and last only ("1 3 Next" on page 1 of 3).
    params: dict[str, Any] = {"items": items, "landmarkLabel": label,
                              "classes": "portal-pagination"}
    if page > 1:
        params["previous"] = {"href": href(page - 1)}
    if page < pages:
        params["next"] = {"href": href(page + 1)}
    return params
