"""import_ssd: the example set, idempotent re-imports, every rejection path, the code map."""

import datetime as dt
import random
from pathlib import Path

import pandas as pd
import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from stdnum.gb import nhs, upn

from assessments.models import Assessment, IdentifiedNeed
from cases.interchange import checks
from cases.interchange.format import FILES_BY_NAME
from cases.interchange.importer import ImportRejected, RowError, import_ssd
from cases.models import (
    Address,
    CscInvolvement,
    Episode,
    Family,
    FamilyMembership,
    Person,
    Transition,
)
from cases.references import references_last
from tests import factories

from .conftest import EXAMPLE_DIR, VALID_NHS, TinyBatch, full_dump, model_counts, wipe

pytestmark = pytest.mark.django_db

NOTHING = {
    "IdentifiedNeed": 0,
    "Assessment": 0,
    "Transition": 0,
    "CscInvolvement": 0,
    "Episode": 0,
    "Address": 0,
    "FamilyMembership": 0,
    "Family": 0,
    "Person": 0,
}


def rejected(directory: Path, **kwargs) -> list[RowError]:
    """Import, expecting a rejection; returns the errors and checks nothing was written."""
    with pytest.raises(ImportRejected) as caught:
        import_ssd(directory, **kwargs)
    assert model_counts() == NOTHING
    return caught.value.errors


def only_error(directory: Path) -> RowError:
    errors = rejected(directory)
    assert len(errors) == 1, [str(e) for e in errors]
    return errors[0]


# --- The example set -------------------------------------------------------------------------


def test_the_example_set_imports_every_file():
    result = import_ssd(EXAMPLE_DIR)

    assert model_counts() == {
        "IdentifiedNeed": 4,
        "Assessment": 3,
        "Transition": 2,
        "CscInvolvement": 5,
        "Episode": 4,
        "Address": 5,
        "FamilyMembership": 7,
        "Family": 3,
        "Person": 7,
    }
    assert result.rows["ssd_person.csv"] == 7
    assert result.rows["eh_transitions.csv"] == 2
    assert sum(result.rows.values()) == 51


def test_the_example_set_lands_in_the_right_fields(ref):
    last = references_last("F")

    import_ssd(EXAMPLE_DIR)

    amelia = Person.objects.get(external_id="P001")
    assert (amelia.forename, amelia.nhs_number, amelia.upn) == (
        "Amelia",
        "0830166130",
        "T380559797114",
    )
    assert amelia.send == Person.Send.SEN_SUPPORT  # built-in Y → sen_support
    assert Person.objects.get(external_id="P004").send == Person.Send.EHCP  # the code map's EHCP
    assert Person.objects.get(external_id="P003").date_of_birth == dt.date(1988, 2, 14)  # DATETIME
    assert Family.objects.get(external_id="FAM001").postcode == "LS1 4AP"  # from "ls14ap"
    assert sorted(Family.objects.values_list("reference", flat=True)) == [
        f"F-{last + n:06d}" for n in (1, 2, 3)
    ]
    closed = Episode.objects.get(external_id="E001")
    assert closed.end_reason == ref.end_reason("NEEDS_MET")  # local CLOSED-MET, via the map
    assert closed.family.external_id == "FAM001"
    assert (closed.service.code, closed.level.code, closed.plan_type) == (
        "FAMILY_SUPPORT",
        "L3",
        "my_plan_plus",
    )
    assert closed.lead_worker_external_id == "W0042"
    assert closed.lead_practitioner is None  # no user W0042
    assert FamilyMembership.objects.get(external_id="M007").role == "grandparent"
    assert Address.objects.get(external_id="A001").lines == {
        "line1": "1 Example Street",
        "town": "Leeds",
    }
    assert Address.objects.get(external_id="A005").lines == {}


def test_the_example_set_links_csc_records_and_transitions():
    import_ssd(EXAMPLE_DIR)

    stepped_up = CscInvolvement.objects.get(external_id="R001")
    assert stepped_up.kind == "referral"
    assert stepped_up.source == CscInvolvement.Source.STEP_UP
    assert stepped_up.closure_reason.code == "RC7"
    assert CscInvolvement.objects.get(external_id="R002").source == "front_door"
    plan = CscInvolvement.objects.get(external_id="CINP001")
    assert (plan.kind, plan.referral) == ("cin_plan", stepped_up)
    assert CscInvolvement.objects.get(external_id="CPP001").category == "Neglect"
    assert CscInvolvement.objects.get(external_id="CLA001").referral == stepped_up
    up = Transition.objects.get(external_id="T001")
    assert (up.from_episode.external_id, up.opened_csc) == ("E003", stepped_up)
    assert (up.from_csc, up.opened_episode) == (None, None)
    down = Transition.objects.get(external_id="T002")
    assert (down.from_csc.external_id, down.opened_episode.external_id) == ("R002", "E004")
    assert Assessment.objects.get(external_id="AS001").status == "completed"
    assert Assessment.objects.get(external_id="AS003").status == "draft"
    assert Assessment.objects.get(external_id="AS002").is_whole_family is False
    whole_family = IdentifiedNeed.objects.get(external_id="N002")
    assert whole_family.person is None
    assert whole_family.headline_outcome.code == "FINANCE"


