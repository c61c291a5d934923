"""RR1–RR5 and ESC on hand-made frames; every expected number is worked out in a comment."""

import pandas as pd

from reporting.measures import (
    RR1Params,
    RR2Params,
    csc_referral_events,
    esc_steps,
    rr1_csc_referral_after_closure,
    rr2_reopened_after_closure,
    rr3_step_down_status,
    rr4_csc_rereferral,
    rr5_early_help_rereferral,
)
from reporting.measures.dates import Period, month, reporting_year
from tests.reporting import csc, cscs, d, episode, episodes, frame, line, member_ids, numbers


class TestCscReferralEvents:
    def test_what_counts_as_a_csc_referral(self):
        events = csc_referral_events(
            cscs(
                csc(1, 1, "referral", "2024-01-10", "2024-06-30"),
                # linked to referral 1: part of it, not a new referral
                csc(2, 1, "cin_plan", "2024-02-01", referral=1),
                # unlinked, but referral 1 is open on its start: part of it too
                csc(3, 1, "cp_plan", "2024-03-01"),
                # unlinked and no referral open (referral 1 ended 30 June): a CSC referral
                csc(4, 1, "cla", "2024-08-01"),
                # an assessment is never a referral
                csc(5, 2, "assessment", "2024-01-05"),
                # a referral record and an unlinked plan on one day: one referral, the record
                csc(6, 3, "cin_plan", "2024-04-01"),
                csc(7, 3, "referral", "2024-04-01"),
            )
        )
        assert events[["csc_id", "kind"]].values.tolist() == [
            [1, "referral"],
            [7, "referral"],
            [4, "cla"],
        ]


class TestRR1:
    """Reporting month M: cohort = closures in the 3 months ending with M."""

    def data(self):
        eps = episodes(
            # A: closed 31 Jan; CSC referral 13 Mar = day 42 (Feb 2024 has 29 days) → counts
            episode(1, 1, "2023-10-01", "2024-01-31"),
            # B: closed 31 Jan; CSC referral 14 Mar = day 43 → does not count
            episode(2, 2, "2023-10-01", "2024-01-31"),
            # C: closed 20 Mar; referral 5 Apr = day 16, but after the end of March
            episode(3, 3, "2023-10-01", "2024-03-20", team="T2"),
            # D: closed 10 Feb and stepped up the same day: a same-day referral is not "after"
            episode(4, 4, "2023-10-01", "2024-02-10", reason="stepped_up", team="T2"),
            # E: closed 31 Dec 2023; referral 11 Feb = day 42 → counts in February's cohort
            episode(5, 5, "2023-10-01", "2023-12-31"),
            # F: still open, never in a cohort
            episode(6, 6, "2023-10-01"),
            # H: one child, two closures: 5 Jan (referral 1 Mar is day 56) and 20 Feb (day 10)
            episode(7, 7, "2023-10-01", "2024-01-05", team="T2"),
            episode(8, 7, "2024-01-06", "2024-02-20", team="T2"),
        )
        referrals = cscs(
            csc(1, 1, "referral", "2024-03-13"),
            csc(2, 2, "referral", "2024-03-14"),
            csc(3, 3, "referral", "2024-04-05"),
            csc(4, 4, "referral", "2024-02-10", source="step_up"),
            csc(5, 5, "referral", "2024-02-11"),
            csc(6, 7, "referral", "2024-03-01"),
        )
        return eps, referrals

    def test_monthly_series(self):
        eps, referrals = self.data()
        periods = [month(2024, 2), month(2024, 3), month(2024, 4), month(2023, 6)]
        result = rr1_csc_referral_after_closure(eps, referrals, periods=periods)
        # February (cohort Dec–Feb): E ✓; A, B (referrals after 29 Feb), D, H×2 ✗ → 1/6
        assert numbers(line(result.results, period="2024-02")) == (1, 6, 16.7)
        # March (cohort Jan–Mar): A ✓, H(20 Feb) ✓; B, C, D, H(5 Jan) ✗ → 2/6 = 33.3 %
        assert numbers(line(result.results, period="2024-03")) == (2, 6, 33.3)
        # April (cohort Feb–Apr): D ✗, H(20 Feb) ✓, C ✓ (5 Apr is now visible) → 2/3
        assert numbers(line(result.results, period="2024-04")) == (2, 3, 66.7)
        # June 2023: nobody closed → no value, not 0 %
        assert numbers(line(result.results, period="2023-06")) == (0, 0, None)
        march = line(result.results, period="2024-03")
        assert march["target"] == 20.0 and bool(march["lower_is_better"])

    def test_drill_down_lists_the_episodes_and_the_referral_that_counted(self):
        eps, referrals = self.data()
        result = rr1_csc_referral_after_closure(eps, referrals, periods=[month(2024, 3)])
        assert member_ids(result.members) == {1, 2, 3, 4, 7, 8}
        assert member_ids(result.members, numerator=True) == {1, 8}
        counted = result.members.set_index("record_id").loc[1]
        assert counted["related_id"] == 1 and counted["related_on"] == pd.Timestamp("2024-03-13")

    def test_breakdown_by_team(self):
        eps, referrals = self.data()
        result = rr1_csc_referral_after_closure(eps, referrals, periods=[month(2024, 3)])
        # T1: A ✓, B ✗ → 1/2; T2: C ✗, D ✗, H(5 Jan) ✗, H(20 Feb) ✓ → 1/4
        assert numbers(line(result.results, breakdown="team", value="T1")) == (1, 2, 50.0)
        assert numbers(line(result.results, breakdown="team", value="T2")) == (1, 4, 25.0)

    def test_excluded_end_reasons(self):
        eps, referrals = self.data()
        params = RR1Params(exclude_end_reason_categories=("stepped_up",))
        result = rr1_csc_referral_after_closure(
            eps, referrals, periods=[month(2024, 3)], params=params
        )
        # D (stepped up) leaves the March cohort: 2/5 = 40 %
        assert numbers(line(result.results)) == (2, 5, 40.0)
        assert result.params["exclude_end_reason_categories"] == ["stepped_up"]
        assert result.params["window_days"] == 42


