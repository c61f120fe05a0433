"""Adding a child to a school's records, and finding children by name without decrypting.

Names are searchable only through keyed hashes (HMAC under the school's index key), never by
decrypting the roll:

* `name_index` / `family_name_index` on the child: the exact normalised full and family name
  (R6 redaction of free text uses them, `portal/services/child_file.py`);
* `child_name_terms`: one row per search term of the child's names (`portal/names.py`: whole
  words of the given and preferred names, of the family name, the whole name run together, and
  every prefix of every word), each hashed under its own purpose.

`set_names` is the one place a child's names are set, and `index_names` the one place their
hashes are written; every caller (adding a child, a merge, the school roll) goes through them,
so the labels and terms never drift apart. `search` answers both rules of who may find what
(docs/security.md 3.4).
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Final

from sqlalchemy import Select, delete, insert, select

from .. import names, reads
from ..keystore import shredded_orgs
from ..models import Child, ChildNameTerm, School, db, keyring
from ..models.base import not_yet_written
from ..rules.clock_words import day_words

NAME_INDEX = "child-name"
FAMILY_NAME_INDEX = "child-family-name"
# The purposes of the search terms (each hashed apart: equal text under two purposes differs).
PREFIX_TERM: Final = "child-name-prefix"
GIVEN_TERM: Final = "child-name-given"
FAMILY_TERM: Final = "child-name-family"
FULL_TERM: Final = "child-name-full"
# Bumped whenever portal/names.py cuts names differently: `index_batch` (run by `flask
# index-child-names` and `flask init-db`) then redoes them all. 2: a name part's typed words
# (`names.typed_words`: "王-Ó Súilleabháin" is found by "王-Ó", walk 7).
SEARCH_VERSION: Final = 2
# Hashes are kept to 128 bits (32 hex digits): far beyond any chance of two terms meeting.
TERM_HEX: Final = 32
# The most children one search lists ("type more of the name" beyond that).
MAX_RESULTS: Final = 25


def add_child(
    school: School,
    *,
    given_name: str,
    family_name: str,
    dob: dt.date | None,
    send: bool = False,
    local_authority_code: str | None = None,
    created_by_id: uuid.UUID | None = None,
    on_roll: bool = True,
    family_group: uuid.UUID | None = None,
    preferred_name: str | None = None,
    authority_from_school: bool = True,
    fill: Callable[[Child], None] | None = None,
    number: int | None = None,
) -> Child:
    """A new child with the school's next reference number (flushes; the caller commits).

    `dob` may be None when nobody knows it yet (a child added off roll from a concern).
    `fill` sets the caller's other fields before the child is first written (the school roll:
    one INSERT with everything, not an INSERT and then an UPDATE). `number`: one the caller
    reserved (`reserve_child_numbers`), else the school's next.
    """
    if number is None:
        number = next(reserve_child_numbers(school, 1))
    child = Child(
        school_id=school.id,
        reference=f"C{number:04d}",
        # Without a known authority a child is taken to live in the school's, unless the caller
        # knows better (the roll's unknown home authority: the DSL chooses, never a guess).
        local_authority_code=local_authority_code
        or (reads.authority_code_of(school) if authority_from_school else None),
        created_by_id=created_by_id,
        on_roll=on_roll,
        family_group=family_group,
    )
    child.dob = dob
    child.send = send
    _assign_names(child, given_name, family_name, preferred_name)
    if fill is not None:
        fill(child)
    index_names(child)
    return child


def reserve_child_numbers(school: School, count: int) -> Iterator[int]:
    """The school's next `count` child reference numbers, taken at once.

    One change to the school's row for a batch, not one UPDATE a child: on PostgreSQL each
    UPDATE leaves a version of that row for the batch's later foreign key checks against it
    (name terms, contacts, audit events) to step over. It took a 3,000-pupil import from 39.8
    to 34.9 s; most of the rest of its slowness was plans made on empty tables
    (`portal.db.analyse_grown`)."""
    first = school.next_child_number
    school.next_child_number = first + count
    return iter(range(first, first + count))


def set_names(child: Child, *, given_name: str, family_name: str,
              preferred_name: str | None = None) -> None:
    """Set a child's names (encrypted) and rewrite every hash that finds them (flushes).

    With `add_child` (the same two steps, its other fields between them), the one place a
    child's names are set: a merge, the school roll and a DSL's correction call this, so
    search can never disagree with the names shown. The names replaced are kept as the
    child's earlier names (`Child.earlier_names`): a text written under them is still redacted
    in other children's files (R6).
    """
    _keep_earlier_names(child, given_name, family_name)
    _assign_names(child, given_name, family_name, preferred_name)
    index_names(child)


def _keep_earlier_names(child: Child, given_name: str, family_name: str) -> None:
    """The child's names as they are, among their earlier names, when they change."""
    if not_yet_written(child) or child.destroyed_at is not None:
        return
    before = ((child.given_name or "").strip(), (child.family_name or "").strip())
    if not any(before) or before == (given_name.strip(), family_name.strip()):
        return
    earlier = child.earlier_names
    if before not in earlier:
        child.former_names = json.dumps([*earlier, before], ensure_ascii=False)