def test_a_second_import_of_the_same_files_changes_nothing():
    import_ssd(EXAMPLE_DIR)
    before = full_dump()
    last = references_last("F")

    import_ssd(EXAMPLE_DIR)

    assert full_dump() == before  # uuids, references and updated_at included
    assert references_last("F") == last  # no reference handed out for nothing


def test_a_changed_value_in_a_reimport_updates_only_that_row(example):
    import_ssd(example)
    before = full_dump()
    people = example / "ssd_person.csv"
    people.write_text(people.read_text().replace("Noah,Example", "Noah,Changed"))

    import_ssd(example)

    after = full_dump()
    changed = [
        (old, new) for old, new in zip(before["Person"], after["Person"], strict=True) if old != new
    ]
    assert len(changed) == 1
    old, new = changed[0]
    assert (old["external_id"], new["surname"]) == ("P002", "Changed")
    assert new["uuid"] == old["uuid"]
    assert str(new["updated_at"]) > str(old["updated_at"])
    assert {k: v for k, v in after.items() if k != "Person"} == {
        k: v for k, v in before.items() if k != "Person"
    }


def test_a_reimport_closing_an_episode_and_opening_another_for_the_same_service(tiny):
    import_ssd(tiny.write())
    tiny.set("ssd_early_help_episodes", 0, "earl_episode_end_date", "2024-03-01")
    tiny.set("ssd_early_help_episodes", 0, "earl_episode_end_reason", "NEEDS_MET")
    tiny.add(
        "ssd_early_help_episodes",
        earl_episode_id="E0",  # sorts before E1: written first unless ordered
        earl_person_id="P1",
        earl_episode_start_date="2024-04-01",
    )
    tiny.add(
        "eh_episode_details",
        earl_episode_id="E0",
        family_id="F1",
        service_code="FAMILY_SUPPORT",
        level_code="L2",
        origin="partner",
    )

    import_ssd(tiny.write())

    assert list(
        Episode.objects.filter(ended_on__isnull=True).values_list("external_id", flat=True)
    ) == ["E0"]


def test_a_reimport_without_the_roles_file_keeps_the_stored_roles(tiny):
    import_ssd(tiny.write())
    tiny.dropped_files.add("eh_family_roles")
    (tiny.directory / "eh_family_roles.csv").unlink()

    import_ssd(tiny.write())

    assert dict(FamilyMembership.objects.values_list("external_id", "role")) == {
        "M1": "child",
        "M2": "parent",
    }


def test_existing_families_keep_their_reference_and_new_ones_get_the_next(tiny):
    import_ssd(tiny.write())
    first = Family.objects.get().reference
    number = int(first.removeprefix("F-"))
    tiny.add("eh_families", family_id="F2", postcode="M1 1AE")
    tiny.add("eh_families", family_id="F3")

    import_ssd(tiny.write())

    assert dict(Family.objects.values_list("external_id", "reference")) == {
        "F1": first,
        "F2": f"F-{number + 1:06d}",
        "F3": f"F-{number + 2:06d}",
    }


def test_codes_for_organisations_teams_localities_and_users_resolve(tiny, team, practitioner):
    practitioner.username = "W1"
    practitioner.save()
    school = factories.OrganisationFactory(code="URN100001")
    tiny.set("eh_families", 0, "locality_code", team.locality.code)
    tiny.set("ssd_early_help_episodes", 0, "earl_episode_organisation", school.code)
    tiny.set("eh_episode_details", 0, "team_code", team.code)
    tiny.set("eh_assessments", 0, "lead_organisation", school.code)

    import_ssd(tiny.write())

    episode = Episode.objects.get()
    assert (episode.lead_organisation, episode.team, episode.lead_practitioner) == (
        school,
        team,
        practitioner,
    )
    assert Family.objects.get().locality == team.locality
    assert Assessment.objects.get().lead_organisation == school


