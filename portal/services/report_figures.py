"""The figures of the reports (issue 17), pure: codes, periods, counting, suppression, CSV cells.

Nothing here touches the database or decrypts anything. `portal.services.reports` reads plain
columns into the row types below; `build` counts them into a `Report` of titled tables, which
the page, the printable copy, the CSV and the charts all show. Rules kept here, once:

- statistics codes (`year_group_code`, `sex_code`, `send_code`): the coarse codes copied onto
  `IncidentChild` when a child is put in an incident (docs/security.md, "Plain statistics for
  reports");
- small-number suppression (`suppress`): any figure under 5 is shown as "fewer than 5" in
  everything that leaves a DSL's screen (the CSV, the printable copy, the authority's view);
- CSV cells (`csv_cell`): a cell that a spreadsheet would read as a formula is prefixed with an
  apostrophe.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import statistics
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, fields
from typing import Any, Final, cast

from ..rules.clock_words import day_words, month_words
from ..rules.vocabulary import (
    CONCERN_CATEGORY_LABELS,
    HARMER_ROLES,
    REFERRAL_OUTCOME_LABELS,
    ROUTE_LABELS,
    TYPE_LABELS,
)

# ---------------------------------------------------------------------------------------------
# Small-number suppression

SUPPRESS_BELOW: Final = 5
FEWER_THAN: Final = f"fewer than {SUPPRESS_BELOW}"


def suppress(count: int) -> str:
    """A count as it may leave a DSL's screen: under 5 (0 included) is "fewer than 5"."""
    return FEWER_THAN if count < SUPPRESS_BELOW else f"{count:,}"


def count_words(count: int, suppressing: bool) -> str:
    """A count for the page: exact on the DSL's own screen, else through `suppress`."""
    return suppress(count) if suppressing else f"{count:,}"


# ---------------------------------------------------------------------------------------------
# CSV

FORMULA_STARTS: Final = ("=", "+", "-", "@", "\t", "\r")


def csv_cell(value: object) -> str:
    """A cell of an exported CSV: text a spreadsheet would run as a formula (starting with
    = + - @, a tab or a carriage return) gets a leading apostrophe, so it is only text."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


# ---------------------------------------------------------------------------------------------
# Statistics codes (plain, coarse: docs/security.md, "Plain statistics for reports")

YEAR_GROUP_LABELS: Final = {
    "N": "Nursery", "R": "Reception",
    **{str(n): f"Year {n}" for n in range(1, 15)},
    "U": "Not known",
}
SEX_LABELS: Final = {"F": "Female", "M": "Male", "U": "Not known"}
SEND_LABELS: Final = {"Y": "Special educational needs or disabilities",
                      "N": "No special educational needs recorded", "U": "Not known"}

_YEAR_NUMBER = re.compile(r"^(?:year|yr|y|nc)?\s*(\d{1,2})$")


def year_group_code(text: str | None) -> str:
    """The roll's year group ("Year 7", "Y7", "7", "R", "Reception", "N1", "Nursery") as a
    code: "N", "R", "1".."14"; "U" when missing or not understood."""
    value = " ".join((text or "").casefold().replace("-", " ").split())
    if not value:
        return "U"
    if value in ("r", "rec", "reception", "yr r", "year r") or value.startswith("reception"):
        return "R"
    if value.startswith(("n1", "n2", "nursery")) or value == "n":
        return "N"
    match = _YEAR_NUMBER.match(value)
    if match and 1 <= int(match.group(1)) <= 14:
        return str(int(match.group(1)))
    return "U"


def sex_code(text: str | None) -> str:
    """The roll's sex ("F", "Female", "M", "Male", any case) as "F" or "M"; else "U"."""
    value = (text or "").strip().casefold()
    if value in ("f", "female", "girl"):
        return "F"
    if value in ("m", "male", "boy"):
        return "M"
    return "U"


