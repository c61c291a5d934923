"""INSERT statements for hot write paths, their SQL built once per shape of rows.

``Model.save()`` and ``bulk_create()`` compile their SQL afresh on every call and run the
whole save machinery around it: for a partner submission, which writes five tables, that
was about a third of the request's CPU. ``rows_insert`` writes the same values (each
field's own ``pre_save`` and ``get_db_prep_save``, so defaults, ``auto_now_add``, JSON and
UUIDs are stored exactly as the ORM stores them) with SQL cached per model, column set and
row count. It sends no ``pre_save``, ``post_save`` or ``m2m_changed`` signals, so it
refuses a model that has receivers for them.

``InsertBatch`` goes further on PostgreSQL: the keys the rows need are drawn from their
sequences in one query, and the INSERTs of several tables go in one round trip.

Measured against the plain ORM (``bulk_create`` per table, keys from the database) on
``make bench-api``, three interleaved pairs on 2 cores: the ORM spent 4.4-5.3 ms of gunicorn
CPU and 1.7-1.8 ms of PostgreSQL's per submission and served 178-223/s, twice with a p99
over a second; with ``InsertBatch`` 3.2-4.1 ms and 1.1-1.5 ms, 207-285/s, p99 under 200 ms.
"""

from collections.abc import Callable, Sequence
from functools import cache
from typing import Any

from django.db import DEFAULT_DB_ALIAS, connections
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models import Field, Model
from django.db.models.signals import m2m_changed, post_save, pre_save


def rows_insert(rows: Sequence[Model], *, returning_pk: bool = False) -> None:
    """INSERT ``rows`` (instances of one model) in one statement.

    The primary key is sent if the first row has one, else left to the database; with
    ``returning_pk`` the new keys are set on the rows. Rows are marked as saved either way.
    """
    if not rows:
        return
    # The connection itself, not django.db.connection: each attribute read through that proxy
    # looks the connection up again, and the fields read it several times per value.
    connection = connections[DEFAULT_DB_ALIAS]
    sql, params = _statement(connection, rows, returning_pk)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        if returning_pk:
            for row, (pk,) in zip(rows, cursor.fetchall(), strict=True):
                row.pk = pk
    _saved(connection, rows)


class InsertBatch:
    """The INSERTs of one unit of work, sent together.

    On PostgreSQL ``add`` only gathers, and ``send`` sends every statement in one round
    trip: so a row that later rows refer to must have its key before, from ``reserve``,
    which draws the keys of several rows, and the next values of other sequences, in one
    query. Elsewhere (SQLite, the embedded default) there is nothing to reserve
    (``gathering`` is false): ``add`` inserts at once, setting the new keys on the rows.
    """

    def __init__(self) -> None:
        self.connection = connections[DEFAULT_DB_ALIAS]
        self.gathering = self.connection.vendor == "postgresql"
        self._statements: list[tuple[str, list[Any], Sequence[Model]]] = []

    def reserve(self, rows: Sequence[Model], sequences: Sequence[str] = ()) -> list[int]:
        """Give each of ``rows`` its primary key from its table's sequence, and return the
        next value of each of ``sequences``: one query. PostgreSQL only."""
        if not self.gathering:
            raise RuntimeError("Keys are reserved from sequences on PostgreSQL only")
        names = [*sequences, *(_pk_sequence(self.connection, type(row)) for row in rows)]
        with self.connection.cursor() as cursor:
            cursor.execute("SELECT " + ", ".join(["nextval(%s)"] * len(names)), names)
            values = list(cursor.fetchone())
        for row, pk in zip(rows, values[len(sequences) :], strict=True):
            row.pk = pk
        return values[: len(sequences)]

    def add(self, rows: Sequence[Model]) -> None:
        """INSERT ``rows`` (of one model) with the batch: gathered, or at once (see above)."""
        if not rows:
            return
        if not self.gathering:
            rows_insert(rows, returning_pk=rows[0].pk is None)
            return
        # Foreign keys are read now: a row this one refers to must have its key already.
        self._statements.append((*_statement(self.connection, rows, False), rows))

    def send(self) -> None:
        """Send what ``add`` gathered, in one round trip: PostgreSQL runs the statements in
        order, and any failure fails them all with the caller's transaction."""
        if not self._statements:
            return
        statements, self._statements = self._statements, []
        sql = ";\n".join(statement for statement, _, _ in statements)
        params = [value for _, values, _ in statements for value in values]
        with self.connection.cursor() as cursor:
            cursor.execute(sql, params)
        for _, _, rows in statements:
            _saved(self.connection, rows)


def _statement(
    connection: BaseDatabaseWrapper, rows: Sequence[Model], returning_pk: bool
) -> tuple[str, list[Any]]:
    model = type(rows[0])
    if any(signal.has_listeners(model) for signal in (pre_save, post_save, m2m_changed)):
        raise TypeError(f"{model.__name__} has save signal receivers: use the ORM instead")
    with_pk = rows[0].pk is not None
    fields = _fields(model, with_pk)
    params: list[Any] = []
    for row in rows:
        params += [
            field.get_db_prep_save(field.pre_save(row, True), connection) for field in fields
        ]
    return _sql(connection.ops.quote_name, model, with_pk, len(rows), returning_pk), params


def _saved(connection: BaseDatabaseWrapper, rows: Sequence[Model]) -> None:
    for row in rows:
        row._state.adding = False
        row._state.db = connection.alias


@cache
def _fields(model: type[Model], with_pk: bool) -> tuple[Field, ...]:
    return tuple(
        field for field in model._meta.local_concrete_fields if with_pk or not field.primary_key
    )


@cache
def _sql(
    quote: Callable[[str], str], model: type[Model], with_pk: bool, count: int, returning_pk: bool
) -> str:
    fields = _fields(model, with_pk)
    row = "(" + ", ".join(["%s"] * len(fields)) + ")"
    sql = (
        f"INSERT INTO {quote(model._meta.db_table)} "  # noqa: S608  (names from the model)
        f"({', '.join(quote(field.column) for field in fields)}) "
        f"VALUES {', '.join([row] * count)}"
    )
    if returning_pk:
        sql += f" RETURNING {quote(model._meta.pk.column)}"
    return sql


def _pk_sequence(connection: BaseDatabaseWrapper, model: type[Model]) -> str:
    return _pk_sequences.get(model) or _pk_sequence_read(connection, model)


_pk_sequences: dict[type[Model], str] = {}


def _pk_sequence_read(connection: BaseDatabaseWrapper, model: type[Model]) -> str:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_get_serial_sequence(%s, %s)",
            [connection.ops.quote_name(model._meta.db_table), model._meta.pk.column],
        )
        (name,) = cursor.fetchone()
    _pk_sequences[model] = name
    return str(name)