def test_references_may_name_rows_already_in_the_database(tiny, tmp_path):
    import_ssd(tiny.write())
    later = TinyBatch(tmp_path / "later")
    later.rows = {
        "ssd_person": [{"pers_person_id": "P3", "pers_forename": "Cy", "pers_surname": "Tiny"}],
        "eh_families": [],
        "ssd_family": [{"fami_table_id": "M9", "fami_family_id": "F1", "fami_person_id": "P3"}],
        "ssd_early_help_episodes": [
            {
                "earl_episode_id": "E9",
                "earl_person_id": "P2",
                "earl_episode_start_date": "2024-05-01",
            }
        ],
        "eh_episode_details": [
            {
                "earl_episode_id": "E9",
                "family_id": "F1",
                "service_code": "YOUTH_SUPPORT",
                "level_code": "L2",
                "origin": "self",
            }
        ],
        "ssd_cin_plans": [
            {
                "cinp_cin_plan_id": "CIN9",
                "cinp_referral_id": "R1",
                "cinp_person_id": "P2",
                "cinp_cin_plan_start_date": "2024-01-01",
            }
        ],
    }

    import_ssd(later.write())

    assert Episode.objects.get(external_id="E9").child.external_id == "P2"
    assert CscInvolvement.objects.get(external_id="CIN9").referral.external_id == "R1"
    assert FamilyMembership.objects.get(external_id="M9").role == "other"  # no eh_family_roles


# --- Rejections: file, line and column, and nothing written -----------------------------------


def test_a_missing_required_file_is_reported(tiny):
    tiny.dropped_files.add("eh_episode_details")

    error = only_error(tiny.write())

    assert (error.file, error.line, error.column) == ("eh_episode_details.csv", 0, "")
    assert "missing" in error.reason


def test_a_file_that_is_not_utf8_is_reported(tiny):
    directory = tiny.write()
    people = directory / "ssd_person.csv"
    people.write_bytes(people.read_bytes().replace(b"Ada", "Adé".encode("latin-1")))

    error = rejected(directory)[0]

    assert (error.file, error.line, error.column) == ("ssd_person.csv", 0, "")
    assert "UTF-8" in error.reason


def test_a_row_with_too_many_cells_is_reported_with_its_line(tiny):
    directory = tiny.write()
    families = directory / "eh_families.csv"
    families.write_text(families.read_text() + "F2,a,b,c,d,e\n")

    error = rejected(directory)[0]

    assert (error.file, error.line) == ("eh_families.csv", 3)
    assert "not valid CSV" in error.reason


def test_extra_columns_are_ignored_and_a_header_only_file_is_empty(tiny):
    directory = tiny.write()
    people = directory / "ssd_person.csv"
    lines = people.read_text().splitlines()
    people.write_text(
        "\n".join([lines[0] + ",pers_is_mother", *(f"{x},N" for x in lines[1:])]) + "\n"
    )
    (directory / "ssd_cla_episodes.csv").write_text(
        ",".join(FILES_BY_NAME["ssd_cla_episodes"].column_names) + "\n"
    )

    result = import_ssd(directory)

    assert result.rows["ssd_cla_episodes.csv"] == 0
    assert Person.objects.count() == 2


def test_optional_files_may_be_absent(tiny):
    tiny.dropped_files |= {"ssd_address", "ssd_cin_plans", "eh_identified_needs", "eh_family_roles"}

    import_ssd(tiny.write())

    assert FamilyMembership.objects.filter(role="other").count() == 2


def test_a_missing_required_column_is_reported_on_the_header_line(tiny):
    tiny.dropped_columns["ssd_person"] = {"pers_surname"}

    error = only_error(tiny.write())

    assert (error.file, error.line, error.column) == ("ssd_person.csv", 1, "pers_surname")


@pytest.mark.parametrize(
    ("file", "column"),
    [
        ("ssd_person", "pers_dob"),
        ("ssd_address", "addr_address_start_date"),
        ("eh_family_roles", "started_on"),
        ("ssd_early_help_episodes", "earl_episode_start_date"),
        ("ssd_cin_episodes", "cine_referral_date"),
        ("ssd_cp_plans", "cppl_cp_plan_start_date"),
        ("eh_transitions", "requested_on"),
    ],
)
def test_a_date_that_does_not_exist_is_reported(tiny, file, column):
    tiny.set(file, 0, column, "2024-02-30")

    error = only_error(tiny.write())

    assert error == RowError(f"{file}.csv", 2, column, "not a date: '2024-02-30'")


