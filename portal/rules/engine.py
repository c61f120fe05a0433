"""The decision table of RULES.md section 5 and the handover of section 6.

`assess()` is pure: the same facts and directory always give the same answer. It is what the
command line and the web portal both call, so they can never disagree.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from .ages import age_on, gap_of_two_years_or_more
from .clock_words import day_words
from .directory import Directory, default_directory
from .model import AdultHarmed, Assessment, ChildFacts, Handover, IncidentFacts, Reason
from .vocabulary import (
    ACTIVITY_TYPES,
    ADULT_AGE,
    AGGRAVATING_FEATURES,
    AGGRAVATING_TYPES,
    CONTROLLING_HARM_FEATURES,
    CONTROLLING_TYPES,
    CRIMINAL_RESPONSIBILITY_AGE,
    FEATURE_LABELS,
    HARMED_ROLES,
    HARMER_ROLES,
    IMAGE_FEATURES,
    IMAGE_TYPES,
    IMMEDIATE_REFERRAL_FEATURES,
    IMMEDIATE_REFERRAL_TYPES,
    ONLINE_TYPES,
    ROLE_LABELS,
    SEXUAL_TYPES,
    SIGNIFICANT_HARM_FEATURES,
    SIGNIFICANT_HARM_TYPES,
    TRIGGERS,
    TYPE_LABELS,
    WITNESS_ROLE,
)

# Bump when the table changes: stored assessments record the version that produced them.
# "2026.11.2" is RULES.md version 2 (29 November 2026); "2026.11.1" was version 1.
RULES_VERSION = "2026.11.2"

SOURCES = {
    "IMMEDIATE_DANGER": '002 s4 "Immediate actions"',
    "UNDER_13_SEXUAL_ACTIVITY": '000 "Consent"; 001 s5',
    "HARMFUL_SEXUAL_BEHAVIOUR": (
        '000 (HSB "should be referred to Children\'s Social Care"); 001 s3, s5; 002 s2-s4'
    ),
    "CHILD_SEXUALLY_HARMED": (
        '000 ("Any suspicion or allegations that a child has been sexually abused ... should be '
        "referred immediately to Children's Social Care and/or the Police\")"
    ),
    "ONLINE_SEXUAL_ABUSE": (
        '000 ("this would include online abuse"); UK Council for Internet Safety advice on '
        "sharing nudes and semi-nudes (cases for immediate referral)"
    ),
    "SIGNIFICANT_HARM": (
        '000 ("where there are child protection concerns, a referral must be made to Children\'s '
        'Social Care"); 002 s4 ("Police and Children\'s Social Care should consider the immediate '
        'risk"); 004 ("Social Care must convene a Strategy Discussion")'
    ),
    "ADULT_INVOLVED": (
        '002 s4, 004 ("reason to suspect that adults are also involved"); '
        "UK Council for Internet Safety advice; "
        '000 (child-on-child abuse is by those "aged under 18")'
    ),
    "SERIOUS_SEXUAL_VIOLENCE": (
        "national schools guidance (Sexual violence and sexual harassment between children in "
        "schools and colleges): rape, assault by penetration and sexual assault go to the police"
    ),
    "ADULT_HARMED": (
        '000 ("make a referral to Children\'s Social Care, irrespective of the age of the victim. '
        'Referrals to the Police and Adults Social care should also be made"), 001 s6'
    ),
    "CRIMINAL_EXPLOITATION": '000 "Criminal Exploitation" ("Criminal Exploitation is child abuse")',
    "CRIME_SUSPECTED": "000, 004 (the age of criminal responsibility is 10)",
    "SAFETY_PLAN": (
        '000 ("a robust plan is put in place to ensure the welfare of all the children")'
    ),
    "SEPARATE_SOCIAL_WORKERS": "000, 002 s4 \"Strategy Meeting\", 004",
    "YOUTH_JUSTICE": '002 s4 "Strategy Meeting", 004 "Strategy Discussion"',
    "UNDER_10_ASSESSMENT": '000 ("specific assessment of the needs of younger children under 10")',
    "PAEDIATRICIAN": "003 s4.4",
    "SARC": "003 s4.4",
    "AIM_ASSESSMENT": "000, 001 s5",
    "INTRA_FAMILIAL": "003 s2",
    "CROSS_BOUNDARY": '002 s4 "Strategy Meeting", 004 "Strategy Discussion"',
    "ADULT_TRANSITION": "000, 001 s7",
    "YCPO": "000 (Derby City Youth Crime Prevention Officer)",
    "DO_NOT_VIEW_IMAGES": "UK Council for Internet Safety advice on sharing nudes and semi-nudes",
}


def _day(on: dt.date) -> str:
    """A date in words ("16 November 2026"): reasons are read by DSLs, never as ISO."""
    return day_words(on)


def _refs(children: list[ChildFacts]) -> str:
    return ", ".join(c.ref for c in children)


def _features(codes: Iterable[str]) -> list[str]:
    return [FEATURE_LABELS[f].lower() for f in sorted(codes)]


def _types(codes: Iterable[str]) -> list[str]:
    return [TYPE_LABELS[t].lower() for t in sorted(codes)]


def _different_pairs(
    first: list[ChildFacts], second: list[ChildFacts]
) -> list[tuple[ChildFacts, ChildFacts]]:
    """Pairs of two different children, one from each list (a child `both` is not a pair alone)."""
    return [(a, b) for a in first for b in second if a.ref != b.ref]


def assess(incident: IncidentFacts, directory: Directory | None = None, *,
           lines_at: dt.datetime | None = None) -> Assessment:
    """Apply RULES.md (version 2) sections 2-6 to one incident.

    `lines_at` (naive Europe/London): the time to give each handover line's status at, when it
    is not the report time (a page shows whether a line is open now, from the same result)."""
    directory = default_directory() if directory is None else directory
    occurred = incident.occurred_on
    children = incident.children
    ages = {c.ref: age_on(c.dob, occurred) for c in children}
    harmed = [c for c in children if c.role in HARMED_ROLES]
    harmers = [c for c in children if c.role in HARMER_ROLES]
    involved = [c for c in children if c.role != WITNESS_ROLE]
    types = incident.types

    # Adults on the roll (RULES.md 2): 18 or over on the day it happened. They keep their role
    # for everything else; as adults they also count as an adult involved or an adult harmed.
    adult_harmers = [c for c in harmers if ages[c.ref] >= ADULT_AGE]
    adult_harmed_on_roll = [c for c in harmed if ages[c.ref] >= ADULT_AGE]
    features = incident.features | ({"adult_involved"} if adult_harmers else frozenset())
    adults_harmed = (
        *incident.adults_harmed, *(AdultHarmed(at_risk=c.send) for c in adult_harmed_on_roll)
    )

    implied_activity = types & ACTIVITY_TYPES
    sexual_activity = incident.sexual_activity or bool(implied_activity)
    online = incident.online or bool(types & ONLINE_TYPES)
    sexual_types = types & SEXUAL_TYPES
    sexual = bool(sexual_types) or sexual_activity

    triggers: dict[str, list[Reason]] = {}
    routes: set[str] = set()
    mandatory: set[str] = set()

    def fire(code: str, because: str, gives: tuple[str, ...], must: tuple[str, ...]) -> None:
        triggers.setdefault(code, []).append(Reason(code, because, SOURCES[code]))
        routes.update(gives)
        mandatory.update(must)

    # --- IMMEDIATE_DANGER ----------------------------------------------------------------
    if incident.immediate_danger:
        fire("IMMEDIATE_DANGER", "A child is in immediate danger now: call 999 first.",
             ("police_emergency",), ("police_emergency",))

    # --- UNDER_13_SEXUAL_ACTIVITY (any role, witnesses included) -----------------------
    if sexual_activity:
        under_13 = [c for c in children if ages[c.ref] < 13]
        if under_13:
            activity = (
                "sexual activity was recorded" if incident.sexual_activity
                else f"{' and '.join(_types(implied_activity))} involves sexual activity"
            )
            who = "; ".join(
                f"{c.ref} ({ROLE_LABELS[c.role].lower()}) was {ages[c.ref]} on {_day(occurred)}"
                for c in under_13
            )
            fire("UNDER_13_SEXUAL_ACTIVITY",
                 f"{who}, and {activity}. A child under 13 cannot consent to any sexual activity, "
                 "including being exposed to the sexual activity of others.",
                 ("csc_referral",), ("csc_referral",))

    # --- Aggravating factors of a sexual incident (RULES.md 3.2) -------------------------
    # The age gap is an authority setting (default 2 years). The narrowest gap among the
    # children's authorities applies: "when in doubt, refer", and adding a child can then only
    # narrow it, never remove a trigger (RULES.md section 8).
    gap_years = min(directory[c.local_authority].age_gap_years for c in involved or children)
    aggravating: list[str] = []
    if sexual:
        aggravating.extend(_features(features & AGGRAVATING_FEATURES))
        aggravating.extend(_types(types & AGGRAVATING_TYPES))
        aggravating.extend(f"{c.ref} has special educational needs or a disability"
                           for c in involved if c.send)
        for i, a in enumerate(involved):
            for b in involved[i + 1:]:
                if gap_of_two_years_or_more(a.dob, b.dob, gap_years):
                    aggravating.append(
                        f"an age gap of {gap_years} year{'s' if gap_years != 1 else ''} or more "
                        f"between {a.ref} and {b.ref}"
                    )

    # --- HARMFUL_SEXUAL_BEHAVIOUR ----------------------------------------------------------
    hsb = sexual and (bool(harmers) or bool(aggravating))
    if hsb:
        grounds = []
        if harmers:
            grounds.append(f"{_refs(harmers)} harmed others")
        grounds.extend(aggravating)
        fire("HARMFUL_SEXUAL_BEHAVIOUR",
             f"A sexual incident: {'; '.join(grounds)}. Harmful sexual behaviour is referred "
             "to children's social care.",
             ("csc_referral",), ("csc_referral",))

    # --- CHILD_SEXUALLY_HARMED (version 2) ---------------------------------------------------
    # Whether or not anyone knows who harmed the child: an unnamed pupil is still a referral.
    if sexual and harmed:
        fire("CHILD_SEXUALLY_HARMED",
             f"{_refs(harmed)} {'was' if len(harmed) == 1 else 'were'} sexually harmed"
             f"{'' if harmers else ', and no one has yet been identified as the child who harmed'}"
             ". Any suspicion that a child has been sexually abused is referred to children's "
             "social care at once.",
             ("csc_referral",), ("csc_referral",))

    # --- ONLINE_SEXUAL_ABUSE -----------------------------------------------------------------
    if online and sexual:
        immediate: list[str] = []
        immediate.extend(_features(features & IMMEDIATE_REFERRAL_FEATURES))
        immediate.extend(_types(types & IMMEDIATE_REFERRAL_TYPES))
        immediate.extend(f"{c.ref} has special educational needs or a disability"
                         for c in involved if c.send)
        immediate.extend(
            f"{c.ref} was {ages[c.ref]}, under 13" for c in involved if ages[c.ref] < 13
        )
        if immediate:
            fire("ONLINE_SEXUAL_ABUSE",
                 "Online sexual abuse with immediate-referral factors: "
                 f"{'; '.join(immediate)}. "
                 "These cases are referred to children's social care and the police at once.",
                 ("csc_referral", "police"), ("csc_referral", "police"))
        elif "HARMFUL_SEXUAL_BEHAVIOUR" in triggers or "CHILD_SEXUALLY_HARMED" in triggers:
            fire("ONLINE_SEXUAL_ABUSE",
                 "Sexual harm that happened online: online abuse is referred to children's "
                 "social care like any other sexual abuse.",
                 ("csc_referral",), ("csc_referral",))

    # --- SIGNIFICANT_HARM (version 2) ----------------------------------------------------------
    if involved:
        serious: list[str] = []
        if incident.immediate_danger:
            serious.append("a child is in immediate danger")
        serious.extend(_features(features & SIGNIFICANT_HARM_FEATURES))
        serious.extend(_types(types & SIGNIFICANT_HARM_TYPES))
        controlling = types & CONTROLLING_TYPES
        controlling_features = features & CONTROLLING_HARM_FEATURES
        if controlling and controlling_features:
            serious.append(f"{' and '.join(_types(controlling))} with "
                           f"{' and '.join(_features(controlling_features))}")
        if serious:
            fire("SIGNIFICANT_HARM",
                 f"{'; '.join(serious).capitalize()}. Where there are child protection concerns "
                 "a referral must be made to children's social care.",
                 ("csc_referral",), ("csc_referral",))

    # --- ADULT_INVOLVED ------------------------------------------------------------------------
    if "adult_involved" in features:
        grounds = []
        if "adult_involved" in incident.features:
            grounds.append("An adult took part in or directed the abuse")
        if adult_harmers:
            grounds.append(
                "; ".join(f"{c.ref} harmed others and was {ages[c.ref]} on {_day(occurred)}"
                          for c in adult_harmers)
                + " (an adult: child-on-child abuse is by those aged under 18)"
            )
        fire("ADULT_INVOLVED",
             f"{'; '.join(grounds)}: child protection procedures apply, not child-on-child "
             "procedures alone, and the police are told.",
             ("csc_referral", "police"), ("csc_referral", "police"))

    # --- SERIOUS_SEXUAL_VIOLENCE ------------------------------------------------------------
    if "sexual_violence" in types:
        fire("SERIOUS_SEXUAL_VIOLENCE",
             "Sexual violence (rape, assault by penetration or sexual assault) is passed to "
             "the police.",
             ("police",), ("police",))

    # --- ADULT_HARMED ------------------------------------------------------------------------
    if adults_harmed:
        at_risk = sum(1 for a in adults_harmed if a.at_risk)
        count = len(adults_harmed)
        text = f"{count} adult{'s' if count != 1 else ''} harmed by a child"
        if adult_harmed_on_roll:
            text += (
                " (" + "; ".join(f"{c.ref} was {ages[c.ref]} on {_day(occurred)}"
                                 for c in adult_harmed_on_roll) + ")"
            )
        must: tuple[str, ...] = ("csc_referral", "police")
        if at_risk:
            text += f", {at_risk} of them an adult at risk"
            must = (*must, "adult_social_care")
        fire("ADULT_HARMED",
             f"{text}: children's social care and the police are told whatever the age of the "
             "person harmed, and a referral to adult social care is made"
             f"{'' if at_risk else ' or its reasons recorded'}.",
             ("csc_referral", "police", "adult_social_care"), must)

    # --- CRIMINAL_EXPLOITATION ----------------------------------------------------------
    if "criminal_exploitation" in types:
        fire("CRIMINAL_EXPLOITATION",
             "Possible criminal exploitation (for example county lines): criminal exploitation "
             "is child abuse and is referred to children's social care; complete the CRE "
             "screening tool as well.",
             ("csc_referral", "cre_screening"), ("csc_referral",))

    # --- CRIME_SUSPECTED ---------------------------------------------------------------
    responsible = [c for c in harmers if ages[c.ref] >= CRIMINAL_RESPONSIBILITY_AGE]
    if incident.crime_suspected and responsible:
        who = ", ".join(f"{c.ref} ({ages[c.ref]})" for c in responsible)
        fire("CRIME_SUSPECTED",
             f"The behaviour may be a crime and {who} harmed others at 10 or over, the age of "
             "criminal responsibility: consider reporting it to the police.",
             ("police",), ())

    if "csc_referral" not in routes:
        routes.add("consultation")

    considerations = _considerations(
        incident, ages, harmed, harmers, involved, features,
        csc="csc_referral" in routes, sexual=sexual, hsb=hsb, responsible=responsible,
    )

    return Assessment(
        ages=ages,
        triggers=tuple(sorted(triggers)),
        routes=tuple(sorted(routes)),
        mandatory_routes=tuple(sorted(mandatory)),
        considerations=tuple(sorted(considerations)),
        handover=_handover(incident, harmed, involved, directory,
                           lines_at or incident.reported_at),
        # Reasons in the order a DSL acts on them (immediate danger first), as TRIGGERS lists.
        reasons=tuple(r for code in sorted(triggers, key=TRIGGERS.index) for r in triggers[code]),
        consideration_reasons=tuple(
            Reason(code, considerations[code], SOURCES[code]) for code in sorted(considerations)
        ),
        rules_version=RULES_VERSION,
    )


def _considerations(
    incident: IncidentFacts,
    ages: dict[str, int],
    harmed: list[ChildFacts],
    harmers: list[ChildFacts],
    involved: list[ChildFacts],
    features: frozenset[str],
    *,
    csc: bool,
    sexual: bool,
    hsb: bool,
    responsible: list[ChildFacts],
) -> dict[str, str]:
    """RULES.md section 5, "Considerations": what the DSL should think about, with why."""
    types = incident.types
    considerations: dict[str, str] = {}

    # Version 2: a plan, separate workers and intra-familial abuse need two different children.
    here = _different_pairs([c for c in harmed if c.same_school],
                            [c for c in harmers if c.same_school])
    if here:
        considerations["SAFETY_PLAN"] = (
            f"{_refs(_unique(h for h, _ in here))} (harmed) and "
            f"{_refs(_unique(x for _, x in here))} (harmed others) attend this school: put a "
            "robust plan in place for all the children."
        )
    if csc and _different_pairs(harmed, harmers):
        considerations["SEPARATE_SOCIAL_WORKERS"] = (
            "A referral with a child harmed and a different child who harmed: ask for a separate "
            "social worker for each."
        )
    if csc and responsible:
        considerations["YOUTH_JUSTICE"] = (
            f"{_refs(responsible)} harmed others at 10 or over: the youth justice service is "
            "invited to the strategy meeting."
        )
    young_harmers = [c for c in harmers if ages[c.ref] < CRIMINAL_RESPONSIBILITY_AGE]
    if young_harmers:
        considerations["UNDER_10_ASSESSMENT"] = (
            f"{_refs(young_harmers)} harmed others under the age of 10: a specific assessment of "
            "their needs."
        )
    young_involved = [c for c in involved if ages[c.ref] <= 13]
    if csc and sexual and young_involved:
        considerations["PAEDIATRICIAN"] = (
            f"A sexual incident involving {_refs(young_involved)}, aged 13 or under: include a "
            "paediatrician in the strategy meeting."
        )
    if "sexual_violence" in types:
        considerations["SARC"] = (
            "Sexual violence: invite the Sexual Assault Referral Centre to the strategy meeting."
        )
    if hsb and harmers:
        considerations["AIM_ASSESSMENT"] = (
            f"Harmful sexual behaviour by {_refs(harmers)}: consider an AIM assessment."
        )
    families = [
        (h, x) for h, x in _different_pairs(harmed, harmers)
        if h.household is not None and h.household == x.household
    ]
    if families:
        pairs = "; ".join(f"{h.ref} and {x.ref}" for h, x in families)
        considerations["INTRA_FAMILIAL"] = (
            f"{pairs} live in the same household: treat it as abuse within the family."
        )
    authorities = {c.local_authority for c in involved}
    if len(authorities) > 1:
        considerations["CROSS_BOUNDARY"] = (
            f"The children live in {len(authorities)} local authorities: each must be "
            "represented at the strategy meeting."
        )
    if hsb:
        reported = incident.reported_at.date()
        nearly_adult = [c for c in harmers if age_on(c.dob, reported) >= 16]
        if nearly_adult:
            considerations["ADULT_TRANSITION"] = (
                f"{_refs(nearly_adult)} harmed others and was 16 or over on {_day(reported)}: "
                "plan the transition to adult services."
            )
    if incident.crime_suspected and not incident.arrested:
        derby = [c for c in responsible if c.local_authority == "derby-city"]
        if derby:
            considerations["YCPO"] = (
                f"A possible crime, no arrest, and {_refs(derby)}, who harmed others at 10 or "
                "over, lives in Derby City: consider a Youth Crime Prevention Officer through the "
                "Vulnerable Children's Meeting."
            )
    images = _types(types & IMAGE_TYPES) + _features(features & IMAGE_FEATURES)
    if images:
        considerations["DO_NOT_VIEW_IMAGES"] = (
            f"Images of children ({'; '.join(images)}): do not view, copy, forward or ask for "
            "them, and tell every member of staff the same."
        )
    return considerations


def _unique(children: Iterable[ChildFacts]) -> list[ChildFacts]:
    seen: dict[str, ChildFacts] = {}
    for c in children:
        seen.setdefault(c.ref, c)
    return list(seen.values())


def _convening_child(
    harmed: list[ChildFacts], involved: list[ChildFacts], children: tuple[ChildFacts, ...]
) -> ChildFacts:
    """The harmed child's authority convenes (002 s4, 004); else the first involved child's.

    Witnesses are excluded (RULES.md 6); when every child is a witness, the first witness's
    authority convenes, so the DSL always has a line to call (version 2).
    """
    if harmed:
        return harmed[0]
    return (involved or list(children))[0]


# The handover's notes when the line's number or hours are not confirmed (pages that already say
# so beside the number leave these out: services.handover.handover_view).
PHONE_NOT_CONFIRMED = "The line's number is not confirmed: check your local procedures."
HOURS_NOT_CONFIRMED = "The line's opening hours are not confirmed: check before relying on them."


def _handover(
    incident: IncidentFacts,
    harmed: list[ChildFacts],
    involved: list[ChildFacts],
    directory: Directory,
    at: dt.datetime,
) -> tuple[Handover, ...]:
    convening_code = _convening_child(harmed, involved, incident.children).local_authority
    # Only the involved children's authorities join; an all-witness incident has one entry.
    others = sorted({c.local_authority for c in involved} - {convening_code})
    entries = []
    for code in (convening_code, *others):
        authority = directory[code]
        is_open, next_open = authority.line_status(at)
        notes = []
        if authority.phone is None:
            notes.append(PHONE_NOT_CONFIRMED)
        if authority.hours is None:
            notes.append(HOURS_NOT_CONFIRMED)
        if authority.out_of_hours_note:
            notes.append(authority.out_of_hours_note)
        entries.append(Handover(
            local_authority=code,
            name=authority.name,
            convening=code == convening_code,
            line=authority.line,
            phone=authority.phone,
            open=is_open,
            next_open=next_open,
            out_of_hours_phone=authority.out_of_hours_phone,
            out_of_hours_name=authority.out_of_hours_name,
            notes=tuple(notes),
        ))
    return tuple(entries)
