"""The synthetic SSD generator: reproducible, valid identifiers, and never an inconsistent batch."""

from pathlib import Path

import pandas as pd
import pytest
from stdnum.gb import nhs, upn

from cases.interchange import format as ssd
from cases.interchange.generator import (
    DEMO_LEAD_PRACTITIONERS,
    DEMO_LOCALITIES,
    DEMO_ORGANISATIONS,
    DEMO_TEAMS,
    generate_ssd,
)

CHILDREN = 600


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("ssd")
    generate_ssd(directory, children=CHILDREN, seed=7)
    return directory


def read(directory: Path, name: str) -> pd.DataFrame:
    return pd.read_csv(directory / f"{name}.csv", dtype=str, keep_default_na=False)


def file_bytes(directory: Path) -> dict[str, bytes]:
    return {path.name: path.read_bytes() for path in sorted(directory.glob("*.csv"))}


def test_the_same_seed_gives_byte_identical_files(generated, tmp_path):
    generate_ssd(tmp_path, children=CHILDREN, seed=7)

    assert file_bytes(tmp_path) == file_bytes(generated)


def test_another_seed_gives_other_people(generated, tmp_path):
    generate_ssd(tmp_path, children=CHILDREN, seed=8)

    assert file_bytes(tmp_path)["ssd_person.csv"] != file_bytes(generated)["ssd_person.csv"]


def test_every_file_of_the_format_is_written_with_its_columns_and_a_code_map(generated):
    for spec in ssd.FILES:
        assert list(read(generated, spec.name).columns) == spec.column_names
    code_map = pd.read_csv(generated / ssd.CODE_MAP_FILE, dtype=str)
    assert list(code_map.columns) == ["category", "local_code", "code"]
    assert ("end_reason", "NM", "NEEDS_MET") in set(code_map.itertuples(index=False, name=None))


def test_rows_returned_match_the_files(tmp_path):
    rows = generate_ssd(tmp_path, children=50, seed=1)

    for spec in ssd.FILES:
        assert rows[spec.name] == len(read(tmp_path, spec.name))


def test_the_set_has_the_requested_number_of_children(generated):
    roles = read(generated, "eh_family_roles")

    assert (roles.role == "child").sum() == CHILDREN


def test_every_nhs_number_passes_stdnum_and_is_unique(generated):
    numbers = read(generated, "ssd_person").pers_single_unique_id
    numbers = numbers[numbers != ""]

    assert len(numbers) > CHILDREN / 2
    assert all(nhs.is_valid(number) and number.startswith("999") for number in numbers)
    assert numbers.is_unique


def test_every_upn_passes_stdnum_and_belongs_to_a_school_age_child(generated):
    people = read(generated, "ssd_person")
    roles = read(generated, "eh_family_roles")
    with_upn = people[people.pers_upn != ""]

    assert len(with_upn) > 0
    assert all(upn.is_valid(value) for value in with_upn.pers_upn)
    assert with_upn.pers_upn.is_unique
    child_ids = set(read(generated, "ssd_family").fami_person_id[roles.role == "child"])
    assert set(with_upn.pers_person_id) <= child_ids
    assert (pd.to_datetime(with_upn.pers_dob) <= pd.Timestamp("2021-10-31")).all()


def test_episodes_end_on_or_after_they_start_and_closed_means_end_reason(generated):
    episodes = read(generated, "ssd_early_help_episodes")
    closed = episodes.earl_episode_end_date != ""

    assert closed.any() and (~closed).any()
    assert (episodes.earl_episode_end_reason != "").eq(closed).all()
    ends = episodes[closed]
    assert (ends.earl_episode_end_date >= ends.earl_episode_start_date).all()
    assert episodes.earl_episode_start_date.between("2019-04-01", "2026-10-31").all()


def test_no_child_has_two_open_episodes_with_one_service_nor_overlapping_episodes(generated):
    episodes = read(generated, "ssd_early_help_episodes").merge(
        read(generated, "eh_episode_details"), on="earl_episode_id"
    )
    open_ = episodes[episodes.earl_episode_end_date == ""]

    assert not open_.duplicated(["earl_person_id", "service_code"]).any()
    ordered = episodes.assign(
        end=episodes.earl_episode_end_date.replace("", "9999-12-31")
    ).sort_values(["earl_person_id", "earl_episode_start_date"])
    previous_end = ordered.groupby("earl_person_id").end.shift()
    assert not (previous_end.notna() & (ordered.earl_episode_start_date <= previous_end)).any()


def test_some_children_come_back_after_closure(generated):
    episodes = read(generated, "ssd_early_help_episodes")

    assert episodes.earl_person_id.duplicated().any()


def test_every_family_has_a_child_and_children_are_under_18_when_helped(generated):
    members = read(generated, "ssd_family").merge(
        read(generated, "eh_family_roles"), on="fami_table_id"
    )
    families = read(generated, "eh_families")
    assert set(members[members.role == "child"].fami_family_id) == set(families.family_id)

    people = read(generated, "ssd_person")
    helped = read(generated, "ssd_early_help_episodes").merge(
        people, left_on="earl_person_id", right_on="pers_person_id"
    )
    born = helped[helped.pers_dob != ""]
    age = pd.to_datetime(born.earl_episode_start_date) - pd.to_datetime(born.pers_dob)
    assert age.dt.days.between(0, 18 * 365).all()
    unborn = people[people.pers_dob == ""]
    assert len(unborn) > 0 and (unborn.pers_expected_dob != "").all()


