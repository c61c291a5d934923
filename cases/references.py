"""Human references such as F-000123: unique per prefix, increasing, never handed out twice.

On PostgreSQL each prefix has a sequence (``cases_reference_f``…, created by migration
0004 and owned by the column that stores the references) and a reference is one
``nextval``: nothing is locked, so concurrent transactions never wait for each other. That
is what lets partner submissions run in parallel; a counter row locked until commit made
every submission wait for the one before it.

Sequences are not transactional, so a transaction that rolls back leaves a gap in the
numbering (F-000007 may never exist). That is harmless: a reference only has to be unique
and stable, never gap-free. Emptying the owning table with ``TRUNCATE … RESTART IDENTITY``
(``manage.py flush``, the import benchmark) restarts the sequence with it.

Other databases (SQLite, the embedded default, which lets one writer in at a time anyway)
keep the last number in a ``ReferenceCounter`` row, bumped by a single UPDATE.
"""

from django.apps import apps
from django.db import connection, transaction
from django.db.models import F

from .models import ReferenceCounter

# The model whose ``reference`` column holds each prefix's references.
HOLDERS = {"F": "cases.Family", "R": "cases.Referral"}


def references_allocate(prefix: str, count: int = 1) -> list[str]:
    """Hand out ``count`` new references for ``prefix`` ("F", "R"), in increasing order.

    No two callers receive the same number. On PostgreSQL a number taken by a transaction
    that then rolls back is lost, not reused (a gap), and the numbers of one call are not
    necessarily consecutive when others allocate at the same moment. On SQLite the counter
    row rolls back with the caller's transaction.
    """
    if count < 0:
        raise ValueError("count must not be negative")
    _check_prefix(prefix)
    if count == 0:
        return []
    if connection.vendor == "postgresql":
        numbers = _sequence_next(prefix, count)
    else:
        numbers = _counter_next(prefix, count)
    return [reference_format(prefix, n) for n in numbers]


def reference_format(prefix: str, number: int) -> str:
    """``R``, 7 → ``R-000007``: a reference as handed out."""
    return f"{prefix}-{number:06d}"


def references_last(prefix: str) -> int:
    """The highest number handed out for ``prefix`` so far (0 if none)."""
    _check_prefix(prefix)
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            name = sequence_name(prefix)
            cursor.execute(f"SELECT last_value, is_called FROM {name}")  # noqa: S608  (fixed)
            last_value, is_called = cursor.fetchone()
        return int(last_value) if is_called else 0
    counter = ReferenceCounter.objects.filter(prefix=prefix).first()
    return counter.last_value if counter is not None else 0


def references_sync(prefix: str) -> int:
    """Move ``prefix``'s numbering past the highest reference stored in its table.

    For rows that got their references some other way than ``references_allocate`` (a bulk
    load, a restore): the next reference handed out is then above all of them. Never moves
    the numbering back. Returns the highest number now taken.
    """
    _check_prefix(prefix)
    stored = _highest_stored(prefix)
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            # Only ever forwards: setval below the sequence's value could hand a number out twice.
            name = sequence_name(prefix)
            cursor.execute(
                f"SELECT setval(%s, %s) FROM {name} "  # noqa: S608  (a fixed name)
                "WHERE %s > CASE WHEN is_called THEN last_value ELSE 0 END",
                [name, stored, stored],
            )
        return references_last(prefix)
    with transaction.atomic():
        counter, _ = ReferenceCounter.objects.get_or_create(prefix=prefix)
        ReferenceCounter.objects.filter(pk=counter.pk, last_value__lt=stored).update(
            last_value=stored
        )
    return references_last(prefix)


def sequence_name(prefix: str) -> str:
    """The PostgreSQL sequence behind ``prefix`` (a fixed, safe identifier)."""
    _check_prefix(prefix)
    return f"cases_reference_{prefix.lower()}"


def _check_prefix(prefix: str) -> None:
    # Also what makes sequence_name safe to put in SQL: only these prefixes get that far.
    if prefix not in HOLDERS:
        raise ValueError(f"Unknown reference prefix {prefix!r}: add it to HOLDERS first")


def _sequence_next(prefix: str, count: int) -> list[int]:
    with connection.cursor() as cursor:
        if count == 1:
            cursor.execute("SELECT nextval(%s)", [sequence_name(prefix)])
        else:
            cursor.execute(
                "SELECT nextval(%s) FROM generate_series(1, %s)", [sequence_name(prefix), count]
            )
        return sorted(row[0] for row in cursor.fetchall())


def _counter_next(prefix: str, count: int) -> list[int]:
    # UPDATE first: it takes the write lock before anything is read, so two writers are
    # serialised by the database instead of both reading the same last value.
    with transaction.atomic():
        bumped = ReferenceCounter.objects.filter(prefix=prefix).update(
            last_value=F("last_value") + count
        )
        if not bumped:
            ReferenceCounter.objects.create(prefix=prefix, last_value=count)
        last = ReferenceCounter.objects.values_list("last_value", flat=True).get(prefix=prefix)
    return list(range(last - count + 1, last + 1))


def _highest_stored(prefix: str) -> int:
    """The highest number among the ``<prefix>-<digits>`` references in the holder's table."""
    model = apps.get_model(HOLDERS[prefix])
    start = len(prefix) + 2  # 1-based position of the first digit
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT max(substring(reference FROM {start})::bigint) "  # noqa: S608
                f"FROM {model._meta.db_table} "
                f"WHERE reference ~ '^{prefix}-[0-9]+$'"
            )
            (value,) = cursor.fetchone()
            return int(value or 0)
    highest = 0
    references = model._default_manager.filter(reference__startswith=f"{prefix}-")
    for reference in references.values_list("reference", flat=True).iterator():
        digits = reference[start - 1 :]
        if digits.isdigit():
            highest = max(highest, int(digits))
    return highest
