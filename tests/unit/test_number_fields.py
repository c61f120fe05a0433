"""A number typed wrong is told in plain words: WTForms' own "Not a valid integer value." (what
the walk found on the facts and school settings pages) is never shown."""

from __future__ import annotations

import importlib
import pkgutil

from wtforms import IntegerField
from wtforms.fields.core import UnboundField

import portal


def _number_fields() -> list[tuple[str, UnboundField]]:
    found = []
    for module in pkgutil.walk_packages(portal.__path__, "portal."):
        if not module.name.endswith("forms"):
            continue
        for name, value in vars(importlib.import_module(module.name)).items():
            for field_name, field in vars(value).items() if isinstance(value, type) else ():
                if isinstance(field, UnboundField) and issubclass(field.field_class,
                                                                  IntegerField):
                    found.append((f"{module.name}.{name}.{field_name}", field))
    return found


def test_every_number_field_says_what_to_type() -> None:
    fields = _number_fields()
    assert len(fields) >= 6  # the facts' adults, the school settings, retention
    for where, field in fields:
        message = field.kwargs.get("invalid_value_message") or ""
        assert message.startswith("Enter "), where
