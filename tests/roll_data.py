"""Invented school rolls, made at test time (names invented; UPNs of the right shape)."""

from __future__ import annotations

import csv
import datetime as dt
import io
import random
from typing import Any

HEADERS = [
    "UPN", "Legal Surname", "Legal Forename", "Preferred Forename", "Date of Birth", "Sex",
    "Year Group", "SEN Status", "Home LA", "Address Line 1", "Town", "Postcode",
    "Contact 1 Name", "Contact 1 Relationship", "Contact 1 Parental Responsibility",
    "Contact 1 Mobile", "Contact 1 Home Phone", "Contact 1 Email", "Contact 1 Priority",
    "Contact 2 Name", "Contact 2 Relationship", "Contact 2 Parental Responsibility",
    "Contact 2 Mobile", "Contact 2 Email", "Contact 2 Priority",
]
GIVEN = ["Amara", "Zoë", "Tomasz", "Aoife", "Kwame", "Léa", "Priya", "Oskar", "Nia", "Yusuf",
         "小龙", "Siobhán", "Mateo", "Ffion", "Dawit", "Élodie", "Ravi", "Ingrid", "Kofi", "Mei"]
FAMILY = ["Fenwicke", "Ó Súilleabháin", "Nowakowska", "Brennagh", "Asantewaa", "Moreaux",
          "Ravindran", "Lindqvarn", "Okonjo", "李", "Delacourt", "Haverleigh", "Quennell",
          "Tresillian", "Abernethy", "Pellow", "Marchetti", "Szabová", "Iwu", "Castellane"]
LAS = ["Derbyshire", "830", "Derby City Council", "Dorset", "Darlington", "Nowhere Shire"]


def upn(n: int) -> str:
    return f"A{n:011d}{'ABCDEFGHJK'[n % 10]}"


def pupil(n: int, rng: random.Random, today: dt.date) -> dict[str, Any]:
    year = rng.randint(7, 13)
    dob = dt.date(today.year - year - 5, rng.randint(1, 12), rng.randint(1, 28))
    given, family = GIVEN[n % len(GIVEN)], FAMILY[(n // len(GIVEN)) % len(FAMILY)]
    return {
        "UPN": upn(n), "Legal Surname": family, "Legal Forename": given,
        "Preferred Forename": "Zoe" if given == "Zoë" else "", "Date of Birth": f"{dob:%d/%m/%Y}",
        "Sex": rng.choice(["F", "M"]), "Year Group": f"Year {year}",
        "SEN Status": rng.choice(["N", "N", "N", "K", "E"]),
        "Home LA": LAS[n % len(LAS)] if n % 50 else "Nowhere Shire",
        "Address Line 1": f"{n % 200 + 1} Larkspur Row", "Town": "Oakfield",
        "Postcode": f"DE{n % 90 + 1} {n % 9}XY",
        "Contact 1 Name": f"Parent {family} {n}", "Contact 1 Relationship": "Mother",
        "Contact 1 Parental Responsibility": "Yes", "Contact 1 Mobile": f"07700 9{n:05d}",
        "Contact 1 Home Phone": "01632 960000", "Contact 1 Email": f"carer{n}@example.test",
        "Contact 1 Priority": "1",
        "Contact 2 Name": f"Carer {family} {n}" if n % 3 else "",
        "Contact 2 Relationship": "Grandfather" if n % 3 else "",
        "Contact 2 Parental Responsibility": "No" if n % 3 else "",
        "Contact 2 Mobile": f"07700 8{n:05d}" if n % 3 else "",
        "Contact 2 Email": "", "Contact 2 Priority": "2" if n % 3 else "",
    }


def roll(count: int = 3000, *, seed: int = 13, today: dt.date | None = None,
         start: int = 1) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    day = today or dt.date.today()
    return [pupil(n, rng, day) for n in range(start, start + count)]


def to_csv(rows: list[dict[str, Any]], headers: list[str] | None = None) -> bytes:
    out = io.StringIO(newline="")
    writer = csv.DictWriter(out, fieldnames=headers or HEADERS, lineterminator="\r\n")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue().encode("utf-8")
