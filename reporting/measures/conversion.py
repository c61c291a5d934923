"""F1 — referral conversion: requests for support by source, and what they led to."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pandas as pd

from .base import (
    Category,
    MeasureParams,
    MeasureResult,
    as_categories,
    as_records,
    ensure_columns,
    in_periods,
    measure_result,
    member_rows,
    require_columns,
)
from .dates import Period, coerce_dates

F1_CATEGORIES = [
    Category("received", rate=False),
    Category("led_to_early_help"),
    Category("led_to_csc"),
    Category("converted"),
]


@dataclass(frozen=True)
class F1Params(MeasureParams):
    breakdowns: tuple[str, ...] = ("source", "locality", "service")
    csc_decisions: tuple[str, ...] = ("escalate_csc",)


def f1_referral_conversion(
    referrals: pd.DataFrame,
    episodes: pd.DataFrame,
    *,
    periods: Sequence[Period],
    params: F1Params | None = None,
) -> MeasureResult:
    """F1: requests for support received in the period (line "received", by the ``source``
    breakdown) and the share that led to an early help episode (an episode linked to the
    request), to a CSC referral (a triage decision in ``csc_decisions``: the model does not link
    a request to the CSC referral it caused), or to either ("converted"). Unit: request.

    referrals: referral_id, received_on, decision; optional source, locality, service,
    family_id. episodes: referral_id (the request an episode came from).
    """
    params = params or F1Params()
    require_columns(referrals, ["referral_id", "received_on", "decision"], "referrals")
    require_columns(episodes, ["referral_id"], "episodes")
    frame = coerce_dates(ensure_columns(referrals, ["source"]), ["received_on"])
    frame = as_categories(frame, params.breakdowns)
    received = in_periods(frame, "received_on", periods)
    early_help = received["referral_id"].isin(episodes["referral_id"].dropna())
    csc = received["decision"].isin(params.csc_decisions)
    base = as_records(received, "referral_id", "referral").assign(
        led_to_early_help=early_help, led_to_csc=csc
    )
    members = pd.concat(
        [
            member_rows(base, category="received", in_numerator=True, in_denominator=False),
            member_rows(base, category="led_to_early_help", in_numerator=early_help),
            member_rows(base, category="led_to_csc", in_numerator=csc),
            member_rows(base, category="converted", in_numerator=early_help | csc),
        ],
        ignore_index=True,
    )
    return measure_result(
        members,
        measure="F1",
        params=params,
        periods=periods,
        categories=F1_CATEGORIES,
        details=["received_on", "decision", "led_to_early_help", "led_to_csc"],
    )


__all__ = ["F1Params", "f1_referral_conversion"]