def add_earlier_names(child: Child, earlier: Iterable[Sequence[str]]) -> None:
    """Names the child was recorded under elsewhere (a file from their previous school), kept
    among their own earlier names: found by search and hidden in other children's files as
    those are (R6). Their present names and names already kept are left out (flushes)."""
    known = child.earlier_names
    present = ((child.given_name or "").strip(), (child.family_name or "").strip())
    added: list[tuple[str, str]] = []
    for pair in earlier:
        given, family = (str(part or "").strip() for part in [*pair, "", ""][:2])
        name = (given, family)
        if any(name) and name != present and name not in known and name not in added:
            added.append(name)
    if added:
        child.former_names = json.dumps([*known, *added], ensure_ascii=False)
        index_names(child)


def _assign_names(child: Child, given_name: str, family_name: str,
                  preferred_name: str | None) -> None:
    """The names themselves (encrypted); `index_names` must follow before the next flush."""
    child.given_name = given_name
    child.family_name = family_name
    child.preferred_name = (preferred_name or "").strip() or None


def index_names(child: Child) -> None:
    """Rewrite the child's name hashes from its (decrypted) names (flushes; the caller commits).

    A merged record keeps its exact-name indexes (for R6) but no search terms: it is never
    found, its child is.
    """
    ring = keyring()
    org = str(child.school_id)
    given, family = child.given_name or "", child.family_name or ""
    full_index = ring.blind_index(org, NAME_INDEX, f"{given} {family}")
    family_index = ring.blind_index(org, FAMILY_NAME_INDEX, family or given)
    # Each earlier name's family name (or given name alone), as `family_name_index` (R6 finds
    # a text naming the child under it).
    earlier_names = child.earlier_names
    former = " ".join(sorted({ring.blind_index(org, FAMILY_NAME_INDEX, earlier)
                              for old_given, old_family in earlier_names
                              if (earlier := (old_family or old_given).strip())}))
    rows: set[str] = set()
    if child.merged_into_id is None:
        hashes = _hashers(org)
        # The names the child has now, and those they were recorded under before: staff who
        # knew them as "Jon Smyth" find John Smith, and are not led to add him again (walk 3:
        # the old name found no one, and a second record was made).
        for terms in [names.name_terms(given, family, child.preferred_name),
                      *(names.name_terms(*earlier) for earlier in earlier_names)]:
            rows |= {hashes[purpose](word)
                     for purpose, words in ((GIVEN_TERM, terms.given), (FAMILY_TERM, terms.family),
                                            (FULL_TERM, terms.full), (PREFIX_TERM, terms.prefixes))
                     for word in words}
    # Everything computed (the keys may be read from the database) before the child is
    # flushed with its indexes set.
    child.name_index = full_index
    child.family_name_index = family_index
    child.former_family_indexes = former or None
    # Marked indexed in the same flush as the names (one statement, not a second UPDATE); the
    # terms below are written in the same transaction, so nothing sees one without the other.
    child.search_version = SEARCH_VERSION
    written = not not_yet_written(child)  # a new child has no terms to replace
    db.session.add(child)
    db.session.flush()
    if written:
        db.session.execute(delete(ChildNameTerm).where(ChildNameTerm.child_id == child.id))
    if rows:
        db.session.execute(insert(ChildNameTerm), [
            {"child_id": child.id, "school_id": child.school_id, "term": term}
            for term in sorted(rows)])


