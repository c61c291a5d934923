"""Reads for reporting: each table as one DataFrame, in one query, with the columns the
measures in ``reporting.measures`` expect.

Related codes (service, team, locality, end reason…) come through joins in the same query, never
a query per row. Dates are ``datetime64[ns]``; timestamps become Europe/London calendar dates,
because working days and reporting months are local. Nullable ids are ``Int64``.
Each function takes an optional queryset so a run can be partitioned (by locality, say).
"""

from __future__ import annotations

import contextvars
import io
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from django.conf import settings
from django.db import connection
from django.db.models import Model, QuerySet

from assessments.models import Assessment, IdentifiedNeed, Plan, PlanAction, Review
from cases.models import (
    CscInvolvement,
    Episode,
    FamilyMembership,
    LevelOfNeed,
    Referral,
    Transition,
)
from earlyhelp.models import Locality, Team
from reporting.measures.base import as_categories
from reporting.measures.dates import DATE_DTYPE, to_dates

Columns = Sequence[tuple[str, str]]

# Breakdown and code columns arrive as categoricals: the measures group on them millions of
# times, and a categorical is factorised once here rather than in every measure.
CATEGORICAL = (
    "service",
    "team",
    "locality",
    "team_locality",
    "family_locality",
    "level",
    "end_reason_category",
    "origin",
)


def _frame(
    queryset: QuerySet[Any],
    columns: Columns,
    *,
    dates: Sequence[str] = (),
    nullable_ids: Sequence[str] = (),
) -> pd.DataFrame:
    """One query of the field paths, named as the measures name them.

    On PostgreSQL the rows stream as CSV through ``COPY (SELECT …) TO STDOUT`` into pandas'
    C parser: building a Python tuple per row (``values_list``) costs several times what the
    database takes to send them, and reporting reads millions of rows. Elsewhere (SQLite, the
    small embedded default) ``values_list`` is simple and quick enough.
    """
    names = [name for name, _ in columns]
    paths = [path for _, path in columns]
    if connection.vendor == "postgresql":
        frame = _copy_frame(queryset, names, paths)
    else:
        rows = list(queryset.values_list(*paths))
        frame = pd.DataFrame.from_records(rows, columns=names)
    if frame.empty:  # no rows to infer from: type the columns from the model
        frame = frame.astype(
            {
                name: "int64"
                for name, path in zip(names, paths, strict=True)
                if _field(queryset.model, path).get_internal_type() in _INTEGER_FIELDS
            }
        )
    for name in dates:
        frame[name] = to_dates(frame[name])
    for name in nullable_ids:
        frame[name] = frame[name].astype("Int64")
    return as_categories(frame, CATEGORICAL)


_INTEGER_FIELDS = {
    "AutoField",
    "BigAutoField",
    "IntegerField",
    "BigIntegerField",
    "SmallIntegerField",
    "PositiveIntegerField",
    "PositiveSmallIntegerField",
    "PositiveBigIntegerField",
}


def copy_sql(queryset: QuerySet[Any], paths: Sequence[str]) -> str:
    """``COPY (the values_list query) TO STDOUT`` as CSV, parameters bound by the driver."""
    sql, params = queryset.values_list(*paths).query.sql_with_params()
    with connection.cursor() as cursor:
        bound = cursor.mogrify(sql, params).decode()
    return f"COPY ({bound}) TO STDOUT WITH (FORMAT csv)"


def _field(model: type[Model], path: str) -> Any:
    parts = path.split("__")
    for part in parts[:-1]:
        model = model._meta.get_field(part).related_model  # type: ignore[assignment]
    field = model._meta.get_field(parts[-1])
    return getattr(field, "target_field", None) if field.is_relation else field


def _copy_buffer(sql: str) -> io.BytesIO:
    buffer = io.BytesIO()
    with connection.cursor() as cursor:
        cursor.copy_expert(sql, buffer)
    buffer.seek(0)
    return buffer


# Tables a reader thread is already streaming, by their COPY statement (see reporting_data).
_prefetched: contextvars.ContextVar[dict[str, Future[io.BytesIO]] | None] = contextvars.ContextVar(
    "reporting_prefetched", default=None
)


