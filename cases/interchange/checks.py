"""Whole-column checks for imported cells: dates, NHS numbers, UPNs, postcodes, JSON objects.

An import can hold millions of rows, so each check takes a pandas Series of raw strings and
returns the parsed values plus a mask of the bad cells; the importer builds messages for
the bad cells only. NHS numbers and UPNs follow python-stdnum's rules (the same rules as the
model validators), computed with numpy instead of one stdnum call per row.
"""

import json

import numpy as np
import pandas as pd
from stdnum.exceptions import InvalidChecksum, InvalidComponent, InvalidLength
from stdnum.exceptions import ValidationError as StdnumError
from stdnum.gb import nhs, upn

# An SSD DATETIME such as "2024-03-01 00:00:00" or "2024-03-01T00:00:00" counts as its date.
_DATETIME = r"\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?(Z|[+-]\d{2}:?\d{2})?"

# The shape of a UK postcode (Royal Mail / ONS): an outward code of one or two letters, a
# digit and an optional letter or digit, then an inward code of a digit and two letters.
# The space is optional on input; we store upper case with a single space. GIR 0AA is the
# one historic exception.
POSTCODE_PATTERN = r"(?:[A-Z]{1,2}[0-9][A-Z0-9]?|GIR)[0-9][A-Z]{2}"
_TIDY_POSTCODE = r"(?:[A-Z]{1,2}[0-9][A-Z0-9]?|GIR) [0-9][A-Z]{2}"  # already as we store it

_DECODER = json.JSONDecoder()

# stdnum's UPN alphabet and local authority numbers, so our rule is exactly the library's.
_UPN_ALPHABET: str = upn._alphabet
_UPN_LA_NUMBERS: frozenset[int] = frozenset(upn._la_numbers)


def parse_dates(raw: pd.Series) -> tuple[pd.Series, pd.Series, pd.Series]:
    """Parse ISO dates (YYYY-MM-DD).

    Returns the datetime64 values (NaT when missing or bad), the mask of bad cells, and the
    dates as YYYY-MM-DD text ("" when missing) - the form the database takes them in.
    """
    text = raw
    longer = raw.str.len() > 10
    if longer.any():
        is_datetime = raw.str.fullmatch(_DATETIME) & longer
        text = raw.where(~is_datetime, raw.str.slice(0, 10))
    parsed = pd.to_datetime(text, format="%Y-%m-%d", errors="coerce")
    return parsed, (raw != "") & parsed.isna(), text


def _char_codes(values: pd.Series, width: int) -> np.ndarray:
    """Unicode code points of equal-length strings as an (n, width) integer matrix."""
    array = np.array(values.tolist(), dtype=f"U{width}")
    return array.view(np.uint32).reshape(-1, width).astype(np.int64)


def compact_identifier(raw: pd.Series, *, upper: bool = False) -> pd.Series:
    """Drop the spaces and hyphens people type inside NHS numbers and UPNs (most have none)."""
    typed = raw.str.contains(" ", regex=False) | raw.str.contains("-", regex=False)
    if upper:
        typed |= raw.str.contains(r"[a-z]", regex=True)
    if not typed.any():
        return raw
    compact = raw[typed].str.replace(r"[\s-]", "", regex=True)
    return raw.where(~typed, compact.str.upper() if upper else compact)


def nhs_numbers_valid(numbers: pd.Series) -> pd.Series:
    """True where a compact NHS number has 10 digits and a correct check digit (mod 11)."""
    ok = numbers.str.fullmatch(r"[0-9]{10}").to_numpy(dtype=bool, copy=True)
    if ok.any():
        digits = _char_codes(numbers[ok], 10) - ord("0")
        weights = np.arange(10, 0, -1)  # stdnum: the last digit weighs 1, the first 10
        ok[ok] = (digits @ weights) % 11 == 0
    return pd.Series(ok, index=numbers.index)


def nhs_number_problem(number: str) -> str:
    """Why one NHS number is invalid (called for bad cells only; never echoes the number)."""
    try:
        nhs.validate(number)
    except InvalidLength:
        return "NHS number must have 10 digits"
    except InvalidChecksum:
        return "NHS number fails its check digit"
    except StdnumError:
        return "NHS number must be 10 digits"
    return "not a valid NHS number"


def upns_valid(upns: pd.Series) -> pd.Series:
    """True where a compact UPN has stdnum's format, a known LA number and its check letter."""
    ok = upns.str.fullmatch(r"[A-Z][0-9]{11}[A-Z0-9]").to_numpy(dtype=bool, copy=True)
    if ok.any():
        chars = _char_codes(upns[ok], 13)
        index = np.full(128, -1, dtype=np.int64)
        for position, char in enumerate(_UPN_ALPHABET):
            index[ord(char)] = position
        values = index[chars]
        la_numbers = (chars[:, 1:4] - ord("0")) @ np.array([100, 10, 1])
        check = (values[:, 1:] @ np.arange(2, 14)) % 23
        expected = np.array([ord(c) for c in _UPN_ALPHABET])[check]
        ok[ok] = (
            (values[:, 12] >= 0)
            & np.isin(la_numbers, list(_UPN_LA_NUMBERS))
            & (chars[:, 0] == expected)
        )
    return pd.Series(ok, index=upns.index)


def upn_problem(value: str) -> str:
    """Why one UPN is invalid (called for bad cells only; never echoes the UPN)."""
    try:
        upn.validate(value)
    except InvalidLength:
        return "UPN must have 13 characters"
    except InvalidComponent:
        return "UPN has an unknown local authority number"
    except InvalidChecksum:
        return "UPN fails its check letter"
    except StdnumError:
        return "UPN must be a letter, 11 digits and a letter or digit"
    return "not a valid UPN"


def normalise_postcodes(raw: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Upper-case postcodes with one space before the inward code; returns (values, bad mask)."""
    tidy = raw.str.fullmatch(_TIDY_POSTCODE) | (raw == "")
    if tidy.all():
        return raw, ~tidy
    untidy = raw[~tidy]
    compact = untidy.str.replace(r"\s", "", regex=True).str.upper()
    bad = ~compact.str.fullmatch(POSTCODE_PATTERN)
    spaced = compact.str.slice(0, -3) + " " + compact.str.slice(-3)
    return raw.where(tidy, spaced), (~tidy).where(tidy, bad).astype(bool)


def json_objects(raw: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Check cells hold JSON objects; returns (JSON text, "{}" when empty; mask of bad cells).

    The one check made cell by cell (pandas has no vectorised JSON parser), through the
    json module's C scanner; a cell it cannot take whole (say, padded with spaces) gets the
    full ``json.loads``.
    """
    cells = raw.to_numpy(dtype=object)
    bad = np.zeros(len(cells), dtype=bool)
    scan = _DECODER.scan_once  # type: ignore[attr-defined]
    for position, cell in enumerate(cells):
        if not cell:
            continue
        try:
            value, end = scan(cell, 0)
            if end == len(cell):
                bad[position] = type(value) is not dict
                continue
        except (StopIteration, ValueError):
            pass
        try:
            bad[position] = not isinstance(json.loads(cell), dict)
        except ValueError:
            bad[position] = True
    return raw.where(raw != "", "{}"), pd.Series(bad, index=raw.index)
