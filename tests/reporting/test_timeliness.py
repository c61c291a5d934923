"""T1–T3 on hand-made frames."""

import pandas as pd
import pytest

from reporting.measures import (
    T2Params,
    t1_contact_timeliness,
    t2_assessment_timeliness,
    t3_reviews_overdue,
)
from reporting.measures.dates import month
from reporting.measures.timeliness import elapsed_days
from tests.reporting import frame, line, member_ids, numbers


def request(rid, received, contact, source="2A", locality="NORTH"):
    return {
        "referral_id": rid,
        "family_id": rid * 10,
        "received_on": received,
        "first_contact_on": contact,
        "source": source,
        "locality": locality,
        "service": "FAMILY_SUPPORT",
    }


class TestT1:
    def test_contact_within_3_working_days_across_easter_2024(self):
        requests = frame(
            [
                # Thu 28 Mar → Wed 3 Apr: Good Friday, weekend, Easter Monday skipped → 2 days
                request(1, "2024-03-28", "2024-04-03"),
                # → Fri 5 Apr: 2, 3, 4, 5 April = 4 days → late
                request(2, "2024-03-28", "2024-04-05"),
                # → Thu 4 Apr: exactly 3 working days → on time
                request(3, "2024-03-28", "2024-04-04"),
                # never contacted → late
                request(4, "2024-03-28", None),
                # same day → 0 days, on time
                request(5, "2024-03-28", "2024-03-28", source="6"),
                # received Saturday 30 Mar → Thu 4 Apr: 2, 3, 4 April = 3 → on time
                request(6, "2024-03-30", "2024-04-04", source="6"),
                # received in April → not March
                request(7, "2024-04-02", "2024-04-02"),
            ]
        )
        result = t1_contact_timeliness(requests, periods=[month(2024, 3)])
        # March: 1–6 received; on time 1, 3, 5, 6 → 4/6 = 66.7 %
        assert numbers(line(result.results)) == (4, 6, 66.7)
        assert member_ids(result.members, numerator=True) == {1, 3, 5, 6}
        # by source: 2A → 1, 3 of 1–4 = 2/4; police (6) → 5, 6 = 2/2
        assert numbers(line(result.results, breakdown="source", value="2A")) == (2, 4, 50.0)
        assert numbers(line(result.results, breakdown="source", value="6")) == (2, 2, 100.0)
        elapsed = result.members.set_index("record_id")["elapsed_days"]
        assert elapsed.loc[[1, 2, 3, 5, 6]].tolist() == [2, 4, 3, 0, 3]
        assert pd.isna(elapsed.loc[4])

    def test_empty_period(self):
        requests = frame([request(1, "2024-03-28", "2024-04-03")])
        result = t1_contact_timeliness(requests, periods=[month(2024, 5)])
        assert numbers(line(result.results)) == (0, 0, None)


def assessment(aid, started, completed, team="T1"):
    return {
        "assessment_id": aid,
        "family_id": aid * 10,
        "started_on": started,
        "completed_on": completed,
        "team": team,
        "service": "FAMILY_SUPPORT",
        "locality": "NORTH",
    }


class TestT2:
    def test_within_45_calendar_days(self):
        rows = frame(
            [
                # 20 Feb → 5 Apr 2024: 9 days to 29 Feb, 31 in March, 5 in April = 45 → on time
                assessment(1, "2024-02-20", "2024-04-05"),
                # → 6 Apr = 46 days → late
                assessment(2, "2024-02-20", "2024-04-06", team="T2"),
                # started and completed the same day → on time
                assessment(3, "2024-04-10", "2024-04-10", team="T2"),
                # draft, not completed → not counted
                assessment(4, "2024-04-01", None),
                # completed in May → not April
                assessment(5, "2024-04-01", "2024-05-01"),
            ]
        )
        result = t2_assessment_timeliness(rows, periods=[month(2024, 4)])
        # April: 1, 2, 3 completed; on time 1, 3 → 2/3
        assert numbers(line(result.results)) == (2, 3, 66.7)
        assert numbers(line(result.results, breakdown="team", value="T2")) == (1, 2, 50.0)
        assert result.params == {"breakdowns": ["locality", "team", "service"], "days": 45,
                                 "day_type": "calendar"}  # fmt: skip

    def test_working_day_variant(self):
        rows = frame(
            [
                # Fri 22 Mar → Mon 8 Apr: 25–28 Mar (4), 2–5 Apr (8), 8 Apr (9) → on time
                assessment(1, "2024-03-22", "2024-04-08"),
                # → Tue 9 Apr = 10 working days → on time; → Wed 10 Apr = 11 → late
                assessment(2, "2024-03-22", "2024-04-09"),
                assessment(3, "2024-03-22", "2024-04-10"),
            ]
        )
        params = T2Params(days=10, day_type="working")
        result = t2_assessment_timeliness(rows, periods=[month(2024, 4)], params=params)
        assert numbers(line(result.results)) == (2, 3, 66.7)
        assert result.members["elapsed_days"].tolist() == [9, 10, 11]

    def test_unknown_day_type_is_refused(self):
        with pytest.raises(ValueError, match="day type"):
            elapsed_days(pd.Series(dtype="datetime64[ns]"), pd.Series(dtype="datetime64[ns]"), "x")  # type: ignore[arg-type]