def send_code(value: bool | None) -> str:
    """Special educational needs or disabilities: "Y", "N", or "U" when not recorded."""
    if value is None:
        return "U"
    return "Y" if value else "N"


# ---------------------------------------------------------------------------------------------
# Periods: a school year (1 September to 31 August) or one of its terms


TERMS: Final = (("autumn", "Autumn term", 9, 12), ("spring", "Spring term", 1, 3),
                ("summer", "Summer term", 4, 8))
Month = tuple[int, int]  # UK (year, month)


def next_month(month: Month) -> Month:
    """The (year, month) after `month`."""
    year, number = month
    return (year + 1, 1) if number == 12 else (year, number + 1)


@dataclass(frozen=True, slots=True)
class Period:
    key: str  # "2026" (the school year starting September 2026) or "2026-autumn"
    name: str  # "School year 2026 to 2027", "Autumn term 2026"
    start: dt.date
    end: dt.date  # inclusive

    @property
    def label(self) -> str:
        """Its name and its days: "Autumn term 2026 (1 September 2026 to 31 December 2026)"."""
        return f"{self.name} ({day_words(self.start)} to {day_words(self.end)})"

    def months(self) -> list[Month]:
        """(year, month) of every month in the period, in order."""
        out, month = [], (self.start.year, self.start.month)
        while month <= (self.end.year, self.end.month):
            out.append(month)
            month = next_month(month)
        return out


def _month_end(year: int, month: int) -> dt.date:
    return dt.date(*next_month((year, month)), 1) - dt.timedelta(days=1)


def school_year_of(on: dt.date) -> int:
    """The year a school year starts in (September): 2026 for any day of 2026 to 2027."""
    return on.year if on.month >= 9 else on.year - 1


def period_for(key: str) -> Period | None:
    """The period a key names ("2026", "2026-spring"); None for anything else."""
    match = re.fullmatch(r"(\d{4})(?:-(autumn|spring|summer))?", key or "")
    if not match:
        return None
    first = int(match.group(1))
    if not 2000 <= first <= 2100:
        return None
    if match.group(2) is None:
        return Period(key, f"School year {first} to {first + 1}", dt.date(first, 9, 1),
                      dt.date(first + 1, 8, 31))
    name, label, m1, m2 = next(t for t in TERMS if t[0] == match.group(2))
    year = first if name == "autumn" else first + 1
    start, end = dt.date(year, m1, 1), _month_end(year, m2)
    return Period(key, f"{label} {year}", start, end)


def periods_offered(today: dt.date, years: int = 3) -> list[Period]:
    """This school year and the two before, each followed by its terms, newest first."""
    out: list[Period] = []
    first = school_year_of(today)
    for year in range(first, first - years, -1):
        found = period_for(str(year))
        assert found is not None
        out.append(found)
        for name, *_ in reversed(TERMS):
            term = period_for(f"{year}-{name}")
            assert term is not None
            if term.start <= today:
                out.append(term)
    return out


def default_period(today: dt.date) -> Period:
    found = period_for(str(school_year_of(today)))
    assert found is not None
    return found


# ---------------------------------------------------------------------------------------------
# Durations in words (whole minutes)


def duration_words(minutes: float | None) -> str:
    if minutes is None:
        return "none to measure"
    minutes = max(0, round(minutes))
    if minutes < 60:
        return f"{minutes} minute{'' if minutes == 1 else 's'}"
    hours = minutes / 60
    if hours < 48:
        whole = round(hours)
        return f"{whole} hour{'' if whole == 1 else 's'}"
    days = round(hours / 24)
    return f"{days} days"


# ---------------------------------------------------------------------------------------------
# The rows the service reads (plain columns only) and the report built from them

