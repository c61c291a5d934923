"""A small council worked out on paper, for the recompute tests (eager and real worker).

Cut-off 31 October 2026, three months computed (August to October 2026):

- family A, child a: early help 1 May → 10 Sep 2026 (needs met); CSC referral 1 Oct 2026,
  21 days after the closure;
- family B, child b: early help 1 Jun → 20 Sep 2026 (needs met); nothing after;
- family C, child c: claimable under the 2022-25 rules — three needs from three headline
  outcomes, all met and planned, a completed whole-family assessment with a lead practitioner,
  early help closed needs met on 15 Nov 2024 and nothing for six months: claimable on
  16 May 2025.

RR1 (cohort: closures in the 3 months ending with M; referral within 42 days and by M's end):
August 0 of 0 (no value), September 0 of 2 (a's referral is after 30 Sep), October 1 of 2.
C1 at 31 August: one practitioner leading a and b → 2 pairs over 1 practitioner = 2.0.
"""

import datetime as dt

from assessments.models import Assessment, IdentifiedNeed, Plan, PlanAction
from cases.models import CscInvolvement, Episode, FamilyMembership
from tests import factories

D = dt.date
CUTOFF = D(2026, 10, 31)
MONTHS = 3


def build(ref, team, practitioner) -> dict:
    locality = team.locality
    people = {}
    families = {}
    for name in ("a", "b", "c"):
        family = factories.FamilyFactory(locality=locality)
        child = factories.PersonFactory(date_of_birth=D(2015, 6, 1))
        FamilyMembership.objects.create(family=family, person=child, role="child")
        people[name], families[name] = child, family

    def episode(name, started, ended=None):
        return Episode.objects.create(
            family=families[name],
            child=people[name],
            service=ref.service(),
            team=team,
            level=ref.level("L2"),
            origin="front_door",
            lead_practitioner=practitioner,
            started_on=started,
            ended_on=ended,
            end_reason=ref.end_reason("NEEDS_MET") if ended else None,
        )

    episodes = {
        "a": episode("a", D(2026, 5, 1), D(2026, 9, 10)),
        "b": episode("b", D(2026, 6, 1), D(2026, 9, 20)),
        "c": episode("c", D(2024, 5, 20), D(2024, 11, 15)),
    }
    referral = CscInvolvement.objects.create(
        person=people["a"], kind="referral", started_on=D(2026, 10, 1), source="front_door"
    )
    assessment = Assessment.objects.create(
        family=families["c"],
        episode=episodes["c"],
        kind="my_plan_plus",
        status="completed",
        is_whole_family=True,
        started_on=D(2024, 6, 1),
        completed_on=D(2024, 6, 10),
        lead_practitioner=practitioner,
    )
    plan = Plan.objects.create(assessment=assessment, started_on=D(2024, 6, 10))
    for code in ("EDUCATION", "HEALTH", "HOUSING"):
        need = IdentifiedNeed.objects.create(
            assessment=assessment,
            headline_outcome=ref.outcome(code),
            outcome="met",
            outcome_recorded_on=D(2024, 11, 10),
        )
        PlanAction.objects.create(
            plan=plan,
            need=need,
            description="Agreed action",
            owner_user=practitioner,
            due_on=D(2024, 9, 1),
        )
    return {
        "families": families,
        "people": people,
        "episodes": episodes,
        "csc_referral": referral,
        "assessment": assessment,
    }