def _copy_frame(queryset: QuerySet[Any], names: list[str], paths: list[str]) -> pd.DataFrame:
    sql = copy_sql(queryset, paths)
    pending = (_prefetched.get() or {}).pop(sql, None)
    buffer = pending.result() if pending is not None else _copy_buffer(sql)
    dtypes: dict[str, Any] = {}
    booleans = []
    days = []
    for name, path in zip(names, paths, strict=True):
        kind = _field(queryset.model, path).get_internal_type()
        if kind in {"BooleanField"}:
            booleans.append(name)
        elif kind == "DateField":
            dtypes[name] = "category"
            days.append(name)
        elif kind in {"CharField", "TextField", "SlugField", "EmailField"}:
            dtypes[name] = "category" if name in CATEGORICAL else "object"
    frame = pd.read_csv(
        buffer,
        names=names,
        header=None,
        dtype=dtypes,
        keep_default_na=False,
        na_values=[""],
        low_memory=False,  # one pass, rather than chunks concatenated afterwards
    )
    for name in booleans:
        frame[name] = frame[name].map({"t": True, "f": False}).astype(bool)
    for name in days:
        frame[name] = _iso_days(frame[name])
    return frame


def _iso_days(values: pd.Series) -> pd.Series:
    """ISO dates, read as categories, as ``datetime64[ns]``: each distinct day is parsed once.
    A million rows hold a few thousand days, and parsing every row's text cost more than the
    rest of the read."""
    categories = np.asarray(values.cat.categories, dtype=object)
    parsed = pd.to_datetime(categories).to_numpy().astype(DATE_DTYPE)
    lookup = np.append(parsed, np.datetime64("NaT"))  # a missing day's code, -1, takes NaT
    return pd.Series(lookup[values.cat.codes.to_numpy()], index=values.index, name=values.name)


def _local_dates(values: pd.Series) -> pd.Series:
    """Aware timestamps as local calendar dates (``datetime64[ns]`` at midnight)."""
    stamps = pd.to_datetime(values, utc=True)
    return (
        stamps.dt.tz_convert(settings.TIME_ZONE)
        .dt.tz_localize(None)
        .dt.normalize()
        .astype("datetime64[ns]")
    )


def _coalesce(frame: pd.DataFrame, target: str, *sources: str) -> pd.DataFrame:
    value = frame[sources[0]].astype("object")
    for source in sources[1:]:
        value = value.where(value.notna(), frame[source].astype("object"))
    frame[target] = value.where(value.notna(), None).astype("category")
    return frame


def _all(model: type[Model], queryset: QuerySet[Any] | None) -> QuerySet[Any]:
    return queryset if queryset is not None else model._default_manager.all()


EPISODE_COLUMNS: Columns = [
    ("episode_id", "id"),
    ("family_id", "family_id"),
    ("child_id", "child_id"),
    ("service", "service__code"),
    ("team", "team__code"),
    ("team_locality", "team__locality__code"),
    ("family_locality", "family__locality__code"),
    ("level", "level__code"),
    ("plan_type", "plan_type"),
    ("lead_practitioner_id", "lead_practitioner_id"),
    ("lead_worker_external_id", "lead_worker_external_id"),
    ("lead_organisation_id", "lead_organisation_id"),
    ("lead_organisation_kind", "lead_organisation__kind"),
    ("origin", "origin"),
    ("referral_id", "referral_id"),
    ("started_on", "started_on"),
    ("ended_on", "ended_on"),
    ("end_reason", "end_reason__code"),
    ("end_reason_category", "end_reason__category"),
]


def episodes_frame(queryset: QuerySet[Episode] | None = None) -> pd.DataFrame:
    """Early help episodes. ``locality`` is the family's locality, else the team's. Ready for
    ``reporting.measures.events.prepare_episodes`` to pass through without work."""
    frame = _frame(
        _all(Episode, queryset),
        EPISODE_COLUMNS,
        dates=["started_on", "ended_on"],
        nullable_ids=["lead_practitioner_id", "lead_organisation_id", "referral_id"],
    )
    return _coalesce(frame, "locality", "family_locality", "team_locality")


CSC_COLUMNS: Columns = [
    ("csc_id", "id"),
    ("child_id", "person_id"),
    ("kind", "kind"),
    ("started_on", "started_on"),
    ("ended_on", "ended_on"),
    ("source", "source"),
    ("referral_id", "referral_id"),
    ("referral_source_code", "referral_source_code"),
    ("closure_reason", "closure_reason__code"),
]