@pytest.mark.parametrize(
    ("file", "start", "end"),
    [
        ("ssd_person", "pers_dob", "pers_death_date"),
        ("ssd_address", "addr_address_start_date", "addr_address_end_date"),
        ("eh_family_roles", "started_on", "ended_on"),
        ("ssd_early_help_episodes", "earl_episode_start_date", "earl_episode_end_date"),
        ("ssd_cin_episodes", "cine_referral_date", "cine_close_date"),
        ("ssd_cin_plans", "cinp_cin_plan_start_date", "cinp_cin_plan_end_date"),
        ("ssd_cp_plans", "cppl_cp_plan_start_date", "cppl_cp_plan_end_date"),
        ("ssd_cla_episodes", "clae_cla_episode_start_date", "clae_cla_episode_ceased"),
        ("eh_assessments", "started_on", "completed_on"),
        ("eh_transitions", "requested_on", "decided_on"),
    ],
)
def test_an_end_before_its_start_is_reported(tiny, file, start, end):
    tiny.set(file, 0, start, "2024-06-02")
    tiny.set(file, 0, end, "2024-06-01")
    if file == "ssd_early_help_episodes":
        tiny.set(file, 0, "earl_episode_end_reason", "NEEDS_MET")

    errors = rejected(tiny.write())

    assert [(e.file, e.line, e.column) for e in errors] == [(f"{file}.csv", 2, end)]
    assert "2024-06-01" in errors[0].reason and "2024-06-02" in errors[0].reason


def test_an_unknown_code_is_reported(tiny):
    tiny.set("ssd_early_help_episodes", 0, "earl_episode_end_date", "2024-03-01")
    tiny.set("ssd_early_help_episodes", 0, "earl_episode_end_reason", "XYZ")

    error = only_error(tiny.write())

    assert error == RowError(
        "ssd_early_help_episodes.csv",
        2,
        "earl_episode_end_reason",
        "unknown end_reason code 'XYZ' (not in ssd_code_map.csv or our codes)",
    )


@pytest.mark.parametrize(
    ("file", "column", "value"),
    [
        ("ssd_family", "fami_person_id", "P404"),
        ("ssd_family", "fami_family_id", "F404"),
        ("ssd_address", "addr_person_id", "P404"),
        ("eh_episode_details", "family_id", "F404"),
        ("ssd_cin_plans", "cinp_referral_id", "R404"),
        ("eh_assessments", "earl_episode_id", "E404"),
        ("eh_identified_needs", "assessment_id", "AS404"),
        ("eh_transitions", "csc_referral_id", "R404"),
    ],
)
def test_an_id_in_neither_the_batch_nor_the_database_is_reported(tiny, file, column, value):
    tiny.set(file, 0, column, value)

    error = only_error(tiny.write())

    assert (error.file, error.line, error.column) == (f"{file}.csv", 2, column)
    assert error.reason.startswith(f"unknown id {value!r}")


def test_a_duplicate_key_is_reported_on_the_repeat(tiny):
    tiny.add("ssd_address", addr_table_id="A1", addr_person_id="P2")

    error = only_error(tiny.write())

    assert error == RowError(
        "ssd_address.csv", 3, "addr_table_id", "duplicate id 'A1' (first on line 2)"
    )


def test_a_duplicate_person_is_reported_even_when_already_stored(tiny):
    factories.PersonFactory(external_id="P1", nhs_number=VALID_NHS[0])
    tiny.add("ssd_person", pers_person_id="P1", pers_forename="Ada", pers_surname="Again")

    with pytest.raises(ImportRejected) as caught:
        import_ssd(tiny.write())

    assert [(e.line, e.column) for e in caught.value.errors] == [(4, "pers_person_id")]


def test_a_closed_episode_needs_an_end_reason(tiny):
    tiny.set("ssd_early_help_episodes", 0, "earl_episode_end_date", "2024-03-01")

    error = only_error(tiny.write())

    assert (error.file, error.line, error.column) == (
        "ssd_early_help_episodes.csv",
        2,
        "earl_episode_end_reason",
    )
    assert "no end reason" in error.reason


def test_an_open_episode_cannot_have_an_end_reason(tiny):
    tiny.set("ssd_early_help_episodes", 0, "earl_episode_end_reason", "NEEDS_MET")

    error = only_error(tiny.write())

    assert (error.line, error.column) == (2, "earl_episode_end_reason")
    assert "open episode" in error.reason