# Route decisions that count as a route taken (RULES.md R2, R4).
ROUTE_TAKEN_KINDS: Final = frozenset({"take_route", "handed_over"})
# How long a DSL has to decide a mandatory route after opening an incident: the dashboard's
# own (portal.services.incidents.INCIDENT_DECISION_HOURS, passed in by the service).
CONCERN_OUTCOMES: Final = ("incident", "no_further_action", "other_concern", "waiting")
CONCERN_OUTCOME_WORDS: Final = {
    "incident": "Became an incident",
    "no_further_action": "Recorded without an incident: no further action",
    "other_concern": "Recorded without an incident: a concern of another kind",
    "waiting": "Not yet looked at by a safeguarding lead",
}
SETTINGS: Final = ("online", "school", "home")
SETTING_WORDS: Final = {"online": "Online", "school": "In or around school",
                        "home": "At home (children of one household)"}


# Times are seconds since the epoch (UTC) and ids are text: the service reads them so from the
# database (no per-row conversion), which keeps an authority's tens of thousands of rows fast.



@dataclass(frozen=True, slots=True)
class ConcernRow:
    school_id: str
    submitted: float
    month: Month  # UK (year, month) it was sent
    triaged: float | None  # picked up: opened as an incident or recorded
    triage_due: float  # the school's timescale (School.concern_days working days)
    outcome: str  # one of CONCERN_OUTCOMES
    category: str | None = None  # other_concern: its kind


@dataclass(frozen=True, slots=True)
class IncidentRow:
    id: str
    school_id: str
    opened: float
    month: Month
    open: bool
    setting: str  # one of SETTINGS
    types: tuple[str, ...]
    mandatory: tuple[str, ...]  # mandatory routes of its latest assessment
    handed: frozenset[str] = frozenset()  # routes with a hand-over record (or a referral)
    decided: frozenset[str] = frozenset()  # routes with a decision recorded
    taken: frozenset[str] = frozenset()  # routes decided to take or handed over
    first_concern: float | None = None
    first_decision: float | None = None
    first_handover: float | None = None
    reviews: tuple[Month, ...] = ()  # the UK months in which a review was recorded


@dataclass(frozen=True, slots=True)
class ChildRow:
    """A child's part in an incident (each child once per incident): its statistics codes."""

    incident_id: str
    child_id: str
    role: str
    year_group: str | None  # codes: YEAR_GROUP_LABELS, SEX_LABELS, SEND_LABELS; None: not known
    sex: str | None
    send: str | None


@dataclass(frozen=True, slots=True)
class ReferralRow:
    school_id: str
    sent: float
    month: Month
    acknowledged: float | None
    answered: float | None
    outcome: str | None
    strategy_meeting: float | None
    strategy_due: float | None  # the authority's timescale, None when it sets none


Timed = tuple[float, bool]  # a case's minutes, and whether it was within its timescale
Link = tuple[str, str, str]  # (incident, child, role)


def _counters() -> Counter[str]:
    return Counter()


