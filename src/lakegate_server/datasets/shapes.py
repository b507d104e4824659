"""The shapes of the dataset catalog's JSON fields (``models.JSONField[Shape, Shape]`` in models.py)
and of the rows its selectors return (frozen dataclasses, read by attribute).

Plain types only (no Ninja, no Django): models import this module, and the lean serving
front must not pull the API stack in. ``JSON_FIELDS`` lists every JSON field of the app with
its shape; ``tests/server/test_json_shapes.py`` fails when a model gains a JSON field that is
not listed, and validates stored rows against these shapes.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

from pydantic import ConfigDict, with_config

# typing_extensions' TypedDict: pydantic validates these on Python 3.11 (the shapes test).
from typing_extensions import TypedDict

__all__ = [
    "JSON_FIELDS",
    "Categories",
    "ColumnStats",
    "ColumnTypes",
    "DatasetRow",
    "Histogram",
    "TopValue",
    "VersionStats",
    "VersionSummary",
]

# Stored values may hold only the keys declared here (the shapes test refuses others).
_CLOSED = ConfigDict(extra="forbid")

# Column name -> its type: a polars dtype name (``DatasetVersion.schema``) or a type family
# (``DatasetVersion.table_schema``, ``widened_columns``: the family a column was widened to).
ColumnTypes = dict[str, str]


@with_config(_CLOSED)
class Histogram(TypedDict):
    edges: list[float]
    counts: list[int]


@with_config(_CLOSED)
class TopValue(TypedDict):
    value: Any  # the column's own type (text, category)
    count: int


@with_config(_CLOSED)
class Categories(TypedDict):
    counts: dict[str, int]  # the 100 most frequent values
    other: int  # the rest


@with_config(_CLOSED)
class ColumnStats(TypedDict, total=False):
    """One column's statistics (``lakegate.lake._stats.profile_parquet``); keys by column kind."""

    kind: str  # numeric, temporal, bool, text, categorical, other
    dtype: str
    rows: int
    nulls: int
    null_pct: float
    distinct: int
    min: Any  # a number, or an ISO string for a temporal column
    max: Any
    mean: float | None
    std: float | None
    true: int
    quantiles: list[float | None]
    histogram: Histogram
    top: list[TopValue]
    categories: Categories
    error_cells: int


# Column name -> its statistics (``DatasetVersion.stats``).
VersionStats = dict[str, ColumnStats]


@dataclass(frozen=True)
class DatasetRow:
    """One dataset with its latest version's numbers (``selectors.dataset_list``)."""

    name: str
    versions: int
    latest_version: int | None
    rows: int
    columns: int
    updated_at: datetime
    created_at: datetime


class VersionSummary(TypedDict):
    """One dataset version as the API, the CLI and the flow report it (``DatasetVersion.summary``)."""

    dataset: str
    version: int
    delta_version: int
    mode: str
    source: str
    sha256: str
    rows: int
    total_rows: int
    bytes_in: int
    bytes_out: int
    ratio: float
    schema: ColumnTypes
    added_columns: list[str]
    widened_columns: ColumnTypes
    warnings: list[str]
    seconds: float
    created_by: str
    created_at: datetime
    status: str
    verdict: str
    approved_by: str
    approved_reason: str
    approved_at: datetime | None


JSON_FIELDS: Final[dict[str, object]] = {
    "datasets.DatasetVersion.schema": ColumnTypes,
    "datasets.DatasetVersion.table_schema": ColumnTypes,
    "datasets.DatasetVersion.stats": VersionStats,
    "datasets.DatasetVersion.added_columns": list[str],
    "datasets.DatasetVersion.widened_columns": ColumnTypes,
    "datasets.DatasetVersion.warnings": list[str],
}
