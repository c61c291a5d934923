"""PostgreSQL's binary COPY format, built from whole columns with numpy.

A recompute writes millions of drill-down rows. Rendering them as CSV (``DataFrame.to_csv``)
cost a third of the run's CPU; the binary format needs no rendering at all for numbers and
dates, only their bytes. Its rows are a field count, then per field a length (-1 for NULL) and
the value, so a row's width depends on which fields are NULL and how long its texts are. Rows
are therefore grouped by that shape — few groups in practice, since texts are short codes — and
each group is one numpy structured array written with a single ``tobytes()``. Row order does
not matter to a table.

Types: ``int8`` (bigint), ``int2`` (smallint), ``date`` (days since 2000-01-01),
``timestamptz`` (microseconds since 2000-01-01 UTC), ``numeric`` (base-10000 digits, from
decimals or floats as printed), ``text`` (varchar, UTF-8), ``jsonb`` (JSON text after a
version byte) and ``uuid`` (16 bytes, from hex digits). Texts, JSON and numerics are encoded
once per distinct value.
"""

from __future__ import annotations

import struct
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

import numpy as np
import pandas as pd

HEADER = b"PGCOPY\n\xff\r\n\x00" + (0).to_bytes(4, "big") + (0).to_bytes(4, "big")
TRAILER = (-1).to_bytes(2, "big", signed=True)
POSTGRES_EPOCH = np.datetime64("2000-01-01", "D")
_DTYPE = {"int8": ">i8", "int2": ">i2", "date": ">i4", "timestamptz": ">i8", "uuid": "S16"}
_JSONB_VERSION = b"\x01"


class _Column:
    """One column ready to encode: per-row values (or text codes), NULL flags, widths."""

    def __init__(self, series: pd.Series, kind: str) -> None:
        self.kind = kind
        self.null = series.isna().to_numpy(dtype=bool)
        if kind in ("int8", "int2"):
            self.values = series.astype("Int64").fillna(0).to_numpy(dtype="int64")
            self.width = np.where(self.null, -1, 8 if kind == "int8" else 2)
        elif kind == "date":
            days = pd.to_datetime(series).to_numpy(dtype="datetime64[ns]").astype("datetime64[D]")
            offset = (days - POSTGRES_EPOCH).astype("int64")
            self.values = np.where(self.null, 0, offset).astype("int32")
            self.width = np.where(self.null, -1, 4)
        elif kind == "timestamptz":  # naive values are taken as UTC
            stamps = pd.to_datetime(series, utc=True, format="ISO8601").dt.tz_convert(None)
            micros = stamps.to_numpy(dtype="datetime64[us]") - POSTGRES_EPOCH.astype(
                "datetime64[us]"
            )
            self.values = np.where(self.null, 0, micros.astype("int64"))
            self.width = np.where(self.null, -1, 8)
        elif kind == "uuid":
            if self.null.any():
                raise ValueError("A uuid column cannot hold NULL")
            digits = "".join(str(value).replace("-", "") for value in series)
            self.values = np.frombuffer(bytes.fromhex(digits), dtype="S16")
            self.width = np.full(len(series), 16)
        elif kind in ("text", "jsonb", "numeric"):
            if isinstance(series.dtype, pd.CategoricalDtype):  # codes are already there
                codes = series.cat.codes.to_numpy().astype("int64")
                labels = np.asarray(series.cat.categories, dtype=object)
            else:
                raw, uniques = pd.factorize(series.astype("object"), use_na_sentinel=True)
                codes, labels = np.asarray(raw, dtype="int64"), np.asarray(uniques, dtype=object)
            if kind == "numeric":
                encoded = [_numeric(label) for label in labels]
            else:
                prefix = _JSONB_VERSION if kind == "jsonb" else b""
                encoded = [prefix + str(label).encode() for label in labels]
            encoded = encoded or [b""]
            lengths = np.fromiter(map(len, encoded), dtype="int64", count=len(encoded))
            self.labels = np.array(encoded, dtype=f"S{max(int(lengths.max()), 1)}")
            self.codes = np.where(codes < 0, 0, codes)
            self.width = np.where(self.null, -1, lengths[self.codes])
        else:
            raise ValueError(f"Unknown column kind {kind!r}")

    def fill(self, target: np.ndarray, name: str, rows: np.ndarray) -> None:
        if self.kind in ("text", "jsonb", "numeric"):
            target[name] = self.labels[self.codes[rows]]
        else:
            target[name] = self.values[rows]


