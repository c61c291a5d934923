"""Set-based upsert of a DataFrame into a model's table, keyed on the external id.

PostgreSQL: COPY the frame into a temporary staging table, then one
``INSERT … SELECT … ON CONFLICT (key) DO UPDATE … WHERE (stored) IS DISTINCT FROM (incoming)``,
so rows that did not change are not written at all. SQLite (the small demo default): the same
upsert through one executemany. Callers pass columns already in database form (strings,
integers, booleans; "" or NA for a missing value); this module knows nothing about the SSD
format.

Rows the caller knows to be new (it holds the lock that keeps them so) may be marked ``new``:
they are then inserted with no conflict handling (on PostgreSQL, copied straight into the
table, with no staging table); a row that was not new after all fails the unique key with an
``IntegrityError``, as any insert would.

``stage`` does the CPU work (rendering CSV) without touching the database, so a caller may
run it on another thread while the database writes something else; ``write_staged`` then
writes on the caller's connection. A caller whose columns are typed (integers, dates, JSON
text) may name their ``earlyhelp.pgcopy`` kinds instead: the rows then go in PostgreSQL's
binary format, with no text to render or parse.
"""

import io
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pandas as pd
from django.db import connection, models

from earlyhelp import pgcopy

COPY_CHUNK_ROWS = 200_000
_STAGE = "_ssd_stage"
_ORDER = "_ssd_row"
_TEXT_TYPES = {"CharField", "TextField", "EmailField", "SlugField", "URLField", "JSONField"}


@dataclass(frozen=True)
class Staged:
    """Rows ready to write: CSV chunks (or one binary stream) for COPY (PostgreSQL) or
    parameter tuples (SQLite)."""

    model: type[models.Model]
    columns: list[str]
    constants: Mapping[str, Any]
    conflict: Sequence[str]
    update: Sequence[str]
    ordered: bool
    chunks: list[str] | list[bytes]
    rows: list[tuple[Any, ...]]
    not_compared: Sequence[str] = ("updated_at",)
    new: bool = False

    @property
    def binary(self) -> bool:
        return bool(self.chunks) and isinstance(self.chunks[0], bytes)


def upsert(
    model: type[models.Model],
    frame: pd.DataFrame,
    *,
    constants: Mapping[str, Any],
    conflict: Sequence[str],
    update: Sequence[str],
    ordered: bool = False,
    not_compared: Sequence[str] = ("updated_at",),
    kinds: Mapping[str, str] | None = None,
    new: bool = False,
) -> None:
    """Insert the frame's rows, or update the stored row with the same ``conflict`` columns.

    ``constants`` are columns with one value for every row (timestamps, defaults), sent once
    rather than row by row. ``update`` names the columns an existing row takes from the
    incoming one; they are compared first, so identical rows are left alone (columns in
    ``not_compared``, ``updated_at`` by default, are set but not compared). Other columns are
    written on insert only. With ``ordered`` the rows are written in the frame's order, which
    matters when one row must give up a partly unique value (an open episode being closed)
    before another takes it. ``kinds`` (every column's ``pgcopy`` kind) sends the rows in
    binary on PostgreSQL; a missing value is then NA, and text that is not null must be "".
    With ``new`` no row is stored yet under its ``conflict`` key (see the module's notes); the
    constants then need kinds too when ``kinds`` is given.
    """
    write_staged(
        stage(
            model,
            frame,
            constants=constants,
            conflict=conflict,
            update=update,
            ordered=ordered,
            vendor=connection.vendor,
            not_compared=not_compared,
            kinds=kinds,
            new=new,
        )
    )


def stage(
    model: type[models.Model],
    frame: pd.DataFrame,
    *,
    constants: Mapping[str, Any],
    conflict: Sequence[str],
    update: Sequence[str],
    ordered: bool,
    vendor: str,
    not_compared: Sequence[str] = ("updated_at",),
    kinds: Mapping[str, str] | None = None,
    new: bool = False,
) -> Staged:
    """Render the rows for ``vendor`` (see ``upsert``); no database access."""
    if new and ordered:
        raise ValueError("New rows are copied in any order")
    if new and vendor == "postgresql":  # the constants travel as columns, straight to the table
        frame = frame.assign(**constants)
        constants = {}
    columns = [str(c) for c in frame.columns]
    chunks: list[str] | list[bytes] = []
    rows: list[tuple[Any, ...]] = []
    if vendor == "postgresql" and kinds is not None:
        if ordered:
            raise ValueError("Binary rows are written in any order")
        chunks = [pgcopy.encode(frame, [(column, kinds[column]) for column in columns])]
    elif vendor == "postgresql":
        texts: list[str] = []
        for start in range(0, len(frame), COPY_CHUNK_ROWS):
            chunk = frame.iloc[start : start + COPY_CHUNK_ROWS]
            if ordered:
                chunk = chunk.assign(**{_ORDER: range(start, start + len(chunk))})
            buffer = io.StringIO()
            chunk.to_csv(buffer, header=False, index=False, lineterminator="\n")
            texts.append(buffer.getvalue())
        chunks = texts
    else:
        if kinds is not None:  # typed dates, in the form SQLite keeps them
            frame = frame.assign(
                **{
                    column: pd.to_datetime(frame[column]).dt.strftime("%Y-%m-%d")
                    for column in columns
                    if kinds[column] == "date"
                }
            )
        values = frame.assign(**constants).astype(object)
        keep_empty = _not_null_text_columns(model)
        for column in values.columns:
            missing = values[column].isna()
            if column not in keep_empty:  # "" means no value (a date, say)
                missing |= values[column].eq("")
            values[column] = values[column].where(~missing, None)
        rows = list(values.itertuples(index=False, name=None))
    return Staged(
        model,
        columns,
        constants,
        conflict,
        update,
        ordered,
        chunks,
        rows,
        tuple(not_compared),
        new,
    )