def csc_involvements_frame(queryset: QuerySet[CscInvolvement] | None = None) -> pd.DataFrame:
    return _frame(
        _all(CscInvolvement, queryset),
        CSC_COLUMNS,
        dates=["started_on", "ended_on"],
        nullable_ids=["referral_id"],
    )


REFERRAL_COLUMNS: Columns = [
    ("referral_id", "id"),
    ("family_id", "family_id"),
    ("received_at", "received_at"),
    ("first_contact_at", "first_contact_at"),
    ("source", "source__code"),
    ("referring_organisation_id", "referring_organisation_id"),
    ("referring_organisation_kind", "referring_organisation__kind"),
    ("status", "status"),
    ("decision", "decision"),
    ("decided_on", "decided_on"),
    ("level", "decision_level__code"),
    ("service", "decision_service__code"),
    ("locality", "family__locality__code"),
]


def referrals_frame(queryset: QuerySet[Referral] | None = None) -> pd.DataFrame:
    """Requests for support, with ``received_on`` / ``first_contact_on`` as local dates."""
    frame = _frame(
        _all(Referral, queryset),
        REFERRAL_COLUMNS,
        dates=["decided_on"],
        nullable_ids=["family_id", "referring_organisation_id"],
    )
    frame["received_on"] = _local_dates(frame["received_at"])
    frame["first_contact_on"] = _local_dates(frame["first_contact_at"])
    return frame


ASSESSMENT_COLUMNS: Columns = [
    ("assessment_id", "id"),
    ("family_id", "family_id"),
    ("episode_id", "episode_id"),
    ("kind", "kind"),
    ("status", "status"),
    ("is_whole_family", "is_whole_family"),
    ("started_on", "started_on"),
    ("completed_on", "completed_on"),
    ("lead_practitioner_id", "lead_practitioner_id"),
    ("lead_organisation_id", "lead_organisation_id"),
    ("lead_organisation_kind", "lead_organisation__kind"),
    ("team", "episode__team__code"),
    ("service", "episode__service__code"),
    ("family_locality", "family__locality__code"),
    ("team_locality", "episode__team__locality__code"),
    ("plan_closed_on", "plan__closed_on"),
    ("episode_ended_on", "episode__ended_on"),
]


def assessments_frame(queryset: QuerySet[Assessment] | None = None) -> pd.DataFrame:
    frame = _frame(
        _all(Assessment, queryset),
        ASSESSMENT_COLUMNS,
        dates=["started_on", "completed_on", "plan_closed_on", "episode_ended_on"],
        nullable_ids=["episode_id", "lead_practitioner_id", "lead_organisation_id"],
    )
    return _coalesce(frame, "locality", "family_locality", "team_locality")


NEED_COLUMNS: Columns = [
    ("need_id", "id"),
    ("assessment_id", "assessment_id"),
    ("family_id", "assessment__family_id"),
    ("person_id", "person_id"),
    ("headline_outcome", "headline_outcome__code"),
    ("level_at_assessment", "level_at_assessment__code"),
    ("level_at_closure", "level_at_closure__code"),
    ("outcome", "outcome"),
    ("outcome_recorded_on", "outcome_recorded_on"),
    ("identified_on", "assessment__started_on"),
]


def needs_frame(queryset: QuerySet[IdentifiedNeed] | None = None) -> pd.DataFrame:
    """Identified needs, dated (``identified_on``) by their assessment's start."""
    return _frame(
        _all(IdentifiedNeed, queryset),
        NEED_COLUMNS,
        dates=["outcome_recorded_on", "identified_on"],
        nullable_ids=["person_id"],
    )


PLAN_COLUMNS: Columns = [
    ("plan_id", "id"),
    ("assessment_id", "assessment_id"),
    ("family_id", "assessment__family_id"),
    ("status", "status"),
    ("started_on", "started_on"),
    ("closed_on", "closed_on"),
    ("review_interval_days", "review_interval_days"),
    ("next_review_on", "next_review_on"),
    ("team", "assessment__episode__team__code"),
    ("service", "assessment__episode__service__code"),
    ("family_locality", "assessment__family__locality__code"),
    ("team_locality", "assessment__episode__team__locality__code"),
]


