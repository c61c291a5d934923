"""O1–O4, C1 and F1 on hand-made frames."""

import pandas as pd

from reporting.measures import (
    C1Params,
    c1_caseload,
    f1_referral_conversion,
    o1_closure_reasons,
    o2_duration,
    o3_need_levels,
    o4_partner_led,
)
from reporting.measures.dates import month
from tests.reporting import episode, episodes, frame, line, member_ids, numbers

APRIL = month(2024, 4)


class TestO1:
    def test_distribution_of_closure_reasons(self):
        eps = episodes(
            episode(1, 1, "2024-01-01", "2024-04-01", reason="needs_met"),
            episode(2, 2, "2024-01-01", "2024-04-30", reason="needs_met"),
            episode(3, 3, "2024-01-01", "2024-04-10", reason="stepped_up"),
            episode(4, 4, "2024-01-01", "2024-04-11", reason="declined"),
            episode(5, 5, "2024-01-01"),  # open
            episode(6, 6, "2024-01-01", "2024-05-01", reason="needs_met"),  # May
        )
        result = o1_closure_reasons(eps, periods=[APRIL, month(2024, 6)])
        r = result.results
        # April: 4 closed → needs met 2/4, stepped up 1/4, declined 1/4, the rest 0/4
        assert numbers(line(r, "needs_met", period="2024-04")) == (2, 4, 50.0)
        assert numbers(line(r, "stepped_up", period="2024-04")) == (1, 4, 25.0)
        assert numbers(line(r, "declined", period="2024-04")) == (1, 4, 25.0)
        assert numbers(line(r, "moved_away", period="2024-04")) == (0, 4, 0.0)
        # June: nothing closed → no values
        assert numbers(line(r, "needs_met", period="2024-06")) == (0, 0, None)
        assert list(r.loc[r["period"] == "2024-04", "category"].unique()) == [
            "needs_met",
            "stepped_up",
            "transferred",
            "moved_away",
            "declined",
            "disengaged",
            "other",
        ]
        assert member_ids(result.members, "needs_met", numerator=True) == {1, 2}


class TestO2:
    def test_duration_and_needs_met_within_6_months(self):
        eps = episodes(
            # 31 Oct → 30 Apr: 182 days = 26.0 weeks; 31 Oct + 6 months = 30 Apr → within
            episode(1, 1, "2023-10-31", "2024-04-30", reason="needs_met"),
            # 29 Oct → 30 Apr: 184 days = 26.29 weeks; + 6 months = 29 Apr → not within
            episode(2, 2, "2023-10-29", "2024-04-30", reason="needs_met"),
            # 14 days = 2.0 weeks, disengaged (not a needs-met closure)
            episode(3, 3, "2024-04-01", "2024-04-15", reason="disengaged"),
            # 1 Jan → 8 Apr: 98 days = 14.0 weeks, needs met within 6 months
            episode(4, 4, "2024-01-01", "2024-04-08", reason="needs_met"),
            episode(5, 5, "2024-01-01"),  # open
        )
        result = o2_duration(eps, periods=[APRIL, month(2024, 6)])
        closed = line(result.results, "closed", period="2024-04")
        # weeks 2.0, 14.0, 26.0, 26.29 → median (14 + 26) / 2 = 20.0; mean 68.29 / 4 = 17.1
        assert numbers(closed) == (4, None, None)
        assert (closed["median_weeks"], closed["mean_weeks"]) == (20.0, 17.1)
        # needs met within 6 months: episodes 1 and 4 of 1, 2, 4 → 66.7 %
        assert numbers(line(result.results, "needs_met_within_window", period="2024-04")) == (
            2,
            3,
            66.7,
        )
        june = line(result.results, "closed", period="2024-06")
        assert numbers(june) == (0, None, None) and pd.isna(june["median_weeks"])


