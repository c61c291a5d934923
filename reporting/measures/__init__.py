"""The KPIs of KPIS.md as pure pandas functions: frames in, ``MeasureResult`` out.

Each measure takes its input frames, the reporting ``periods`` and a frozen parameters
dataclass (``params.to_dict()`` is stored with every value), and returns:

- ``results``: one row per period × breakdown × category — measure, period, period_start,
  period_end, breakdown ("all", "locality", "team", "service"…), breakdown_value, category,
  numerator, denominator (NA for count-only lines), value (percentage to one decimal, NaN when
  the denominator is empty), plus the measure's own columns (target, median_weeks…);
- ``members``: the drill-down, one row per record per period per category — record_type,
  record_id, child_id, family_id, in_numerator, in_denominator, the breakdown columns and the
  dates that decided it (related_type/related_id name the record that made it count).

No Django here; ``reporting.selectors`` builds the frames from the database.
"""

from .base import ALL, UNKNOWN, Category, MeasureParams, MeasureResult, percentage
from .caseload import C1Params, c1_caseload
from .conversion import F1Params, f1_referral_conversion
from .dates import Period, add_months, month, months, quarters, reporting_year, working_days_after
from .events import csc_referral_events, person_families
from .outcomes import (
    O1Params,
    O2Params,
    O3Params,
    O4Params,
    o1_closure_reasons,
    o2_duration,
    o3_need_levels,
    o4_partner_led,
)
from .rereferral import (
    ESCParams,
    RR1Params,
    RR2Params,
    RR3Params,
    RR4Params,
    RR5Params,
    esc_steps,
    rr1_csc_referral_after_closure,
    rr2_reopened_after_closure,
    rr3_step_down_status,
    rr4_csc_rereferral,
    rr5_early_help_rereferral,
)
from .supporting_families import RuleSet, sf_claimability, sf_eligibility
from .timeliness import (
    T1Params,
    T2Params,
    T3Params,
    t1_contact_timeliness,
    t2_assessment_timeliness,
    t3_reviews_overdue,
)

__all__ = [
    "ALL",
    "UNKNOWN",
    "C1Params",
    "Category",
    "ESCParams",
    "F1Params",
    "MeasureParams",
    "MeasureResult",
    "O1Params",
    "O2Params",
    "O3Params",
    "O4Params",
    "Period",
    "RR1Params",
    "RR2Params",
    "RR3Params",
    "RR4Params",
    "RR5Params",
    "RuleSet",
    "T1Params",
    "T2Params",
    "T3Params",
    "add_months",
    "c1_caseload",
    "csc_referral_events",
    "esc_steps",
    "f1_referral_conversion",
    "month",
    "months",
    "o1_closure_reasons",
    "o2_duration",
    "o3_need_levels",
    "o4_partner_led",
    "percentage",
    "person_families",
    "quarters",
    "reporting_year",
    "rr1_csc_referral_after_closure",
    "rr2_reopened_after_closure",
    "rr3_step_down_status",
    "rr4_csc_rereferral",
    "rr5_early_help_rereferral",
    "sf_claimability",
    "sf_eligibility",
    "t1_contact_timeliness",
    "t2_assessment_timeliness",
    "t3_reviews_overdue",
    "working_days_after",
]
