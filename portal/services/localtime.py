"""The authority directory as administrators keep it.

(UK local time for the rules engine, which works in naive Europe/London time while the database
holds aware UTC, is `portal.clock.uk_local` and `portal.clock.from_uk_local`.)
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from .. import reads
from ..rules import Authority, Directory
from ..rules.directory import DirectoryError, load_directory_data

log = logging.getLogger(__name__)


def directory_from_db() -> Directory:
    """The directory as administrators keep it (`LocalAuthority.directory` rows).

    Packaged entries fill in only codes the database does not have, so a child living in an
    authority not yet set up still gets a line to call. A malformed row is skipped (and logged)
    rather than breaking every incident page. Built once per process for as long as the
    authorities do not change (`reads.from_authorities`; a dashboard asks for it for every
    incident); outside a request it is built afresh each time.
    """
    return reads.from_authorities("directory", _build_directory)


def _build_directory(rows: Mapping[str, reads.AuthorityRow]) -> Directory:
    raw: dict[str, dict[str, Any]] = {a["code"]: a for a in load_directory_data()["authorities"]}
    for la in rows.values():
        if la.directory:
            raw[la.code] = {**la.directory, "code": la.code,
                            "name": la.directory.get("name") or la.name}
    entries: dict[str, Authority] = {}
    for code, entry in raw.items():
        try:
            entries[code] = Directory.from_dict({"authorities": [entry]})[code]
        except (KeyError, TypeError, ValueError, DirectoryError):
            log.warning("directory entry of authority %s is malformed; skipped", code)
    return Directory(entries)
