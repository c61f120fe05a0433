"""Walk 7: staff typed "خديجة 王-Ó Súilleabháin" exactly as the name is written and the concern
form found no one: the search kept "王-Ó" as one word while the name's index only had its pieces.
A typed search and a name are now cut by one rule (`portal.names.typed_words`), so whatever is
typed as the name is written finds it, through the real form (CSRF on), on both databases."""

from __future__ import annotations

from flask import Flask
from flask.testing import FlaskClient

from portal.models import db
from tests import factories
from tests.helpers import concerns as concern_helpers
from tests.helpers.concerns import World, page, post_form
from tests.helpers.signing_in import sign_in

world = concern_helpers.world  # the fixture: make_world()


def test_staff_find_a_child_by_the_name_typed_exactly_as_written(
        app: Flask, client: FlaskClient, world: World) -> None:
    khadija = factories.child(world.school, "خديجة", "王-Ó Súilleabháin")
    anna = factories.child(world.school, "Anna", "Smith-Jones Brown")
    db.session.commit()
    sign_in(client, world.staff)
    for typed, child in (("خديجة 王-Ó Súilleabháin", khadija),
                         ("王-Ó Súilleabháin خديجة", khadija),
                         ("Anna Smith-Jones Brown", anna)):
        found = page(post_form(client, {"child_search": typed}, "find"))
        assert f"({child.reference})" in found, typed
        assert "No child found with that name" not in found, typed
