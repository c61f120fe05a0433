"""The handover module's per-route logic (RULES.md R4, section 6), without a database: each
mandatory route needs its own record that fits it."""

from __future__ import annotations

import datetime as dt

from portal.models import RouteHandover
from portal.services.handover import Involved, judge, record_text

DERBYSHIRE = Involved("derbyshire", "Derbyshire County Council", convening=True)
DARLINGTON = Involved("darlington", "Darlington Borough Council", convening=False)
DORSET = Involved("dorset", "Dorset Council", convening=False)


def test_csc_referral_needs_the_convening_authority() -> None:
    state = judge("csc_referral", involved=[DERBYSHIRE], referred=set())
    assert not state.done
    assert state.owed == "Send the referral to Derbyshire County Council (the convening authority)"
    assert judge("csc_referral", involved=[DERBYSHIRE], referred={"derbyshire"}).done


def test_csc_referral_needs_every_other_authority_involved_to_have_its_own() -> None:
    involved = [DERBYSHIRE, DARLINGTON, DORSET]
    only_convening = judge("csc_referral", involved=involved, referred={"derbyshire"})
    assert not only_convening.done
    assert only_convening.missing == ("Darlington Borough Council", "Dorset Council")
    assert only_convening.sent_to == ("Derbyshire County Council",)
    assert only_convening.owed == ("Send the referral to Darlington Borough Council and Dorset "
                                   "Council too: every local authority involved needs its own")
    # The others without the convening authority: still not handed over.
    others = judge("csc_referral", involved=involved, referred={"darlington", "dorset"})
    assert not others.done and others.missing == ("Derbyshire County Council",)
    assert others.owed.startswith("Send the referral to Derbyshire County Council (the "
                                  "convening authority)")
    some = judge("csc_referral", involved=involved, referred={"dorset"})
    assert some.owed == ("Send the referral to Derbyshire County Council (the convening "
                         "authority), and to Darlington Borough Council: every local authority "
                         "involved needs its own")
    assert judge("csc_referral", involved=involved,
                 referred={"derbyshire", "darlington", "dorset"}).done


def test_csc_referral_with_no_authority_known() -> None:
    assert not judge("csc_referral", involved=[], referred=set()).done
    assert "Add the children involved" in judge("csc_referral", involved=[], referred=set()).owed
    assert judge("csc_referral", involved=[], referred=set(), any_convening_referral=True).done


def test_a_referral_to_childrens_social_care_never_counts_for_the_others() -> None:
    everything_sent = {"referred": {"derbyshire"}, "any_convening_referral": True}
    for route in ("police", "police_emergency", "adult_social_care"):
        state = judge(route, involved=[DERBYSHIRE], **everything_sent)  # type: ignore[arg-type]
        assert not state.done and state.owed and state.can_record
        # Nor does another route's record, nor a note.
        others = {"police", "police_emergency", "adult_social_care"} - {route}
        assert not judge(route, involved=[DERBYSHIRE], referred=set(), recorded=others,
                         decided={route}).done
        assert judge(route, involved=[DERBYSHIRE], referred=set(), recorded={route}).done
    # And no record of another route hands the referral over.
    assert not judge("csc_referral", involved=[DERBYSHIRE], referred=set(),
                     recorded={"police", "police_emergency", "adult_social_care"}).done


def test_what_is_owed_is_in_plain_words() -> None:
    owed = {route: judge(route, involved=[DERBYSHIRE], referred=set()).owed
            for route in ("police", "police_emergency", "adult_social_care", "csc_referral")}
    assert owed["police"] == ("Record the report to the police: when, how, which force, and the "
                              "police reference or why there is none yet")
    assert owed["police_emergency"].startswith("Record the 999 call")
    assert owed["adult_social_care"].startswith("Record the referral to adult social care")
    for text in owed.values():
        assert "_" not in text  # never a code


def test_a_mandatory_route_without_a_record_of_its_own_kind_counts_by_decision() -> None:
    assert not judge("cre_screening", involved=[DERBYSHIRE], referred=set()).done
    assert judge("cre_screening", involved=[DERBYSHIRE], referred=set(),
                 decided={"cre_screening"}).done


def _record(app: object, route: str, **values: object) -> RouteHandover:
    import uuid

    from tests import factories

    record = RouteHandover(id=uuid.uuid4(), school_id=factories.school().id, route=route,
                           happened_at=dt.datetime(2026, 11, 30, 10, 15, tzinfo=dt.UTC),
                           method=values.pop("method", None))
    for name, value in values.items():
        setattr(record, name, value)
    return record


def test_record_text_in_words_and_london_time(app: object) -> None:
    police = _record(app, "police", method="101", force="Derbyshire Constabulary",
                     reference="14/88321/26")
    assert record_text(police) == ("Reported to Derbyshire Constabulary on 30 November 2026 at "
                                   "10:15am by calling 101, reference 14/88321/26")
    waiting = _record(app, "police", method="online", force="Dorset Police",
                      no_reference_reason="The online form gives a number by email")
    assert record_text(waiting) == ("Reported to Dorset Police on 30 November 2026 at 10:15am "
                                    "online. No police reference yet: The online form gives a "
                                    "number by email")
    summer = _record(app, "police_emergency", caller="Dana Lead (DSL)")
    summer.happened_at = dt.datetime(2026, 7, 1, 8, 30, tzinfo=dt.UTC)
    assert record_text(summer) == ("999 called by Dana Lead (DSL) on 1 July 2026 at 9:30am. No "
                                   "incident number given")
    asc = _record(app, "adult_social_care", recipient="Derbyshire Adult Care", reference="AC-7")
    assert record_text(asc) == ("Referred to Derbyshire Adult Care on 30 November 2026 at 10:15am, "
                                "reference AC-7")


def test_routes_in_the_order_a_dsl_acts_on_them() -> None:
    """999 first everywhere routes are listed (handing over, closing, the dashboard)."""
    from portal.services.handover import in_order

    assert in_order(["adult_social_care", "csc_referral", "police", "police_emergency"]) == [
        "police_emergency", "csc_referral", "police", "adult_social_care"]


def test_every_method_the_form_offers_is_one_the_record_words_and_the_service_takes() -> None:
    """The methods' codes stand in two wordings (the form's options in services/handover.py,
    the record's sentence in models/handover.py): a method added to one only is caught here."""
    from portal.models import POLICE_METHODS, REFERRAL_METHODS
    from portal.services.handover import POLICE_METHOD_LABELS, REFERRAL_METHOD_LABELS

    assert list(REFERRAL_METHOD_LABELS) == list(REFERRAL_METHODS)
    assert list(POLICE_METHOD_LABELS) == list(POLICE_METHODS)
