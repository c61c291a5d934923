"""Selectors: one query per table, the columns the measures read, and frames the measures run on."""

import dataclasses
import datetime as dt

import pandas as pd
import pytest

from assessments.models import Assessment, IdentifiedNeed, Plan, PlanAction, Review
from cases.models import CscInvolvement, Episode, FamilyMembership, Referral, Transition
from reporting import selectors
from reporting.measures import (
    RuleSet,
    c1_caseload,
    esc_steps,
    f1_referral_conversion,
    o1_closure_reasons,
    o2_duration,
    o3_need_levels,
    o4_partner_led,
    reporting_year,
    rr1_csc_referral_after_closure,
    rr2_reopened_after_closure,
    rr3_step_down_status,
    rr4_csc_rereferral,
    rr5_early_help_rereferral,
    sf_claimability,
    sf_eligibility,
    t1_contact_timeliness,
    t2_assessment_timeliness,
    t3_reviews_overdue,
)
from reporting.measures.dates import month
from tests import factories

pytestmark = pytest.mark.django_db
D = dt.date
LONDON = dt.timezone(dt.timedelta(hours=1))  # British Summer Time


@pytest.fixture
def world(ref, council, team, practitioner):
    """A family with two children, worked with across early help and CSC."""
    locality = team.locality
    family = factories.FamilyFactory(locality=locality)
    child, sibling, parent = (
        factories.PersonFactory(),
        factories.PersonFactory(date_of_birth=D(2018, 3, 1)),
        factories.PersonFactory(date_of_birth=D(1985, 1, 1)),
    )
    for person, role in ((child, "child"), (sibling, "child"), (parent, "parent")):
        FamilyMembership.objects.create(family=family, person=person, role=role)
    school = factories.OrganisationFactory(kind="school")
    request = Referral.objects.create(
        reference="R-000001",
        family=family,
        # 23:30 UTC on 31 March 2024 is 00:30 on 1 April in London (BST began that morning)
        received_at=dt.datetime(2024, 3, 31, 23, 30, tzinfo=dt.UTC),
        first_contact_at=dt.datetime(2024, 4, 2, 9, 0, tzinfo=LONDON),
        source=ref.source("2A"),
        referring_organisation=school,
        reason="Worried about attendance",
        status="decided",
        decision="early_help",
        decided_on=D(2024, 4, 2),
        decision_level=ref.level("L2"),
        decision_service=ref.service(),
    )
    closed = Episode.objects.create(
        family=family,
        child=child,
        service=ref.service(),
        team=team,
        level=ref.level("L2"),
        origin="partner",
        referral=request,
        lead_practitioner=practitioner,
        lead_organisation=council,
        started_on=D(2024, 4, 2),
        ended_on=D(2024, 6, 28),
        end_reason=ref.end_reason("NEEDS_MET"),
    )
    Episode.objects.create(
        family=family,
        child=sibling,
        service=ref.service("YOUTH_SUPPORT"),
        level=ref.level("L3"),
        origin="step_down",
        lead_worker_external_id="W42",
        started_on=D(2024, 5, 1),
    )
    referral = CscInvolvement.objects.create(
        person=child, kind="referral", started_on=D(2024, 7, 20), source="front_door"
    )
    CscInvolvement.objects.create(
        person=child, kind="cin_plan", started_on=D(2024, 8, 1), referral=referral
    )
    assessment = Assessment.objects.create(
        family=family,
        episode=closed,
        kind="my_plan_plus",
        status="completed",
        started_on=D(2024, 4, 3),
        completed_on=D(2024, 4, 30),
        lead_practitioner=practitioner,
        lead_organisation=school,
    )
    plan = Plan.objects.create(
        assessment=assessment,
        status="closed",
        started_on=D(2024, 5, 1),
        closed_on=D(2024, 6, 28),
    )
    Review.objects.create(plan=plan, held_on=D(2024, 6, 1), next_review_on=D(2024, 7, 13))
    need = IdentifiedNeed.objects.create(
        assessment=assessment,
        headline_outcome=ref.outcome("EDUCATION"),
        person=child,
        level_at_assessment=ref.level("L3"),
        level_at_closure=ref.level("L1"),
        outcome="met",
        outcome_recorded_on=D(2024, 6, 28),
    )
    PlanAction.objects.create(
        plan=plan, need=need, description="Attendance plan", owner_user=practitioner,
        due_on=D(2024, 6, 1),
    )  # fmt: skip
    Transition.objects.create(
        direction="step_up",
        family=family,
        child=child,
        from_episode=closed,
        requested_on=D(2024, 6, 25),
        decision="accepted",
        decided_on=D(2024, 6, 28),
    )
    return {"family": family, "child": child, "sibling": sibling, "team": team}


