"""Import a batch of SSD files (and our extension files) into the case tables.

A council's extract can hold a million children, so the importer works on whole columns
(pandas), never row by row. It reads every file of the batch and checks all of it first,
collecting every problem with its file, line and column; only a clean batch is written, in
one transaction, each table with one set-based upsert keyed on the external id (see
``upsert``). So a bad batch writes nothing, and re-importing the same files changes nothing.

The file format is described in ``format.py``; ``TARGETS`` below says where each column
goes. docs/ssd-format.md is the guide for people producing the files.
"""

import binascii
import csv
import json
import os
import re
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from django.db import connection, models, transaction
from django.utils import timezone

from assessments.models import Assessment, IdentifiedNeed
from cases.models import (
    Address,
    CscClosureReason,
    CscInvolvement,
    Episode,
    EpisodeEndReason,
    EpisodeStartReason,
    Family,
    FamilyMembership,
    HeadlineOutcome,
    LevelOfNeed,
    Person,
    Service,
    Transition,
)
from cases.references import HOLDERS, references_allocate, references_sync
from earlyhelp.models import Locality, Organisation, Team, User

from . import checks
from .format import CODE_CATEGORIES, CODE_MAP_FILE, FILES, FILES_BY_NAME, CodeMap, FileSpec
from .upsert import Staged, stage, write_staged

# --- The public interface -------------------------------------------------------------------


@dataclass(frozen=True)
class RowError:
    """One problem in the batch. ``line`` is the physical CSV line (header = 1, 0 = whole file)."""

    file: str
    line: int
    column: str
    reason: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.column}: {self.reason}"


class ImportRejected(Exception):
    """The batch has problems; nothing was written. ``errors`` lists every one found."""

    def __init__(self, errors: list[RowError]) -> None:
        self.errors = errors
        super().__init__(f"{len(errors)} problem(s) found; nothing was imported")


@dataclass
class ImportResult:
    rows: dict[str, int]  # file name -> rows read
    seconds: float


def import_ssd(directory: Path, *, code_map: Path | None = None) -> ImportResult:
    """Import the batch in ``directory``; raise ImportRejected (writing nothing) if it has problems.

    The code map is ``code_map`` if given, else ``directory/ssd_code_map.csv`` if present.
    """
    started = time.perf_counter()
    directory = Path(directory)
    if code_map is None and (directory / CODE_MAP_FILE).exists():
        code_map = directory / CODE_MAP_FILE
    batch = _Batch(directory, code_map)
    batch.validate()
    if batch.problems.errors:
        raise ImportRejected(batch.problems.sorted())
    with transaction.atomic():
        batch.write()
        # New families take their references from the allocator, but the numbering must end
        # up past every stored reference whichever way it got there.
        for prefix in HOLDERS:
            references_sync(prefix)
    return ImportResult(rows=batch.rows_read, seconds=time.perf_counter() - started)


# --- Where each file goes ------------------------------------------------------------------


@dataclass(frozen=True)
class Target:
    """The model a file's rows become, and the model field each kept column fills.

    Columns a file has but ``fields`` lacks are checked and then dropped (we do not store them).
    """

    model: type[models.Model]
    fields: dict[str, str]
    csc_kind: str = ""  # CscInvolvement.kind, for the four CSC files


TARGETS: dict[str, Target] = {
    "ssd_person": Target(
        Person,
        {
            "pers_person_id": "external_id",
            "pers_legacy_id": "legacy_id",
            "pers_upn": "upn",
            "pers_forename": "forename",
            "pers_surname": "surname",
            "pers_sex": "sex",
            "pers_gender": "gender",
            "pers_ethnicity": "ethnicity",
            "pers_dob": "date_of_birth",
            "pers_single_unique_id": "nhs_number",
            "pers_upn_unknown": "upn_unknown",
            "pers_send_flag": "send",
            "pers_expected_dob": "expected_date_of_birth",
            "pers_death_date": "date_of_death",
            "pers_nationality": "nationality",
        },
    ),
    "eh_families": Target(
        Family,
        {
            "family_id": "external_id",
            "address": "address",
            "postcode": "postcode",
            "locality_code": "locality",
        },
    ),
    "ssd_family": Target(
        FamilyMembership,
        {"fami_table_id": "external_id", "fami_family_id": "family", "fami_person_id": "person"},
    ),
    "eh_family_roles": Target(
        FamilyMembership,
        {
            "fami_table_id": "external_id",
            "role": "role",
            "started_on": "started_on",
            "ended_on": "ended_on",
        },
    ),
    "ssd_address": Target(
        Address,
        {
            "addr_table_id": "external_id",
            "addr_person_id": "person",
            "addr_address_type": "address_type",
            "addr_address_start_date": "started_on",
            "addr_address_end_date": "ended_on",
            "addr_address_postcode": "postcode",
            "addr_address_json": "lines",
        },
    ),
    "ssd_early_help_episodes": Target(
        Episode,
        {
            "earl_episode_id": "external_id",
            "earl_person_id": "child",
            "earl_episode_start_date": "started_on",
            "earl_episode_end_date": "ended_on",
            "earl_episode_reason": "start_reason",
            "earl_episode_end_reason": "end_reason",
            "earl_episode_organisation": "lead_organisation",
            "earl_episode_worker_id": "lead_worker_external_id",
        },
    ),
    "eh_episode_details": Target(
        Episode,
        {
            "earl_episode_id": "external_id",
            "family_id": "family",
            "service_code": "service",
            "level_code": "level",
            "origin": "origin",
            "plan_type": "plan_type",
            "team_code": "team",
        },
    ),
    "ssd_cin_episodes": Target(
        CscInvolvement,
        {
            "cine_referral_id": "external_id",
            "cine_person_id": "person",
            "cine_referral_date": "started_on",
            "cine_cin_primary_need_code": "primary_need_code",
            "cine_referral_source_code": "referral_source_code",
            "cine_close_reason": "closure_reason",
            "cine_close_date": "ended_on",
        },
        csc_kind=CscInvolvement.Kind.REFERRAL,
    ),
    "ssd_cin_plans": Target(
        CscInvolvement,
        {
            "cinp_cin_plan_id": "external_id",
            "cinp_referral_id": "referral",
            "cinp_person_id": "person",
            "cinp_cin_plan_start_date": "started_on",
            "cinp_cin_plan_end_date": "ended_on",
        },
        csc_kind=CscInvolvement.Kind.CIN_PLAN,
    ),
    "ssd_cp_plans": Target(
        CscInvolvement,
        {
            "cppl_cp_plan_id": "external_id",
            "cppl_referral_id": "referral",
            "cppl_person_id": "person",
            "cppl_cp_plan_start_date": "started_on",
            "cppl_cp_plan_end_date": "ended_on",
            "cppl_cp_plan_latest_category": "category",
        },
        csc_kind=CscInvolvement.Kind.CP_PLAN,
    ),
    "ssd_cla_episodes": Target(
        CscInvolvement,
        {
            "clae_cla_episode_id": "external_id",
            "clae_person_id": "person",
            "clae_cla_episode_start_date": "started_on",
            "clae_cla_primary_need_code": "primary_need_code",
            "clae_cla_episode_ceased": "ended_on",
            "clae_referral_id": "referral",
        },
        csc_kind=CscInvolvement.Kind.CLA,
    ),
    "eh_assessments": Target(
        Assessment,
        {
            "assessment_id": "external_id",
            "family_id": "family",
            "earl_episode_id": "episode",
            "kind": "kind",
            "started_on": "started_on",
            "completed_on": "completed_on",
            "is_whole_family": "is_whole_family",
            "lead_organisation": "lead_organisation",
        },
    ),
    "eh_identified_needs": Target(
        IdentifiedNeed,
        {
            "need_id": "external_id",
            "assessment_id": "assessment",
            "person_id": "person",
            "headline_outcome_code": "headline_outcome",
            "level_at_assessment": "level_at_assessment",
            "level_at_closure": "level_at_closure",
            "outcome": "outcome",
            "outcome_recorded_on": "outcome_recorded_on",
        },
    ),
    # earl_episode_id and csc_referral_id fill different fields by direction; see _transitions.
    "eh_transitions": Target(
        Transition,
        {
            "transition_id": "external_id",
            "direction": "direction",
            "person_id": "child",
            "family_id": "family",
            "requested_on": "requested_on",
            "decision": "decision",
            "decided_on": "decided_on",
            "rationale": "rationale",
        },
    ),
}

