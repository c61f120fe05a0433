"""The roll file's language, ethnicity and religion columns (issue 14): read when the export has
them, absent from the row otherwise (so a file without them leaves what a DSL recorded, and
its rows' digests are as before)."""

from __future__ import annotations

import datetime as dt

from portal.services.roll_csv import parse_roll

AUTHORITIES = {"derbyshire": "Derbyshire County Council"}
TODAY = dt.date(2026, 11, 20)


def test_language_ethnicity_and_religion_are_read_when_the_file_has_them() -> None:
    data = ("UPN,Legal Surname,Legal Forename,DOB,Home Language,Ethnicity,Religion\n"
            "A123456789012,Ó Súilleabháin,Zoë,02/03/2015,Irish,White Irish,\n").encode()
    parsed = parse_roll(data, authorities=AUTHORITIES, today=TODAY)
    assert not parsed.problems
    [row] = parsed.rows
    assert (row["first_language"], row["ethnicity"], row["religion"]) == (
        "Irish", "White Irish", None)


def test_a_file_without_them_leaves_them_out_of_the_row() -> None:
    data = ("UPN,Legal Surname,Legal Forename,DOB\n"
            "A123456789012,Ó Súilleabháin,Zoë,02/03/2015\n").encode()
    [row] = parse_roll(data, authorities=AUTHORITIES, today=TODAY).rows
    assert not {"first_language", "ethnicity", "religion"} & set(row)
