from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from typing import Annotated, Any

from ninja import Field, Path, Schema

from lakegate_server.datasets.models import NAME_RE

# A dataset name in a path: OpenAPI states the rule, and a name outside it is a 422.
DatasetName = Annotated[str, Path(pattern=NAME_RE, description="1-100 of a-z, 0-9, '_', '-'")]


class DatasetOut(Schema):
    name: str
    versions: int
    latest_version: int | None
    rows: int
    columns: int
    updated_at: datetime
    created_at: datetime


class DatasetListOut(Schema):
    items: list[DatasetOut]


class VersionOut(Schema):
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
    schema_: dict[str, str] = Field(..., alias="schema")
    added_columns: list[str]
    widened_columns: dict[str, str]
    warnings: list[str]
    seconds: float
    created_by: str
    created_at: datetime
    status: str
    verdict: str
    approved_by: str
    approved_reason: str
    approved_at: datetime | None


class DatasetDetailOut(DatasetOut):
    schema_: dict[str, str] = Field(..., alias="schema")
    latest: VersionOut | None


class VersionListOut(Schema):
    items: list[VersionOut]


class VersionStatsOut(Schema):
    dataset: str
    version: int
    rows: int
    columns: Mapping[str, Mapping[str, Any]]  # column -> its statistics (datasets.shapes.ColumnStats)


class QuarantinedOut(Schema):
    id: str
    dataset: str
    source: str
    code: str
    reason: str
    sha256: str
    size: int
    created_by: str
    created_at: datetime
    retries: int
    resolved_version: int | None
    resolved_at: datetime | None


class QuarantineListOut(Schema):
    items: list[QuarantinedOut]


class SavingsTotals(Schema):
    files: int
    rows: int
    bytes_in: int
    bytes_out: int
    bytes_saved: int
    ratio: float


class SavingsTotalOut(SavingsTotals):
    datasets: int
    quarantined: int
    last_ingest: datetime | None


class DatasetSavingsOut(SavingsTotals):
    dataset: str


class FormatSavingsOut(SavingsTotals):
    format: str


class SavingsCostOut(Schema):
    price_per_gb_month: float
    raw_per_month: float
    stored_per_month: float
    saved_per_month: float


class DaySavingsOut(Schema):
    date: date
    files: int
    rows: int
    bytes_in: int
    bytes_out: int
    bytes_saved: int


class StatsOut(Schema):
    total: SavingsTotalOut
    datasets: list[DatasetSavingsOut]
    formats: list[FormatSavingsOut]
    days: list[DaySavingsOut]
    cost: SavingsCostOut
