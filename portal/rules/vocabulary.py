"""The codes of RULES.md section 3 and section 5, as data.

Every code the portal accepts or emits is named here once; the engine, the input checks and the
screens all read these sets, so a new code is added in one place.
"""

from __future__ import annotations

from typing import Final

NON_SEXUAL_TYPES: Final = frozenset({
    "physical", "emotional", "financial", "coercive_control", "bullying", "cyberbullying",
    "relationship_abuse", "domestic_abuse", "prejudice_based", "initiation_violence",
    "serious_youth_violence", "criminal_exploitation",
})
SEXUAL_TYPES: Final = frozenset({
    "sexual_harassment", "sexual_violence", "upskirting", "nudes_sharing", "sexual_exploitation",
    "exposure_to_sexual_content", "grooming", "voyeurism",
})
TYPES: Final = NON_SEXUAL_TYPES | SEXUAL_TYPES

# Types marked *activity* in RULES.md 3.1: they imply `sexual_activity` (exposure to the sexual
# activity or images of others counts: 000 "Consent").
ACTIVITY_TYPES: Final = frozenset({
    "sexual_violence", "nudes_sharing", "sexual_exploitation", "exposure_to_sexual_content",
})
# Types that imply `online` (RULES.md section 2, the `online` row).
ONLINE_TYPES: Final = frozenset({"nudes_sharing", "cyberbullying"})

FEATURES: Final = frozenset({
    "coercion", "force", "threats", "blackmail", "no_consent", "power_differential", "violence",
    "penetration", "planning", "secrecy", "repeated", "weapon", "adult_involved", "distributed",
    "images_extreme", "self_harm_risk",
})

# RULES.md 3.2: aggravating factors of a sexual incident (000 "the greater the difference...";
# 002 s3 "Abusive").
AGGRAVATING_FEATURES: Final = frozenset({
    "coercion", "force", "threats", "blackmail", "no_consent", "power_differential", "violence",
    "penetration", "adult_involved", "distributed", "images_extreme",
})
# Version 2: sexual violence can never be the consensual carve-out.
AGGRAVATING_TYPES: Final = frozenset({"grooming", "sexual_exploitation", "sexual_violence"})

# RULES.md section 5, SIGNIFICANT_HARM (version 2): serious non-sexual harm goes to children's
# social care (000 "where there are child protection concerns, a referral must be made").
SIGNIFICANT_HARM_FEATURES: Final = frozenset({"weapon", "self_harm_risk"})
SIGNIFICANT_HARM_TYPES: Final = frozenset({"serious_youth_violence"})
# Abuse in a relationship or family is significant harm together with any of these features.
CONTROLLING_TYPES: Final = frozenset({"domestic_abuse", "relationship_abuse", "coercive_control"})
CONTROLLING_HARM_FEATURES: Final = frozenset({
    "violence", "force", "threats", "coercion", "repeated",
})

# Images a member of staff must never view, copy, forward or ask for (UK Council for Internet
# Safety advice; version 2 widens it from nudes to every image of a child).
IMAGE_TYPES: Final = frozenset({"nudes_sharing", "upskirting", "voyeurism"})
IMAGE_FEATURES: Final = frozenset({"distributed", "images_extreme"})

# RULES.md section 2, "Adults on the roll": an entry this old on `occurred_on` is an adult.
ADULT_AGE: Final = 18
# The age of criminal responsibility in England and Wales (000, 004).
CRIMINAL_RESPONSIBILITY_AGE: Final = 10

# RULES.md 3.2: immediate-referral factors of an online sexual incident (UK Council for Internet
# Safety advice on sharing nudes and semi-nudes, its list of cases for immediate referral).
IMMEDIATE_REFERRAL_FEATURES: Final = frozenset({
    "adult_involved", "coercion", "blackmail", "threats", "images_extreme", "self_harm_risk",
})
IMMEDIATE_REFERRAL_TYPES: Final = frozenset({"grooming"})

ROLES: Final = ("harmed", "harmed_others", "both", "involved", "witness")
HARMED_ROLES: Final = frozenset({"harmed", "both"})
HARMER_ROLES: Final = frozenset({"harmed_others", "both"})
WITNESS_ROLE: Final = "witness"

