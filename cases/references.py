"""Human references such as F-000123, handed out in blocks under a row lock."""

from django.db import transaction

from .models import ReferenceCounter


def references_allocate(prefix: str, count: int = 1) -> list[str]:
    """Reserve ``count`` consecutive references for ``prefix`` ("F", "R") and return them.

    The counter row is locked for the rest of the caller's transaction, so two concurrent
    callers never receive the same number.
    """
    if count < 0:
        raise ValueError("count must not be negative")
    with transaction.atomic():
        counter, _ = ReferenceCounter.objects.select_for_update().get_or_create(prefix=prefix)
        first = counter.last_value + 1
        counter.last_value += count
        counter.save(update_fields=["last_value"])
    return [f"{prefix}-{n:06d}" for n in range(first, first + count)]