# Built-in translations, used unless the code map says otherwise: SSD's SEND flag is Y/N.
BUILT_IN_CODES: dict[str, dict[str, str]] = {
    "send": {"Y": Person.Send.SEN_SUPPORT, "N": Person.Send.NONE},
}

# Canonical codes: fixed choices, or the ``code`` of a reference model (stored as its id).
_CODE_CHOICES: dict[str, list[str]] = {"sex": Person.Sex.values, "send": Person.Send.values}
_CODE_MODELS: dict[str, type[models.Model]] = {
    "start_reason": EpisodeStartReason,
    "end_reason": EpisodeEndReason,
    "organisation": Organisation,
    "csc_closure": CscClosureReason,
    "service": Service,
    "level": LevelOfNeed,
    "team": Team,
    "locality": Locality,
    "headline_outcome": HeadlineOutcome,
}

# Columns with their own format rule; the generic length check would misjudge the raw value.
_NORMALISED_COLUMNS = {"pers_upn", "pers_single_unique_id", "addr_address_postcode", "postcode"}


def csv_name(spec_name: str) -> str:
    return f"{spec_name}.csv"


# --- Collecting problems -------------------------------------------------------------------


class _Problems:
    def __init__(self) -> None:
        self.errors: list[RowError] = []

    def add(self, file: str, line: int, column: str, reason: str) -> None:
        self.errors.append(RowError(file, line, column, reason))

    def cells(self, file: str, bad: Any, column: str, reason: Callable[[Any], str]) -> None:
        """One error per bad cell; ``reason`` gets the line (the frame index) of each.

        ``bad`` is a boolean Series indexed by line (the loop runs over bad cells only).
        """
        for line in bad.index[bad.to_numpy(dtype=bool, na_value=False)]:
            self.errors.append(RowError(file, int(line), column, reason(line)))

    def sorted(self) -> list[RowError]:
        order = {csv_name(spec.name): position for position, spec in enumerate(FILES)}
        return sorted(self.errors, key=lambda e: (order.get(e.file, -1), e.file, e.line))


def _missing(_: object) -> str:
    return "required value is missing"


def _first_lines(values: pd.Series) -> pd.Series:
    """For each row, the line of the first row with the same value (for duplicate messages)."""
    return values.index.to_series().groupby(values.to_numpy(), sort=False).transform("first")


_EMPTY_INDEX = pd.Index([], dtype=object)
# Two ids (positions < 2**31) as one integer, for uniqueness checks on pairs.
_PAIR_FACTOR = 1 << 31


# --- Reading files -------------------------------------------------------------------------


def _read_csv(
    path: Path, columns: list[str], required: set[str], problems: _Problems
) -> pd.DataFrame | None:
    """Read a CSV as strings ("" for empty cells), indexed by physical line number.

    Columns we do not know are ignored (SSD extracts carry many more); a missing optional
    column counts as empty. Returns None, with a problem recorded, when the file is unusable.
    """
    name = path.name
    try:
        # All columns are parsed, so that a row with too many cells is caught (usecols
        # would drop the surplus silently).
        frame = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    except UnicodeDecodeError:
        problems.add(name, 0, "", "the file is not UTF-8 text")
        return None
    except pd.errors.EmptyDataError:
        problems.add(name, 0, "", "the file is empty (it needs a header row)")
        return None
    except pd.errors.ParserError as exc:
        found = re.search(r"line (\d+)", str(exc))
        problems.add(name, int(found.group(1)) if found else 0, "", f"not valid CSV: {exc}")
        return None
    header = list(frame.columns)
    absent = [c for c in columns if c not in header]
    for column in absent:
        if column in required:
            problems.add(name, 1, column, "required column is missing from the header")
    if any(c in required for c in absent):
        return None
    for column in absent:
        frame[column] = ""
    frame = frame[columns].fillna("")
    frame.index = pd.Index(_line_numbers(path, len(frame)), name="line")
    return frame