WINDOW = Period(d("2023-08-01"), d("2023-08-31"), "Aug 2023")


class TestRR2:
    def data(self):
        eps = episodes(
            # A: closed 31 Aug; follow-up ends 29 Feb 2024 (clamped); CSC referral that day
            episode(1, 1, "2023-01-01", "2023-08-31"),
            # B: closed 31 Aug; new early help on 1 Mar 2024, a day after the follow-up
            episode(2, 2, "2023-01-01", "2023-08-31"),
            episode(3, 2, "2024-03-01"),
            # C: closures 5 Aug and 20 Aug: the latest (20 Aug) counts, so the 10 Aug start
            # of the second episode is not a re-opening; nothing after 20 Aug
            episode(4, 3, "2023-01-01", "2023-08-05"),
            episode(5, 3, "2023-08-10", "2023-08-20"),
            # D: CIN plan open on the closure date and still open at follow-up end → excluded
            episode(6, 4, "2023-01-01", "2023-08-15"),
            # D3: CIN plan ended 14 Feb 2024, the day before follow-up end → not excluded
            episode(7, 5, "2023-01-01", "2023-08-15"),
            # F: CSC referral (step-up) and new early help on the same day → CSC wins
            episode(8, 6, "2023-01-01", "2023-08-10"),
            episode(9, 6, "2023-09-01"),
            # G: new early help 1 Oct, then CSC referral 1 Nov → the first decides: early help
            episode(10, 7, "2023-01-01", "2023-08-10"),
            episode(11, 7, "2023-10-01"),
            # H: unlinked CIN plan with no referral record, 1 Dec → re-opened to CSC, kind CIN
            episode(12, 8, "2023-01-01", "2023-08-31"),
            # I: closed 1 Sep → outside the window
            episode(13, 9, "2023-01-01", "2023-09-01"),
            # J: stepped up on the closure day: that referral is not after closure
            episode(14, 10, "2023-01-01", "2023-08-20", reason="stepped_up"),
            # K: episode still open → not in the cohort
            episode(15, 11, "2023-01-01"),
        )
        involvements = cscs(
            csc(1, 1, "referral", "2024-02-29"),
            csc(2, 4, "cin_plan", "2023-07-01"),
            csc(3, 5, "cin_plan", "2023-07-01", "2024-02-14"),
            csc(4, 6, "referral", "2023-09-01", source="step_up"),
            csc(5, 7, "referral", "2023-11-01"),
            csc(6, 8, "cin_plan", "2023-12-01", source="other"),
            csc(7, 10, "referral", "2023-08-20", source="step_up"),
        )
        return eps, involvements

    def test_cohort_table(self):
        eps, involvements = self.data()
        result = rr2_reopened_after_closure(eps, involvements, periods=[WINDOW])
        r = result.results
        # cohort: A B C D D3 F G H J = 9 children (C once); K open, I outside
        assert numbers(line(r, "cohort")) == (9, None, None)
        # excluded: D → 1/9 = 11.1 %
        assert numbers(line(r, "excluded")) == (1, 9, 11.1)
        assert numbers(line(r, "denominator")) == (8, None, None)
        # re-opened: A (CSC), F (CSC), G (EH), H (CSC) = 4/8; not: B C D3 J
        assert numbers(line(r, "reopened")) == (4, 8, 50.0)
        assert numbers(line(r, "not_reopened")) == (4, 8, 50.0)
        # destination, % of re-opened: EH 1/4, CSC 3/4
        assert numbers(line(r, "reopened_early_help")) == (1, 4, 25.0)
        assert numbers(line(r, "reopened_csc")) == (3, 4, 75.0)
        # CSC kind, % of re-opened to CSC: referral A F = 2/3, CIN plan H = 1/3
        assert numbers(line(r, "reopened_csc_kind_referral")) == (2, 3, 66.7)
        assert numbers(line(r, "reopened_csc_kind_cin_plan")) == (1, 3, 33.3)
        assert numbers(line(r, "reopened_csc_kind_cla")) == (0, 3, 0.0)
        # source: stepped up by early help F = 1/3; front door / other A H = 2/3
        assert numbers(line(r, "reopened_csc_source_step_up")) == (1, 3, 33.3)
        assert numbers(line(r, "reopened_csc_source_front_door_or_other")) == (2, 3, 66.7)

    def test_drill_down(self):
        eps, involvements = self.data()
        m = rr2_reopened_after_closure(eps, involvements, periods=[WINDOW]).members
        assert member_ids(m, "excluded", numerator=True, column="child_id") == {4}
        assert member_ids(m, "reopened", numerator=True, column="child_id") == {1, 6, 7, 8}
        assert member_ids(m, "reopened", column="child_id") == {1, 2, 3, 5, 6, 7, 8, 10}
        # C's record is the latest closure, episode 5
        assert 5 in member_ids(m, "cohort") and 4 not in member_ids(m, "cohort")
        a = m[(m["category"] == "reopened") & (m["child_id"] == 1)].iloc[0]
        assert a["follow_up_end"] == pd.Timestamp("2024-02-29")
        assert (a["destination"], a["related_type"], a["related_id"]) == (
            "csc",
            "csc_involvement",
            1,
        )

    def test_services_filter_and_empty_window(self):
        eps, involvements = self.data()
        eps.loc[eps["child_id"] == 3, "service"] = "YOUTH"
        params = RR2Params(services=("FAMILY_SUPPORT",))
        empty = Period(d("2020-01-01"), d("2020-01-31"))
        result = rr2_reopened_after_closure(
            eps, involvements, periods=[WINDOW, empty], params=params
        )
        # C's closures are in another service: cohort 8, denominator 7, re-opened 4/7
        assert numbers(line(result.results, "cohort", period="Aug 2023"))[0] == 8
        assert numbers(line(result.results, "reopened", period="Aug 2023")) == (4, 7, 57.1)
        # nobody closed in January 2020: counts 0, rates have no value
        assert numbers(line(result.results, "reopened", period=empty.label)) == (0, 0, None)
        assert numbers(line(result.results, "cohort", period=empty.label)) == (0, None, None)