SELECTORS = [
    (selectors.episodes_frame, [name for name, _ in selectors.EPISODE_COLUMNS] + ["locality"]),
    (selectors.csc_involvements_frame, [name for name, _ in selectors.CSC_COLUMNS]),
    (
        selectors.referrals_frame,
        [name for name, _ in selectors.REFERRAL_COLUMNS] + ["received_on", "first_contact_on"],
    ),
    (
        selectors.assessments_frame,
        [name for name, _ in selectors.ASSESSMENT_COLUMNS] + ["locality"],
    ),
    (selectors.needs_frame, [name for name, _ in selectors.NEED_COLUMNS]),
    (selectors.plans_frame, [name for name, _ in selectors.PLAN_COLUMNS] + ["locality"]),
    (selectors.reviews_frame, [name for name, _ in selectors.REVIEW_COLUMNS]),
    (selectors.plan_actions_frame, [name for name, _ in selectors.PLAN_ACTION_COLUMNS]),
    (
        selectors.transitions_frame,
        [name for name, _ in selectors.TRANSITION_COLUMNS] + ["team", "service"],
    ),
    (selectors.memberships_frame, [name for name, _ in selectors.MEMBERSHIP_COLUMNS]),
    (selectors.teams_frame, ["team", "team_name", "locality", "caseload_target"]),
    (selectors.localities_frame, ["locality", "locality_name"]),
    (selectors.levels_frame, ["code", "label", "rank", "colour"]),
]


@pytest.mark.parametrize(
    ("selector", "columns"), SELECTORS, ids=lambda x: getattr(x, "__name__", "")
)
def test_one_query_per_table_and_the_right_columns(
    world, selector, columns, django_assert_num_queries
):
    with django_assert_num_queries(1):
        result = selector()
    assert list(result.columns) == columns
    assert len(result) >= 1


@pytest.mark.parametrize(
    ("selector", "columns"), SELECTORS, ids=lambda x: getattr(x, "__name__", "")
)
def test_empty_tables_give_frames_with_the_columns(db, selector, columns):
    assert list(selector().columns) == columns


def test_query_count_does_not_grow_with_the_data(world, ref, django_assert_num_queries):
    family = world["family"]
    for _ in range(5):
        person = factories.PersonFactory()
        FamilyMembership.objects.create(family=family, person=person, role="child")
        Episode.objects.create(
            family=family, child=person, service=ref.service(), level=ref.level("L2"),
            origin="self", started_on=D(2024, 1, 1),
        )  # fmt: skip
    with django_assert_num_queries(13):
        data = selectors.reporting_data()
    assert len(data.episodes) == 7


def test_values(world):
    episodes = selectors.episodes_frame().set_index("child_id")
    child, sibling, team = world["child"].pk, world["sibling"].pk, world["team"]
    assert episodes.loc[child, "end_reason_category"] == "needs_met"
    assert episodes.loc[child, "team"] == team.code
    assert episodes.loc[child, "locality"] == team.locality.code
    # no team on the sibling's episode: the family's locality
    assert episodes.loc[sibling, "locality"] == team.locality.code
    assert episodes.loc[child, "ended_on"] == pd.Timestamp("2024-06-28")
    assert str(episodes["started_on"].dtype) == "datetime64[ns]"
    assert pd.isna(episodes.loc[sibling, "lead_practitioner_id"])

    referrals = selectors.referrals_frame()
    assert referrals.loc[0, "received_on"] == pd.Timestamp("2024-04-01")  # London date
    assert referrals.loc[0, "first_contact_on"] == pd.Timestamp("2024-04-02")

    transitions = selectors.transitions_frame()
    assert transitions.loc[0, "team"] == team.code

    assessments = selectors.assessments_frame()
    assert assessments.loc[0, "lead_organisation_kind"] == "school"
    assert assessments.loc[0, "plan_closed_on"] == pd.Timestamp("2024-06-28")

    needs = selectors.needs_frame()
    first = needs.iloc[0]
    assert [first["headline_outcome"], first["level_at_assessment"], first["level_at_closure"]] == [
        "EDUCATION",
        "L3",
        "L1",
    ]