@dataclass
class Figures:
    """What a report counts from a set of concerns, incidents and their children, before a
    period's report is drawn from it. Every counter adds and every list joins, so the figures
    of each school and month (the `report_months` summary table) merge into exactly those of
    counting a period's rows at once. What depends on the moment of reading (overdue) is kept
    as the moments to compare with it; what depends on the period (reviews), as months."""

    concerns: int = 0
    outcomes: Counter[str] = field(default_factory=_counters)
    categories: Counter[str] = field(default_factory=_counters)  # of other_concern outcomes
    concern_months: Counter[Month] = field(default_factory=Counter)
    waiting_due: list[float] = field(default_factory=list)  # triage due of untriaged concerns
    triage: list[Timed] = field(default_factory=list)
    incidents: int = 0
    incident_months: Counter[Month] = field(default_factory=Counter)
    open: int = 0
    types: Counter[str] = field(default_factory=_counters)
    settings: Counter[str] = field(default_factory=_counters)
    taken: Counter[str] = field(default_factory=_counters)  # routes
    mandatory: Counter[str] = field(default_factory=_counters)
    handed: Counter[str] = field(default_factory=_counters)  # mandatory and handed over
    # Opening moments of open incidents with a mandatory route neither decided nor handed over.
    undecided_open: list[float] = field(default_factory=list)
    reviews: Counter[tuple[Month, ...]] = field(default_factory=Counter)  # by review months
    decision: list[Timed] = field(default_factory=list)
    handover: list[Timed] = field(default_factory=list)
    years: Counter[str] = field(default_factory=_counters)
    sexes: Counter[str] = field(default_factory=_counters)
    sends: Counter[str] = field(default_factory=_counters)
    links: list[Link] = field(default_factory=list)

    @property
    def children(self) -> int:
        return sum(self.years.values())

    def add(self, other: Figures) -> Figures:
        """Add `other`'s figures to these (in place); returns self."""
        for name in _FIELDS:
            mine, theirs = getattr(self, name), getattr(other, name)
            if isinstance(mine, int):
                setattr(self, name, mine + theirs)
            elif isinstance(mine, Counter):
                mine.update(theirs)
            else:
                mine.extend(theirs)
        return self

    def to_json(self) -> str:
        """As stored in the summary table: plain counts, moments, ids and codes."""
        data: dict[str, Any] = {}
        for name in _FIELDS:
            value = getattr(self, name)
            data[name] = list(value.items()) if isinstance(value, Counter) else value
        return json.dumps(data, separators=(",", ":"))

    @classmethod
    def from_json(cls, text: str) -> Figures:
        return cls().add_json(text)

    def add_json(self, text: str) -> Figures:
        """Add figures stored as `to_json` to these (in place, without making them into
        figures first: an authority's year adds about 1,200); returns self."""
        data = json.loads(text)
        self.concerns += data["concerns"]
        self.incidents += data["incidents"]
        self.open += data["open"]
        for name in _TEXT_COUNTERS:
            counts: Counter[Any] = getattr(self, name)
            for key, n in data[name]:
                counts[key] += n
        for name in _MONTH_COUNTERS:
            counts = getattr(self, name)
            for (year, month), n in data[name]:
                counts[year, month] += n
        for months, n in data["reviews"]:
            self.reviews[tuple((year, month) for year, month in months)] += n
        self.waiting_due.extend(data["waiting_due"])
        self.undecided_open.extend(data["undecided_open"])
        for name in ("triage", "decision", "handover"):
            getattr(self, name).extend(map(tuple, data[name]))
        self.links.extend(cast(Iterable[Link], map(tuple, data["links"])))
        return self

    def __eq__(self, other: object) -> bool:
        """Equal figures: the same counts and the same lists in any order (tests compare the
        summary with a recount so)."""
        if not isinstance(other, Figures):
            return NotImplemented
        return all(
            (sorted(a) == sorted(b)) if isinstance(a, list) else (a == b)
            for a, b in ((getattr(self, n), getattr(other, n)) for n in _FIELDS))

    __hash__ = None  # type: ignore[assignment]


_FIELDS: Final = tuple(f.name for f in fields(Figures))
_MONTH_COUNTERS: Final = ("concern_months", "incident_months")
_TEXT_COUNTERS: Final = ("outcomes", "categories", "types", "settings", "taken", "mandatory",
                         "handed", "years", "sexes", "sends")


def summarise(concerns: Iterable[ConcernRow], incidents: Iterable[IncidentRow],
              children: Iterable[ChildRow], decision_hours: int) -> Figures:
    """Count rows into figures (`decision_hours`: the time a DSL has to decide a mandatory
    route after opening an incident, the dashboard's)."""
    figures = Figures()
    _count_concerns(figures, concerns)
    _count_incidents(figures, incidents, decision_hours * 3600)
    for c in children:
        figures.years[c.year_group or "U"] += 1
        figures.sexes[c.sex or "U"] += 1
        figures.sends[c.send or "U"] += 1
        figures.links.append((c.incident_id, c.child_id, c.role))
    return figures