class TestO3:
    def test_need_levels_at_assessment_and_closure(self):
        assessments = frame(
            [
                # A1: plan closed 10 Apr
                {"assessment_id": 1, "plan_closed_on": "2024-04-10", "episode_ended_on": None},
                # A2: no plan closure; its episode ended 20 Apr
                {"assessment_id": 2, "plan_closed_on": None, "episode_ended_on": "2024-04-20"},
                # A3: closed in May
                {"assessment_id": 3, "plan_closed_on": "2024-05-02", "episode_ended_on": None},
                # A4: closed 25 Apr, no needs recorded
                {"assessment_id": 4, "plan_closed_on": "2024-04-25", "episode_ended_on": None},
            ]
        )
        needs = frame(
            [
                {"assessment_id": 1, "level_at_assessment": "L3", "level_at_closure": "L2"},
                {"assessment_id": 1, "level_at_assessment": "L2", "level_at_closure": "L2"},
                {"assessment_id": 2, "level_at_assessment": "L2", "level_at_closure": "L1"},
                {"assessment_id": 2, "level_at_assessment": "L2", "level_at_closure": None},
                {"assessment_id": 3, "level_at_assessment": "L4", "level_at_closure": "L4"},
            ]
        )
        levels = frame(
            [{"code": c, "rank": r} for c, r in (("L2", 2), ("L1", 1), ("L4", 4), ("L3", 3))]
        )
        result = o3_need_levels(assessments, needs, periods=[APRIL], levels=levels)
        r = result.results
        # closed in April: A1, A2, A4 = 3
        # L2: at assessment A1, A2 = 2/3 → at closure A1 = 1/3 ("yellow 2 → 1")
        assert numbers(line(r, "L2:at_assessment")) == (2, 3, 66.7)
        assert numbers(line(r, "L2:at_closure")) == (1, 3, 33.3)
        # L3: 1 → 0; L1: 0 → 1 (A2); L4 only on A3, closed in May: 0 → 0
        assert numbers(line(r, "L3:at_assessment")) == (1, 3, 33.3)
        assert numbers(line(r, "L3:at_closure")) == (0, 3, 0.0)
        assert numbers(line(r, "L1:at_closure")) == (1, 3, 33.3)
        assert numbers(line(r, "L4:at_assessment")) == (0, 3, 0.0)
        # ladder order, each level read at assessment then at closure
        assert list(r.loc[r["breakdown"] == "all", "category"])[:3] == [
            "L1:at_assessment",
            "L1:at_closure",
            "L2:at_assessment",
        ]
        assert line(r, "L2:at_closure")["level"] == "L2"


class TestO4:
    def test_partner_led_share(self):
        columns = ["assessment_id", "completed_on", "lead_organisation_kind"]
        rows = frame(
            [
                dict(zip(columns, values, strict=True))
                for values in (
                    (1, "2024-04-02", "school"),
                    (2, "2024-04-03", "council"),
                    (3, "2024-04-04", None),  # no lead organisation recorded
                    (4, "2024-04-05", "health"),
                    (5, "2024-05-01", "vcs"),  # May
                    (6, None, "school"),  # not completed
                )
            ]
        )
        result = o4_partner_led(rows, periods=[APRIL])
        # April: 1–4 completed; partner-led 1 (school), 4 (health); 3 has no lead recorded
        assert numbers(line(result.results)) == (2, 4, 50.0)
        assert member_ids(result.members, numerator=True) == {1, 4}


