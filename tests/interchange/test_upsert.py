"""upsert: rows marked new go straight into the table, and one that was not new after all fails
its unique key rather than being stored twice or silently skipped."""

import pandas as pd
import pytest
from django.db import IntegrityError, transaction

from cases.interchange.upsert import upsert
from reporting.models import KpiPartition

pytestmark = pytest.mark.django_db

KEY = ["measure", "params_hash", "period_start", "period_end"]


def partitions(labels):
    return pd.DataFrame(
        {
            "period_label": labels,
            "period_start": [f"2026-0{n}-01" for n in range(1, len(labels) + 1)],
            "period_end": [f"2026-0{n}-28" for n in range(1, len(labels) + 1)],
        }
    )


def store(frame, *, new):
    upsert(
        KpiPartition,
        frame,
        constants={"measure": "RR1", "params_hash": "abc"},
        conflict=KEY,
        update=["period_label"],
        not_compared=[],
        new=new,
    )


def test_new_rows_are_inserted_then_updated_by_a_plain_upsert():
    store(partitions(["Jan", "Feb"]), new=True)
    store(partitions(["January", "Feb"]), new=False)

    stored = KpiPartition.objects.order_by("period_start").values_list("measure", "period_label")
    assert list(stored) == [("RR1", "January"), ("RR1", "Feb")]


def test_a_row_marked_new_that_is_stored_already_is_refused():
    store(partitions(["Jan"]), new=True)

    with pytest.raises(IntegrityError), transaction.atomic():
        store(partitions(["Jan again", "Feb"]), new=True)

    assert list(KpiPartition.objects.values_list("period_label", flat=True)) == ["Jan"]