def test_parents_are_adults_and_older_than_their_children(generated):
    people = read(generated, "ssd_person").set_index("pers_person_id")
    members = read(generated, "ssd_family").merge(
        read(generated, "eh_family_roles"), on="fami_table_id"
    )
    members["dob"] = pd.to_datetime(members.fami_person_id.map(people.pers_dob).replace("", None))
    adults = members[members.role != "child"].groupby("fami_family_id").dob.max()
    oldest_child = members[members.role == "child"].groupby("fami_family_id").dob.min()
    gap_years = ((oldest_child - adults).dt.days / 365.25).dropna()

    assert (gap_years >= 14).all()


def test_transitions_are_decided_after_they_are_requested(generated):
    transitions = read(generated, "eh_transitions")
    decided = transitions[transitions.decided_on != ""]

    assert (transitions.decision == "pending").eq(transitions.decided_on == "").all()
    assert (decided.decided_on >= decided.requested_on).all()
    assert {"step_up", "step_down"} <= set(transitions.direction)


def test_step_ups_close_the_episode_and_open_a_csc_referral_within_days(generated):
    transitions = read(generated, "eh_transitions")
    accepted = transitions[
        (transitions.direction == "step_up") & (transitions.decision == "accepted")
    ]
    joined = accepted.merge(read(generated, "ssd_early_help_episodes"), on="earl_episode_id").merge(
        read(generated, "ssd_cin_episodes"), left_on="csc_referral_id", right_on="cine_referral_id"
    )

    assert len(joined) == len(accepted) > 0
    assert (joined.earl_episode_end_reason == "SU").all()
    lag = pd.to_datetime(joined.cine_referral_date) - pd.to_datetime(joined.earl_episode_end_date)
    assert lag.dt.days.between(0, 7).all()


def test_accepted_step_downs_open_a_step_down_episode(generated):
    transitions = read(generated, "eh_transitions")
    accepted = transitions[
        (transitions.direction == "step_down") & (transitions.decision == "accepted")
    ]
    details = accepted.merge(read(generated, "eh_episode_details"), on="earl_episode_id")

    assert len(details) == len(accepted) > 0
    assert (details.origin == "step_down").all()


def test_csc_records_close_in_order_and_have_a_reason_when_closed(generated):
    referrals = read(generated, "ssd_cin_episodes")
    closed = referrals.cine_close_date != ""

    assert (referrals.cine_close_reason != "").eq(closed).all()
    assert (referrals[closed].cine_close_date >= referrals[closed].cine_referral_date).all()
    for name, start, end in (
        ("ssd_cin_plans", "cinp_cin_plan_start_date", "cinp_cin_plan_end_date"),
        ("ssd_cp_plans", "cppl_cp_plan_start_date", "cppl_cp_plan_end_date"),
        ("ssd_cla_episodes", "clae_cla_episode_start_date", "clae_cla_episode_ceased"),
    ):
        plans = read(generated, name)
        ended = plans[plans[end] != ""]
        assert (ended[end] >= ended[start]).all(), name


def test_needs_have_outcomes_only_with_a_date(generated):
    needs = read(generated, "eh_identified_needs")
    per_assessment = needs.groupby("assessment_id").size()

    assert (needs.outcome != "").eq(needs.outcome_recorded_on != "").all()
    assert per_assessment.between(1, 6).all()
    assert not needs.duplicated(["assessment_id", "headline_outcome_code"]).any()


def test_references_between_files_resolve(generated):
    people = set(read(generated, "ssd_person").pers_person_id)
    families = set(read(generated, "eh_families").family_id)
    episodes = set(read(generated, "ssd_early_help_episodes").earl_episode_id)
    referrals = set(read(generated, "ssd_cin_episodes").cine_referral_id)
    transitions = read(generated, "eh_transitions")

    assert set(read(generated, "ssd_family").fami_family_id) <= families
    assert set(read(generated, "ssd_early_help_episodes").earl_person_id) <= people
    assert set(read(generated, "eh_episode_details").earl_episode_id) == episodes
    assert set(read(generated, "ssd_cin_plans").cinp_referral_id) <= referrals
    assert set(read(generated, "eh_assessments").earl_episode_id) <= episodes
    assert set(transitions.earl_episode_id) - {""} <= episodes
    assert set(transitions.csc_referral_id) - {""} <= referrals


def test_codes_are_the_demo_councils(generated):
    episodes = read(generated, "ssd_early_help_episodes")
    details = read(generated, "eh_episode_details")
    families = read(generated, "eh_families")

    assert set(episodes.earl_episode_organisation) <= {o.code for o in DEMO_ORGANISATIONS}
    assert set(details.team_code) - {""} <= {t.code for t in DEMO_TEAMS}
    assert set(families.locality_code) <= {loc.code for loc in DEMO_LOCALITIES}
    practitioners = {username for username, _ in DEMO_LEAD_PRACTITIONERS}
    assert practitioners <= set(episodes.earl_episode_worker_id)


def test_a_set_needs_at_least_one_child(tmp_path):
    with pytest.raises(ValueError, match="children"):
        generate_ssd(tmp_path, children=0)