def _count_concerns(f: Figures, concerns: Iterable[ConcernRow]) -> None:
    for c in concerns:
        f.concerns += 1
        f.outcomes[c.outcome] += 1
        if c.outcome == "other_concern":
            f.categories[c.category or "other"] += 1
        f.concern_months[c.month] += 1
        if c.outcome == "waiting":
            f.waiting_due.append(c.triage_due)
        minutes = _minutes(c.submitted, c.triaged)
        if minutes is not None:
            f.triage.append((minutes, c.triaged is not None and c.triaged <= c.triage_due))


def _count_incidents(f: Figures, incidents: Iterable[IncidentRow], window: float) -> None:
    for i in incidents:
        f.incidents += 1
        f.incident_months[i.month] += 1
        f.types.update(set(i.types))
        f.settings[i.setting] += 1
        # Routes: taken (a decision to take it, or handed over), and mandatory ones handed over.
        f.taken.update(i.taken)
        mandatory = frozenset(i.mandatory)
        f.mandatory.update(mandatory)
        f.handed.update(r for r in mandatory if r in i.handed)
        if i.open:
            f.open += 1
            if any(r not in i.handed and r not in i.decided for r in i.mandatory):
                f.undecided_open.append(i.opened)
        if i.reviews:
            f.reviews[tuple(sorted(set(i.reviews)))] += 1
        start = i.first_concern or i.opened
        decided = _minutes(start, i.first_decision)
        if decided is not None:
            f.decision.append((decided, i.first_decision is not None
                               and i.first_decision <= i.opened + window))
        handed = _minutes(start, i.first_handover)
        if handed is not None:
            f.handover.append((handed, i.first_handover is not None
                               and i.first_handover <= i.opened + window))


@dataclass(frozen=True)
class Repeats:
    children: int  # children in more than one incident of the period
    harmers: int  # children who harmed others in more than one
    incidents: int  # incidents involving a child in another incident of the period


def repeats(links: Iterable[Link]) -> Repeats:
    links = list(links)
    per_child = Counter(child for _, child, _ in links)
    harms = Counter(child for _, child, role in links if role in HARMER_ROLES)
    return Repeats(sum(1 for n in per_child.values() if n > 1),
                   sum(1 for n in harms.values() if n > 1),
                   len({i for i, child, _ in links if per_child[child] > 1}))


@dataclass(frozen=True, slots=True)
class Timing:
    """One "how long" row: the cases measured, their median, and those within a timescale."""

    label: str
    timescale: str
    minutes: tuple[float, ...]
    on_time: int | None  # None: no timescale to judge by

    @property
    def cases(self) -> int:
        return len(self.minutes)

    @property
    def late(self) -> int | None:
        return None if self.on_time is None else self.cases - self.on_time

    @property
    def median(self) -> float | None:
        return statistics.median(self.minutes) if self.minutes else None


def _timed(label: str, timescale: str, cases: Sequence[Timed]) -> Timing:
    return Timing(label, timescale, tuple(m for m, _ in cases), sum(1 for _, ok in cases if ok))


@dataclass(frozen=True, slots=True)
class Table:
    """A titled table of counts: rows of (label, one count per column)."""

    key: str
    title: str
    columns: tuple[str, ...]
    rows: tuple[tuple[str, tuple[int, ...]], ...]
    note: str = ""


@dataclass(frozen=True, slots=True)
class Trend:
    key: str
    title: str
    months: tuple[str, ...]
    values: tuple[int, ...]


@dataclass
class Report:
    period: Period
    tables: list[Table] = field(default_factory=list)
    timings: list[Timing] = field(default_factory=list)
    trends: list[Trend] = field(default_factory=list)

    def table(self, key: str) -> Table:
        return next(t for t in self.tables if t.key == key)

    def figure(self, key: str, label: str, column: int = 0) -> int:
        """One count by its table and row label (tests and the CSV read them so)."""
        return dict(self.table(key).rows)[label][column]

    def timing(self, label: str) -> Timing:
        return next(t for t in self.timings if t.label == label)