def _line_numbers(path: Path, rows: int) -> Iterable[int]:
    """The physical line each data row starts on.

    Usually row n is on line n + 2; quoted newlines and blank lines shift that, and only
    then is the file walked with the csv module to find where each record starts.
    """
    with path.open("rb") as handle:
        content_lines = sum(chunk.count(b"\n") for chunk in iter(lambda: handle.read(1 << 24), b""))
        if path.stat().st_size:
            handle.seek(-1, os.SEEK_END)
            if handle.read(1) != b"\n":
                content_lines += 1
    if content_lines == rows + 1:
        return range(2, rows + 2)
    starts: list[int] = []
    with path.open(newline="", encoding="utf-8-sig") as handle:
        reader = csv.reader(handle)
        next(reader, None)
        previous = reader.line_num
        for record in reader:
            if any(record):
                starts.append(previous + 1)
            previous = reader.line_num
    return starts if len(starts) == rows else range(2, rows + 2)


@dataclass
class _Table:
    """One file of the batch: its raw strings, the values parsed from them (for checks), and
    the values to store (dates as YYYY-MM-DD text, references as integer positions)."""

    name: str
    raw: pd.DataFrame
    typed: pd.DataFrame
    stored: pd.DataFrame

    @property
    def file(self) -> str:
        return csv_name(self.name)


# --- Codes ---------------------------------------------------------------------------------


class _Codes:
    """Local → canonical code translation, then canonical code → the value we store."""

    def __init__(self) -> None:
        self.code_map = CodeMap(
            {category: dict(codes) for category, codes in BUILT_IN_CODES.items()}
        )
        self.map_name = CODE_MAP_FILE
        self._stored: dict[str, dict[str, Any]] = {}

    def stored(self, category: str) -> dict[str, Any]:
        """Canonical code → stored value: the code itself, or the reference row's id."""
        if category not in self._stored:
            if category in _CODE_CHOICES:
                self._stored[category] = {code: code for code in _CODE_CHOICES[category]}
            else:
                manager = _CODE_MODELS[category]._default_manager
                self._stored[category] = dict(manager.values_list("code", "id"))
        return self._stored[category]

    def code_of(self, category: str, stored: Any) -> str:
        return next((code for code, value in self.stored(category).items() if value == stored), "")

    def resolve(self, category: str, raw: pd.Series) -> tuple[pd.Series, pd.Series]:
        """(stored values, NA where empty or unknown; mask of unknown codes)."""
        stored = self.stored(category)
        # One lookup per cell: a local code's translation, else the code itself.
        lookup = dict(stored)
        for local, canonical in self.code_map.entries.get(category, {}).items():
            lookup[local] = stored.get(canonical)
        values = raw.map(lookup)
        if category not in _CODE_CHOICES:
            values = values.astype("Int64")
        return values, (raw != "") & values.isna()

    def unknown(self, category: str, value: str) -> str:
        return f"unknown {category} code {value!r} (not in {self.map_name} or our codes)"

    def load_map(self, path: Path, problems: _Problems) -> None:
        """Read the mapping file (category, local_code, code); its entries override built-ins."""
        self.map_name = name = path.name
        if not path.exists():
            problems.add(name, 0, "", "code map file not found")
            return
        columns = ["category", "local_code", "code"]
        frame = _read_csv(path, columns, set(columns), problems)
        if frame is None:
            return
        for column in columns:
            problems.cells(name, frame[column] == "", column, _missing)
        known = frame.category.isin(list(CODE_CATEGORIES))
        problems.cells(
            name,
            (frame.category != "") & ~known,
            "category",
            lambda line: (
                f"unknown category {frame.category[line]!r} (one of: {', '.join(CODE_CATEGORIES)})"
            ),
        )
        pair = frame.category + "\x1f" + frame.local_code
        twice = pair.duplicated() & (frame.local_code != "")
        first = _first_lines(pair)
        problems.cells(
            name,
            twice,
            "local_code",
            lambda line: (
                f"{frame.category[line]} code {frame.local_code[line]!r} is mapped "
                f"twice (first on line {first[line]})"
            ),
        )
        for category, rows in frame[known & (frame.code != "")].groupby("category"):
            self._check_canonical(name, str(category), rows.code, problems)
        for category, rows in frame[known & ~twice].groupby("category"):
            entries = self.code_map.entries.setdefault(str(category), {})
            entries.update(zip(rows.local_code, rows.code, strict=True))

    def _check_canonical(
        self, file: str, category: str, codes: pd.Series, problems: _Problems
    ) -> None:
        problems.cells(
            file,
            ~codes.isin(list(self.stored(category))),
            "code",
            lambda line: f"unknown {category} code {codes[line]!r} (not one of our codes)",
        )


# --- The batch -----------------------------------------------------------------------------