ROUTES: Final = (
    "police_emergency", "csc_referral", "police", "adult_social_care", "cre_screening",
    "consultation",
)
TRIGGERS: Final = (
    "IMMEDIATE_DANGER", "UNDER_13_SEXUAL_ACTIVITY", "HARMFUL_SEXUAL_BEHAVIOUR",
    "CHILD_SEXUALLY_HARMED", "ONLINE_SEXUAL_ABUSE", "SIGNIFICANT_HARM", "ADULT_INVOLVED",
    "SERIOUS_SEXUAL_VIOLENCE", "ADULT_HARMED",
    "CRIMINAL_EXPLOITATION", "CRIME_SUSPECTED",
)
CONSIDERATIONS: Final = (
    "SAFETY_PLAN", "SEPARATE_SOCIAL_WORKERS", "YOUTH_JUSTICE", "UNDER_10_ASSESSMENT",
    "PAEDIATRICIAN", "SARC", "AIM_ASSESSMENT", "INTRA_FAMILIAL", "CROSS_BOUNDARY",
    "ADULT_TRANSITION", "YCPO", "DO_NOT_VIEW_IMAGES",
)

# Plain-English labels for screens and documents. Codes stay the contract; labels may change.
TYPE_LABELS: Final = {
    "physical": "Physical abuse",
    "emotional": "Emotional abuse",
    "financial": "Financial abuse",
    "coercive_control": "Coercive control",
    "bullying": "Bullying",
    "cyberbullying": "Cyberbullying",
    "relationship_abuse": "Abuse in a relationship",
    "domestic_abuse": "Domestic abuse",
    "prejudice_based": "Prejudice-based abuse or violence",
    "initiation_violence": "Initiation or hazing violence",
    "serious_youth_violence": "Serious youth violence",
    "criminal_exploitation": "Criminal exploitation (for example county lines)",
    "sexual_harassment": "Sexual harassment",
    "sexual_violence": "Sexual violence (rape, assault by penetration, sexual assault)",
    "upskirting": "Upskirting",
    "nudes_sharing": "Sharing nudes or semi-nudes",
    "sexual_exploitation": "Sexual exploitation",
    "exposure_to_sexual_content": "Exposure to sexual content or activity",
    "grooming": "Grooming",
    "voyeurism": "Voyeurism",
}
FEATURE_LABELS: Final = {
    "coercion": "Coercion or pressure",
    "force": "Force",
    "threats": "Threats",
    "blackmail": "Blackmail",
    "no_consent": "No consent",
    "power_differential": "A difference in power (age, size, status, ability)",
    "violence": "Violence",
    "penetration": "Penetration",
    "planning": "Planning",
    "secrecy": "Secrecy",
    "repeated": "Happened more than once",
    "weapon": "A weapon",
    "adult_involved": "An adult took part in or directed it",
    "distributed": "An image or sexual content was passed on",
    "images_extreme": "Images show acts unusual for the children's age, or violence",
    "self_harm_risk": "A risk of self-harm",
}
ROLE_LABELS: Final = {
    "harmed": "Harmed",
    "harmed_others": "Harmed others",
    "both": "Harmed and harmed others",
    "involved": "Involved (no one yet identified as harmed)",
    "witness": "Witness",
}
ROUTE_LABELS: Final = {
    "police_emergency": "Call 999 now",
    "csc_referral": "Referral to children's social care",
    "police": "Report to the police",
    "adult_social_care": "Referral to adult social care",
    "cre_screening": "Child criminal exploitation screening tool",
    "consultation": "Talk it through with the consultation line",
}
CONSIDERATION_LABELS: Final = {
    "SAFETY_PLAN": "A safety plan for every child in the setting",
    "SEPARATE_SOCIAL_WORKERS": (
        "Separate social workers for the child harmed and the child who harmed"
    ),
    "YOUTH_JUSTICE": "Invite the youth justice service to the strategy meeting",
    "UNDER_10_ASSESSMENT": "A specific assessment of the needs of a child under 10",
    "PAEDIATRICIAN": "Include a paediatrician in the strategy meeting",
    "SARC": "Invite the Sexual Assault Referral Centre (SARC)",
    "AIM_ASSESSMENT": "Consider an AIM assessment",
    "INTRA_FAMILIAL": "Intra-familial abuse: follow the procedure for abuse within the family",
    "CROSS_BOUNDARY": "More than one local authority: each must be represented",
    "ADULT_TRANSITION": "Plan the transition to adult services",
    "YCPO": "Consider a referral to a Youth Crime Prevention Officer (Derby City)",
    "DO_NOT_VIEW_IMAGES": "Do not view, copy, forward or ask for any images",
}
TRIGGER_LABELS: Final = {
    "IMMEDIATE_DANGER": "A child is in immediate danger",
    "UNDER_13_SEXUAL_ACTIVITY": "Sexual activity and a child under 13",
    "HARMFUL_SEXUAL_BEHAVIOUR": "Harmful sexual behaviour",
    "CHILD_SEXUALLY_HARMED": "A child was sexually harmed",
    "SIGNIFICANT_HARM": "A child may suffer significant harm",
    "ONLINE_SEXUAL_ABUSE": "Online sexual abuse",
    "ADULT_INVOLVED": "An adult is involved",
    "SERIOUS_SEXUAL_VIOLENCE": "Serious sexual violence",
    "ADULT_HARMED": "An adult was harmed",
    "CRIMINAL_EXPLOITATION": "Criminal exploitation",
    "CRIME_SUSPECTED": "A crime may have been committed",
}