def _minutes(start: float | None, end: float | None) -> float | None:
    if start is None or end is None:
        return None
    minutes = (end - start) / 60
    return minutes if minutes > 0 else 0.0


def _counted(title_key: str, title: str, counts: Counter[str], order: Sequence[str],
             words: dict[str, str], note: str = "") -> Table:
    keys = [k for k in order if k in counts] + sorted(k for k in counts if k not in order)
    return Table(title_key, title, ("Number",),
                 tuple((words.get(k, k), (counts[k],)) for k in keys), note)


def build(period: Period, now: float, *, concerns: Sequence[ConcernRow],
          incidents: Sequence[IncidentRow], children: Sequence[ChildRow],
          referrals: Sequence[ReferralRow], decision_hours: int,
          concern_days: int | None, authority_view: bool = False) -> Report:
    """Count the rows of one period into the report (`summarise`, then `report_of`)."""
    return report_of(period, now, summarise(concerns, incidents, children, decision_hours),
                     referrals=referrals, decision_hours=decision_hours,
                     concern_days=concern_days, authority_view=authority_view)


def report_of(period: Period, now: float, figures: Figures, *,
              referrals: Sequence[ReferralRow], decision_hours: int,
              concern_days: int | None, authority_view: bool = False) -> Report:
    """The report's tables, timings and monthly trends from one period's figures.

    `concern_days`: the school's triage timescale in working days (None for several schools:
    each concern's own due moment is used either way). `authority_view`: add the referral
    figures the local authority reports on (acknowledgement, decision, mix of decisions).
    """
    report = Report(period)
    f = figures
    report.tables.append(Table("summary", "In this period", ("Number",), (
        ("Concerns raised", (f.concerns,)),
        ("Incidents opened", (f.incidents,)),
        ("Children involved in incidents (each child once per incident)", (f.children,)),
        ("Referrals to the local authority", (len(referrals),)),
    )))
    _what_tables(report, f)
    _case_tables(report, period, now, f, decision_hours)
    _timings(report, f, referrals, decision_hours, concern_days)
    if authority_view:
        _authority_tables(report, referrals)
    _trends(report, period, f, referrals if authority_view else None)
    return report


def _what_tables(report: Report, f: Figures) -> None:
    """What happened to the concerns, and the incidents and children by kind."""
    report.tables.append(_counted("concern_outcomes", "Concerns by what happened to them",
                                  f.outcomes, CONCERN_OUTCOMES, CONCERN_OUTCOME_WORDS))
    report.tables.append(_counted("concern_categories",
                                  "Concerns of another kind, by kind", f.categories,
                                  tuple(CONCERN_CATEGORY_LABELS), dict(CONCERN_CATEGORY_LABELS)))
    report.tables.append(_counted(
        "incident_types", "Incidents by type", f.types, tuple(sorted(TYPE_LABELS)),
        dict(TYPE_LABELS), note="An incident of two types is counted under each."))
    report.tables.append(_counted(
        "settings", "Incidents by setting", f.settings, SETTINGS,
        SETTING_WORDS, note="Online: the incident happened online. At home: two or more of the "
                            "children live in one household. In or around school: the rest."))
    report.tables.append(_counted(
        "year_groups", "Children involved, by year group",
        f.years, tuple(YEAR_GROUP_LABELS), YEAR_GROUP_LABELS,
        note="The year group when the child was put in the incident; each child once per "
             "incident."))
    report.tables.append(_counted("send", "Children involved, by special educational needs",
                                  f.sends, tuple(SEND_LABELS),
                                  SEND_LABELS))
    report.tables.append(_counted("sex", "Children involved, by sex",
                                  f.sexes, tuple(SEX_LABELS), SEX_LABELS))
    routes = sorted(set(f.taken) | set(f.mandatory),
                    key=lambda r: list(ROUTE_LABELS).index(r) if r in ROUTE_LABELS else 99)
    report.tables.append(Table(
        "routes", "Routes", ("Taken", "Mandatory", "Mandatory and handed over"),
        tuple((ROUTE_LABELS.get(r, r), (f.taken[r], f.mandatory[r], f.handed[r]))
              for r in routes),
        note="Incidents opened in the period. Mandatory: the rules say the route must be taken. "
             "Handed over: the portal holds a record of it (a referral or a hand-over record)."))