def test_every_episode_needs_its_details(tiny):
    tiny.rows["eh_episode_details"] = []

    error = only_error(tiny.write())

    assert (error.file, error.line, error.column) == (
        "ssd_early_help_episodes.csv",
        2,
        "earl_episode_id",
    )


def test_details_must_describe_an_episode_of_the_batch(tiny):
    tiny.add(
        "eh_episode_details",
        earl_episode_id="E404",
        family_id="F1",
        service_code="FAMILY_SUPPORT",
        level_code="L2",
        origin="self",
    )

    error = only_error(tiny.write())

    assert (error.file, error.line, error.column) == (
        "eh_episode_details.csv",
        3,
        "earl_episode_id",
    )


def test_an_nhs_number_with_a_wrong_check_digit_is_reported_without_echoing_it(tiny):
    tiny.set("ssd_person", 1, "pers_single_unique_id", "9434765871")

    error = only_error(tiny.write())

    assert error == RowError(
        "ssd_person.csv", 3, "pers_single_unique_id", "NHS number fails its check digit"
    )


def test_an_nhs_number_may_be_typed_with_spaces(tiny):
    tiny.set("ssd_person", 0, "pers_single_unique_id", "083 016 6130")

    import_ssd(tiny.write())

    assert Person.objects.get(external_id="P1").nhs_number == "0830166130"


def test_an_nhs_number_used_twice_is_reported(tiny):
    tiny.set("ssd_person", 1, "pers_single_unique_id", VALID_NHS[0])

    error = only_error(tiny.write())

    assert error == RowError(
        "ssd_person.csv", 3, "pers_single_unique_id", "NHS number is also on line 2"
    )


def test_an_nhs_number_held_by_another_stored_person_is_reported(tiny):
    factories.PersonFactory(nhs_number=VALID_NHS[1])

    with pytest.raises(ImportRejected) as caught:
        import_ssd(tiny.write())

    assert [(e.line, e.column) for e in caught.value.errors] == [(3, "pers_single_unique_id")]
    assert Person.objects.count() == 1


def test_a_upn_with_a_wrong_check_letter_is_reported(tiny):
    tiny.set("ssd_person", 0, "pers_upn", "A380559797114")

    error = only_error(tiny.write())

    assert error == RowError("ssd_person.csv", 2, "pers_upn", "UPN fails its check letter")


@pytest.mark.parametrize(
    ("file", "column"), [("eh_families", "postcode"), ("ssd_address", "addr_address_postcode")]
)
def test_a_malformed_postcode_is_reported(tiny, file, column):
    tiny.set(file, 0, column, "LS1 4A")

    error = only_error(tiny.write())

    assert error == RowError(f"{file}.csv", 2, column, "not a valid UK postcode")


def test_two_open_episodes_for_one_child_and_service_are_reported(tiny):
    tiny.add(
        "ssd_early_help_episodes",
        earl_episode_id="E2",
        earl_person_id="P1",
        earl_episode_start_date="2024-02-01",
    )
    tiny.add(
        "eh_episode_details",
        earl_episode_id="E2",
        family_id="F1",
        service_code="FAMILY_SUPPORT",
        level_code="L3",
        origin="partner",
    )

    error = only_error(tiny.write())

    assert error == RowError(
        "ssd_early_help_episodes.csv",
        3,
        "earl_person_id",
        "child 'P1' already has an open FAMILY_SUPPORT episode (line 2)",
    )


def test_an_open_episode_clashing_with_a_different_stored_one_is_reported(tiny, ref):
    child = factories.PersonFactory(external_id="P1")
    Episode.objects.create(
        family=factories.FamilyFactory(),
        child=child,
        service=ref.service("FAMILY_SUPPORT"),
        level=ref.level("L2"),
        origin="self",
        started_on=dt.date(2024, 1, 1),
    )

    with pytest.raises(ImportRejected) as caught:
        import_ssd(tiny.write())

    assert [(e.file, e.line, e.column) for e in caught.value.errors] == [
        ("ssd_early_help_episodes.csv", 2, "earl_person_id")
    ]
    assert "in the database" in caught.value.errors[0].reason
    assert Episode.objects.count() == 1


def test_a_second_current_membership_of_the_same_family_is_reported(tiny):
    tiny.add("ssd_family", fami_table_id="M3", fami_family_id="F1", fami_person_id="P1")

    error = only_error(tiny.write())

    assert (error.file, error.line, error.column) == ("ssd_family.csv", 4, "fami_person_id")