def test_every_measure_runs_on_the_selected_frames(world):
    data = selectors.reporting_data()
    year = [reporting_year(2024)]
    months = [month(2024, 7), month(2024, 8)]
    # the child's early help closed 28 Jun; CSC referral 20 Jul = day 22 → RR1 counts in July
    rr1 = rr1_csc_referral_after_closure(data.episodes, data.csc, periods=months)
    assert rr1.results.loc[rr1.results["breakdown"] == "all", "numerator"].tolist() == [1, 1]
    rr2 = rr2_reopened_after_closure(data.episodes, data.csc, periods=year)
    assert rr2.results.loc[rr2.results["category"] == "reopened", "numerator"].iloc[0] == 1
    rr3_step_down_status(data.episodes, data.csc, periods=year, transitions=data.transitions)
    rr4_csc_rereferral(data.csc, periods=year, memberships=data.memberships)
    rr5_early_help_rereferral(data.episodes, periods=year)
    esc = esc_steps(data.transitions, periods=year)
    assert esc.results["turnaround_median_working_days"].iloc[0] == 3.0  # 25 → 28 Jun
    t1 = t1_contact_timeliness(data.referrals, periods=year)
    assert t1.results["value"].iloc[0] == 100.0  # 1 Apr (Mon) → 2 Apr: 1 working day
    t2_assessment_timeliness(data.assessments, periods=year)
    t3_reviews_overdue(data.plans, data.reviews, periods=months)
    o1_closure_reasons(data.episodes, periods=year)
    o2_duration(data.episodes, periods=year)
    o3 = o3_need_levels(data.assessments, data.needs, periods=year, levels=data.levels)
    assert o3.results.loc[o3.results["category"] == "L3:at_assessment", "numerator"].iloc[0] == 1
    o4_partner_led(data.assessments, periods=year)
    c1 = c1_caseload(data.episodes, periods=months)
    assert set(c1.members["lead_practitioner"].dropna()) == {"ext:W42"}
    f1_referral_conversion(data.referrals, data.episodes, periods=year)
    eligible = sf_eligibility(data.needs, data.memberships, rules=RuleSet(), as_of=D(2025, 3, 31))
    sf_claimability(
        eligible,
        episodes=data.episodes,
        assessments=data.assessments,
        needs=data.needs,
        plan_actions=data.plan_actions,
        csc=data.csc,
        memberships=data.memberships,
        rules=RuleSet(),
        as_of=D(2025, 3, 31),
    )


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_the_streaming_reader_loads_exactly_what_a_plain_read_loads(world):
    # outside a transaction a reader thread streams the tables while this one parses them
    streamed = selectors.reporting_data()
    plain = selectors._read_all()
    assert len(streamed.episodes) == Episode.objects.count() > 0
    loaded = [field for field in dataclasses.fields(selectors.ReportingData) if field.init]
    assert len(loaded) == 13  # every frame the measures read; ``derived`` is worked out later
    for field in loaded:
        pd.testing.assert_frame_equal(getattr(streamed, field.name), getattr(plain, field.name))


@pytest.mark.parametrize(
    "texts",
    [
        ["2024-02-29", "", "2023-12-31", "2024-02-29", "1999-01-01"],
        ["", ""],  # no day at all: no categories
        [],
    ],
)
def test_iso_days_parse_each_distinct_day_as_a_row_by_row_parse_does(texts):
    read = pd.Series(texts, dtype="object").replace("", None).astype("category")
    expected = pd.to_datetime(pd.Series(texts, dtype="object").replace("", None)).astype(
        "datetime64[ns]"
    )
    pd.testing.assert_series_equal(selectors._iso_days(read), expected)