def write_staged(staged: Staged) -> None:
    """Write what ``stage`` prepared, on this thread's connection."""
    if not staged.chunks and not staged.rows:
        return
    if connection.vendor == "postgresql":
        _write_postgresql(staged)
    else:
        _write_executemany(staged)


def _q(name: str) -> str:
    return connection.ops.quote_name(name)


def _set_clause(update: Sequence[str]) -> str:
    return ", ".join(f"{_q(c)} = EXCLUDED.{_q(c)}" for c in update)


def _compared(staged: Staged) -> list[str]:
    return [c for c in staged.update if c not in staged.not_compared]


def _not_null_text_columns(model: type[models.Model]) -> set[str]:
    """Columns where an empty cell means the empty string, not NULL."""
    return {
        str(f.column)
        for f in model._meta.concrete_fields
        if not f.null and f.get_internal_type() in _TEXT_TYPES
    }


def _write_postgresql(staged: Staged) -> None:
    model, constants = staged.model, staged.constants
    table = _q(model._meta.db_table)
    staged_columns = ", ".join(_q(c) for c in staged.columns)
    copied = staged_columns + (f", {_ORDER}" if staged.ordered else "")
    fields = {str(f.column): f for f in model._meta.concrete_fields}
    constant_values = "".join(f", CAST(%s AS {fields[c].db_type(connection)})" for c in constants)
    inserted = ", ".join(_q(c) for c in [*staged.columns, *constants])
    compared = _compared(staged)
    not_null = [c for c in staged.columns if c in _not_null_text_columns(model)]
    force = f", FORCE_NOT_NULL ({', '.join(_q(c) for c in not_null)})" if not_null else ""
    form = "binary" if staged.binary else f"csv{force}"
    with connection.cursor() as cursor:
        if staged.new:
            for chunk in staged.chunks:
                with connection.wrap_database_errors:  # a duplicate is an IntegrityError
                    cursor.copy_expert(
                        f"COPY {table} ({staged_columns}) FROM STDIN WITH (FORMAT {form})",
                        io.BytesIO(chunk) if isinstance(chunk, bytes) else io.StringIO(chunk),
                    )
            return
        cursor.execute(
            f"CREATE TEMPORARY TABLE {_STAGE} ON COMMIT DROP AS "  # noqa: S608 - names are ours
            f"SELECT {staged_columns}, 0::integer AS {_ORDER} FROM {table} WITH NO DATA"
        )
        for chunk in staged.chunks:
            stream = io.BytesIO(chunk) if isinstance(chunk, bytes) else io.StringIO(chunk)
            cursor.copy_expert(f"COPY {_STAGE} ({copied}) FROM STDIN WITH (FORMAT {form})", stream)
        stored = ", ".join(f"{table}.{_q(c)}" for c in compared)
        incoming = ", ".join(f"EXCLUDED.{_q(c)}" for c in compared)
        cursor.execute(
            f"INSERT INTO {table} ({inserted}) "  # noqa: S608 - names are ours
            f"SELECT {staged_columns}{constant_values} FROM {_STAGE}"
            f"{f' ORDER BY {_ORDER}' if staged.ordered else ''} "
            f"ON CONFLICT ({', '.join(_q(c) for c in staged.conflict)}) "
            f"DO UPDATE SET {_set_clause(staged.update)} "
            f"WHERE ({stored}) IS DISTINCT FROM ({incoming})",
            list(constants.values()),
        )
        cursor.execute(f"DROP TABLE {_STAGE}")


def _write_executemany(staged: Staged) -> None:
    table = _q(staged.model._meta.db_table)
    columns = [*staged.columns, *staged.constants]
    sql = (
        f"INSERT INTO {table} ({', '.join(_q(c) for c in columns)}) "  # noqa: S608 - names are ours
        f"VALUES ({', '.join(['%s'] * len(columns))})"
    )
    if not staged.new:
        changed = " OR ".join(f"{table}.{_q(c)} IS NOT EXCLUDED.{_q(c)}" for c in _compared(staged))
        sql += (
            f" ON CONFLICT ({', '.join(_q(c) for c in staged.conflict)}) "
            f"DO UPDATE SET {_set_clause(staged.update)} WHERE {changed}"
        )
    with connection.cursor() as cursor:
        cursor.executemany(sql, staged.rows)
