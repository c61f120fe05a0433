"""The decision table of RULES.md section 5 and the handover of section 6.

`assess()` is pure: the same facts and directory always give the same answer. It is what the
command line and the web portal both call, so they can never disagree.
"""

from __future__ import annotations

from .ages import age_on, gap_of_two_years_or_more
from .directory import Directory, default_directory
from .model import Assessment, ChildFacts, Handover, IncidentFacts, Reason
from .vocabulary import (
    ACTIVITY_TYPES,
    AGGRAVATING_FEATURES,
    AGGRAVATING_TYPES,
    HARMED_ROLES,
    HARMER_ROLES,
    IMMEDIATE_REFERRAL_FEATURES,
    IMMEDIATE_REFERRAL_TYPES,
    ONLINE_TYPES,
    SEXUAL_TYPES,
    WITNESS_ROLE,
)

# Bump when the table changes: stored assessments record the version that produced them.
RULES_VERSION = "2026.11.1"

SOURCES = {
    "IMMEDIATE_DANGER": '002 s4 "Immediate actions"',
    "UNDER_13_SEXUAL_ACTIVITY": '000 "Consent"; 001 s5',
    "HARMFUL_SEXUAL_BEHAVIOUR": (
        '000 (HSB "should be referred to Children\'s Social Care"); 001 s3, s5; 002 s2-s4'
    ),
    "ONLINE_SEXUAL_ABUSE": (
        '000 ("this would include online abuse"); UK Council for Internet Safety advice on '
        "sharing nudes and semi-nudes (cases for immediate referral)"
    ),
    "ADULT_INVOLVED": (
        '002 s4, 004 ("reason to suspect that adults are also involved"); '
        "UK Council for Internet Safety advice"
    ),
    "SERIOUS_SEXUAL_VIOLENCE": (
        "national schools guidance (Sexual violence and sexual harassment between children in "
        "schools and colleges): rape, assault by penetration and sexual assault go to the police"
    ),
    "ADULT_HARMED": "000 (abuse of an adult), 001 s6",
    "CRIMINAL_EXPLOITATION": '000 "Criminal Exploitation"',
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


def _refs(children: list[ChildFacts]) -> str:
    return ", ".join(c.ref for c in children)


def assess(incident: IncidentFacts, directory: Directory | None = None) -> Assessment:
    """Apply RULES.md sections 3-6 to one incident."""
    directory = default_directory() if directory is None else directory
    occurred = incident.occurred_on
    children = incident.children
    ages = {c.ref: age_on(c.dob, occurred) for c in children}
    harmed = [c for c in children if c.role in HARMED_ROLES]
    harmers = [c for c in children if c.role in HARMER_ROLES]
    involved = [c for c in children if c.role != WITNESS_ROLE]
    types = incident.types
    features = incident.features

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
                else f"the type {', '.join(sorted(implied_activity))} involves sexual activity"
            )
            who = "; ".join(
                f"{c.ref} ({c.role.replace('_', ' ')}) was {ages[c.ref]} on {occurred.isoformat()}"
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
        aggravating.extend(f"feature {f}" for f in sorted(features & AGGRAVATING_FEATURES))
        aggravating.extend(f"type {t}" for t in sorted(types & AGGRAVATING_TYPES))
        aggravating.extend(f"{c.ref} has SEND" for c in involved if c.send)
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
             f"A sexual incident with {'; '.join(grounds)}. Harmful sexual behaviour is referred "
             "to children's social care.",
             ("csc_referral",), ("csc_referral",))

    # --- ONLINE_SEXUAL_ABUSE -----------------------------------------------------------------
    if online and sexual:
        immediate: list[str] = []
        immediate.extend(f"feature {f}" for f in sorted(features & IMMEDIATE_REFERRAL_FEATURES))
        immediate.extend(f"type {t}" for t in sorted(types & IMMEDIATE_REFERRAL_TYPES))
        immediate.extend(f"{c.ref} has SEND" for c in involved if c.send)
        immediate.extend(
            f"{c.ref} was {ages[c.ref]}, under 13" for c in involved if ages[c.ref] < 13
        )
        if hsb or immediate:
            if immediate:
                fire("ONLINE_SEXUAL_ABUSE",
                     "Online sexual abuse with immediate-referral factors: "
                     f"{'; '.join(immediate)}. "
                     "These cases are referred to children's social care and the police at once.",
                     ("csc_referral", "police"), ("csc_referral", "police"))
            else:
                fire("ONLINE_SEXUAL_ABUSE",
                     "Harmful sexual behaviour that happened online: online abuse is referred to "
                     "children's social care like any other harmful sexual behaviour.",
                     ("csc_referral",), ("csc_referral",))

    # --- ADULT_INVOLVED ------------------------------------------------------------------------
    if "adult_involved" in features:
        fire("ADULT_INVOLVED",
             "An adult took part in or directed the abuse: child protection procedures apply, "
             "not child-on-child procedures alone.",
             ("csc_referral", "police"), ("csc_referral", "police"))

    # --- SERIOUS_SEXUAL_VIOLENCE ------------------------------------------------------------
    if "sexual_violence" in types:
        fire("SERIOUS_SEXUAL_VIOLENCE",
             "Sexual violence (rape, assault by penetration or sexual assault) is passed to "
             "the police.",
             ("police",), ("police",))

    # --- ADULT_HARMED ------------------------------------------------------------------------
    if incident.adults_harmed:
        at_risk = sum(1 for a in incident.adults_harmed if a.at_risk)
        count = len(incident.adults_harmed)
        text = f"{count} adult{'s' if count != 1 else ''} harmed by a child"
        if at_risk:
            fire("ADULT_HARMED",
                 f"{text}, {at_risk} of them an adult at risk: children's social care, the police "
                 "and adult social care are told, whatever the age of the person harmed.",
                 ("csc_referral", "police", "adult_social_care"),
                 ("csc_referral", "police", "adult_social_care"))
        else:
            fire("ADULT_HARMED",
                 f"{text}: children's social care and the police are told, whatever the age of "
                 "the person harmed.",
                 ("csc_referral", "police"), ("csc_referral", "police"))

    # --- CRIMINAL_EXPLOITATION ----------------------------------------------------------
    if "criminal_exploitation" in types:
        fire("CRIMINAL_EXPLOITATION",
             "Possible criminal exploitation: complete the CRE screening tool first.",
             ("cre_screening",), ())

    # --- CRIME_SUSPECTED ---------------------------------------------------------------
    if incident.crime_suspected:
        responsible = [c for c in harmers if ages[c.ref] >= 10]
        if responsible:
            who = ", ".join(f"{c.ref} ({ages[c.ref]})" for c in responsible)
            fire("CRIME_SUSPECTED",
                 f"The behaviour may be a crime and {who} harmed others at 10 or over, the age of "
                 "criminal responsibility: consider reporting it to the police.",
                 ("police",), ())

    if "csc_referral" not in routes:
        routes.add("consultation")

    # --- Considerations ----------------------------------------------------------------
    considerations: dict[str, str] = {}
    csc = "csc_referral" in routes

    harmed_here = [c for c in harmed if c.same_school]
    harmers_here = [c for c in harmers if c.same_school]
    if harmed_here and harmers_here:
        considerations["SAFETY_PLAN"] = (
            f"{_refs(harmed_here)} (harmed) and {_refs(harmers_here)} (harmed others) attend "
            "this school: put a robust plan in place for all the children."
        )
    if csc and harmed and harmers:
        considerations["SEPARATE_SOCIAL_WORKERS"] = (
            "A referral with a child harmed and a child who harmed: ask for a separate social "
            "worker for each."
        )
    older_harmers = [c for c in harmers if ages[c.ref] >= 10]
    if csc and older_harmers:
        considerations["YOUTH_JUSTICE"] = (
            f"{_refs(older_harmers)} harmed others at 10 or over: the youth justice service is "
            "invited to the strategy meeting."
        )
    young_harmers = [c for c in harmers if ages[c.ref] < 10]
    if young_harmers:
        considerations["UNDER_10_ASSESSMENT"] = (
            f"{_refs(young_harmers)} harmed others under the age of 10: a specific assessment of "
            "their needs."
        )
    young_involved = [c for c in involved if ages[c.ref] <= 13]
    if csc and sexual and young_involved:
        considerations["PAEDIATRICIAN"] = (
            f"{_refs(young_involved)} 13 or under in a sexual incident: include a paediatrician "
            "in the strategy meeting."
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
        (h, x) for h in harmed for x in harmers
        if h is not x and h.household is not None and h.household == x.household
    ]
    if families:
        pairs = "; ".join(f"{h.ref} and {x.ref}" for h, x in families)
        considerations["INTRA_FAMILIAL"] = (
            f"{pairs} live in the same household: treat it as abuse within the family."
        )
    authorities = {c.local_authority for c in involved}
    if len(authorities) > 1:
        considerations["CROSS_BOUNDARY"] = (
            f"The children live in {len(authorities)} local authorities "
            f"({', '.join(sorted(authorities))}): each must be represented at the strategy meeting."
        )
    if hsb:
        reported = incident.reported_at.date()
        nearly_adult = [c for c in harmers if age_on(c.dob, reported) >= 16]
        if nearly_adult:
            considerations["ADULT_TRANSITION"] = (
                f"{_refs(nearly_adult)} harmed others and was 16 or over on "
                f"{reported.isoformat()}: plan the transition to adult services."
            )
    if incident.crime_suspected and not incident.arrested:
        derby = [c for c in harmers if c.local_authority == "derby-city"]
        if derby:
            considerations["YCPO"] = (
                f"A possible crime, no arrest, and {_refs(derby)} lives in Derby City: consider a "
                "Youth Crime Prevention Officer through the Vulnerable Children's Meeting."
            )
    if "nudes_sharing" in types:
        considerations["DO_NOT_VIEW_IMAGES"] = (
            "Nudes or semi-nudes: do not view, copy, forward or ask for the images."
        )

    return Assessment(
        ages=ages,
        triggers=tuple(sorted(triggers)),
        routes=tuple(sorted(routes)),
        mandatory_routes=tuple(sorted(mandatory)),
        considerations=tuple(sorted(considerations)),
        handover=_handover(incident, harmed, involved, directory),
        reasons=tuple(r for code in sorted(triggers) for r in triggers[code]),
        consideration_reasons=tuple(
            Reason(code, considerations[code], SOURCES[code]) for code in sorted(considerations)
        ),
        rules_version=RULES_VERSION,
    )


def _convening_child(
    harmed: list[ChildFacts], involved: list[ChildFacts], children: tuple[ChildFacts, ...]
) -> ChildFacts:
    """The harmed child's authority convenes (002 s4, 004); else the first involved child's.

    Witnesses are excluded (RULES.md 6); when every child is a witness the portal falls back to
    them so the DSL always has a line to call ("when in doubt, refer").
    """
    if harmed:
        return harmed[0]
    return (involved or list(children))[0]


def _handover(
    incident: IncidentFacts,
    harmed: list[ChildFacts],
    involved: list[ChildFacts],
    directory: Directory,
) -> tuple[Handover, ...]:
    pool = involved or list(incident.children)
    convening_code = _convening_child(harmed, involved, incident.children).local_authority
    others = sorted({c.local_authority for c in pool} - {convening_code})
    entries = []
    for code in (convening_code, *others):
        authority = directory[code]
        is_open, next_open = authority.line_status(incident.reported_at)
        notes = []
        if authority.phone is None:
            notes.append("The line's number is not confirmed: check your local procedures.")
        if authority.hours is None:
            notes.append(
                "The line's opening hours are not confirmed: check before relying on them."
            )
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
