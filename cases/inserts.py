"""INSERT statements for hot write paths, their SQL built once per shape of rows.

``Model.save()`` and ``bulk_create()`` compile their SQL afresh on every call and run the
whole save machinery around it: for a partner submission, which writes five tables, that
was about a third of the request's CPU. ``rows_insert`` writes the same values (each
field's own ``pre_save`` and ``get_db_prep_save``, so defaults, ``auto_now_add``, JSON and
UUIDs are stored exactly as the ORM stores them) with SQL cached per model, column set and
row count. It sends no ``pre_save``, ``post_save`` or ``m2m_changed`` signals, so it
refuses a model that has receivers for them.
"""

from collections.abc import Callable, Sequence
from functools import cache
from typing import Any

from django.db import DEFAULT_DB_ALIAS, connections
from django.db.models import Field, Model
from django.db.models.signals import m2m_changed, post_save, pre_save


def rows_insert(rows: Sequence[Model], *, returning_pk: bool = False) -> None:
    """INSERT ``rows`` (instances of one model) in one statement.

    The primary key is sent if the first row has one, else left to the database; with
    ``returning_pk`` the new keys are set on the rows. Rows are marked as saved either way.
    """
    if not rows:
        return
    model = type(rows[0])
    if any(signal.has_listeners(model) for signal in (pre_save, post_save, m2m_changed)):
        raise TypeError(f"{model.__name__} has save signal receivers: use the ORM instead")
    with_pk = rows[0].pk is not None
    fields = _fields(model, with_pk)
    # The connection itself, not django.db.connection: each attribute read through that proxy
    # looks the connection up again, and the fields read it several times per value.
    connection = connections[DEFAULT_DB_ALIAS]
    params: list[Any] = []
    for row in rows:
        params += [
            field.get_db_prep_save(field.pre_save(row, True), connection) for field in fields
        ]
    with connection.cursor() as cursor:
        cursor.execute(
            _sql(connection.ops.quote_name, model, with_pk, len(rows), returning_pk), params
        )
        if returning_pk:
            for row, (pk,) in zip(rows, cursor.fetchall(), strict=True):
                row.pk = pk
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