def _case_tables(report: Report, period: Period, now: float, f: Figures,
                 decision_hours: int) -> None:
    """Open, overdue and reviewed; repeat involvement."""
    late = now - decision_hours * 3600
    months = set(period.months())
    report.tables.append(Table("cases", "Open, overdue and reviewed", ("Number",), (
        ("Incidents still open", (f.open,)),
        ("Incidents overdue: a mandatory route not decided within "
         f"{decision_hours} hours", (sum(1 for opened in f.undecided_open if opened < late),)),
        ("Concerns overdue for triage", (sum(1 for due in f.waiting_due if now > due),)),
        ("Incidents reviewed in the period",
         (sum(n for reviewed, n in f.reviews.items() if months.intersection(reviewed)),)),
    ), note="Incidents opened and concerns raised in the period, as they are now."))
    again = repeats(f.links)
    report.tables.append(Table("repeat", "Repeat involvement", ("Number",), (
        ("Children in more than one incident", (again.children,)),
        ("Children who harmed others in more than one incident", (again.harmers,)),
        ("Incidents involving a child in another incident of the period", (again.incidents,)),
    )))


def _timings(report: Report, f: Figures, referrals: Sequence[ReferralRow],
             decision_hours: int, concern_days: int | None) -> None:
    """How long things took, against the timescales."""
    days = "the school's setting" if concern_days is None else (
        f"{concern_days} working day{'' if concern_days == 1 else 's'}")
    report.timings.append(_timed("From concern to triage",
                                 f"Within {days} (the school's timescale)", f.triage))
    within = f"Within {decision_hours} hours of the incident being opened"
    report.timings.append(_timed("From concern to first decision", within, f.decision))
    report.timings.append(_timed("From concern to hand-over", within, f.handover))
    with_meeting = [r for r in referrals if r.strategy_meeting is not None]
    judged = [r for r in with_meeting if r.strategy_due is not None]
    report.timings.append(Timing(
        "From referral to strategy meeting", "Within the authority's timescale, where it sets one",
        tuple(m for r in with_meeting if (m := _minutes(r.sent, r.strategy_meeting))
              is not None),
        sum(1 for r in judged if r.strategy_meeting is not None and r.strategy_due is not None
            and r.strategy_meeting <= r.strategy_due) if judged else None))


def _authority_tables(report: Report, referrals: Sequence[ReferralRow]) -> None:
    """The referral figures the local authority reports on."""
    acks = [m for r in referrals if (m := _minutes(r.sent, r.acknowledged)) is not None]
    report.timings.append(Timing("From referral to acknowledgement",
                                 "The authority sets no timescale for this", tuple(acks), None))
    answers = [m for r in referrals if (m := _minutes(r.sent, r.answered)) is not None]
    report.timings.append(Timing("From referral to decision",
                                 "The authority sets no timescale for this", tuple(answers),
                                 None))
    mix = Counter(r.outcome or "waiting" for r in referrals)
    words = {**REFERRAL_OUTCOME_LABELS, "waiting": "No decision yet"}
    report.tables.append(_counted("decisions", "Referrals by the authority's decision", mix,
                                  (*REFERRAL_OUTCOME_LABELS, "waiting"), words))
    states = Counter("answered" if r.answered else
                     "acknowledged" if r.acknowledged else "new" for r in referrals)
    report.tables.append(Table("referrals", "Referrals received", ("Number",), (
        ("Received", (len(referrals),)),
        ("Acknowledged, not yet answered", (states["acknowledged"],)),
        ("Answered", (states["answered"],)),
        ("Not yet acknowledged", (states["new"],)),
    )))