@pytest.mark.parametrize(
    ("change", "column", "words"),
    [
        ({"decided_on": "2023-12-01"}, "decided_on", "before requested_on"),
        ({"decided_on": ""}, "decided_on", "needs the date"),
        ({"decision": "pending"}, "decided_on", "pending"),
        ({"csc_referral_id": ""}, "csc_referral_id", "step-down needs"),
        ({"direction": "step_up", "earl_episode_id": ""}, "earl_episode_id", "step-up needs"),
    ],
)
def test_an_inconsistent_transition_is_reported(tiny, change, column, words):
    for key, value in change.items():
        tiny.set("eh_transitions", 0, key, value)

    error = only_error(tiny.write())

    assert (error.file, error.line, error.column) == ("eh_transitions.csv", 2, column)
    assert words in error.reason


@pytest.mark.parametrize(
    ("file", "column", "value", "reported", "words"),
    [
        ("eh_episode_details", "origin", "walk_in", "origin", "is not one of"),
        ("eh_assessments", "is_whole_family", "yes", "is_whole_family", "is not Y or N"),
        ("ssd_address", "addr_address_json", "[1, 2]", "addr_address_json", "not a JSON object"),
        ("ssd_address", "addr_address_json", '{"a": 1', "addr_address_json", "not a JSON object"),
        ("ssd_person", "pers_ethnicity", "WHITE-BRITISH", "pers_ethnicity", "longer than 8"),
        ("ssd_person", "pers_forename", "", "pers_forename", "required value is missing"),
        ("ssd_cin_episodes", "cine_close_date", "", "cine_close_reason", "needs a close date"),
        ("eh_identified_needs", "outcome", "met", "outcome_recorded_on", "needs the date"),
        ("eh_identified_needs", "outcome_recorded_on", "2024-05-01", "outcome", "is missing"),
        ("eh_family_roles", "fami_table_id", "M404", "fami_table_id", "no row with"),
    ],
)
def test_other_bad_cells_are_reported(tiny, file, column, value, reported, words):
    tiny.set(file, 0, column, value)

    error = only_error(tiny.write())

    assert (error.file, error.line, error.column) == (f"{file}.csv", 2, reported)
    assert words in error.reason


def test_every_problem_in_a_batch_is_reported_in_file_order(tiny):
    tiny.set("eh_transitions", 0, "decided_on", "")
    tiny.set("ssd_person", 1, "pers_dob", "1985-13-01")
    tiny.set("ssd_family", 1, "fami_person_id", "P404")
    tiny.set("eh_families", 0, "postcode", "nowhere")
    tiny.add("ssd_address", addr_table_id="A1", addr_person_id="P2")

    errors = rejected(tiny.write())

    assert [(e.file, e.line, e.column) for e in errors] == [
        ("ssd_person.csv", 3, "pers_dob"),
        ("eh_families.csv", 2, "postcode"),
        ("ssd_family.csv", 3, "fami_person_id"),
        ("ssd_address.csv", 3, "addr_table_id"),
        ("eh_transitions.csv", 2, "decided_on"),
    ]


def test_lines_count_physical_lines_when_a_cell_spans_several(tiny):
    tiny.set("eh_transitions", 0, "rationale", "First line\nsecond line\nthird line")
    tiny.add(
        "eh_transitions",
        transition_id="T2",
        direction="step_up",
        person_id="P1",
        family_id="F1",
        earl_episode_id="E1",
        requested_on="2024-02-30",
        decision="pending",
    )

    error = only_error(tiny.write())

    assert (error.line, error.column) == (5, "requested_on")  # header, 3 lines, then this


# --- The code map ----------------------------------------------------------------------------


def test_the_code_map_translates_a_local_end_reason(tiny, ref):
    tiny.set("ssd_early_help_episodes", 0, "earl_episode_end_date", "2024-03-01")
    tiny.set("ssd_early_help_episodes", 0, "earl_episode_end_reason", "CLOSED-MET")
    tiny.code_map = [("end_reason", "CLOSED-MET", "NEEDS_MET")]

    import_ssd(tiny.write())

    assert Episode.objects.get().end_reason == ref.end_reason("NEEDS_MET")


def test_the_code_map_may_come_from_elsewhere(tiny, tmp_path, ref):
    tiny.set("ssd_early_help_episodes", 0, "earl_episode_end_date", "2024-03-01")
    tiny.set("ssd_early_help_episodes", 0, "earl_episode_end_reason", "99")
    mapping = tmp_path / "our-map.csv"
    mapping.write_text("category,local_code,code\nend_reason,99,OTHER\n")

    with (tmp_path / "out").open("w") as stdout:
        call_command("import_ssd", str(tiny.write()), "--code-map", str(mapping), stdout=stdout)

    assert Episode.objects.get().end_reason == ref.end_reason("OTHER")


