"""Two people acting at once cannot break an invariant: the second is refused cleanly."""

import datetime as dt
import threading

import pytest
from django.core.exceptions import ValidationError
from django.db import connection

from cases import services
from cases.models import Episode

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
