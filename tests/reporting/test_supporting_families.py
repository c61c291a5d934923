"""Supporting Families eligibility and claimability under the default and an earlier rule set."""

from decimal import Decimal

import pandas as pd
import pytest

from reporting.measures import RuleSet, sf_claimability, sf_eligibility
from tests.reporting import csc, cscs, d, episode, episodes, frame

AS_OF = d("2024-12-31")
THREE = ("EDUCATION", "HEALTH", "HOUSING")


def needs_for(family, codes, identified="2024-01-10", outcome="met", first_id=None):
    start = first_id if first_id is not None else family * 100
    return [
        {"need_id": start + i, "family_id": family, "headline_outcome": code,
         "identified_on": identified, "outcome": outcome}
        for i, code in enumerate(codes)
    ]  # fmt: skip


def member(family, person, born=None, expected=None, started="2020-01-01", ended=None):
    return {
        "family_id": family,
        "person_id": person,
        "started_on": started,
        "ended_on": ended,
        "date_of_birth": born,
        "expected_date_of_birth": expected,
    }


def eligibility(needs, memberships, as_of=AS_OF, rules=None):
    return sf_eligibility(frame(needs), frame(memberships), rules=rules or RuleSet(), as_of=as_of)


class TestEligibility:
    def test_needs_and_household(self):
        needs = [
            # F1: three needs, three outcomes, a child aged 8 → eligible, attached 10 Jan
            *needs_for(1, THREE),
            # F2: three needs but two outcomes → not eligible
            *needs_for(2, ("EDUCATION", "EDUCATION", "HEALTH")),
            # F3: three outcomes, adults only → not eligible
            *needs_for(3, THREE),
            # F4: three outcomes, an adult and an unborn baby due in June → expectant parent
            *needs_for(4, THREE),
            # F5: needs spread over time: the third outcome appears on 1 Mar → attached then
            *needs_for(5, ("EDUCATION", "HEALTH"), identified="2024-01-10"),
            *needs_for(5, ("HOUSING",), identified="2024-03-01", first_id=599),
            # F6: the third need is identified after the as-of date → not yet eligible
            *needs_for(6, ("EDUCATION", "HEALTH")),
            *needs_for(6, ("HOUSING",), identified="2025-01-05", first_id=699),
            # F7: one need has a code outside the framework → only two count
            *needs_for(7, ("EDUCATION", "HEALTH", "NOT_A_HEADLINE")),
        ]
        memberships = [
            member(1, 11, born="2015-06-01"),
            member(2, 21, born="2015-06-01"),
            member(3, 31, born="1980-01-01"),
            member(4, 41, born="1990-01-01"),
            member(4, 42, expected="2024-06-01"),
            member(5, 51, born="2010-01-01"),
            member(6, 61, born="2015-06-01"),
            member(7, 71, born="2015-06-01"),
        ]
        result = eligibility(needs, memberships).set_index("family_id")
        assert result["eligible"].to_dict() == {
            1: True, 2: False, 3: False, 4: True, 5: True, 6: False, 7: False,
        }  # fmt: skip
        assert result.loc[1, "attached_on"] == pd.Timestamp("2024-01-10")
        assert result.loc[5, "attached_on"] == pd.Timestamp("2024-03-01")
        assert (
            bool(result.loc[4, "has_expectant_parent"]) and not result.loc[4, "has_dependent_child"]
        )
        assert (result.loc[2, "n_needs"], result.loc[2, "n_headline_outcomes"]) == (3, 2)
        assert result.loc[3, "reasons"] == "no dependent child or expectant parent"
        assert result.loc[2, "reasons"].startswith("fewer than 3 needs")
        assert result.loc[1, "reasons"] == ""

    def test_every_failed_check_is_a_reason_in_order(self):
        # F8: two outcomes and adults only: both checks fail, needs first
        needs = needs_for(8, ("EDUCATION", "HEALTH"))
        result = eligibility(needs, [member(8, 81, born="1980-01-01")]).set_index("family_id")
        assert result.loc[8, "reasons"] == (
            "fewer than 3 needs from 3 headline outcomes; no dependent child or expectant parent"
        )

    def test_dependent_child_age_on_the_day_of_attachment(self):
        needs = [*needs_for(1, THREE), *needs_for(2, THREE)]
        memberships = [
            # turns 18 on the attachment day (10 Jan 2024) → no longer a dependent child
            member(1, 11, born="2006-01-10"),
            # turns 18 the next day → still a dependent child
            member(2, 21, born="2006-01-11"),
        ]
        result = eligibility(needs, memberships).set_index("family_id")
        assert result["eligible"].to_dict() == {1: False, 2: True}

    def test_membership_must_be_current_on_the_day(self):
        needs = needs_for(1, THREE)
        # the only child left the household on 31 Dec 2023, before attachment
        memberships = [member(1, 11, born="2015-06-01", ended="2023-12-31")]
        assert not eligibility(needs, memberships)["eligible"].iloc[0]