def _numeric(value: Any) -> bytes:
    """PostgreSQL's binary numeric: digit count, weight (of the first base-10000 digit),
    sign, display scale, then the digits. ``value`` is read as it prints (a float's shortest
    form: 12.3 is 12.3)."""
    number = Decimal(str(value))
    if not number.is_finite():
        raise ValueError(f"Not a finite number: {value!r}")
    sign, digits, places = number.as_tuple()
    exponent = int(places)  # finite, so a number
    scale = max(-exponent, 0)
    text = ("".join(map(str, digits)) + "0" * max(exponent, 0)).rjust(scale + 1, "0")
    whole, fraction = (
        (text[: len(text) - scale], text[len(text) - scale :]) if scale else (text, "")
    )
    whole = whole.lstrip("0")
    whole = whole.zfill(-(-len(whole) // 4) * 4)
    fraction = fraction.ljust(-(-len(fraction) // 4) * 4, "0")
    groups = [int(part[i : i + 4]) for part in (whole, fraction) for i in range(0, len(part), 4)]
    weight = len(whole) // 4 - 1
    while groups and groups[0] == 0:
        groups.pop(0)
        weight -= 1
    while groups and groups[-1] == 0:
        groups.pop()
    if not groups:
        weight = 0
    return struct.pack(
        f">hhHH{len(groups)}H",
        len(groups),
        weight,
        0x4000 if sign and groups else 0,
        scale,
        *groups,
    )


def _shapes(widths: Sequence[np.ndarray]) -> np.ndarray:
    """Each row's shape number (its fields' widths, one array per field), numbered in order of
    first appearance, by hashing one integer key per row rather than sorting rows."""
    key = np.zeros(len(widths[0]), dtype="int64")
    room = 1
    for column in widths:
        if column.min() == column.max():
            continue
        codes, uniques = pd.factorize(column)
        if room * len(uniques) >= 2**62:  # too many shapes for one key: fold what we have
            key, _ = pd.factorize(key)
            room = int(key.max()) + 1
        key = key * len(uniques) + codes
        room *= len(uniques)
    group, _ = pd.factorize(key)
    return np.asarray(group, dtype="int64")


def encode(frame: pd.DataFrame, kinds: Sequence[tuple[str, str]]) -> bytes:
    """The frame's named columns as a complete binary COPY stream (header to trailer)."""
    columns = [_Column(frame[name], kind) for name, kind in kinds]
    if len(frame) == 0:
        return HEADER + TRAILER
    group = _shapes([column.width for column in columns])
    order = np.argsort(group, kind="stable")
    bounds = np.searchsorted(group[order], np.arange(int(group.max()) + 2))
    first = order[bounds[:-1]]  # each shape's first row
    shapes = np.stack([column.width[first] for column in columns], axis=1)
    chunks = [HEADER]
    count = np.int16(len(columns))
    for number, shape in enumerate(shapes):
        rows = order[bounds[number] : bounds[number + 1]]
        fields: list[tuple[str, Any]] = [("n", ">i2")]
        for index, (column, width) in enumerate(zip(columns, shape, strict=True)):
            fields.append((f"l{index}", ">i4"))
            if width > 0:
                kind = _DTYPE.get(column.kind, f"S{int(width)}")
                fields.append((f"v{index}", kind))
        block = np.empty(len(rows), dtype=np.dtype(fields))
        block["n"] = count
        for index, (column, width) in enumerate(zip(columns, shape, strict=True)):
            block[f"l{index}"] = width
            if width > 0:
                column.fill(block, f"v{index}", rows)
        chunks.append(block.tobytes())
    chunks.append(TRAILER)
    return b"".join(chunks)
