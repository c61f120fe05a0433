"""Reading the CSV a school's management information system exports (docs/roll-import.md).

Pure Python (no database, no Flask): bytes in, checked rows or every problem out. A file with
any problem is refused whole, so nothing is ever half-imported from it.

Headers are matched loosely (case, spaces and punctuation ignored) against the names SIMS, Arbor
and Bromcom use; `COLUMNS` is the one list of them, and docs/roll-import.md describes it.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Final

__all__ = [
    "COLUMNS",
    "CONTACT_COLUMNS",
    "MAX_CONTACTS",
    "MAX_ROWS",
    "OPTIONAL_COLUMNS",
    "ParsedFile",
    "RowProblem",
    "authority_code",
    "parse_roll",
]

MAX_ROWS: Final = 10_000
MAX_CONTACTS: Final = 4
TEXT_MAX: Final = 200
ADDRESS_MAX: Final = 500

# Our field -> the headers that mean it (normalised: lower case, letters and digits only).
COLUMNS: Final[dict[str, tuple[str, ...]]] = {
    "upn": ("upn", "uniquepupilnumber", "pupilupn"),
    "family_name": ("legalsurname", "legallastname", "surname", "lastname", "familyname"),
    "given_name": ("legalforename", "legalfirstname", "forename", "firstname", "givenname",
                   "legalforenames", "forenames"),
    "preferred_name": ("preferredforename", "preferredfirstname", "preferredname", "knownas"),
    "dob": ("dob", "dateofbirth", "birthdate"),
    "sex": ("sex", "gender", "legalsex"),
    "year_group": ("yeargroup", "year", "ncyear", "nationalcurriculumyear", "yearcurriculum"),
    "sen": ("senstatus", "senprovision", "sen", "senneed"),
    "home_la": ("homela", "homelocalauthority", "localauthority", "la", "homelacode"),
    "address": ("address", "homeaddress", "fulladdress"),
    "address_parts": ("addressline1", "addressline2", "addressline3", "street", "locality",
                      "town", "county", "postcode"),
    "leaving_date": ("leavingdate", "dateofleaving", "leavedate"),
    # What a referral form asks for (issue 14), read when the export has the column.
    "first_language": ("firstlanguage", "homelanguage", "language", "firstlanguagedescription"),
    "ethnicity": ("ethnicity", "ethnicgroup", "ethnicorigin", "ethnicitydescription"),
    "religion": ("religion", "religiondescription"),
    # A leaver's next school, by its URN (issue 16): a school on the portal is offered the file.
    "destination_school": ("destinationurn", "destinationschoolurn", "nextschoolurn",
                           "destinationschool"),
}
# Columns whose value is written only when the file has the column: a file without it leaves what
# a DSL recorded (and the row, and so its digest, is as before these columns were read).
OPTIONAL_COLUMNS: Final = ("first_language", "ethnicity", "religion", "destination_school")
REQUIRED: Final = ("upn", "family_name", "given_name", "dob")

# "Contact 1 Name", "Contact1 Forename", "Primary Contact 2 Mobile" ...
_CONTACT_RE: Final = re.compile(r"(?:primary)?contact(\d)(.*)")
CONTACT_COLUMNS: Final[dict[str, tuple[str, ...]]] = {
    "name": ("name", "fullname"),
    "forename": ("forename", "firstname", "givenname"),
    "surname": ("surname", "lastname", "familyname"),
    "relationship": ("relationship", "relationshiptopupil", "relation"),
    "responsibility": ("parentalresponsibility", "pr", "hasparentalresponsibility"),
    "phones": ("telephone", "phone", "mobile", "mobilephone", "homephone", "hometelephone",
               "workphone", "worktelephone", "telephone1", "telephone2"),
    "email": ("email", "emailaddress"),
    "address": ("address", "homeaddress"),
    "priority": ("priority", "contactpriority", "order"),
}

_UPN_RE: Final = re.compile(r"[A-Z][0-9]{11}[0-9A-Z]")
_YES: Final = frozenset({"y", "yes", "true", "1"})
_NO: Final = frozenset({"n", "no", "false", "0"})
# SEN status codes of the school census: N no special need, K SEN support, E EHC plan
# (S and A/P, older codes for a statement and School Action, still appear in old exports).
_SEN_YES: Final = frozenset({"k", "e", "s", "a", "p", "sensupport", "ehcplan", "ehcp",
                             "statement", "yes", "y", "true"})
_SEN_NO: Final = frozenset({"", "n", "no", "none", "nospecialneed", "false"})

# The DfE's number for each local authority the portal knows, and the words of its name.
_LA_NUMBERS: Final = {"830": "derbyshire", "831": "derby-city", "841": "darlington",
                      "838": "dorset", "839": "bcp", "938": "west-sussex"}
_LA_WORDS: Final = frozenset({"council", "county", "city", "borough", "of", "the", "and"})


def _key(header: str) -> str:
    return re.sub(r"[^a-z0-9]", "", header.casefold())


def authority_code(text: str, names: Mapping[str, str]) -> str | None:
    """The portal's code for the home local authority the roll names ("Derbyshire", "830",
    "Derby City Council"), or None when it is not one the portal knows. `names`: code -> name."""
    value = text.strip()
    if not value:
        return None
    if value in _LA_NUMBERS and _LA_NUMBERS[value] in names:
        return _LA_NUMBERS[value]

    def words(name: str) -> frozenset[str]:
        parts = re.findall(r"[a-z0-9]+", name.casefold().replace("&", " and "))
        return frozenset(p for p in parts if p not in _LA_WORDS)

    given = words(value)
    if not given:
        return None
    for code, name in names.items():
        if value.casefold() == code or given == words(name):
            return code
    return None


@dataclass(frozen=True, slots=True)
class RowProblem:
    """One reason a file was refused: the row number as a spreadsheet shows it (the header is
    row 1), or None for the file as a whole."""

    row: int | None
    reason: str


@dataclass(slots=True)
class ParsedFile:
    rows: list[dict[str, Any]] = field(default_factory=list)
    problems: list[RowProblem] = field(default_factory=list)
    unknown_authorities: set[str] = field(default_factory=set)


def _decode(data: bytes) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        # Older SIMS exports are Windows-1252; every byte but five decodes.
        return data.decode("cp1252", errors="replace")


def _date(value: str) -> dt.date | None:
    """dd/mm/yyyy (as the MIS exports), d/m/yyyy, dd-mm-yyyy or yyyy-mm-dd; ValueError else."""
    value = value.strip()
    if not value:
        return None
    match = re.fullmatch(r"(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})", value)
    if match:
        day, month, year = (int(g) for g in match.groups())
        return dt.date(year, month, day)
    match = re.fullmatch(r"(\d{4})-(\d{2})-(\d{2})", value)
    if match:
        year, month, day = (int(g) for g in match.groups())
        return dt.date(year, month, day)
    raise ValueError(value)


def _map_headers(headers: list[str]) -> tuple[dict[str, list[int]],
                                               dict[int, dict[str, list[int]]]]:
    """Which columns hold each field, and each contact's fields."""
    fields: dict[str, list[int]] = {}
    contacts: dict[int, dict[str, list[int]]] = {}
    lookup = {alias: name for name, aliases in COLUMNS.items() for alias in aliases}
    contact_lookup = {alias: name for name, aliases in CONTACT_COLUMNS.items()
                      for alias in aliases}
    for index, header in enumerate(headers):
        key = _key(header)
        if key in lookup:
            fields.setdefault(lookup[key], []).append(index)
            continue
        match = _CONTACT_RE.fullmatch(key)
        if match and match.group(2) in contact_lookup:
            number = int(match.group(1))
            contacts.setdefault(number, {}).setdefault(
                contact_lookup[match.group(2)], []).append(index)
    return fields, contacts