def claim_data(**changes):
    """One family that meets every rule: claimable on 1 Dec 2024 (31 May + 6 months + 1)."""
    data = {
        "needs": needs_for(1, THREE),
        "memberships": [member(1, 11, born="2015-06-01"), member(1, 12, born="1985-01-01")],
        "episodes": [episode(1, 11, "2024-01-05", "2024-05-31", family=1, lead=7)],
        "assessments": [{"assessment_id": 1, "family_id": 1, "completed_on": "2024-01-20",
                         "is_whole_family": True, "lead_practitioner_id": 7}],
        "plan_actions": [{"need_id": 100}, {"need_id": 101}, {"need_id": 102}],
        "csc": [],
    }  # fmt: skip
    data.update(changes)
    return data


def claim(data, rules=None, as_of=AS_OF, employment=None):
    rules = rules or RuleSet()
    eligible = eligibility(data["needs"], data["memberships"], as_of=as_of, rules=rules)
    result = sf_claimability(
        eligible,
        episodes=episodes(*data["episodes"]),
        assessments=frame(data["assessments"]),
        needs=frame(data["needs"]),
        plan_actions=frame(data["plan_actions"], ["need_id"]),
        csc=cscs(*data["csc"]),
        memberships=frame(data["memberships"]),
        rules=rules,
        as_of=as_of,
        employment=None if employment is None else frame(employment),
    )
    assert len(result) == 1
    return result.iloc[0]


class TestClaimability:
    def test_claimable_the_day_after_the_sustain_window(self):
        row = claim(claim_data())
        # closed 31 May 2024; 31 May + 6 months = 30 Nov (clamped); claimable 1 Dec
        assert row["closed_on"] == pd.Timestamp("2024-05-31")
        assert row["sustain_end"] == pd.Timestamp("2024-11-30")
        assert row["claimable_on"] == pd.Timestamp("2024-12-01")
        assert bool(row["claimable"]) and row["route"] == "outcomes" and row["reasons"] == ""

    def test_not_before_that_day(self):
        row = claim(claim_data(), as_of=d("2024-11-30"))
        assert not row["claimable"]
        assert row["claimable_on"] == pd.Timestamp("2024-12-01")
        assert row["reasons"] == "sustain window not yet over"

    def test_csc_referral_of_a_sibling_on_the_last_day_breaks_the_sustain(self):
        # the parent's other child had a CSC referral on 30 Nov, the sustain window's last day
        data = claim_data(
            memberships=[*claim_data()["memberships"], member(1, 13, born="2012-01-01")],
            csc=[csc(9, 13, "referral", "2024-11-30")],
        )
        row = claim(data)
        assert not row["claimable"]
        assert (row["broken_by_type"], row["broken_by_id"], row["broken_by_person_id"]) == (
            "csc_involvement",
            9,
            13,
        )
        assert "sustain window" in row["reasons"]

    def test_new_early_help_the_day_after_the_window_does_not(self):
        data = claim_data(
            episodes=[
                *claim_data()["episodes"],
                episode(2, 11, "2024-12-01", family=1, lead=7),
            ]
        )
        assert bool(claim(data)["claimable"])

    @pytest.mark.parametrize(
        ("change", "reason"),
        [
            ({"plan_actions": [{"need_id": 100}, {"need_id": 101}]}, "plan does not cover"),
            ({"needs": needs_for(1, THREE[:2]) + needs_for(1, THREE[2:], outcome="partly_met",
                                                           first_id=102)}, "not every need"),
            ({"assessments": [{"assessment_id": 1, "family_id": 1, "completed_on": None,
                               "is_whole_family": True, "lead_practitioner_id": 7}]},
             "no completed whole-family assessment"),
            ({"episodes": [episode(1, 11, "2024-01-05", "2024-05-31", family=1,
                                   reason="moved_away", lead=7)]}, "not closed as needs met"),
            ({"episodes": [episode(1, 11, "2024-01-05", family=1, lead=7)]}, "still open"),
        ],
    )  # fmt: skip
    def test_each_rule_can_refuse(self, change, reason):
        row = claim(claim_data(**change))
        assert not row["claimable"]
        assert reason in row["reasons"]

    def test_no_lead_practitioner(self):
        data = claim_data(
            episodes=[episode(1, 11, "2024-01-05", "2024-05-31", family=1)],
            assessments=[{"assessment_id": 1, "family_id": 1, "completed_on": "2024-01-20",
                          "is_whole_family": True, "lead_practitioner_id": None}],
        )  # fmt: skip
        row = claim(data)
        assert not row["has_lead_practitioner"] and not row["claimable"]

    def test_a_later_closure_can_be_claimed_when_the_first_was_not_sustained(self):
        # closed 31 Mar, re-opened 15 Apr (inside the window), closed needs met 31 May
        data = claim_data(
            episodes=[
                episode(1, 11, "2024-01-05", "2024-03-31", family=1, lead=7),
                episode(2, 11, "2024-04-15", "2024-05-31", family=1, lead=7),
            ]
        )
        row = claim(data)
        assert bool(row["claimable"]) and row["closed_on"] == pd.Timestamp("2024-05-31")
        assert row["claimable_on"] == pd.Timestamp("2024-12-01")

    def test_latest_closure_decides_for_a_family_of_several_children(self):
        # child 11 moved away in March; child 12 (a second child) closed needs met 31 May
        data = claim_data(
            memberships=[member(1, 11, born="2015-06-01"), member(1, 12, born="2017-01-01")],
            episodes=[
                episode(1, 11, "2024-01-05", "2024-03-01", family=1, reason="moved_away", lead=7),
                episode(2, 12, "2024-01-05", "2024-05-31", family=1, lead=7),
            ],
        )
        row = claim(data)
        assert bool(row["claimable"]) and row["closed_on"] == pd.Timestamp("2024-05-31")