@dataclass
class _Batch:
    """One import: check every file (collecting problems), then write the clean batch."""

    directory: Path
    code_map_path: Path | None
    problems: _Problems = field(default_factory=_Problems)
    codes: _Codes = field(default_factory=_Codes)
    rows_read: dict[str, int] = field(default_factory=dict)
    # file -> the batch's external ids, unique; the Index keeps its hash table for lookups
    keys: dict[str, pd.Index] = field(default_factory=dict)
    prepared: dict[str, pd.DataFrame] = field(default_factory=dict)  # rows by model field
    unusable: set[str] = field(default_factory=set)  # required files missing or unreadable
    insert_only: dict[str, set[str]] = field(default_factory=dict)  # fields a re-import keeps
    first_rows: dict[str, pd.Index] = field(default_factory=dict)  # see _ordered
    _db_keys: dict[str, pd.Index] = field(default_factory=dict)
    _ids: dict[str, pd.Series] = field(default_factory=dict)
    _now: str = ""

    # -- validation: whole columns at a time, every problem collected --

    def validate(self) -> None:
        """Check the files in format.py order (a file refers only to files before it)."""
        if self.code_map_path is not None:
            self.codes.load_map(self.code_map_path, self.problems)
        read = self._read
        self._people(read("ssd_person"))
        self._families(read("eh_families"))
        self._memberships(read("ssd_family"), read("eh_family_roles"))
        self._addresses(read("ssd_address"))
        self._episodes(read("ssd_early_help_episodes"), read("eh_episode_details"))
        for name in ("ssd_cin_episodes", "ssd_cin_plans", "ssd_cp_plans", "ssd_cla_episodes"):
            self._csc(read(name))
        self._assessments(read("eh_assessments"))
        self._needs(read("eh_identified_needs"))
        self._transitions(read("eh_transitions"))

    def _read(self, name: str) -> _Table | None:
        spec = FILES_BY_NAME[name]
        path = self.directory / csv_name(name)
        if not path.exists():
            if not spec.optional:
                self.problems.add(path.name, 0, "", "required file is missing from the batch")
                self.unusable.add(name)
            return None
        required = {c.name for c in spec.columns if c.required}
        raw = _read_csv(path, spec.column_names, required, self.problems)
        if raw is None:
            self.unusable.add(name)
            return None
        self.rows_read[path.name] = len(raw)
        return self._checked(spec, raw)

    def _checked(self, spec: FileSpec, raw: pd.DataFrame) -> _Table:
        """Check every column by its kind (see format.py), keeping the values parsed."""
        file = csv_name(spec.name)
        target = TARGETS[spec.name]
        typed: dict[str, Any] = {}
        stored: dict[str, Any] = {}
        for column in spec.columns:
            cells = raw[column.name]
            if column.required:
                self.problems.cells(file, cells == "", column.name, _missing)
            kind, _, argument = column.kind.partition(":")
            if kind == "key":
                self._register_keys(spec.name, file, column.name, cells)
            if kind == "ref":
                typed[column.name] = cells
                stored[column.name] = self._check_refs(file, column.name, cells, argument)
            elif kind == "date":
                typed[column.name], stored[column.name] = self._dates(file, column.name, cells)
            else:
                typed[column.name] = self._parse(file, column.name, cells, kind, argument)
                stored[column.name] = typed[column.name]
            model_field = target.fields.get(column.name)
            if kind in {"key", "text"} and model_field and column.name not in _NORMALISED_COLUMNS:
                self._check_length(file, column.name, cells, target.model, model_field)
        return _Table(
            spec.name,
            raw,
            pd.DataFrame(typed, index=raw.index),
            pd.DataFrame(stored, index=raw.index),
        )

    def _dates(self, file: str, column: str, cells: pd.Series) -> tuple[pd.Series, pd.Series]:
        """(parsed dates, for checks; dates as text, to store)."""
        parsed, bad, text = checks.parse_dates(cells)
        self.problems.cells(file, bad, column, lambda line: f"not a date: {cells[line]!r}")
        return parsed, text

    def _parse(self, file: str, column: str, cells: pd.Series, kind: str, argument: str) -> Any:
        """The cell values for ``kind``; bad cells are reported (keys pass through)."""
        bad: pd.Series
        if kind == "code":
            values, bad = self.codes.resolve(argument, cells)
            self.problems.cells(
                file, bad, column, lambda line: self.codes.unknown(argument, cells[line])
            )
            return values
        if kind == "choice":
            allowed = argument.split("|")
            bad = (cells != "") & ~cells.isin(allowed)
            self.problems.cells(
                file,
                bad,
                column,
                lambda line: f"{cells[line]!r} is not one of: {', '.join(allowed)}",
            )
        elif kind == "bool":
            bad = ~cells.isin(["Y", "N", ""])
            self.problems.cells(file, bad, column, lambda line: f"{cells[line]!r} is not Y or N")
            return cells.map({"Y": True, "N": False}).astype("boolean")
        elif kind == "json":
            text, bad = checks.json_objects(cells)
            self.problems.cells(file, bad, column, lambda _: "not a JSON object")
            return text
        return cells

    def _register_keys(self, name: str, file: str, column: str, cells: pd.Series) -> None:
        """Remember the file's ids; report each repeat of an id within the file."""
        keys = pd.Index(cells)
        if not keys.is_unique:
            bad = cells.duplicated() & (cells != "")
            first = _first_lines(cells)
            self.problems.cells(
                file,
                bad,
                column,
                lambda line: f"duplicate id {cells[line]!r} (first on line {first[line]})",
            )
            keys = pd.Index(cells.unique())
        self.keys[name] = keys

    def _check_length(
        self, file: str, column: str, cells: pd.Series, model: type[models.Model], name: str
    ) -> None:
        limit = getattr(model._meta.get_field(name), "max_length", None)
        if limit:
            bad = cells.str.len() > limit
            self.problems.cells(file, bad, column, lambda _: f"longer than {limit} characters")

    def _check_refs(self, file: str, column: str, cells: pd.Series, target_file: str) -> pd.Series:
        """A reference names a row of ``target_file`` in this batch or already in the database.

        Returns the references as positions (see _ref_positions): the importer never hashes
        an id string again after this.
        """
        positions = self._ref_positions(cells, target_file)
        unknown = pd.Series((positions < 0) & (cells != "").to_numpy(), index=cells.index)
        if target_file in self.unusable:  # already reported; its ids are unknowable
            return pd.Series(positions, index=cells.index)
        self.problems.cells(
            file,
            unknown,
            column,
            lambda line: (
                f"unknown id {cells[line]!r}: not in {csv_name(target_file)} "
                "nor already in the database"
            ),
        )
        return pd.Series(positions, index=cells.index)

    def _ref_positions(self, ids: pd.Series, target_file: str) -> np.ndarray:
        """An integer per distinct id: its position among the batch's ids of ``target_file``,
        or after them among the ids already stored; -1 for unknown or empty ids."""
        batch = self.keys.get(target_file, _EMPTY_INDEX)
        positions = batch.get_indexer(pd.Index(ids))
        elsewhere = positions < 0
        if elsewhere.any():
            stored = self.db_keys(target_file).get_indexer(pd.Index(ids[elsewhere]))
            positions[elsewhere] = np.where(stored >= 0, len(batch) + stored, -1)
        positions[(ids == "").to_numpy()] = -1
        return positions

    def db_keys(self, target_file: str) -> pd.Index:
        """External ids already stored for the model a file fills (one query, cached)."""
        if target_file not in self._db_keys:
            target = TARGETS[target_file]
            rows = target.model._default_manager.filter(external_id__isnull=False)
            if target.csc_kind:
                rows = rows.filter(kind=target.csc_kind)
            keys = pd.Index(list(rows.values_list("external_id", flat=True)), dtype=object)
            self._db_keys[target_file] = keys
        return self._db_keys[target_file]

    def _in_batch(self, name: str, keys: Iterable[Any]) -> np.ndarray:
        """Which of these (stored) external ids are also in the batch's ``name`` file."""
        found = self.keys.get(name, _EMPTY_INDEX).get_indexer(pd.Index(list(keys), dtype=object))
        return found >= 0

    def _check_order(self, table: _Table, start: str, end: str, verb: str = "ends") -> None:
        """A period must not end before it starts."""
        typed = table.typed
        self.problems.cells(
            table.file,
            typed[end] < typed[start],
            end,
            lambda line: (
                f"{verb} {typed[end][line]:%Y-%m-%d}, before {start} {typed[start][line]:%Y-%m-%d}"
            ),
        )

    def _kept(self, table: _Table) -> pd.DataFrame:
        """The columns we store, renamed to model fields."""
        fields = TARGETS[table.name].fields
        return table.stored[list(fields)].rename(columns=fields)

    # -- one method per model --

    def _people(self, table: _Table | None) -> None:
        if table is None:
            return
        file, typed = table.file, table.typed
        self._check_order(table, "pers_dob", "pers_death_date", verb="died")
        nhs = checks.compact_identifier(typed.pers_single_unique_id)
        bad_nhs = (nhs != "") & ~checks.nhs_numbers_valid(nhs)
        self.problems.cells(
            file,
            bad_nhs,
            "pers_single_unique_id",
            lambda line: checks.nhs_number_problem(nhs[line]),
        )
        people = self._kept(table)
        people["nhs_number"] = nhs
        self._check_nhs_unique(table, nhs.where(~bad_nhs, ""), people)
        upns = checks.compact_identifier(typed.pers_upn, upper=True)
        bad_upn = (upns != "") & ~checks.upns_valid(upns)
        self.problems.cells(file, bad_upn, "pers_upn", lambda line: checks.upn_problem(upns[line]))
        people["upn"] = upns
        people["sex"] = people.sex.fillna(Person.Sex.UNKNOWN)
        people["send"] = people.send.fillna(Person.Send.UNKNOWN)
        self.prepared["ssd_person"] = people

    def _check_nhs_unique(self, table: _Table, nhs: pd.Series, people: pd.DataFrame) -> None:
        """NHS numbers are unique: within the batch, and against people not in the batch."""
        column = "pers_single_unique_id"
        present = nhs != ""
        twice = nhs.duplicated() & present
        first = _first_lines(nhs) if twice.any() else nhs
        self.problems.cells(
            table.file, twice, column, lambda line: f"NHS number is also on line {first[line]}"
        )
        stored = pd.DataFrame(
            list(Person.objects.exclude(nhs_number="").values_list("external_id", "nhs_number")),
            columns=["key", "nhs"],
            dtype=object,
        )
        in_batch = self._in_batch("ssd_person", stored.key)
        self.problems.cells(
            table.file,
            present & ~twice & nhs.isin(stored.nhs[~in_batch]),
            column,
            lambda _: "NHS number already belongs to another person in the database",
        )
        # A stored person whose NHS number changes goes first: another row may take it.
        moved = stored[in_batch]
        changed = moved.nhs.to_numpy() != moved.key.map(
            people.drop_duplicates("external_id").set_index("external_id").nhs_number
        )
        self.first_rows["ssd_person"] = pd.Index(moved.key[changed], dtype=object)

    def _families(self, table: _Table | None) -> None:
        if table is None:
            return
        families = self._kept(table)
        families["postcode"] = self._postcodes(table, "postcode")
        self.prepared["eh_families"] = families

    def _postcodes(self, table: _Table, column: str) -> pd.Series:
        postcodes, bad = checks.normalise_postcodes(table.raw[column])
        self.problems.cells(table.file, bad, column, lambda _: "not a valid UK postcode")
        return postcodes

    def _memberships(self, table: _Table | None, roles: _Table | None) -> None:
        if table is None:
            return
        members = self._kept(table)
        members["role"] = FamilyMembership.Role.OTHER
        members["started_on"] = ""
        members["ended_on"] = ""
        if roles is None:  # no roles file: a re-import keeps the roles stored
            self.insert_only["ssd_family"] = {"role", "started_on", "ended_on"}
        else:
            self._check_order(roles, "started_on", "ended_on")
            self._check_describes(roles, "fami_table_id", "ssd_family")
            described = self._kept(roles).drop_duplicates("external_id").set_index("external_id")
            for column in ("role", "started_on", "ended_on"):
                found = members.external_id.map(described[column])
                members[column] = found.where(found.notna(), members[column])
        self._check_one_current_membership(table, members)
        self.prepared["ssd_family"] = members

    def _check_describes(self, table: _Table, column: str, described: str) -> None:
        """An extension row must describe a row of its SSD file in this batch."""
        cells = table.raw[column]
        if described in self.unusable:
            return
        found = self.keys.get(described, _EMPTY_INDEX).get_indexer(pd.Index(cells)) >= 0
        self.problems.cells(
            table.file,
            (cells != "") & ~found,
            column,
            lambda line: f"no row with {column} {cells[line]!r} in {csv_name(described)}",
        )

    def _check_one_current_membership(self, table: _Table, members: pd.DataFrame) -> None:
        """One current membership per person and family (a database constraint)."""
        family = members.family.to_numpy()
        person = members.person.to_numpy()
        current = (members.ended_on == "").to_numpy() & (family >= 0) & (person >= 0)
        pairs = pd.Series(family * _PAIR_FACTOR + person, index=members.index)[current]
        stored = FamilyMembership.objects.filter(
            ended_on__isnull=True,
            family__external_id__isnull=False,
            person__external_id__isnull=False,
        ).values_list("external_id", "family__external_id", "person__external_id")
        self._check_unique_pairs(
            table,
            pairs,
            list(stored),
            ("eh_families", "ssd_person"),
            column="fami_person_id",
            what=lambda line: (
                f"person {table.raw.fami_person_id[line]!r} is already a current member of "
                f"family {table.raw.fami_family_id[line]!r}"
            ),
        )

    def _check_unique_pairs(
        self,
        table: _Table,
        pairs: pd.Series,
        stored: list[tuple[Any, Any, Any]],
        files: tuple[str, str | None],
        *,
        column: str,
        what: Callable[[int], str],
    ) -> None:
        """At most one open row per pair: within the batch, and against stored open rows.

        ``pairs`` holds one integer per open batch row (see _ref_positions); ``stored`` holds
        (external id, first id, second id or value) of the stored open rows. A stored row
        that is also in the batch is left to the batch's version of it, and is written first.
        """
        twice = pairs.duplicated()
        first = _first_lines(pairs) if twice.any() else pairs
        self.problems.cells(
            table.file, twice, column, lambda line: f"{what(line)} (line {first[line]})"
        )
        frame = pd.DataFrame(stored, columns=["key", "left", "right"], dtype=object)
        in_batch = self._in_batch(table.name, frame.key)
        self.first_rows[table.name] = pd.Index(frame.key[in_batch], dtype=object)
        others = frame[~in_batch]
        left = self._ref_positions(others.left.astype(str), files[0])
        right = (
            self._ref_positions(others.right.astype(str), files[1])
            if files[1]
            else others.right.to_numpy(dtype=np.int64)
        )
        taken = np.where((left >= 0) & (right >= 0), left * _PAIR_FACTOR + right, -1)
        self.problems.cells(
            table.file,
            pairs.isin(taken) & ~twice,
            column,
            lambda line: f"{what(line)} in the database",
        )

    def _addresses(self, table: _Table | None) -> None:
        if table is None:
            return
        self._check_order(table, "addr_address_start_date", "addr_address_end_date")
        addresses = self._kept(table)
        addresses["postcode"] = self._postcodes(table, "addr_address_postcode")
        self.prepared["ssd_address"] = addresses

    def _episodes(self, table: _Table | None, details: _Table | None) -> None:
        if table is None:
            return
        self._check_order(table, "earl_episode_start_date", "earl_episode_end_date")
        self._check_end_reason(table)
        episodes = self._kept(table)
        if details is not None:
            self._check_describes(details, "earl_episode_id", "ssd_early_help_episodes")
            described = self._kept(details).drop_duplicates("external_id").set_index("external_id")
        else:
            described = pd.DataFrame(columns=list(TARGETS["eh_episode_details"].fields.values()))
            described = described.set_index("external_id")
        for column in described.columns:
            found = episodes.external_id.map(described[column])
            if column == "family":  # a position
                found = found.fillna(-1).astype(np.int64)
            elif column in {"service", "level", "team"}:  # a reference row's id
                found = found.astype("Int64")
            episodes[column] = found
        self.problems.cells(
            table.file,
            (episodes.external_id != "")
            & ~episodes.external_id.isin(described.index)
            & ("eh_episode_details" not in self.unusable),
            "earl_episode_id",
            lambda _: "no eh_episode_details row for this episode (every episode needs one)",
        )
        self._check_one_open_episode(table, episodes)
        episodes["lead_practitioner"] = self._users(episodes.lead_worker_external_id)
        self.prepared["ssd_early_help_episodes"] = episodes

    def _users(self, usernames: pd.Series) -> pd.Series:
        """The id of the user with each username, where there is one."""
        if not (usernames != "").any():
            return pd.Series(pd.NA, index=usernames.index, dtype="Int64")
        users = dict(User.objects.values_list("username", "id"))
        return usernames.map(users).astype("Int64")

    def _check_end_reason(self, table: _Table) -> None:
        """A closed episode has an end reason; an open one has none (a database constraint)."""
        ended = table.typed.earl_episode_end_date
        given = table.raw.earl_episode_end_reason != ""
        self.problems.cells(
            table.file,
            ended.notna() & ~given,
            "earl_episode_end_reason",
            lambda line: f"the episode ended on {ended[line]:%Y-%m-%d} but has no end reason",
        )
        self.problems.cells(
            table.file,
            (table.raw.earl_episode_end_date == "") & given,
            "earl_episode_end_reason",
            lambda _: "an open episode (no end date) cannot have an end reason",
        )

    def _check_one_open_episode(self, table: _Table, episodes: pd.DataFrame) -> None:
        """One open episode per child and service (a database constraint)."""
        child = episodes.child.to_numpy()
        service = episodes.service.fillna(-1).to_numpy(dtype=np.int64)
        open_ = (episodes.ended_on == "").to_numpy() & (child >= 0) & (service >= 0)
        pairs = pd.Series(child * _PAIR_FACTOR + service, index=episodes.index)[open_]
        stored = Episode.objects.filter(
            ended_on__isnull=True, child__external_id__isnull=False
        ).values_list("external_id", "child__external_id", "service_id")

        def what(line: int) -> str:
            service_code = self.codes.code_of("service", episodes.service[line])
            child_id = table.raw.earl_person_id[line]
            return f"child {child_id!r} already has an open {service_code} episode"

        self._check_unique_pairs(
            table, pairs, list(stored), ("ssd_person", None), column="earl_person_id", what=what
        )

    def _csc(self, table: _Table | None) -> None:
        if table is None:
            return
        start, end = _CSC_PERIODS[table.name]
        self._check_order(table, start, end)
        if table.name == "ssd_cin_episodes":
            self.problems.cells(
                table.file,
                (table.raw.cine_close_reason != "") & table.typed.cine_close_date.isna(),
                "cine_close_reason",
                lambda _: "a closure reason needs a close date (cine_close_date)",
            )
        self.prepared[table.name] = self._kept(table)

    def _assessments(self, table: _Table | None) -> None:
        if table is None:
            return
        self._check_order(table, "started_on", "completed_on", verb="completed")
        assessments = self._kept(table)
        assessments["is_whole_family"] = assessments.is_whole_family.fillna(True)
        assessments["status"] = np.where(
            assessments.completed_on != "", Assessment.Status.COMPLETED, Assessment.Status.DRAFT
        )
        self.prepared["eh_assessments"] = assessments

    def _needs(self, table: _Table | None) -> None:
        if table is None:
            return
        raw, typed = table.raw, table.typed
        self.problems.cells(
            table.file,
            (raw.outcome != "") & (raw.outcome_recorded_on == ""),
            "outcome_recorded_on",
            lambda line: f"outcome {raw.outcome[line]!r} needs the date it was recorded",
        )
        self.problems.cells(
            table.file,
            (raw.outcome == "") & typed.outcome_recorded_on.notna(),
            "outcome",
            lambda _: "outcome_recorded_on is set but the outcome is missing",
        )
        self.prepared["eh_identified_needs"] = self._kept(table)

    def _transitions(self, table: _Table | None) -> None:
        if table is None:
            return
        raw, file = table.raw, table.file
        up, down = raw.direction == "step_up", raw.direction == "step_down"
        self.problems.cells(
            file,
            up & (raw.earl_episode_id == ""),
            "earl_episode_id",
            lambda _: "a step-up needs the episode it steps up from (earl_episode_id)",
        )
        self.problems.cells(
            file,
            down & (raw.csc_referral_id == ""),
            "csc_referral_id",
            lambda _: "a step-down needs the CSC referral it steps down from (csc_referral_id)",
        )
        pending = raw.decision == Transition.Decision.PENDING
        decided = (raw.decision != "") & ~pending
        self.problems.cells(
            file,
            decided & (raw.decided_on == ""),
            "decided_on",
            lambda line: f"decision {raw.decision[line]!r} needs the date it was made (decided_on)",
        )
        self.problems.cells(
            file,
            pending & (raw.decided_on != ""),
            "decided_on",
            lambda _: "a pending transition has no decided_on date",
        )
        self._check_order(table, "requested_on", "decided_on", verb="decided")
        transitions = self._kept(table)
        episode, csc = table.stored.earl_episode_id, table.stored.csc_referral_id
        transitions["from_episode"] = episode.where(up, -1)
        transitions["opened_csc"] = csc.where(up, -1)
        transitions["from_csc"] = csc.where(down, -1)
        transitions["opened_episode"] = episode.where(down, -1)
        self.prepared["eh_transitions"] = transitions

    # -- writing: one set-based upsert per model --

    def write(self) -> None:
        """Write the prepared rows, table by table (see _WRITE_ORDER).

        While the database inserts one table, a worker thread prepares the next (pure
        pandas: no database access off the main thread). Foreign keys are checked as each
        statement ends rather than all at commit, so that work overlaps too.
        """
        # As text: a datetime column would be formatted row by row on its way to the database.
        self._now = str(connection.ops.adapt_datetimefield_value(timezone.now()))
        names = [name for name in _WRITE_ORDER if name in self.prepared]
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        written: set[str] = set()
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="ssd-import") as worker:
            pending = worker.submit(self._stage, self._stage_input(names[0])) if names else None
            for position, name in enumerate(names):
                assert pending is not None
                staged = pending.result()
                following = names[position + 1] if position + 1 < len(names) else None
                pending = None
                if following and _parents(following) <= written:  # prepare it meanwhile
                    pending = worker.submit(self._stage, self._stage_input(following))
                write_staged(staged)
                written.add(name)
                self._ids.pop(name, None)
                if following and pending is None:
                    pending = worker.submit(self._stage, self._stage_input(following))
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SET CONSTRAINTS ALL DEFERRED")

    def _stage_input(self, name: str) -> "_StageInput":
        """Everything preparing ``name`` needs from the database, read on the main thread.

        Its parents are written already (see ``write``), so their primary keys are known.
        """
        rows = self.prepared.pop(name)
        target = TARGETS[name]
        insert_only = set(self.insert_only.get(name, set()))
        if name == "eh_families":
            rows["reference"] = self._family_references(rows.external_id)
            insert_only.add("reference")
        if name == "ssd_cin_episodes":
            rows["source"] = self._referral_sources(len(rows))
        lookups = {
            field_name: self._pk_lookup(_REFERENCES[(target.model, field_name)])
            for field_name in rows.columns
            if (target.model, field_name) in _REFERENCES
        }
        return _StageInput(
            name,
            rows,
            lookups,
            frozenset(insert_only),
            self.first_rows.get(name),
            self._now,
            connection.vendor,
        )

    def _stage(self, job: "_StageInput") -> Staged:
        """Turn prepared rows into what the upsert writes (runs on the worker thread)."""
        target = TARGETS[job.name]
        model = target.model
        rows, ordered = _ordered(job.rows, job.first_rows)
        columns: dict[str, Any] = {}
        for field_name in rows.columns:
            column = str(model._meta.get_field(field_name).column)  # type: ignore[union-attr]
            if field_name in job.lookups:
                columns[column] = _primary_keys(
                    job.lookups[field_name], rows[field_name].to_numpy()
                )
            else:
                columns[column] = rows[field_name]
        frame = pd.DataFrame(columns, index=rows.index)
        conflict = ["external_id", *(["kind"] if target.csc_kind else [])]
        update = [c for c in frame.columns if c not in conflict and c not in job.insert_only]
        constants = _insert_defaults(model, frame, job.now)  # uuid and the like: insert only
        if target.csc_kind:
            constants["kind"] = target.csc_kind
        if "updated_at" in constants:
            update.append("updated_at")
        return stage(
            model,
            frame,
            constants=constants,
            conflict=conflict,
            update=update,
            ordered=ordered,
            vendor=job.vendor,
        )

    def _pk_lookup(self, file: str) -> np.ndarray:
        """Primary key by reference position (see _ref_positions); -1 where there is none."""
        ids = self._ids_of(file)
        keys = self.keys.get(file, _EMPTY_INDEX).append(self._db_keys.get(file, _EMPTY_INDEX))
        return ids.reindex(keys).fillna(-1).to_numpy(dtype=np.int64)

    def _family_references(self, keys: pd.Series) -> pd.Series:
        """Existing families keep their reference; new ones get one, allocated in one call."""
        existing = dict(
            Family.objects.filter(external_id__isnull=False).values_list("external_id", "reference")
        )
        references = keys.map(existing).astype(object)
        new = np.flatnonzero(references.isna().to_numpy())
        if len(new):
            references.iloc[new] = references_allocate("F", len(new))
        return references

    def _referral_sources(self, count: int) -> np.ndarray:
        """Referrals opened by an accepted step-up came from early help; others, the front door.

        The batch's referrals are rows 0…count-1, and their positions are the same numbers.
        """
        stored = Transition.objects.filter(
            direction=Transition.Direction.STEP_UP,
            decision=Transition.Decision.ACCEPTED,
            opened_csc__external_id__isnull=False,
            opened_csc__kind=CscInvolvement.Kind.REFERRAL,
        ).values_list("external_id", "opened_csc__external_id")
        frame = pd.DataFrame(list(stored), columns=["key", "csc"], dtype=object)
        kept = frame.csc[~self._in_batch("eh_transitions", frame.key)].astype(str)
        stepped_up = set(self._ref_positions(kept, "ssd_cin_episodes"))
        transitions = self.prepared.get("eh_transitions")
        if transitions is not None:
            accepted = (transitions.direction == Transition.Direction.STEP_UP) & (
                transitions.decision == Transition.Decision.ACCEPTED
            )
            stepped_up |= set(transitions.opened_csc[accepted])
        return np.where(
            np.isin(np.arange(count), list(stepped_up)),
            CscInvolvement.Source.STEP_UP,
            CscInvolvement.Source.FRONT_DOOR,
        )

    def _ids_of(self, file: str) -> pd.Series:
        """external id → primary key for the model a file fills (one query, after its write)."""
        if file not in self._ids:
            target = TARGETS[file]
            rows = target.model._default_manager.filter(external_id__isnull=False)
            if target.csc_kind:
                rows = rows.filter(kind=target.csc_kind)
            pairs = list(rows.values_list("external_id", "id"))
            self._ids[file] = pd.Series(
                [pk for _, pk in pairs],
                index=pd.Index([key for key, _ in pairs], dtype=object),
                dtype="int64",
            )
        return self._ids[file]