def _hashers(org: str) -> dict[str, Callable[[str], str]]:
    """The term hash of each purpose, under the school's index key (keyed once)."""
    ring = keyring()

    def cut(keyed: Callable[[str], str]) -> Callable[[str], str]:
        return lambda word: keyed(word)[:TERM_HEX]

    return {purpose: cut(ring.blind_indexer(org, purpose))
            for purpose in (PREFIX_TERM, GIVEN_TERM, FAMILY_TERM, FULL_TERM)}


def index_batch(*, batch: int = 500) -> int:
    """Index up to `batch` children not yet indexed with this SEARCH_VERSION (a step of the
    upgrade's backfill, run by `flask index-child-names` and by `flask init-db`, which commit
    after each step); flushes; the number done, 0 when none is left. Safe to run again, or
    after it was stopped: it carries on from where it was. The children of a school whose keys
    were shredded are left (their names can no longer be read)."""
    shredded = shredded_orgs()
    query = select(Child).where(Child.search_version < SEARCH_VERSION,
                                Child.destroyed_at.is_(None))
    if shredded:
        query = query.where(Child.school_id.not_in(shredded))
    children = list(db.session.scalars(query.order_by(Child.id).limit(batch)))
    for child in children:
        index_names(child)
    db.session.flush()
    return len(children)


@dataclass(frozen=True, slots=True)
class Found:
    """A search's answer: the children's ids (by reference), and whether more matched."""

    ids: list[uuid.UUID]
    more: bool


def search(school_id: uuid.UUID, text: str, *, partial: bool,
           limit: int = MAX_RESULTS) -> Found:
    """The children of the school whose names match `text`, without decrypting any name.

    `partial` (DSLs): every word typed starts a word of the child's given, family or preferred
    name ("Zoe", "O Suil", "李小"), ignoring case and accents, in any order.
    Otherwise (staff, docs/security.md 3.4): the full name, in any order, ignoring case and
    accents: every word typed is a whole word of the child's names, and they include a given
    (or preferred) name and the family name; or the whole name typed run together ("李小龙").
    Merged records are never found.
    """
    words = names.query_words(text, whole=not partial)
    if not words:
        return Found([], False)
    hashes = _hashers(str(school_id))
    wanted: dict[str, tuple[int, str]] = {}
    purposes = (PREFIX_TERM,) if partial else (GIVEN_TERM, FAMILY_TERM, FULL_TERM)
    for position, word in enumerate(words):
        for purpose in purposes:
            wanted[hashes[purpose](word)] = (position, purpose)
    matched: dict[uuid.UUID, set[tuple[int, str]]] = {}
    for child_id, term in db.session.execute(
        select(ChildNameTerm.child_id, ChildNameTerm.term)
        .where(ChildNameTerm.school_id == school_id, ChildNameTerm.term.in_(list(wanted)))
    ):
        matched.setdefault(child_id, set()).add(wanted[term])
    ids = [child_id for child_id, hits in matched.items() if _matches(hits, len(words), partial)]
    if not ids:
        return Found([], False)
    ordered = list(db.session.scalars(
        select(Child.id).where(Child.school_id == school_id, Child.id.in_(ids),
                               Child.merged_into_id.is_(None))
        .order_by(Child.reference).limit(limit + 1)))
    return Found(ordered[:limit], len(ordered) > limit)


def _matches(hits: set[tuple[int, str]], count: int, partial: bool) -> bool:
    if {position for position, _ in hits} != set(range(count)):
        return False  # every word typed must match
    if partial:
        return True
    kinds = {purpose for _, purpose in hits}
    return FULL_TERM in kinds or {GIVEN_TERM, FAMILY_TERM} <= kinds