class TestRR3:
    WINDOW = Period(d("2023-04-01"), d("2023-06-30"), "Q1")

    def data(self):
        eps = episodes(
            # A: CIN ended 29 May = start + 28 → kept; CSC referral 1 May 2024 = start + 12 m
            episode(1, 1, "2023-05-01", origin="step_down"),
            # B: CSC ended 30 May = start + 29 days → excluded (work alongside CSC)
            episode(2, 2, "2023-05-01", origin="step_down"),
            # C: closed 1 Sep, new early help 15 Jan 2024 → re-opened to early help
            episode(3, 3, "2023-04-10", "2023-09-01", origin="step_down"),
            episode(4, 3, "2024-01-15"),
            # D: still open at 30 Jun 2024 → remains open to early help only
            episode(5, 4, "2023-06-30", origin="step_down"),
            # E: closed 1 Oct, nothing since → not open to any service
            episode(6, 5, "2023-04-15", "2023-10-01", origin="step_down"),
            # F: status date 15 Jun 2024; CSC referral 16 Jun and early help 20 Jun are too late
            episode(7, 6, "2023-06-15", "2023-08-01", origin="step_down"),
            episode(8, 6, "2024-06-20"),
            # G: a step-down by its accepted transition (origin recorded otherwise); stepped
            # up again 1 Jul 2023 → re-opened to CSC, source step-up
            episode(9, 7, "2023-05-10"),
            # H: step-down 1 Jul → outside the window
            episode(10, 8, "2023-07-01", origin="step_down"),
            # I: two step-downs in the window: the first (5 Apr) counts; it closed 20 Apr and
            # the second (1 Jun) is a new early help episode → re-opened to early help
            episode(11, 9, "2023-04-05", "2023-04-20", origin="step_down"),
            episode(12, 9, "2023-06-01", origin="step_down"),
            # J: new early help 1 Jul, then CSC referral 1 Dec: rule 1 comes first → CSC
            episode(13, 10, "2023-05-01", "2023-06-01", origin="step_down"),
            episode(14, 10, "2023-07-01"),
        )
        involvements = cscs(
            csc(1, 1, "cin_plan", "2023-01-01", "2023-05-29"),
            csc(2, 1, "referral", "2024-05-01"),
            csc(3, 2, "cin_plan", "2023-01-01", "2023-05-30"),
            csc(4, 6, "referral", "2024-06-16"),
            csc(5, 7, "cin_plan", "2023-01-01", "2023-05-10"),
            csc(6, 7, "referral", "2023-07-01", source="step_up"),
            csc(7, 10, "referral", "2023-12-01"),
        )
        transitions = frame(
            [{"direction": "step_down", "decision": "accepted", "opened_episode_id": 9}]
        )
        return eps, involvements, transitions

    def test_status_after_12_months(self):
        eps, involvements, transitions = self.data()
        result = rr3_step_down_status(
            eps, involvements, periods=[self.WINDOW], transitions=transitions
        )
        r = result.results
        # cohort A B C D E F G I J = 9; excluded B = 1/9; denominator 8
        assert numbers(line(r, "cohort")) == (9, None, None)
        assert numbers(line(r, "excluded")) == (1, 9, 11.1)
        assert numbers(line(r, "denominator")) == (8, None, None)
        # 1 re-opened to CSC: A, G, J = 3/8; 2 re-opened to EH: C, I = 2/8
        assert numbers(line(r, "reopened_csc")) == (3, 8, 37.5)
        assert numbers(line(r, "reopened_early_help")) == (2, 8, 25.0)
        # 3 open to early help only: D; 4 not open: E, F; not re-referred = 3 + 4 = 3/8
        assert numbers(line(r, "open_early_help_only")) == (1, 8, 12.5)
        assert numbers(line(r, "not_open")) == (2, 8, 25.0)
        assert numbers(line(r, "not_re_referred")) == (3, 8, 37.5)
        # source of the CSC re-referrals: G stepped up (1/3); A, J front door / other (2/3)
        assert numbers(line(r, "reopened_csc_source_step_up")) == (1, 3, 33.3)
        assert numbers(line(r, "reopened_csc_source_front_door_or_other")) == (2, 3, 66.7)
        assert numbers(line(r, "reopened_csc_kind_referral")) == (3, 3, 100.0)

    def test_statuses_per_child(self):
        eps, involvements, transitions = self.data()
        m = rr3_step_down_status(
            eps, involvements, periods=[self.WINDOW], transitions=transitions
        ).members
        status = m[m["category"] == "cohort"].set_index("child_id")["status"].to_dict()
        assert status == {
            1: "reopened_csc",
            2: "open_early_help_only",  # excluded; status still shown for the record
            3: "reopened_early_help",
            4: "open_early_help_only",
            5: "not_open",
            6: "not_open",
            7: "reopened_csc",
            9: "reopened_early_help",
            10: "reopened_csc",
        }
        assert member_ids(m, "cohort", column="child_id") == {1, 2, 3, 4, 5, 6, 7, 9, 10}
        assert m.loc[m["child_id"] == 9, "record_id"].unique().tolist() == [11]

    def test_without_transitions_origin_decides(self):
        eps, involvements, _ = self.data()
        result = rr3_step_down_status(eps, involvements, periods=[self.WINDOW])
        # G is no longer a step-down: cohort 8, denominator 7, CSC re-opened A, J = 2/7
        assert numbers(line(result.results, "cohort"))[0] == 8
        assert numbers(line(result.results, "reopened_csc")) == (2, 7, 28.6)