# Each table's parents come at least two places before it, so the next table can be
# prepared while this one is written (see _Batch.write).
_WRITE_ORDER = (
    "ssd_person",
    "eh_families",
    "ssd_address",
    "ssd_family",
    "ssd_cin_episodes",
    "ssd_early_help_episodes",
    "ssd_cin_plans",
    "ssd_cp_plans",
    "ssd_cla_episodes",
    "eh_assessments",
    "eh_transitions",
    "eh_identified_needs",
)


def _parents(name: str) -> set[str]:
    """The files whose rows ``name``'s rows refer to."""
    model = TARGETS[name].model
    return {ref for (ref_model, _), ref in _REFERENCES.items() if ref_model is model} - {name}


@dataclass(frozen=True)
class _StageInput:
    name: str
    rows: pd.DataFrame
    lookups: dict[str, np.ndarray]  # reference field -> primary key by position
    insert_only: frozenset[str]
    first_rows: pd.Index | None
    now: str
    vendor: str


def _primary_keys(lookup: np.ndarray, positions: np.ndarray) -> pd.arrays.IntegerArray:
    """Reference positions as primary keys (NULL where there is no reference)."""
    positions = positions.astype(np.int64)
    missing = positions < 0
    keys = lookup[np.where(missing, 0, positions)] if len(lookup) else np.zeros_like(positions)
    if (keys[~missing] < 0).any():
        raise RuntimeError("a referenced row was not written before the rows that refer to it")
    return pd.arrays.IntegerArray(keys, missing)