def _text(cells: list[str], columns: list[int] | None, joiner: str = " ") -> str:
    if not columns:
        return ""
    parts = [" ".join(cells[i].split()) for i in columns if i < len(cells)]
    return joiner.join(p for p in parts if p)


def parse_roll(data: bytes, *, authorities: Mapping[str, str],
               today: dt.date) -> ParsedFile:
    """Check every row of the file. `authorities`: the portal's code -> name. A row's dict holds
    plain JSON values (dates as ISO text) in a fixed shape, so equal rows compare equal."""
    out = ParsedFile()
    text = _decode(data)
    try:
        table = list(csv.reader(io.StringIO(text, newline="")))
    except csv.Error:
        out.problems.append(RowProblem(None, "The file is not a CSV file the portal can read"))
        return out
    while table and not any(cell.strip() for cell in table[-1]):
        table.pop()
    if not table:
        out.problems.append(RowProblem(None, "The file is empty"))
        return out
    headers = table[0]
    fields, contacts = _map_headers(headers)
    missing = [name for name in REQUIRED if name not in fields]
    if missing:
        words = {"upn": "UPN", "family_name": "legal surname", "given_name": "legal forename",
                 "dob": "date of birth"}
        out.problems.append(RowProblem(
            1, "The file has no column for the " + ", ".join(words[m] for m in missing)
            + " (see the column names the portal reads)"))
        return out
    if len(table) - 1 > MAX_ROWS:
        out.problems.append(RowProblem(None, f"The file has more than {MAX_ROWS:,} pupils"))
        return out
    seen: dict[str, int] = {}
    for number, cells in enumerate(table[1:], start=2):
        if not any(c.strip() for c in cells):
            continue
        row, problems = _row(number, cells, fields, contacts, authorities, today, out)
        if row is not None and row["upn"] in seen:
            problems.append(f"the same UPN as row {seen[row['upn']]}")
        for problem in problems:
            out.problems.append(RowProblem(number, problem[0].upper() + problem[1:]))
        if row is not None and not problems:
            seen[row["upn"]] = number
            out.rows.append(row)
    if not out.rows and not out.problems:
        out.problems.append(RowProblem(None, "The file has no pupils in it"))
    return out