class TestRR4:
    def test_dfe_rereferral_rate(self):
        involvements = cscs(
            # A: 28 Feb 2023 then 28 Feb 2024 = exactly 12 months → re-referral
            csc(1, 1, "referral", "2023-02-28", "2023-03-31"),
            csc(2, 1, "referral", "2024-02-28"),
            # B: 28 Feb 2023 then 29 Feb 2024: 28 Feb 2023 + 12 months = 28 Feb 2024 → not
            csc(3, 2, "referral", "2023-02-28", "2023-03-31"),
            csc(4, 2, "referral", "2024-02-29"),
            # C: 1 May, then 1 Jun (re-referral); a same-day unlinked plan and a linked plan
            # add no referrals
            csc(5, 3, "referral", "2023-05-01", "2023-05-20"),
            csc(6, 3, "referral", "2023-06-01"),
            csc(7, 3, "cin_plan", "2023-06-01"),
            csc(8, 3, "cin_plan", "2023-07-15", referral=6),
            # D: 1 Jan 2022 then 1 Apr 2023 (15 months) → not
            csc(9, 4, "referral", "2022-01-01", "2022-02-01"),
            csc(10, 4, "referral", "2023-04-01"),
            # E: 1 Apr 2024 → next year
            csc(11, 5, "referral", "2024-04-01"),
            # F: referral 31 Mar 2023 (last year, ended 30 Apr); unlinked CLA 1 Sep 2023 with
            # no referral open is itself a CSC referral, 5 months after → re-referral
            csc(12, 6, "referral", "2023-03-31", "2023-04-30"),
            csc(13, 6, "cla", "2023-09-01"),
        )
        result = rr4_csc_rereferral(involvements, periods=[reporting_year(2023)])
        # referrals in 2023-24: 2, 4, 5, 6, 10, 13 = 6; re-referrals 2, 6, 13 = 3 → 50 %
        assert numbers(line(result.results)) == (3, 6, 50.0)
        assert member_ids(result.members) == {2, 4, 5, 6, 10, 13}
        assert member_ids(result.members, numerator=True) == {2, 6, 13}
        f = result.members.set_index("record_id").loc[13]
        assert (f["related_id"], f["kind"]) == (12, "cla")

    def test_locality_from_family_membership(self):
        involvements = cscs(
            csc(1, 1, "referral", "2023-05-01", "2023-05-02"),
            csc(2, 1, "referral", "2023-06-01"),
            csc(3, 2, "referral", "2023-06-01"),
        )
        memberships = frame(
            [
                # child 1 moved from family 10 (SOUTH) to family 11 (NORTH)
                {"family_id": 10, "person_id": 1, "started_on": "2020-01-01",
                 "ended_on": "2023-01-01", "family_locality": "SOUTH"},
                {"family_id": 11, "person_id": 1, "started_on": "2023-01-01",
                 "ended_on": None, "family_locality": "NORTH"},
            ]
        )  # fmt: skip
        result = rr4_csc_rereferral(
            involvements, periods=[reporting_year(2023)], memberships=memberships
        )
        # NORTH: child 1's two referrals, one a re-referral → 1/2; child 2 has no family
        assert numbers(line(result.results, breakdown="locality", value="NORTH")) == (1, 2, 50.0)
        assert numbers(line(result.results, breakdown="locality", value="unknown")) == (0, 1, 0.0)
        assert set(result.members["family_id"].dropna()) == {11}

    def test_no_referrals_no_value(self):
        result = rr4_csc_rereferral(cscs(), periods=[reporting_year(2023)])
        assert numbers(line(result.results)) == (0, 0, None)


