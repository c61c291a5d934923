"""Tiny hand-made SSD batches for the import and export tests.

``TinyBatch`` holds one small, valid batch (one family, a child and a parent, every file);
a test changes or adds a cell, writes the batch and checks what the importer says. Rows are
written in order, so the n-th row of a file is on line n + 1 (the header is line 1).
"""

import csv
import shutil
from pathlib import Path

import pytest
from django.conf import settings

from assessments.models import Assessment, IdentifiedNeed
from cases.interchange.format import CODE_MAP_FILE, FILES_BY_NAME
from cases.models import (
    Address,
    CscInvolvement,
    Episode,
    Family,
    FamilyMembership,
    Person,
    Transition,
)

EXAMPLE_DIR = Path(settings.BASE_DIR) / "docs" / "example-ssd"

# Every model the importer writes, children first (the order to delete in).
IMPORTED_MODELS = (
    IdentifiedNeed,
    Assessment,
    Transition,
    CscInvolvement,
    Episode,
    Address,
    FamilyMembership,
    Family,
    Person,
)

VALID_NHS = ("0830166130", "1860913903", "9960308243")
VALID_UPN = "T380559797114"


def _rows() -> dict[str, list[dict[str, str]]]:
    return {
        "ssd_person": [
            {
                "pers_person_id": "P1",
                "pers_forename": "Ada",
                "pers_surname": "Tiny",
                "pers_sex": "F",
                "pers_dob": "2015-04-01",
                "pers_single_unique_id": VALID_NHS[0],
                "pers_upn": VALID_UPN,
                "pers_send_flag": "N",
            },
            {
                "pers_person_id": "P2",
                "pers_forename": "Bea",
                "pers_surname": "Tiny",
                "pers_sex": "F",
                "pers_dob": "1985-01-01",
                "pers_single_unique_id": VALID_NHS[1],
            },
        ],
        "eh_families": [{"family_id": "F1", "address": "1 Tiny Street", "postcode": "LS1 4AP"}],
        "ssd_family": [
            {"fami_table_id": "M1", "fami_family_id": "F1", "fami_person_id": "P1"},
            {"fami_table_id": "M2", "fami_family_id": "F1", "fami_person_id": "P2"},
        ],
        "eh_family_roles": [
            {"fami_table_id": "M1", "role": "child", "started_on": "2015-04-01"},
            {"fami_table_id": "M2", "role": "parent", "started_on": "2015-04-01"},
        ],
        "ssd_address": [
            {
                "addr_table_id": "A1",
                "addr_person_id": "P1",
                "addr_address_start_date": "2015-04-01",
                "addr_address_postcode": "LS1 4AP",
                "addr_address_json": '{"line1": "1 Tiny Street"}',
            }
        ],
        "ssd_early_help_episodes": [
            {
                "earl_episode_id": "E1",
                "earl_person_id": "P1",
                "earl_episode_start_date": "2024-01-10",
                "earl_episode_reason": "STEP_DOWN",
                "earl_episode_worker_id": "W1",
            }
        ],
        "eh_episode_details": [
            {
                "earl_episode_id": "E1",
                "family_id": "F1",
                "service_code": "FAMILY_SUPPORT",
                "level_code": "L2",
                "origin": "step_down",
                "plan_type": "my_plan",
            }
        ],
        "ssd_cin_episodes": [
            {
                "cine_referral_id": "R1",
                "cine_person_id": "P1",
                "cine_referral_date": "2023-06-01",
                "cine_close_reason": "RC9",
                "cine_close_date": "2024-01-05",
            }
        ],
        "ssd_cin_plans": [
            {
                "cinp_cin_plan_id": "CIN1",
                "cinp_referral_id": "R1",
                "cinp_person_id": "P1",
                "cinp_cin_plan_start_date": "2023-07-01",
                "cinp_cin_plan_end_date": "2023-12-01",
            }
        ],
        "ssd_cp_plans": [
            {
                "cppl_cp_plan_id": "CP1",
                "cppl_referral_id": "R1",
                "cppl_person_id": "P1",
                "cppl_cp_plan_start_date": "2023-07-15",
                "cppl_cp_plan_end_date": "2023-11-01",
                "cppl_cp_plan_latest_category": "Neglect",
            }
        ],
        "ssd_cla_episodes": [
            {
                "clae_cla_episode_id": "CLA1",
                "clae_person_id": "P1",
                "clae_cla_episode_start_date": "2023-08-01",
                "clae_cla_episode_ceased": "2023-09-01",
                "clae_referral_id": "R1",
            }
        ],
        "eh_assessments": [
            {
                "assessment_id": "AS1",
                "family_id": "F1",
                "earl_episode_id": "E1",
                "kind": "my_plan",
                "started_on": "2024-01-15",
                "completed_on": "2024-02-01",
                "is_whole_family": "Y",
            }
        ],
        "eh_identified_needs": [
            {
                "need_id": "N1",
                "assessment_id": "AS1",
                "person_id": "P1",
                "headline_outcome_code": "EDUCATION",
                "level_at_assessment": "L2",
            }
        ],
        "eh_transitions": [
            {
                "transition_id": "T1",
                "direction": "step_down",
                "person_id": "P1",
                "family_id": "F1",
                "earl_episode_id": "E1",
                "csc_referral_id": "R1",
                "requested_on": "2023-12-20",
                "decision": "accepted",
                "decided_on": "2024-01-05",
            }
        ],
    }