def plan(pid, started, closed=None, next_review=None, interval=42):
    return {
        "plan_id": pid,
        "family_id": pid * 10,
        "started_on": started,
        "closed_on": closed,
        "next_review_on": next_review,
        "review_interval_days": interval,
        "team": "T1",
        "service": "FAMILY_SUPPORT",
        "locality": "NORTH",
    }


class TestT3:
    def test_reviews_overdue_at_period_end(self):
        plans = frame(
            [
                # P1: never reviewed; first review due 1 Jan + 42 = 12 Feb → overdue
                plan(1, "2024-01-01"),
                # P2: due 20 Feb + 42 = 2 Apr → not yet
                plan(2, "2024-02-20"),
                # P3: reviewed 10 Feb, next review 31 Mar = the period end → not passed
                plan(3, "2024-01-01"),
                # P4: reviewed 10 Feb, next review 30 Mar → overdue
                plan(4, "2024-01-01"),
                # P5: first reviewed 5 Apr (after the period end): at 31 Mar it was due
                # 12 Feb → overdue, although today's next review date is 17 May
                plan(5, "2024-01-01", next_review="2024-05-17"),
                # P6: closed 15 Mar → not open at the period end
                plan(6, "2024-01-01", closed="2024-03-15"),
                # P7: never reviewed, first review set for 20 Mar → overdue
                plan(7, "2024-03-01", next_review="2024-03-20"),
                # P8: a 4-weekly plan: due 1 Mar + 28 = 29 Mar → overdue
                plan(8, "2024-03-01", interval=28),
                # P9: reviewed 15 Jan with no next date → due 15 Jan + 42 = 26 Feb → overdue
                plan(9, "2024-01-01"),
                # P10: starts 1 Apr → not open yet
                plan(10, "2024-04-01"),
                # P11: closed on the period end → not open when the period is over
                plan(11, "2024-01-01", closed="2024-03-31"),
            ]
        )
        reviews = frame(
            [
                {"plan_id": 3, "held_on": "2024-02-10", "next_review_on": "2024-03-31"},
                {"plan_id": 4, "held_on": "2024-02-10", "next_review_on": "2024-03-30"},
                {"plan_id": 5, "held_on": "2024-04-05", "next_review_on": "2024-05-17"},
                {"plan_id": 9, "held_on": "2024-01-15", "next_review_on": None},
            ]
        )
        result = t3_reviews_overdue(plans, reviews, periods=[month(2024, 3)])
        # open: 1, 2, 3, 4, 5, 7, 8, 9 = 8; overdue 1, 4, 5, 7, 8, 9 = 6 → 75 %
        assert numbers(line(result.results)) == (6, 8, 75.0)
        assert member_ids(result.members) == {1, 2, 3, 4, 5, 7, 8, 9}
        assert member_ids(result.members, numerator=True) == {1, 4, 5, 7, 8, 9}
        due = result.members.set_index("record_id")["review_due_on"]
        assert due.loc[5] == pd.Timestamp("2024-02-12")
        assert due.loc[8] == pd.Timestamp("2024-03-29")

    def test_no_open_plans(self):
        plans = frame([plan(1, "2024-05-01")])
        reviews = frame([], ["plan_id", "held_on", "next_review_on"])
        result = t3_reviews_overdue(plans, reviews, periods=[month(2024, 3)])
        assert numbers(line(result.results)) == (0, 0, None)