class TestRR5:
    def test_early_help_rereferral(self):
        eps = episodes(
            # A: closed 31 Jan 2023; new start 31 Jan 2024 = exactly 12 months → re-referral
            episode(1, 1, "2022-06-01", "2023-01-31"),
            episode(2, 1, "2024-01-31"),
            # B: closed 31 Jan 2023; new start 1 Feb 2024 → not
            episode(3, 2, "2022-06-01", "2023-01-31"),
            episode(4, 2, "2024-02-01"),
            # C: closures 31 Aug 2022 and 1 May 2023; start 1 Jun 2023 → latest closure counts
            episode(5, 3, "2022-01-01", "2022-08-31"),
            episode(6, 3, "2023-03-01", "2023-05-01"),
            episode(7, 3, "2023-06-01"),
            # D: first ever episode → not
            episode(8, 4, "2023-07-01"),
            # F: a youth episode closed 15 Apr 2023; family support started 1 May (still open)
            # and youth support again 1 Oct → both starts are re-referrals
            episode(9, 6, "2022-10-01", "2023-04-15", service="YOUTH"),
            episode(10, 6, "2023-05-01"),
            episode(11, 6, "2023-10-01", service="YOUTH"),
            # G: closed and re-opened the same day (a transfer) → not after the closure
            episode(12, 7, "2023-01-01", "2023-05-10"),
            episode(13, 7, "2023-05-10", service="YOUTH"),
        )
        result = rr5_early_help_rereferral(eps, periods=[reporting_year(2023)])
        # starts in 2023-24: 2, 4, 7, 8, 10, 11, 13 = 7; re-referrals 2, 7, 10, 11 → 57.1 %
        assert numbers(line(result.results)) == (4, 7, 57.1)
        assert member_ids(result.members, numerator=True) == {2, 7, 10, 11}
        assert result.members.set_index("record_id").loc[7, "related_id"] == 6
        # by service: FAMILY_SUPPORT 2, 4, 7, 8, 10 → 3/5; YOUTH 11, 13 → 1/2
        results = result.results
        assert numbers(line(results, breakdown="service", value="FAMILY_SUPPORT")) == (3, 5, 60.0)
        assert numbers(line(results, breakdown="service", value="YOUTH")) == (1, 2, 50.0)


