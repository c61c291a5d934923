"""The binary COPY encoder round-trips through PostgreSQL: NULLs, empty and accented text,
dates either side of 2000-01-01, and rows of different shapes."""

import datetime as dt
import io
import json
import uuid
from decimal import Decimal

import pandas as pd
import pytest
from django.db import connection

from earlyhelp import pgcopy

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]

SQL_TYPES = {
    "int8": "bigint",
    "int2": "smallint",
    "date": "date",
    "timestamptz": "timestamptz",
    "numeric": "numeric",
    "text": "text",
    "jsonb": "jsonb",
    "uuid": "uuid",
}


def copied(frame, kinds, select="*"):
    """The frame copied in binary into a temporary table of its kinds' types, read back by id."""
    columns = ", ".join(f'"{name}" {SQL_TYPES[kind]}' for name, kind in kinds)
    names = ", ".join(f'"{name}"' for name, _ in kinds)
    with connection.cursor() as cursor:
        cursor.execute(f"CREATE TEMPORARY TABLE copied ({columns})")
        cursor.copy_expert(
            f"COPY copied ({names}) FROM STDIN WITH (FORMAT binary)",
            io.BytesIO(pgcopy.encode(frame, kinds)),
        )
        cursor.execute(f"SELECT {select} FROM copied ORDER BY id")  # noqa: S608 - the test's own
        return cursor.fetchall()


def test_rows_of_every_shape_come_back_as_written():
    frame = pd.DataFrame(
        {
            "id": [1, 2, 3, 4],
            "maybe": pd.array([10, None, 2**40, None], dtype="Int64"),
            "on": pd.Series(["2026-10-31", None, "1999-12-31", "2000-01-01"]).astype(
                "datetime64[ns]"
            ),
            "code": pd.Categorical(["NORTH", "", "Zoë’s team", "NORTH"]),
            "note": ["", "x", None, "longer note"],
        }
    )
    kinds = [("id", "int8"), ("maybe", "int8"), ("on", "date"), ("code", "text"), ("note", "text")]
    rows = copied(frame, kinds)
    assert rows == [
        (1, 10, dt.date(2026, 10, 31), "NORTH", ""),
        (2, None, None, "", "x"),
        (3, 2**40, dt.date(1999, 12, 31), "Zoë’s team", None),
        (4, None, dt.date(2000, 1, 1), "NORTH", "longer note"),
    ]


def test_an_empty_frame_is_a_valid_empty_stream():
    frame = pd.DataFrame({"id": pd.Series([], dtype="int64")})
    assert pgcopy.encode(frame, [("id", "int8")]) == pgcopy.HEADER + pgcopy.TRAILER


def test_uuids_and_json_come_back_as_written():
    first, second = uuid.UUID(int=1), uuid.uuid4()
    frame = pd.DataFrame(
        {
            "id": [1, 2],
            "key": [first.hex, str(second)],  # hex digits, with or without dashes
            "doc": ['{"a": [1, "Zoë"]}', "{}"],
        }
    )
    kinds = [("id", "int8"), ("key", "uuid"), ("doc", "jsonb")]
    rows = [(i, key, json.loads(doc)) for i, key, doc in copied(frame, kinds, "id, key::text, doc")]
    assert rows == [(1, str(first), {"a": [1, "Zoë"]}), (2, str(second), {})]


def test_a_missing_uuid_is_refused():
    frame = pd.DataFrame({"key": [uuid.uuid4().hex, None]})
    with pytest.raises(ValueError, match="uuid column cannot hold NULL"):
        pgcopy.encode(frame, [("key", "uuid")])


def test_timestamps_come_back_as_the_same_instants():
    london = dt.timezone(dt.timedelta(hours=1))
    stamps = [
        dt.datetime(2026, 7, 1, 9, 30, 15, 123456, tzinfo=london),
        dt.datetime(1999, 12, 31, 23, 59, 59, tzinfo=dt.UTC),
        None,
    ]
    # as ISO text with an offset, as callers pass ``now.isoformat()``
    frame = pd.DataFrame(
        {
            "id": [1, 2, 3],
            "at": ["2026-07-01T09:30:15.123456+01:00", "1999-12-31T23:59:59+00:00", None],
        }
    )
    kinds = [("id", "int8"), ("at", "timestamptz")]
    rows = [at for (at,) in copied(frame, kinds, "at")]
    assert rows == stamps


def test_numbers_and_small_integers_come_back_as_written():
    values = ["0", "0.5", "12.3", "100.0", "10000", "1234567.8", "-3.5", "0.05", "99999999.9"]
    frame = pd.DataFrame(
        {
            "id": range(len(values) + 1),
            "bit": [*range(len(values)), 62],
            "amount": [*(float(v) for v in values), None],
        }
    )
    kinds = [("id", "int8"), ("bit", "int2"), ("amount", "numeric")]
    rows = copied(frame, kinds, "bit, amount")
    assert rows == [
        *((bit, Decimal(str(float(v)))) for bit, v in enumerate(values)),
        (62, None),
    ]