def plans_frame(queryset: QuerySet[Plan] | None = None) -> pd.DataFrame:
    frame = _frame(
        _all(Plan, queryset), PLAN_COLUMNS, dates=["started_on", "closed_on", "next_review_on"]
    )
    return _coalesce(frame, "locality", "family_locality", "team_locality")


REVIEW_COLUMNS: Columns = [
    ("review_id", "id"),
    ("plan_id", "plan_id"),
    ("held_on", "held_on"),
    ("next_review_on", "next_review_on"),
    ("is_taf_meeting", "is_taf_meeting"),
]


def reviews_frame(queryset: QuerySet[Review] | None = None) -> pd.DataFrame:
    return _frame(_all(Review, queryset), REVIEW_COLUMNS, dates=["held_on", "next_review_on"])


PLAN_ACTION_COLUMNS: Columns = [
    ("action_id", "id"),
    ("plan_id", "plan_id"),
    ("need_id", "need_id"),
    ("due_on", "due_on"),
    ("completed_on", "completed_on"),
]


def plan_actions_frame(queryset: QuerySet[PlanAction] | None = None) -> pd.DataFrame:
    return _frame(_all(PlanAction, queryset), PLAN_ACTION_COLUMNS, dates=["due_on", "completed_on"])


TRANSITION_COLUMNS: Columns = [
    ("transition_id", "id"),
    ("direction", "direction"),
    ("family_id", "family_id"),
    ("child_id", "child_id"),
    ("from_episode_id", "from_episode_id"),
    ("from_csc_id", "from_csc_id"),
    ("requested_on", "requested_on"),
    ("decision", "decision"),
    ("decided_on", "decided_on"),
    ("opened_episode_id", "opened_episode_id"),
    ("opened_csc_id", "opened_csc_id"),
    ("from_team", "from_episode__team__code"),
    ("opened_team", "opened_episode__team__code"),
    ("from_service", "from_episode__service__code"),
    ("opened_service", "opened_episode__service__code"),
    ("locality", "family__locality__code"),
]


def transitions_frame(queryset: QuerySet[Transition] | None = None) -> pd.DataFrame:
    """Step-ups and step-downs; ``team``/``service`` are those of the episode stepped up from
    or, for a step-down, of the episode it opened."""
    frame = _frame(
        _all(Transition, queryset),
        TRANSITION_COLUMNS,
        dates=["requested_on", "decided_on"],
        nullable_ids=["from_episode_id", "from_csc_id", "opened_episode_id", "opened_csc_id"],
    )
    frame = _coalesce(frame, "team", "from_team", "opened_team")
    return _coalesce(frame, "service", "from_service", "opened_service")


MEMBERSHIP_COLUMNS: Columns = [
    ("membership_id", "id"),
    ("family_id", "family_id"),
    ("person_id", "person_id"),
    ("role", "role"),
    ("started_on", "started_on"),
    ("ended_on", "ended_on"),
    ("date_of_birth", "person__date_of_birth"),
    ("expected_date_of_birth", "person__expected_date_of_birth"),
    ("date_of_death", "person__date_of_death"),
    ("family_locality", "family__locality__code"),
]


def memberships_frame(queryset: QuerySet[FamilyMembership] | None = None) -> pd.DataFrame:
    """Who belongs to which family, with the person's dates (for the household tests)."""
    return _frame(
        _all(FamilyMembership, queryset),
        MEMBERSHIP_COLUMNS,
        dates=[
            "started_on",
            "ended_on",
            "date_of_birth",
            "expected_date_of_birth",
            "date_of_death",
        ],
    )


TEAM_COLUMNS: Columns = [
    ("team", "code"),
    ("team_name", "name"),
    ("locality", "locality__code"),
    ("caseload_target", "caseload_target"),
]


def teams_frame(queryset: QuerySet[Team] | None = None) -> pd.DataFrame:
    return _frame(_all(Team, queryset), TEAM_COLUMNS)


def localities_frame(queryset: QuerySet[Locality] | None = None) -> pd.DataFrame:
    return _frame(_all(Locality, queryset), [("locality", "code"), ("locality_name", "name")])


def levels_frame(queryset: QuerySet[LevelOfNeed] | None = None) -> pd.DataFrame:
    return _frame(
        _all(LevelOfNeed, queryset),
        [("code", "code"), ("label", "label"), ("rank", "rank"), ("colour", "colour")],
    )