class TestESC:
    def test_steps_and_turnaround_in_working_days(self):
        columns = ["transition_id", "direction", "family_id", "child_id", "requested_on",
                   "decision", "decided_on"]  # fmt: skip
        transitions = frame(
            [
                dict(zip(columns, values, strict=True))
                for values in (
                    # step-up, family 1, child 1: Thu 28 Mar → Tue 2 Apr 2024 across Easter = 1
                    (1, "step_up", 1, 1, "2024-03-28", "accepted", "2024-04-02"),
                    # step-up, family 1, child 2: Tue 2 Apr → Tue 9 Apr = 5 working days
                    (2, "step_up", 1, 2, "2024-04-02", "accepted", "2024-04-09"),
                    # declined → not a step
                    (3, "step_up", 2, 3, "2024-04-02", "declined", "2024-04-10"),
                    # step-down decided the day it was asked = 0 working days
                    (4, "step_down", 2, 3, "2024-04-15", "accepted", "2024-04-15"),
                    # accepted in May → not April
                    (5, "step_up", 3, 4, "2024-04-25", "accepted", "2024-05-01"),
                    # still waiting for a decision
                    (6, "step_up", 3, 4, "2024-04-25", "pending", None),
                )
            ]
        )
        result = esc_steps(transitions, periods=[month(2024, 4), month(2024, 6)])
        r = result.results
        up_children = line(r, "step_up_children", period="2024-04")
        # stepped up in April: children 1, 2; family 1 (counted once); turnaround 1 and 5
        assert numbers(up_children) == (2, None, None)
        assert numbers(line(r, "step_up_families", period="2024-04"))[0] == 1
        assert up_children["turnaround_median_working_days"] == 3.0
        assert up_children["turnaround_mean_working_days"] == 3.0
        down = line(r, "step_down_children", period="2024-04")
        assert numbers(down)[0] == 1 and down["turnaround_median_working_days"] == 0.0
        # June: no steps → zero counts, no turnaround
        june = line(r, "step_up_children", period="2024-06")
        assert numbers(june)[0] == 0 and pd.isna(june["turnaround_median_working_days"])
        assert member_ids(result.members, "step_up_children", period="2024-04") == {1, 2}


