"""A child's name as people read it (`names.full_name`): the one place it is put together."""

from __future__ import annotations

import pytest

from portal.names import full_name


@pytest.mark.parametrize(("given", "family", "shown"), [
    ("Mia", "Harmed", "Mia Harmed"),
    ("Zoë", "Ngũgĩ", "Zoë Ngũgĩ"),
    ("مريم", "الحسيني", "مريم الحسيني"),
    ("Дмитрий", "Волков", "Дмитрий Волков"),
    # Chinese, Japanese and Korean names are written family name first, without a space (a
    # walk: "小明 王").
    ("小明", "王", "王小明"),
    ("花子", "山田", "山田花子"),
    ("さくら", "佐々木", "佐々木さくら"),
    ("민준", "김", "김민준"),
    # A name mixing scripts keeps the usual order: which part is which is all that is known.
    ("Wei", "王", "Wei 王"),
    ("小明", "Wang", "小明 Wang"),
    # One part only, or none.
    ("", "王", "王"),
    ("Mia", None, "Mia"),
    (None, None, ""),
])
def test_full_name(given: str | None, family: str | None, shown: str) -> None:
    assert full_name(given, family) == shown