def _ordered(rows: pd.DataFrame, first: pd.Index | None) -> tuple[pd.DataFrame, bool]:
    """Rows in external id order (indexes then grow at their ends), ``first`` rows first.

    The database checks partly unique values (an NHS number, one open episode per child and
    service, one current membership) row by row, so a stored row that gives one up is
    written before a row that takes it: stored open rows closing, then stored open rows
    staying open, then the rest. Returns the rows and whether their order matters.
    """
    if not rows.external_id.is_monotonic_increasing:
        rows = rows.sort_values("external_id", kind="stable")
    if first is None or not len(first):
        return rows, False
    rank = np.where(rows.external_id.isin(first), 1, 2)
    if "ended_on" in rows.columns:
        rank = np.where((rank == 1) & (rows.ended_on != "").to_numpy(), 0, rank)
    return rows.iloc[np.argsort(rank, kind="stable")], True


def _insert_defaults(model: type[models.Model], frame: pd.DataFrame, now: str) -> dict[str, Any]:
    """What a new row needs that the files do not carry: uuids (added to the frame) and the
    same value for every row (returned, so it need not travel row by row)."""
    constants: dict[str, Any] = {}
    for model_field in model._meta.concrete_fields:
        column = str(model_field.column)
        if model_field.primary_key or column in frame.columns:
            continue
        if model_field.name == "uuid":
            frame[column] = _random_uuids(len(frame))
        elif getattr(model_field, "auto_now", False) or getattr(model_field, "auto_now_add", False):
            constants[column] = now
        elif isinstance(model_field, models.JSONField):
            constants[column] = json.dumps(model_field.get_default())
        else:
            constants[column] = model_field.get_default()
    return constants