def test_a_code_map_naming_one_of_our_codes_wrongly_is_reported(tiny):
    tiny.code_map = [("end_reason", "CLOSED-MET", "ALL_GOOD"), ("colour", "R", "red")]

    errors = rejected(tiny.write())

    assert [(e.file, e.line, e.column) for e in errors] == [
        ("ssd_code_map.csv", 2, "code"),
        ("ssd_code_map.csv", 3, "category"),
    ]
    assert errors[0].reason == "unknown end_reason code 'ALL_GOOD' (not one of our codes)"


def test_a_local_code_missing_from_the_map_is_reported_with_the_map_named(tiny):
    tiny.set("ssd_person", 0, "pers_send_flag", "K")
    tiny.code_map = [("send", "E", "ehcp")]

    error = only_error(tiny.write())

    assert error == RowError(
        "ssd_person.csv",
        2,
        "pers_send_flag",
        "unknown send code 'K' (not in ssd_code_map.csv or our codes)",
    )


# --- The command ----------------------------------------------------------------------------


def test_the_command_prints_a_summary(tmp_path):
    out = tmp_path / "out.txt"
    with out.open("w") as stdout:
        call_command("import_ssd", str(EXAMPLE_DIR), stdout=stdout)

    text = out.read_text()
    assert "ssd_person.csv" in text and "rows/second" in text


def test_the_command_reports_each_problem_and_fails_without_naming_anyone(tiny, tmp_path):
    tiny.set("ssd_person", 0, "pers_dob", "2024-02-30")
    tiny.set("ssd_person", 0, "pers_single_unique_id", "9434765871")
    stderr = tmp_path / "err.txt"

    with stderr.open("w") as handle, pytest.raises(CommandError, match="2 problem"):
        call_command("import_ssd", str(tiny.write()), stderr=handle)

    lines = stderr.read_text().splitlines()
    assert lines == [
        "ssd_person.csv:2:pers_dob: not a date: '2024-02-30'",
        "ssd_person.csv:2:pers_single_unique_id: NHS number fails its check digit",
    ]
    assert "Ada" not in stderr.read_text() and "Tiny" not in stderr.read_text()


# --- Cost: queries do not grow with the rows ------------------------------------------------


def _families(directory: Path, count: int) -> Path:
    """A batch of ``count`` families, each a parent and a child with an open episode."""
    batch = TinyBatch(directory)
    rows: dict[str, list[dict[str, str]]] = {name: [] for name in batch.rows}
    for n in range(count):
        child, parent, family = f"C{n:05d}", f"A{n:05d}", f"F{n:05d}"
        rows["ssd_person"] += [
            {
                "pers_person_id": child,
                "pers_forename": "C",
                "pers_surname": "S",
                "pers_dob": "2016-01-01",
            },
            {"pers_person_id": parent, "pers_forename": "A", "pers_surname": "S"},
        ]
        rows["eh_families"].append({"family_id": family, "postcode": "LS1 4AP"})
        rows["ssd_family"] += [
            {"fami_table_id": f"M{child}", "fami_family_id": family, "fami_person_id": child},
            {"fami_table_id": f"M{parent}", "fami_family_id": family, "fami_person_id": parent},
        ]
        rows["eh_family_roles"].append({"fami_table_id": f"M{child}", "role": "child"})
        rows["ssd_address"].append({"addr_table_id": f"AD{n}", "addr_person_id": child})
        rows["ssd_early_help_episodes"].append(
            {
                "earl_episode_id": f"E{n:05d}",
                "earl_person_id": child,
                "earl_episode_start_date": "2024-01-01",
                "earl_episode_worker_id": "W1",
            }
        )
        rows["eh_episode_details"].append(
            {
                "earl_episode_id": f"E{n:05d}",
                "family_id": family,
                "service_code": "FAMILY_SUPPORT",
                "level_code": "L2",
                "origin": "self",
            }
        )
        rows["ssd_cin_episodes"].append(
            {
                "cine_referral_id": f"R{n}",
                "cine_person_id": child,
                "cine_referral_date": "2023-01-01",
            }
        )
        rows["ssd_cin_plans"].append(
            {
                "cinp_cin_plan_id": f"P{n}",
                "cinp_referral_id": f"R{n}",
                "cinp_person_id": child,
                "cinp_cin_plan_start_date": "2023-02-01",
            }
        )
        rows["eh_assessments"].append(
            {
                "assessment_id": f"AS{n}",
                "family_id": family,
                "earl_episode_id": f"E{n:05d}",
                "kind": "eha",
                "started_on": "2024-01-02",
            }
        )
        rows["eh_identified_needs"].append(
            {"need_id": f"N{n}", "assessment_id": f"AS{n}", "headline_outcome_code": "HEALTH"}
        )
        rows["eh_transitions"].append(
            {
                "transition_id": f"T{n}",
                "direction": "step_up",
                "person_id": child,
                "family_id": family,
                "earl_episode_id": f"E{n:05d}",
                "csc_referral_id": f"R{n}",
                "requested_on": "2024-02-01",
                "decision": "pending",
            }
        )
    batch.rows = rows
    return batch.write()


