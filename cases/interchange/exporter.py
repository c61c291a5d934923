"""Export every record as SSD files plus our extension files, in the shape import_ssd reads.

Exports feed other systems and migrations, so they must import back to the same records:
each file has exactly the columns of format.py, rows sorted by id, canonical codes (which
need no mapping), and ids that stay the same from one export to the next. A record's id is
its external id; a record created here has none, so its uuid stands in (memberships and
addresses have no uuid: theirs is a uuid5 of the table and primary key, equally stable).
One query per file plus one per model for the ids, whatever the number of rows.
"""

import json
import uuid
from pathlib import Path

import numpy as np
import pandas as pd
from django.db import models

from cases.models import CscInvolvement, Episode, Transition

from .format import CODE_MAP_FILE, FILES, FileSpec
from .importer import TARGETS, Target, csv_name

# Namespace of the stand-in ids of memberships and addresses made here (they have no uuid).
EXPORT_ID_NAMESPACE = uuid.UUID("5f0c6a52-8d5e-4e0a-9d43-2b7a1c0e9f11")
_CODE_MAP_HEADER = "category,local_code,code\n"


def export_ssd(directory: Path) -> dict[str, int]:
    """Write all files into ``directory``; returns file name -> rows written."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    ids = _ExportIds()
    written: dict[str, int] = {}
    for spec in FILES:
        frame = _frame(spec, ids)
        frame = frame.sort_values(spec.key, kind="stable")[spec.column_names]
        frame.to_csv(directory / csv_name(spec.name), index=False, lineterminator="\n")
        written[csv_name(spec.name)] = len(frame)
    # Our canonical codes map to themselves, so the code map has no rows.
    (directory / CODE_MAP_FILE).write_text(_CODE_MAP_HEADER, encoding="utf-8")
    written[CODE_MAP_FILE] = 0
    return written


class _ExportIds:
    """Primary key → exported id, per model (one query each, cached)."""

    def __init__(self) -> None:
        self._ids: dict[type[models.Model], pd.Series] = {}

    def of(self, model: type[models.Model]) -> pd.Series:
        if model not in self._ids:
            has_uuid = any(f.name == "uuid" for f in model._meta.concrete_fields)
            rows = model._default_manager.values_list(
                "id", "external_id", "uuid" if has_uuid else "id"
            )
            label = model._meta.label_lower
            self._ids[model] = pd.Series(
                {
                    pk: external
                    or (
                        str(stand_in)
                        if has_uuid
                        else str(uuid.uuid5(EXPORT_ID_NAMESPACE, f"{label}:{pk}"))
                    )
                    for pk, external, stand_in in rows
                },
                dtype=object,
            )
        return self._ids[model]


def _frame(spec: FileSpec, ids: _ExportIds) -> pd.DataFrame:
    """The file's rows as strings: kept fields from the model, "" for what we do not store."""
    target = TARGETS[spec.name]
    lookups = {column: _lookup(target, field_name) for column, field_name in target.fields.items()}
    extra = _EXTRA_LOOKUPS.get(spec.name, {})
    names = list(lookups) + list(extra)
    queryset = target.model._default_manager.all()
    if target.csc_kind:
        queryset = queryset.filter(kind=target.csc_kind)
    rows = pd.DataFrame(
        list(queryset.values_list(*lookups.values(), *extra.values())), columns=names, dtype=object
    )
    for column, field_name in target.fields.items():
        related = (
            target.model if field_name == "external_id" else _related_model(target, field_name)
        )
        if related is not None and not _is_code(related):
            rows[column] = rows[column].map(ids.of(related))
    if spec.name in _ADJUST:
        _ADJUST[spec.name](rows, ids)
    kinds = {c.name: c.kind.partition(":")[0] for c in spec.columns}
    out = pd.DataFrame(index=rows.index)
    for column in spec.column_names:
        values = rows[column] if column in rows else pd.Series("", index=rows.index, dtype=object)
        out[column] = _texts(values, kinds[column])
    return out


def _lookup(target: Target, field_name: str) -> str:
    """The values_list lookup for a kept field: the pk for ids, ``code`` for coded rows."""
    if field_name == "external_id":
        return "id"
    related = _related_model(target, field_name)
    if related is None:
        return field_name
    return f"{field_name}__code" if _is_code(related) else f"{field_name}_id"


def _related_model(target: Target, field_name: str) -> type[models.Model] | None:
    model_field = target.model._meta.get_field(field_name)
    related = model_field.related_model if model_field.is_relation else None
    return related if isinstance(related, type) else None


def _is_code(model: type[models.Model]) -> bool:
    """Reference data and organisations are exported by their code."""
    return any(f.name == "code" for f in model._meta.concrete_fields)


def _texts(values: pd.Series, kind: str) -> pd.Series:
    """A column's values as the file's text ("" for missing), whole columns at a time."""
    missing = (values.isna() | values.astype(object).eq("")).to_numpy()
    if kind == "date":
        days = np.array(values.where(~missing, None).tolist(), dtype="datetime64[D]")
        text = np.datetime_as_string(days, unit="D").astype(object)
    elif kind == "bool":
        text = np.where(values.fillna(False).astype(bool), "Y", "N").astype(object)
    elif kind == "json":
        text = np.array([json.dumps(v, sort_keys=True) if v else "" for v in values], dtype=object)
    else:
        text = values.astype(object).to_numpy(copy=True)
    text[missing] = ""
    return pd.Series(text, index=values.index, dtype=object)


# --- What the field map alone does not cover ----------------------------------------------

_EXTRA_LOOKUPS: dict[str, dict[str, str]] = {
    "ssd_early_help_episodes": {"_username": "lead_practitioner__username"},
    "eh_transitions": {
        "_from_episode": "from_episode_id",
        "_opened_episode": "opened_episode_id",
        "_from_csc": "from_csc_id",
        "_from_csc_kind": "from_csc__kind",
        "_from_csc_referral": "from_csc__referral_id",
        "_opened_csc": "opened_csc_id",
    },
}


def _episode_worker(rows: pd.DataFrame, ids: _ExportIds) -> None:
    """An episode led by one of our users, with no worker id from the feed, gives the username."""
    worker = rows.earl_episode_worker_id
    rows["earl_episode_worker_id"] = worker.where(worker.fillna("") != "", rows._username)


def _transition_links(rows: pd.DataFrame, ids: _ExportIds) -> None:
    """A step-up links its source episode and opened referral; a step-down the reverse.

    A step-down recorded here from a CSC plan (not a referral) exports the plan's referral.
    """
    up = rows.direction == Transition.Direction.STEP_UP
    episodes, csc = ids.of(Episode), ids.of(CscInvolvement)
    from_csc = rows._from_csc.where(
        rows._from_csc_kind == CscInvolvement.Kind.REFERRAL, rows._from_csc_referral
    )
    rows["earl_episode_id"] = rows._from_episode.where(up, rows._opened_episode).map(episodes)
    rows["csc_referral_id"] = rows._opened_csc.where(up, from_csc).map(csc)


_ADJUST = {"ssd_early_help_episodes": _episode_worker, "eh_transitions": _transition_links}