def _trends(report: Report, period: Period, f: Figures,
            referrals: Sequence[ReferralRow] | None) -> None:
    months = period.months()
    labels = tuple(month_words(dt.date(y, m, 1)) for y, m in months)
    report.trends.append(Trend("concerns_by_month", "Concerns raised each month", labels,
                               tuple(f.concern_months[m] for m in months)))
    report.trends.append(Trend("incidents_by_month", "Incidents opened each month", labels,
                               tuple(f.incident_months[m] for m in months)))
    if referrals is not None:
        by_month_r = Counter(r.month for r in referrals)
        report.trends.append(Trend("referrals_by_month", "Referrals received each month", labels,
                                   tuple(by_month_r[m] for m in months)))


# ---------------------------------------------------------------------------------------------
# By school (the authority's view)


@dataclass(frozen=True, slots=True)
class SchoolLine:
    school_id: str
    name: str
    concerns: int
    incidents: int
    children: int
    referrals: int
    open: int


SCHOOL_COLUMNS: Final = ("Concerns raised", "Incidents opened", "Children involved",
                         "Referrals", "Incidents still open")


def by_school(names: dict[str, str], figures: dict[str, Figures],
              referrals: Iterable[ReferralRow]) -> list[SchoolLine]:
    """The main figures of each school, in name order (every school named, even with none)."""
    r = Counter(x.school_id for x in referrals)
    none = Figures()
    lines = []
    for sid, name in names.items():
        f = figures.get(sid, none)
        lines.append(SchoolLine(sid, name, f.concerns, f.incidents, f.children, r[sid], f.open))
    return sorted(lines, key=lambda s: (s.name.casefold(), s.school_id))


def school_values(line: SchoolLine) -> tuple[int, ...]:
    return (line.concerns, line.incidents, line.children, line.referrals, line.open)


# ---------------------------------------------------------------------------------------------
# The report as CSV rows (every count through `suppress`: a CSV always leaves the screen)


def csv_rows(report: Report, heading: Sequence[str],
             schools: Sequence[SchoolLine] = ()) -> list[list[str]]:
    rows: list[list[str]] = [[csv_cell(h)] for h in heading]
    rows.append(["Section", "Figure", "Column", "Value"])
    for table in report.tables:
        for label, values in table.rows:
            for column, value in zip(table.columns, values, strict=True):
                rows.append([csv_cell(table.title), csv_cell(label), csv_cell(column),
                             suppress(value)])
    for t in report.timings:
        rows.append(["How long it took", csv_cell(t.label), "Cases", suppress(t.cases)])
        rows.append(["How long it took", csv_cell(t.label), "Median",
                     median_words(t, True)])
        rows.append(["How long it took", csv_cell(t.label), csv_cell(t.timescale),
                     "no timescale" if t.on_time is None else suppress(t.on_time)])
        rows.append(["How long it took", csv_cell(t.label), "Later",
                     "no timescale" if t.late is None else suppress(t.late)])
    for trend in report.trends:
        for month, value in zip(trend.months, trend.values, strict=True):
            rows.append([csv_cell(trend.title), csv_cell(month), "Number", suppress(value)])
    for line in schools:
        for column, value in zip(SCHOOL_COLUMNS, school_values(line), strict=True):
            rows.append(["By school", csv_cell(line.name), csv_cell(column), suppress(value)])
    return rows


def median_words(timing: Timing, suppressing: bool) -> str:
    """The median in words; with suppression on, not given for fewer than 5 cases."""
    if suppressing and timing.cases < SUPPRESS_BELOW:
        return f"not given for {FEWER_THAN} cases"
    return duration_words(timing.median)