def _queries(directory: Path) -> int:
    with CaptureQueriesContext(connection) as queries:
        import_ssd(directory)
    return len(queries)


def test_an_import_makes_the_same_number_of_queries_for_20_or_200_families(tmp_path, practitioner):
    small, large = _families(tmp_path / "small", 20), _families(tmp_path / "large", 200)
    factories.PersonFactory(nhs_number=VALID_NHS[2])  # a stored row to check against

    first = _queries(small)
    wipe()
    second = _queries(large)
    again = _queries(large)  # the re-import: every row already stored

    assert first == second
    assert again <= first
    assert Episode.objects.count() == 200


@pytest.mark.parametrize("families", [20, 200])
def test_an_import_stays_within_a_fixed_query_budget(
    tmp_path, families, django_assert_max_num_queries
):
    directory = _families(tmp_path / "batch", families)

    with django_assert_max_num_queries(80):  # about six per table, whatever the rows
        import_ssd(directory)

    assert Person.objects.count() == 2 * families


# --- PostgreSQL: the COPY path writes nothing on an unchanged re-import ----------------------


@pytest.mark.postgres
def test_an_unchanged_reimport_rewrites_no_row_on_postgresql():
    import_ssd(EXAMPLE_DIR)

    def row_versions() -> dict[str, list[tuple[int, str]]]:
        with connection.cursor() as cursor:
            versions = {}
            for model in (
                Person,
                Family,
                FamilyMembership,
                Address,
                Episode,
                CscInvolvement,
                Assessment,
                IdentifiedNeed,
                Transition,
            ):
                cursor.execute(f"SELECT id, ctid::text FROM {model._meta.db_table} ORDER BY id")  # noqa: S608
                versions[model.__name__] = cursor.fetchall()
        return versions

    before = row_versions()
    import_ssd(EXAMPLE_DIR)

    assert row_versions() == before  # an UPDATE would move the row to a new ctid


@pytest.mark.postgres
def test_a_large_batch_goes_through_several_copy_chunks(tmp_path, monkeypatch):
    from cases.interchange import upsert

    monkeypatch.setattr(upsert, "COPY_CHUNK_ROWS", 7)
    directory = _families(tmp_path / "batch", 20)

    import_ssd(directory)
    import_ssd(directory)

    assert Person.objects.count() == 40
    assert FamilyMembership.objects.filter(role="child").count() == 20


# --- The vectorised identifier checks agree with python-stdnum ------------------------------


def test_nhs_number_check_agrees_with_stdnum():
    rng = random.Random(4)
    numbers = (
        [f"{rng.randrange(10**10):010d}" for _ in range(3000)]
        + list(VALID_NHS)
        + ["12345", "12345678a0"]
    )

    ours = checks.nhs_numbers_valid(pd.Series(numbers, dtype=str))

    assert list(ours) == [nhs.is_valid(n) for n in numbers]
    assert ours.sum() > 200  # the sample holds valid numbers too


def test_upn_check_agrees_with_stdnum():
    rng = random.Random(5)
    alphabet = "ABCDEFGHJKLMNPQRTUVWXYZ0123456789"
    valid = [
        upn.calc_check_digit(body) + body
        for body in (f"{la}{rng.randrange(10**9):09d}" for la in (801, 380, 919, 201) * 300)
    ]
    noise = ["".join(rng.choice(alphabet) for _ in range(13)) for _ in range(500)]
    mutated = [rng.choice(alphabet[:23]) + v[1:] for v in valid[:500]]
    values = valid + noise + mutated + ["X80120000A001", "E000200005001", "B80120000500"]

    ours = checks.upns_valid(pd.Series(values, dtype=str))

    assert list(ours) == [upn.is_valid(v) for v in values]
    assert ours.sum() >= len(valid)