_CSC_PERIODS: dict[str, tuple[str, str]] = {
    "ssd_cin_episodes": ("cine_referral_date", "cine_close_date"),
    "ssd_cin_plans": ("cinp_cin_plan_start_date", "cinp_cin_plan_end_date"),
    "ssd_cp_plans": ("cppl_cp_plan_start_date", "cppl_cp_plan_end_date"),
    "ssd_cla_episodes": ("clae_cla_episode_start_date", "clae_cla_episode_ceased"),
}


def _references() -> dict[tuple[type[models.Model], str], str]:
    """(model, field) → the file whose external ids the field's values are (from format.py)."""
    found: dict[tuple[type[models.Model], str], str] = {}
    for spec in FILES:
        target = TARGETS[spec.name]
        for column in spec.columns:
            kind, _, argument = column.kind.partition(":")
            if kind == "ref" and column.name in target.fields:
                found[(target.model, target.fields[column.name])] = argument
    for direction_field in ("from_episode", "opened_episode"):
        found[(Transition, direction_field)] = "ssd_early_help_episodes"
    for direction_field in ("from_csc", "opened_csc"):
        found[(Transition, direction_field)] = "ssd_cin_episodes"
    return found


_REFERENCES = _references()


def _random_uuids(count: int) -> np.ndarray:
    """``count`` random (version 4) UUIDs as 32 hex digits, made in one go and sorted.

    The same random bytes ``uuid.uuid4()`` uses, without a Python object per row. Handing
    them out in ascending order, like the external ids they go with, makes the uuid index
    grow at its end instead of at random pages. 32 hex digits is how Django stores a UUID on
    SQLite, and PostgreSQL reads it as a uuid.
    """
    raw = np.frombuffer(os.urandom(16 * count), dtype=np.uint8).reshape(count, 16).copy()
    raw[:, 6] = (raw[:, 6] & 0x0F) | 0x40
    raw[:, 8] = (raw[:, 8] & 0x3F) | 0x80
    halves = raw.view(">u8")
    raw = raw[np.lexsort((halves[:, 1], halves[:, 0]))]
    return np.frombuffer(binascii.hexlify(raw.tobytes()), dtype="S32").astype("U32").astype(object)