# Triage of a concern recorded without an incident (issue 13): what the DSL decided, what kind of
# safeguarding concern it was when it was not about harm between children, and the other route it
# took. The screens, the child's file and the service read these, so the words are the same
# everywhere.
CONCERN_OUTCOME_LABELS: Final = {
    "no_further_action": "No further action",
    "other_concern": "A safeguarding concern of another kind",
}
CONCERN_CATEGORY_LABELS: Final = {
    "neglect": "Neglect",
    "home": "A concern at home",
    "mental_health": "Mental health",
    "adult": "A concern about an adult",
    "other": "Another kind",
}
OTHER_ROUTE_LABELS: Final = {
    "front_door": "The local authority's front door (children's social care)",
    "early_help": "Early help",
    "police": "The police",
    "lado": "The LADO (a concern about an adult who works with children)",
    "school_support": "Support in school",
    "other": "Another route",
}
# Routes that hand the concern to someone outside the school: when is required for these.
OTHER_ROUTES_HANDED_ON: Final = frozenset({"front_door", "early_help", "police", "lado"})

# Decisions a DSL records (R2, portal.services.recording), what a review found (R10), and what a
# local authority answered or recorded next on a referral (portal.services.referrals). The
# services read their codes from these; the screens, the PDF and the emails their words.
DECISION_LABELS: Final = {
    "take_route": "Take this route",
    "handed_over": "Handed over",
    "decline_route": "Do not take this route",
    "no_further_action": "No further action",
    "early_help": "Early help",
    "internal_support": "Support in school",
    "other": "Other",
    "not_involved": "Not involved",
    "review": "Review",
    "close": "Close the incident",
}
REVIEW_OUTCOME_LABELS: Final = {
    "again": "No change: review again",
    "reconsider": "The behaviour continued or escalated: reconsider the routes",
    "ended": "No further review needed",
}
REFERRAL_OUTCOME_LABELS: Final = {
    "no_further_action": "No further action",
    "early_help": "Early help",
    "csc_assessment": "Children's social care assessment",
    "strategy_meeting": "Strategy meeting arranged",
    "police_informed": "Police informed",
}
MILESTONE_LABELS: Final = {
    "minutes_sent": "Strategy meeting minutes sent out",
    "icpc_held": "Initial child protection conference held",
    "icpc_not_needed": "No initial child protection conference needed",
    "cin_review_held": "Child in need review held",
}

# The five source procedures (seeds/README.md), as a reason's "Source" names them: reasons cite
# them by file number ("000", "002 s4"); screens and documents show the procedure's name.
SOURCE_LABELS: Final = {
    "000": "Derby and Derbyshire procedure, Children who Present a Risk of Harm to Others (2024)",
    "001": "Derby and Derbyshire procedure, Children who Present a Risk of Harm to Others "
           "(2019 version)",
    "002": "Darlington Harmful Sexual Behaviour practice guidance (2025)",
    "003": "Pan-Dorset guidance for responding to child on child sexual abuse (2022)",
    "004": "West Sussex practice guidance, Peer Abuse: Children Who Harm Other Children",
}
