"""Two people acting at once cannot break an invariant: the second is refused cleanly."""

import datetime as dt
import threading
import time

import pytest
from django.core.exceptions import ValidationError
from django.db import connection, transaction

from cases import services
from cases.models import Episode
from cases.references import references_allocate

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


def run_together(*calls):
    """Run the calls in threads released at the same moment; return results or exceptions."""
    barrier = threading.Barrier(len(calls))
    outcomes: list[object] = [None] * len(calls)

    def runner(index, call):
        try:
            barrier.wait()
            outcomes[index] = call()
        except Exception as exc:  # the outcome under test
            outcomes[index] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=runner, args=(i, c)) for i, c in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    return outcomes


def test_two_simultaneous_opens_create_one_episode(practitioner, manager, ref):
    family = services.family_create(actor=practitioner)
    child = services.person_create(
        actor=practitioner,
        family=family,
        forename="Ada",
        surname="Test",
        date_of_birth=dt.date(2017, 1, 1),
    )

    def open_episode(actor):
        return lambda: services.episode_open(
            actor=actor,
            family=family,
            child=child,
            service=ref.service(),
            level=ref.level("L2"),
            started_on=dt.date(2024, 1, 1),
            origin="front_door",
        )

    outcomes = run_together(open_episode(practitioner), open_episode(manager))

    assert Episode.objects.filter(child=child).count() == 1
    assert sorted(type(o).__name__ for o in outcomes) == ["Episode", "ValidationError"]


def test_two_simultaneous_closes_close_once(practitioner, manager, ref):
    family = services.family_create(actor=practitioner)
    child = services.person_create(
        actor=practitioner,
        family=family,
        forename="Ada",
        surname="Test",
        date_of_birth=dt.date(2017, 1, 1),
    )
    episode = services.episode_open(
        actor=practitioner,
        family=family,
        child=child,
        service=ref.service(),
        level=ref.level("L2"),
        started_on=dt.date(2024, 1, 1),
        origin="front_door",
    )

    def close(actor, day):
        return lambda: services.episode_close(
            actor=actor,
            episode=episode,
            ended_on=dt.date(2024, 5, day),
            end_reason=ref.end_reason("MOVED"),
        )

    outcomes = run_together(close(practitioner, 1), close(manager, 2))

    errors = [o for o in outcomes if isinstance(o, ValidationError)]
    assert len(errors) == 1 and "already closed" in str(errors[0])
    assert family.events.filter(kind="episode_closed").count() == 1


def test_allocating_a_reference_does_not_wait_for_other_open_transactions():
    # given one transaction that took a reference and stays open
    taken = threading.Event()
    release = threading.Event()

    def holder():
        with transaction.atomic():
            (reference,) = references_allocate("R")
            taken.set()
            release.wait(timeout=10)
        return reference

    def other():
        taken.wait(timeout=10)
        started = time.monotonic()
        (reference,) = references_allocate("R")
        waited = time.monotonic() - started
        release.set()
        return reference, waited

    # when another takes one meanwhile
    held, (mine, waited) = run_together(holder, other)

    # then it got a different number at once, not after the first committed
    assert held != mine
    assert waited < 2


def test_simultaneous_allocations_never_collide():
    def allocate_many():
        numbers = []
        for size in (1, 3, 1, 5, 1) * 4:
            with transaction.atomic():
                numbers += references_allocate("F", size)
        return numbers

    outcomes = run_together(*[allocate_many for _ in range(6)])

    references = [reference for numbers in outcomes for reference in numbers]
    assert len(references) == 6 * 44
    assert len(set(references)) == len(references)


def test_a_reference_taken_by_a_rolled_back_transaction_is_never_reused():
    with transaction.atomic():
        (lost,) = references_allocate("R")
        transaction.set_rollback(True)

    (next_one,) = references_allocate("R")

    assert int(next_one[2:]) > int(lost[2:])