class TinyBatch:
    """A small valid batch; change cells, then ``write()`` it to a folder."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.rows = _rows()
        self.code_map: list[tuple[str, str, str]] = []
        self.dropped_files: set[str] = set()
        self.dropped_columns: dict[str, set[str]] = {}

    def set(self, file: str, row: int, column: str, value: str) -> "TinyBatch":
        """Set a cell; ``row`` counts from 0, so the cell is on line ``row + 2``."""
        self.rows[file][row][column] = value
        return self

    def add(self, file: str, **cells: str) -> int:
        """Append a row; returns its line number."""
        self.rows[file].append(cells)
        return len(self.rows[file]) + 1

    def write(self) -> Path:
        self.directory.mkdir(parents=True, exist_ok=True)
        for name, rows in self.rows.items():
            if name in self.dropped_files:
                continue
            columns = [
                c
                for c in FILES_BY_NAME[name].column_names
                if c not in self.dropped_columns.get(name, set())
            ]
            write_csv(self.directory / f"{name}.csv", columns, rows)
        if self.code_map:
            write_csv(
                self.directory / CODE_MAP_FILE,
                ["category", "local_code", "code"],
                [
                    dict(zip(["category", "local_code", "code"], row, strict=True))
                    for row in self.code_map
                ],
            )
        return self.directory


def write_csv(path: Path, columns: list[str], rows: list[dict[str, str]]) -> None:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(
            handle, fieldnames=columns, extrasaction="ignore", lineterminator="\n"
        )
        writer.writeheader()
        writer.writerows(rows)


@pytest.fixture
def tiny(tmp_path: Path) -> TinyBatch:
    return TinyBatch(tmp_path / "batch")


@pytest.fixture
def example(tmp_path: Path) -> Path:
    """A copy of docs/example-ssd that a test may change."""
    target = tmp_path / "example"
    shutil.copytree(EXAMPLE_DIR, target)
    return target


def wipe() -> None:
    """Delete every imported row (plans before the referrals they belong to).

    Reference numbering carries on, as in a real database: numbers are never reused.
    """
    for model in IMPORTED_MODELS:
        if model is CscInvolvement:
            CscInvolvement.objects.filter(referral__isnull=False).delete()
        model.objects.all().delete()


def model_counts() -> dict[str, int]:
    return {model.__name__: model.objects.count() for model in IMPORTED_MODELS}


def full_dump() -> dict[str, list[dict[str, object]]]:
    """Every column of every imported row (uuids, references and timestamps included)."""
    return {
        model.__name__: [dict(row) for row in model.objects.order_by("pk").values()]
        for model in IMPORTED_MODELS
    }
