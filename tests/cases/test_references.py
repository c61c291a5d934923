"""Human references: unique and increasing per prefix, past every stored one, never reused."""

import re

import pytest

from cases.references import references_allocate, references_last, references_sync
from tests import factories

pytestmark = pytest.mark.django_db


def number(reference: str) -> int:
    return int(reference.split("-", 1)[1])


def test_references_are_formatted_and_increase():
    first, second = references_allocate("R"), references_allocate("R")

    assert re.fullmatch(r"R-\d{6,}", first[0])
    assert number(second[0]) > number(first[0])
    assert references_last("R") == number(second[0])


def test_a_block_is_increasing_and_unique():
    block = references_allocate("F", 50)

    numbers = [number(reference) for reference in block]
    assert numbers == sorted(set(numbers)) and len(numbers) == 50
    assert references_allocate("F", 0) == []


@pytest.mark.parametrize(("prefix", "count"), [("X", 1), ("F", -1)])
def test_unknown_prefixes_and_negative_counts_are_refused(prefix, count):
    with pytest.raises(ValueError):
        references_allocate(prefix, count)


def test_sync_moves_numbering_past_references_stored_some_other_way():
    # given a family whose reference did not come from the allocator (a restore, a bulk load)
    stored = factories.FamilyFactory(reference=f"F-{references_last('F') + 500:06d}")

    references_sync("F")

    (fresh,) = references_allocate("F")
    assert number(fresh) == number(stored.reference) + 1


def test_sync_never_moves_numbering_back():
    references_allocate("F", 3)
    last = references_last("F")
    factories.FamilyFactory(reference="F-000001")

    references_sync("F")

    assert references_last("F") == last