class TestEmploymentRoute:
    def data(self):
        # closed as "moved away": no outcomes claim; an adult started work 1 Mar 2024
        return claim_data(
            episodes=[
                episode(1, 11, "2024-01-05", "2024-05-31", family=1, reason="moved_away", lead=7)
            ]
        )

    def employment(self, ended=None):
        return [{"family_id": 1, "person_id": 12, "started_on": "2024-03-01", "ended_on": ended}]

    def test_off_by_default(self):
        row = claim(self.data(), employment=self.employment())
        assert not row["claimable"]

    def test_an_earlier_programme_with_the_route(self):
        earlier = RuleSet(
            code="SF-2015-20",
            name="Earlier programme (example)",
            min_needs=2,
            min_headline_outcomes=2,
            employment_route=True,
            employment_sustain_weeks=26,
            payment_amount=Decimal("800.00"),
        )
        row = claim(self.data(), rules=earlier, employment=self.employment())
        # 1 Mar 2024 + 26 weeks = 30 Aug 2024 → claimable 31 Aug by the employment route
        assert bool(row["claimable"]) and row["route"] == "employment"
        assert row["claimable_on"] == pd.Timestamp("2024-08-31")
        # the job ended before 26 weeks → not continuous → not claimable
        short = claim(self.data(), rules=earlier, employment=self.employment(ended="2024-08-29"))
        assert not short["claimable"]


class TestRuleSet:
    def test_round_trip_as_data(self):
        rules = RuleSet(payment_amount=Decimal("1234.50"), employment_route=True)
        stored = rules.to_dict()
        assert stored["payment_amount"] == "1234.50"
        assert stored["programme_start"] == "2022-04-01"
        assert stored["headline_outcomes"][0] == ["EDUCATION", "Getting a good education"]
        assert RuleSet.from_dict(stored) == rules

    def test_default_is_the_2022_25_framework(self):
        rules = RuleSet()
        assert (rules.min_needs, rules.min_headline_outcomes, rules.sustain_months) == (3, 3, 6)
        assert len(rules.headline_outcomes) == 10 and not rules.employment_route

    def test_refuses_nonsense(self):
        with pytest.raises(TypeError, match="Decimal"):
            RuleSet(payment_amount=800.0)  # type: ignore[arg-type]
        with pytest.raises(ValueError, match="at least as many"):
            RuleSet(min_needs=2, min_headline_outcomes=3)
        with pytest.raises(ValueError, match="Unknown rule set field"):
            RuleSet.from_dict({"min_neds": 3})
