"""export_ssd: every file with the format's columns, stable ids and order, and a round trip."""

import csv
import datetime as dt
from pathlib import Path

import pytest
from django.core.management import call_command
from django.db import models

from assessments.models import IdentifiedNeed
from cases.interchange.exporter import export_ssd
from cases.interchange.format import CODE_MAP_FILE, FILES
from cases.interchange.importer import import_ssd
from cases.models import (
    Address,
    CscInvolvement,
    Episode,
    FamilyMembership,
    Person,
    Transition,
)
from tests import factories

from .conftest import EXAMPLE_DIR, IMPORTED_MODELS, model_counts, wipe

pytestmark = pytest.mark.django_db

NOT_COMPARED = {"id", "uuid", "created_at", "updated_at", "reference"}


def read(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def records() -> dict[str, list[tuple[object, ...]]]:
    """Every imported row as values, with related rows named by external id or code.

    Leaves out what a fresh import makes anew: primary keys, uuids, timestamps, references.
    """
    dump: dict[str, list[tuple[object, ...]]] = {}
    for model in IMPORTED_MODELS:
        lookups = []
        for field in model._meta.concrete_fields:
            if field.name in NOT_COMPARED:
                continue
            related = field.related_model if field.is_relation else None
            if isinstance(related, type) and issubclass(related, models.Model):
                names = {f.name for f in related._meta.concrete_fields}
                natural = next(n for n in ("external_id", "code", "username") if n in names)
                lookups.append(f"{field.name}__{natural}")
            else:
                lookups.append(field.name)
        dump[model.__name__] = sorted(model.objects.values_list(*lookups), key=repr)
    return dump


def test_export_writes_every_file_with_exactly_the_format_columns(tmp_path):
    import_ssd(EXAMPLE_DIR)

    written = export_ssd(tmp_path)

    for spec in FILES:
        with (tmp_path / f"{spec.name}.csv").open(encoding="utf-8") as handle:
            assert next(csv.reader(handle)) == spec.column_names
    assert (tmp_path / CODE_MAP_FILE).read_text() == "category,local_code,code\n"
    assert written["ssd_person.csv"] == 7
    assert written["ssd_cin_episodes.csv"] == 2
    assert written["eh_family_roles.csv"] == written["ssd_family.csv"] == 7
    assert written["eh_episode_details.csv"] == written["ssd_early_help_episodes.csv"] == 4
    assert written[CODE_MAP_FILE] == 0


def test_export_writes_canonical_codes_and_iso_dates_sorted_by_id(tmp_path):
    import_ssd(EXAMPLE_DIR)

    export_ssd(tmp_path)

    episodes = read(tmp_path / "ssd_early_help_episodes.csv")
    assert [e["earl_episode_id"] for e in episodes] == ["E001", "E002", "E003", "E004"]
    assert episodes[0]["earl_episode_start_date"] == "2024-01-10"  # was a DATETIME
    assert episodes[0]["earl_episode_end_reason"] == "NEEDS_MET"  # was local CLOSED-MET
    assert episodes[0]["earl_episode_reason"] == "PARTNER"
    people = {p["pers_person_id"]: p for p in read(tmp_path / "ssd_person.csv")}
    assert people["P001"]["pers_send_flag"] == "sen_support"
    assert people["P005"]["pers_single_unique_id"] == ""
    assert read(tmp_path / "eh_assessments.csv")[1]["is_whole_family"] == "N"
    referrals = read(tmp_path / "ssd_cin_episodes.csv")
    assert referrals[0]["cine_referral_nfa"] == ""  # not stored, so not invented
    assert referrals[0]["cine_close_reason"] == "RC7"


def test_import_export_import_export_gives_identical_files_and_records(tmp_path):
    import_ssd(EXAMPLE_DIR)
    first, second = tmp_path / "a", tmp_path / "b"
    export_ssd(first)
    before = records()
    wipe()
    assert sum(model_counts().values()) == 0

    import_ssd(first)
    export_ssd(second)

    for spec in FILES:
        name = f"{spec.name}.csv"
        assert (first / name).read_bytes() == (second / name).read_bytes(), name
    assert records() == before


def test_exporting_twice_gives_the_same_bytes(tmp_path):
    import_ssd(EXAMPLE_DIR)

    export_ssd(tmp_path / "a")
    export_ssd(tmp_path / "b")

    for spec in FILES:
        name = f"{spec.name}.csv"
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes()


@pytest.fixture
def made_here(ref):
    """A family recorded in the app: no external ids anywhere."""
    family = factories.FamilyFactory(postcode="M1 1AE")
    child = factories.PersonFactory(nhs_number="0830166130")
    FamilyMembership.objects.create(family=family, person=child, role="child")
    Address.objects.create(person=child, postcode="M1 1AE", lines={"line1": "9 App Road"})
    episode = Episode.objects.create(
        family=family,
        child=child,
        service=ref.service(),
        level=ref.level("L2"),
        origin="self",
        started_on=dt.date(2024, 5, 1),
    )
    referral = CscInvolvement.objects.create(
        person=child, kind="referral", started_on=dt.date(2024, 1, 1), source="front_door"
    )
    plan = CscInvolvement.objects.create(
        person=child, kind="cp_plan", started_on=dt.date(2024, 1, 20), referral=referral
    )
    assessment = factories.AssessmentFactory(family=family, episode=episode)
    IdentifiedNeed.objects.create(
        assessment=assessment, person=child, headline_outcome=ref.outcome("HEALTH")
    )
    Transition.objects.create(
        direction="step_down",
        family=family,
        child=child,
        from_csc=plan,  # a plan, not a referral
        requested_on=dt.date(2024, 4, 1),
        decision="accepted",
        decided_on=dt.date(2024, 4, 20),
        opened_episode=episode,
    )
    return {"family": family, "child": child, "episode": episode, "referral": referral}


def test_records_made_here_are_exported_under_their_uuid(tmp_path, made_here):
    export_ssd(tmp_path)

    child = made_here["child"]
    assert read(tmp_path / "ssd_person.csv")[0]["pers_person_id"] == str(child.uuid)
    membership = read(tmp_path / "ssd_family.csv")[0]
    assert membership["fami_family_id"] == str(made_here["family"].uuid)
    assert membership["fami_person_id"] == str(child.uuid)
    transition = read(tmp_path / "eh_transitions.csv")[0]
    assert transition["csc_referral_id"] == str(made_here["referral"].uuid)  # the plan's referral
    assert transition["earl_episode_id"] == str(made_here["episode"].uuid)


def test_stand_in_ids_of_memberships_and_addresses_are_stable(tmp_path, made_here):
    export_ssd(tmp_path / "a")
    export_ssd(tmp_path / "b")

    for name in ("ssd_family.csv", "ssd_address.csv", "eh_family_roles.csv"):
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes()
    assert len(read(tmp_path / "a" / "ssd_address.csv")[0]["addr_table_id"]) == 36


def test_an_export_of_records_made_here_imports_into_an_empty_database(tmp_path, made_here):
    export_ssd(tmp_path)
    before = model_counts()
    wipe()

    import_ssd(tmp_path)

    assert model_counts() == before
    assert Person.objects.get().external_id == str(made_here["child"].uuid)


def test_an_empty_database_exports_headers_only(tmp_path):
    written = export_ssd(tmp_path)

    assert set(written.values()) == {0}
    assert read(tmp_path / "ssd_person.csv") == []


def test_the_command_exports(tmp_path):
    import_ssd(EXAMPLE_DIR)
    out = tmp_path / "out.txt"

    with out.open("w") as stdout:
        call_command("export_ssd", str(tmp_path / "export"), stdout=stdout)

    assert "Exported 51 rows" in out.read_text()
    assert len(read(tmp_path / "export" / "ssd_person.csv")) == 7