class TestReferralsWorkedOutOnce:
    """A run derives the CSC referrals once and passes them to RR1–RR4 as ``referrals``."""

    def test_passed_referrals_give_what_derived_ones_give(self):
        eps, involvements = TestRR1().data()
        periods = [month(2024, 2), month(2024, 3), reporting_year(2023)]
        referrals = csc_referral_events(involvements)
        for measure in (
            lambda **kw: rr1_csc_referral_after_closure(eps, involvements, periods=periods, **kw),
            lambda **kw: rr2_reopened_after_closure(eps, involvements, periods=periods, **kw),
            lambda **kw: rr3_step_down_status(eps, involvements, periods=periods, **kw),
            lambda **kw: rr4_csc_rereferral(involvements, periods=periods, **kw),
        ):
            derived, passed = measure(), measure(referrals=referrals)
            pd.testing.assert_frame_equal(passed.results, derived.results)
            pd.testing.assert_frame_equal(passed.members, derived.members)

    def test_the_passed_referrals_are_the_ones_used(self):
        eps, involvements = TestRR1().data()
        none = csc_referral_events(involvements).iloc[0:0]
        result = rr1_csc_referral_after_closure(
            eps, involvements, periods=[month(2024, 2)], referrals=none
        )
        # February's cohort had E's referral (1 of 6); with no referrals passed, none count
        assert numbers(line(result.results, period="2024-02")) == (0, 6, 0.0)