def found_children(school_id: uuid.UUID, ids: Sequence[uuid.UUID]) -> list[Child]:
    """The children of `ids` (of the school), in the order given."""
    if not ids:
        return []
    rows = {c.id: c for c in db.session.scalars(
        select(Child).where(Child.school_id == school_id, Child.id.in_(list(ids))))}
    return [rows[i] for i in ids if i in rows]


def label_for_dsl(child: Child) -> str:
    """A child as a DSL tells them apart: name, the name they go by, date of birth, year group
    (from the roll, where recorded) and reference."""
    parts = [child.full_name]
    if child.preferred_name and child.preferred_name != child.given_name:
        parts.append(f"goes by {child.preferred_name}")
    born = child.dob
    parts.append(f"born {day_words(born)}" if born else "date of birth not known")
    year = getattr(child, "year_group", None)
    if year not in (None, ""):
        parts.append(f"year {year}")
    earlier = child.recorded_before
    if earlier:  # a DSL who knew them by it (walk 5)
        parts.append(f"recorded before as {earlier}")
    return f"{', '.join(parts)} ({child.reference})"


def possible_duplicates(school_id: uuid.UUID, *, given_name: str, family_name: str,
                        dob: dt.date | None, preferred_name: str | None = None,
                        exclude: Iterable[uuid.UUID] = (), limit: int = 10) -> list[Child]:
    """Children of the school who may be the child about to be added: the same name once
    folded (case, accents, apostrophes, hyphens, spacing, either order), the typed given name
    being their preferred name (or theirs being it) with the same family name, or a name a few
    letters apart with the same date of birth, or with either date of birth not known (a walk:
    "Tobyas Wrenfeld", born not known, was added beside Tobias Wrenfield without a question).

    Candidates come from the search terms (children sharing a whole word or the first three
    letters of a word of the name): only those few are decrypted and compared.
    """
    typed = (given_name, family_name)
    words = names.query_words(f"{given_name} {family_name} {preferred_name or ''}", whole=True)
    hashes = _hashers(str(school_id))
    wanted = set()
    for word in words:
        wanted.add(hashes[GIVEN_TERM](word))
        wanted.add(hashes[FAMILY_TERM](word))
        wanted.add(hashes[PREFIX_TERM](word[:3]))
    skip = set(exclude)
    candidate_ids = {
        child_id for child_id in db.session.scalars(
            select(ChildNameTerm.child_id).where(ChildNameTerm.school_id == school_id,
                                                 ChildNameTerm.term.in_(list(wanted)))
            .distinct().limit(2000))
        if child_id not in skip}
    out: list[Child] = []
    for child in db.session.scalars(
        select(Child).where(Child.school_id == school_id, Child.id.in_(list(candidate_ids)),
                            Child.merged_into_id.is_(None)).order_by(Child.reference)
    ):
        theirs = (child.given_name, child.family_name)
        alias = child.preferred_name
        if (names.same_name(typed, theirs)
                or (alias and names.same_name(typed, (alias, child.family_name)))
                or (preferred_name and names.same_name((preferred_name, family_name), theirs))
                or ((dob is None or child.dob is None or child.dob == dob)
                    and names.similar_names(typed, theirs))):
            out.append(child)
            if len(out) >= limit:
                break
    return out


def name_search(school_id: uuid.UUID, text: str, *, family_name: bool = True) -> Select[Child]:
    """Children of the school whose full name (or, with `family_name`, family name) is exactly
    `text` (normalised).

    Who may search how (docs/security.md 3.4): staff find a child only by the full name (the
    child they are worried about, whose name they know); DSLs also by the family name alone,
    which lists every child of that family in the school.
    """
    ring = keyring()
    org = str(school_id)
    match = Child.name_index == ring.blind_index(org, NAME_INDEX, text)
    if family_name:
        match = match | (Child.family_name_index == ring.blind_index(org, FAMILY_NAME_INDEX, text))
    return select(Child).where(Child.school_id == school_id, match)