@dataclass
class ReportingData:
    """Every frame the measures read, loaded with one query per table."""

    episodes: pd.DataFrame
    csc: pd.DataFrame
    referrals: pd.DataFrame
    assessments: pd.DataFrame
    needs: pd.DataFrame
    plans: pd.DataFrame
    reviews: pd.DataFrame
    plan_actions: pd.DataFrame
    transitions: pd.DataFrame
    memberships: pd.DataFrame
    teams: pd.DataFrame
    localities: pd.DataFrame
    levels: pd.DataFrame
    # Frames derived from these that several measures share, worked out once when first asked
    # for (``reporting.recompute``): each person's family, the CSC referrals.
    derived: dict[str, pd.DataFrame] = field(
        default_factory=dict, init=False, repr=False, compare=False
    )


READERS = 2


def reporting_data() -> ReportingData:
    """Every table the measures read.

    On PostgreSQL, outside a transaction, ``READERS`` reader threads, each with a connection of
    its own, stream the tables (every other one each, in the order they are parsed) while this
    thread parses each as it arrives: the database sends two at once, and its sending and
    pandas' parsing overlap. Inside a transaction (a test's, or a caller's) everything is read
    here, where uncommitted rows are visible.
    """
    if connection.vendor != "postgresql" or connection.in_atomic_block:
        return _read_all()
    # Django keeps connections per context (asgiref.Local): a context of its own gives each
    # reader a connection of its own.
    readers = [
        (
            ThreadPoolExecutor(max_workers=1, thread_name_prefix="reporting-reader"),
            contextvars.Context(),
        )
        for _ in range(READERS)
    ]
    pending: dict[str, Future[io.BytesIO]] = {}
    try:
        for number, sql in enumerate(source_queries().values()):
            reader, own = readers[number % len(readers)]
            pending[sql] = reader.submit(own.run, _copy_buffer, sql)
        token = _prefetched.set(pending)
        try:
            data = _read_all()
        finally:
            _prefetched.reset(token)
        if pending:  # a frame asked for other columns than source_queries() names
            raise RuntimeError(f"Streamed but never read: {', '.join(pending)}")
        return data
    finally:
        for future in pending.values():
            future.cancel()
        for reader, own in readers:
            # a function, not connection.close: that would bind this thread's connection here
            reader.submit(own.run, close_connection).result()
            reader.shutdown()


def close_connection() -> None:
    """This thread's connection closed (for helper threads, which Django does not close)."""
    connection.close()


# Every streamed table as (frame name, model, columns, reader), largest first: the readers
# stream them and this thread parses them in this order, so the parse nothing overlaps (the
# last) is a small one.
SOURCES: list[tuple[str, type[Model], Columns, Callable[[], pd.DataFrame]]] = [
    ("episodes", Episode, EPISODE_COLUMNS, episodes_frame),
    ("memberships", FamilyMembership, MEMBERSHIP_COLUMNS, memberships_frame),
    ("needs", IdentifiedNeed, NEED_COLUMNS, needs_frame),
    ("assessments", Assessment, ASSESSMENT_COLUMNS, assessments_frame),
    ("referrals", Referral, REFERRAL_COLUMNS, referrals_frame),
    ("csc", CscInvolvement, CSC_COLUMNS, csc_involvements_frame),
    ("transitions", Transition, TRANSITION_COLUMNS, transitions_frame),
    ("plans", Plan, PLAN_COLUMNS, plans_frame),
    ("plan_actions", PlanAction, PLAN_ACTION_COLUMNS, plan_actions_frame),
    ("reviews", Review, REVIEW_COLUMNS, reviews_frame),
    ("teams", Team, TEAM_COLUMNS, teams_frame),
]


def _read_all() -> ReportingData:
    frames = {name: read() for name, _, _, read in SOURCES}
    return ReportingData(**frames, localities=localities_frame(), levels=levels_frame())


def source_queries() -> dict[str, str]:
    """The ``COPY … TO STDOUT`` statement behind each frame of ``reporting_data`` (PostgreSQL):
    what the benchmark streams to time the floor, the database sending what the measures read.
    """
    return {
        name: copy_sql(model._default_manager.all(), [path for _, path in columns])
        for name, model, columns, _ in SOURCES
    }