def _row(number: int, cells: list[str], fields: dict[str, list[int]],
         contacts: dict[int, dict[str, list[int]]], authorities: Mapping[str, str],
         today: dt.date, out: ParsedFile) -> tuple[dict[str, Any] | None, list[str]]:
    problems: list[str] = []

    def get(name: str) -> str:
        return _text(cells, fields.get(name))

    upn = get("upn").upper().replace(" ", "")
    if not upn:
        problems.append("no UPN")
    elif not _UPN_RE.fullmatch(upn):
        problems.append("the UPN is not 13 characters: a letter, 11 digits and a digit or letter")
    given, family = get("given_name"), get("family_name")
    if not given:
        problems.append("no legal forename")
    if not family:
        problems.append("no legal surname")
    for label, value in (("forename", given), ("surname", family),
                         ("preferred name", get("preferred_name"))):
        if len(value) > TEXT_MAX:
            problems.append(f"the {label} is longer than {TEXT_MAX} characters")
    dob, left_on = _dates(get, today, problems)
    sen = re.sub(r"[^a-z]", "", get("sen").casefold())
    if sen not in _SEN_YES and sen not in _SEN_NO:
        problems.append("the SEN status is not one of N, K or E")
    la_text = get("home_la")
    la_code = authority_code(la_text, authorities)
    if la_text and la_code is None:
        out.unknown_authorities.add(la_text)
    address = get("address") or _text(cells, fields.get("address_parts"), ", ")
    if len(address) > ADDRESS_MAX:
        problems.append(f"the address is longer than {ADDRESS_MAX} characters")
    people = _people(cells, contacts, problems)
    extra = _optional(get, fields, problems)
    if problems:
        return None, problems
    assert dob is not None
    return {**extra,
        "row": number, "upn": upn, "given_name": given, "family_name": family,
        "preferred_name": get("preferred_name") or None, "dob": dob.isoformat(),
        "sex": get("sex") or None, "year_group": get("year_group") or None,
        "send": sen in _SEN_YES, "home_la_code": la_code, "home_la_text": la_text or None,
        "address": address or None, "left_on": left_on.isoformat() if left_on else None,
        "contacts": people,
    }, problems