class TestC1:
    def data(self):
        rows = episodes(
            # practitioner 1 (team T1): children 1 (two open episodes: counted once), 2, 3
            episode(1, 1, "2024-01-01", lead=1),
            episode(2, 1, "2024-02-01", lead=1, service="YOUTH"),
            episode(3, 2, "2024-01-01", lead=1),
            episode(4, 3, "2024-01-01", lead=1),
            # child 5 closed on the period end → not open once it is over
            episode(6, 5, "2024-01-01", "2024-03-31", lead=2, team="T2"),
            episode(7, 6, "2024-01-01", lead=2, team="T2"),
            # child 7: open, nobody allocated
            episode(8, 7, "2024-01-01"),
            # child 8: starts after the period
            episode(9, 8, "2024-04-01", lead=2, team="T2"),
        )
        # child 4: led by a worker known only by the CSC system's id, team T2
        imported = episode(5, 4, "2024-01-01", team="T2")
        rows = pd.concat([rows, episodes(imported)], ignore_index=True)
        rows["lead_worker_external_id"] = ["", "", "", "", "", "", "", "", "W9"]
        return rows

    def test_caseload_per_practitioner(self):
        result = c1_caseload(self.data(), periods=[month(2024, 3)], params=C1Params(target=2))
        r = result.results
        everyone = line(r, "caseload")
        # pairs: user 1 → 3 children, ext W9 → 1, user 2 → 1 (child 6) = 5 over 3 → 1.7
        assert numbers(everyone) == (5, 3, 1.7)
        assert (everyone["max_caseload"], everyone["practitioners_over_target"]) == (3, 1)
        assert everyone["target"] == 2
        assert numbers(line(r, "unallocated_children")) == (1, None, None)
        # by team: T1 → user 1 with 3 = 3.0; T2 → W9 and user 2 with 1 each = 1.0
        assert numbers(line(r, "caseload", breakdown="team", value="T1")) == (3, 1, 3.0)
        assert numbers(line(r, "caseload", breakdown="team", value="T2")) == (2, 2, 1.0)
        # each practitioner's own caseload
        assert numbers(line(r, "caseload", breakdown="lead_practitioner", value="user:1")) == (
            3,
            1,
            3.0,
        )
        assert numbers(line(r, "caseload", breakdown="lead_practitioner", value="ext:W9"))[0] == 1
        # the unallocated child has no practitioner: no practitioner has an unallocated line
        by_practitioner = r[r["breakdown"] == "lead_practitioner"]
        assert set(by_practitioner["category"]) == {"caseload"}
        assert set(by_practitioner["breakdown_value"]) == {"user:1", "user:2", "ext:W9"}
        assert member_ids(result.members, "caseload") == {1, 2, 3, 4, 5, 7}

    def test_each_team_has_its_own_target(self):
        # given T1 aims for 2 children per practitioner and T2 for 1; the default is 22
        teams = pd.DataFrame({"team": ["T1", "T2"], "caseload_target": [2, 1]})
        result = c1_caseload(self.data(), periods=[month(2024, 3)], teams=teams)
        r = result.results
        # then user 1 (3 children in T1) is over T1's 2; W9 and user 2 (1 each) meet T2's 1
        everyone = line(r, "caseload")
        assert (everyone["practitioners_over_target"], everyone["target"]) == (1, 22)
        t1 = line(r, "caseload", breakdown="team", value="T1")
        t2 = line(r, "caseload", breakdown="team", value="T2")
        assert (t1["target"], t1["practitioners_over_target"]) == (2, 1)
        assert (t2["target"], t2["practitioners_over_target"]) == (1, 0)
        worker = line(r, "caseload", breakdown="lead_practitioner", value="user:1")
        assert worker["target"] == 2

    def test_a_team_target_of_one_flags_two_children(self):
        teams = pd.DataFrame({"team": ["T1", "T2"], "caseload_target": [3, 0]})
        result = c1_caseload(self.data(), periods=[month(2024, 3)], teams=teams)
        # user 1 has exactly T1's 3 (not over); W9 and user 2 have 1 > T2's 0
        assert line(result.results, "caseload")["practitioners_over_target"] == 2

    def test_no_open_episodes(self):
        result = c1_caseload(self.data(), periods=[month(2023, 12)])
        assert numbers(line(result.results, "caseload")) == (0, 0, None)


class TestF1:
    def test_conversion_by_source(self):
        columns = ["referral_id", "received_on", "source", "decision"]
        requests = frame(
            [
                dict(zip(columns, values, strict=True))
                for values in (
                    (1, "2024-04-02", "2A", "early_help"),  # school, opened early help
                    (2, "2024-04-03", "2A", "escalate_csc"),  # school, escalated to CSC
                    (3, "2024-04-04", "2A", "advice"),  # school, advice
                    (4, "2024-04-05", "6", "early_help"),  # police, opened early help
                    (5, "2024-04-06", "6", ""),  # police, not yet triaged
                    (6, "2024-05-01", "6", "early_help"),  # May
                )
            ]
        )
        eps = episodes(
            episode(1, 1, "2024-04-10", referral=1),
            episode(2, 2, "2024-04-10", referral=4),
            episode(3, 3, "2024-05-10", referral=6),
        )
        result = f1_referral_conversion(requests, eps, periods=[APRIL])
        r = result.results
        # all sources: 5 received; early help 1, 4 = 2/5; CSC 2 = 1/5; either 3/5
        assert numbers(line(r, "received")) == (5, None, None)
        assert numbers(line(r, "led_to_early_help")) == (2, 5, 40.0)
        assert numbers(line(r, "led_to_csc")) == (1, 5, 20.0)
        assert numbers(line(r, "converted")) == (3, 5, 60.0)
        # schools: 3 received, 2 converted; police: 2 received, 1 converted
        assert numbers(line(r, "received", breakdown="source", value="2A"))[0] == 3
        assert numbers(line(r, "converted", breakdown="source", value="2A")) == (2, 3, 66.7)
        assert numbers(line(r, "converted", breakdown="source", value="6")) == (1, 2, 50.0)
        assert numbers(line(r, "led_to_csc", breakdown="source", value="6")) == (0, 2, 0.0)
