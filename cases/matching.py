"""Which existing people a submitted person may be: candidates with a score and reasons.

Matching only proposes. A triage practitioner confirms or rejects each candidate
(``cases.services.match_candidate_confirm``), so two records are never merged silently. The
reasons say which facts agreed, never the facts themselves, so they can be shown and logged
without repeating personal data.
"""

import datetime as dt
import unicodedata
from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Q, QuerySet
from rapidfuzz import fuzz

from .models import Address, FamilyMembership, Person

# Candidates scoring below this are not worth a practitioner's time.
THRESHOLD = 70
# How many same-day or same-surname people are compared at most, to bound the work.
SEARCH_LIMIT = 200


@dataclass(frozen=True)
class Facts:
    """What matching compares, for a submitted person or an existing one."""

    forename: str
    surname: str
    born_on: dt.date | None
    nhs_number: str = ""
    postcodes: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Match:
    person_id: int
    score: Decimal
    reasons: tuple[str, ...]


def normalise_name(name: str) -> str:
    decomposed = unicodedata.normalize("NFKD", name)
    letters = "".join(c for c in decomposed if c.isalpha() or c.isspace())
    return " ".join(letters.lower().split())


def normalise_postcode(postcode: str) -> str:
    return "".join(postcode.upper().split())


def _date_agreement(left: dt.date | None, right: dt.date | None) -> tuple[int, str | None]:
    if left is None or right is None:
        return 0, None
    if left == right:
        return 30, "date of birth identical"
    if (left.year, left.month, left.day) == (right.year, right.day, right.month):
        return 20, "date of birth with day and month swapped"
    if abs((left - right).days) <= 2:
        return 15, "date of birth within two days"
    if (left.year, left.month) == (right.year, right.month):
        return 5, "date of birth in the same month"
    return -10, "date of birth different"


def _postcode_agreement(left: frozenset[str], right: frozenset[str]) -> tuple[int, str | None]:
    if left & right:
        return 10, "postcode identical"
    if {code[:-3] for code in left} & {code[:-3] for code in right}:
        return 5, "same postcode district"
    return 0, None


def _name_agreement(label: str, left: str, right: str) -> tuple[int, str]:
    ratio = fuzz.ratio(normalise_name(left), normalise_name(right))
    if ratio >= 90:
        return 30, f"{label} {'identical' if ratio == 100 else 'nearly identical'} ({ratio:.0f}%)"
    if ratio >= 75:
        return 15, f"{label} similar ({ratio:.0f}%)"
    return -10, f"{label} different ({ratio:.0f}%)"


def score(submitted: Facts, existing: Facts) -> tuple[Decimal, tuple[str, ...]]:
    """A 0–100 likelihood that two descriptions are one person, and why.

    An identical NHS number is decisive (100); two different NHS numbers rule a match out
    (0). Otherwise each fact adds when it agrees and subtracts when it disagrees (surname,
    forename and date of birth ±30, postcode up to 10), so a twin — same surname, birthday
    and address, another forename — stays below the threshold.
    """
    if submitted.nhs_number and submitted.nhs_number == existing.nhs_number:
        return Decimal(100), ("NHS number identical",)
    if submitted.nhs_number and existing.nhs_number:
        return Decimal(0), ("NHS numbers differ",)
    parts = [
        _name_agreement("surname", submitted.surname, existing.surname),
        _name_agreement("forename", submitted.forename, existing.forename),
        _date_agreement(submitted.born_on, existing.born_on),
        _postcode_agreement(submitted.postcodes, existing.postcodes),
    ]
    total = min(100, max(0, sum(points for points, _ in parts)))
    return Decimal(total), tuple(reason for _, reason in parts if reason)


def find_candidates(submitted: Facts, *, among: QuerySet[Person] | None = None) -> list[Match]:
    """Existing people worth showing to triage for ``submitted``, best first.

    Looks at the person with the same NHS number, people born on the same day (or the day
    and month swapped), and people of the same surname born the same year: three queries
    whatever the number of people, comparing at most ``SEARCH_LIMIT`` of them. Partner
    requests run it in Celery, off the request path; the "add a person" pages run it within
    ``among``, the people the user may see.
    """
    found = _nearby_people(submitted, Person.objects.all() if among is None else among)
    postcodes = _postcodes_of(list(found))
    matches = []
    for pk, facts in found.items():
        facts = Facts(facts.forename, facts.surname, facts.born_on, facts.nhs_number, postcodes[pk])
        value, reasons = score(submitted, facts)
        if value >= THRESHOLD:
            matches.append(Match(pk, value, reasons))
    return sorted(matches, key=lambda match: match.score, reverse=True)


def _nearby_people(submitted: Facts, people: QuerySet[Person]) -> dict[int, Facts]:
    query = Q(pk__in=[])
    if submitted.nhs_number:
        query |= Q(nhs_number=submitted.nhs_number)
    if submitted.born_on is not None:
        born = submitted.born_on
        query |= Q(date_of_birth=born) | Q(expected_date_of_birth=born)
        if born.day <= 12 and born.day != born.month:
            query |= Q(date_of_birth=born.replace(month=born.day, day=born.month))
        if submitted.surname:
            query |= Q(surname__iexact=submitted.surname, date_of_birth__year=born.year)
    rows = people.filter(query).values_list(
        "pk", "forename", "surname", "date_of_birth", "expected_date_of_birth", "nhs_number"
    )[:SEARCH_LIMIT]
    return {
        pk: Facts(forename, surname, born or expected, nhs)
        for pk, forename, surname, born, expected, nhs in rows
    }


def _postcodes_of(person_ids: list[int]) -> dict[int, frozenset[str]]:
    found: dict[int, set[str]] = defaultdict(set)
    if person_ids:
        households = FamilyMembership.objects.filter(
            person_id__in=person_ids, ended_on__isnull=True
        ).values_list("person_id", "family__postcode")
        addresses = Address.objects.filter(
            person_id__in=person_ids, ended_on__isnull=True
        ).values_list("person_id", "postcode")
        for pk, postcode in [*households, *addresses]:
            if postcode:
                found[pk].add(normalise_postcode(postcode))
    return defaultdict(frozenset, {pk: frozenset(codes) for pk, codes in found.items()})