def _dates(get: Callable[[str], str], today: dt.date,
           problems: list[str]) -> tuple[dt.date | None, dt.date | None]:
    """The row's date of birth and leaving date; their problems added to `problems`."""
    dob: dt.date | None = None
    try:
        dob = _date(get("dob"))
        if dob is None:
            problems.append("no date of birth")
        elif not (today.replace(year=today.year - 30) <= dob <= today):
            problems.append("the date of birth is not a pupil's (more than 30 years ago or "
                            "in the future)")
    except ValueError:
        problems.append("the date of birth is not a date (write it as 31/01/2015)")
    left_on: dt.date | None = None
    try:
        left_on = _date(get("leaving_date"))
    except ValueError:
        problems.append("the leaving date is not a date (write it as 31/07/2025)")
    return dob, left_on


def _people(cells: list[str], contacts: dict[int, dict[str, list[int]]],
            problems: list[str]) -> list[dict[str, Any]]:
    """The row's contacts by priority (1 first); their problems added to `problems`."""
    people: list[dict[str, Any]] = []
    for slot in sorted(contacts)[:MAX_CONTACTS]:
        person, person_problems = _contact(slot, cells, contacts[slot])
        problems.extend(person_problems)
        if person is not None:
            people.append(person)
    people.sort(key=lambda p: (p["priority"], p["slot"]))
    for position, person in enumerate(people, start=1):
        person["priority"] = position
        del person["slot"]
    return people


def _optional(get: Callable[[str], str], fields: dict[str, list[int]],
              problems: list[str]) -> dict[str, Any]:
    """The optional columns the file has; their problems added to `problems`."""
    extra: dict[str, Any] = {}
    for name in OPTIONAL_COLUMNS:
        if name in fields:
            value = get(name)
            if len(value) > TEXT_MAX:
                problems.append(f"the {name.replace('_', ' ')} is longer than {TEXT_MAX} "
                                "characters")
            extra[name] = value or None
    return extra


def _contact(slot: int, cells: list[str], columns: dict[str, list[int]]
             ) -> tuple[dict[str, Any] | None, list[str]]:
    def get(name: str, joiner: str = " ") -> str:
        return _text(cells, columns.get(name), joiner)

    name = get("name") or " ".join(p for p in (get("forename"), get("surname")) if p)
    phones = [" ".join(cells[i].split()) for i in columns.get("phones", [])
              if i < len(cells) and cells[i].strip()]
    email, address = get("email"), get("address")
    relationship = get("relationship")
    if not (name or phones or email):
        return None, []
    problems: list[str] = []
    if not name:
        problems.append(f"contact {slot} has no name")
    responsibility_text = get("responsibility").casefold()
    responsibility: bool | None = None
    if responsibility_text in _YES:
        responsibility = True
    elif responsibility_text in _NO:
        responsibility = False
    elif responsibility_text:
        problems.append(f"contact {slot}'s parental responsibility is not yes or no")
    priority_text = get("priority")
    priority = slot
    if priority_text:
        if priority_text.isdigit():
            priority = int(priority_text)
        else:
            problems.append(f"contact {slot}'s priority is not a number")
    if any(len(v) > TEXT_MAX for v in (name, relationship, email, *phones)) \
            or len(address) > ADDRESS_MAX:
        problems.append(f"contact {slot} has a value that is too long")
    return {"slot": slot, "priority": priority, "name": name,
            "relationship": relationship or None, "responsibility": responsibility,
            "phones": phones, "email": email or None, "address": address or None}, problems
