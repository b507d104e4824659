"""Dashboard reads: what the pages show, composed from the apps' own selectors.

Nothing here writes; views call these and render. Shapes are small dataclasses so templates
read attributes, never dig through nested JSON.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from django.db.models import Count, QuerySet
from django.db.models.functions import TruncDate
from django.utils import timezone

from lakegate_server.dashboard.charts import BarChart, histogram
from lakegate_server.datasets.models import DatasetVersion
from lakegate_server.datasets.selectors import savings_stats, version_get
from lakegate_server.datasets.shapes import ColumnStats, TopValue
from lakegate_server.jobs.models import Run, RunStatus
from lakegate_server.jobs.selectors import run_list, run_log_read

__all__ = [
    "ColumnDiff",
    "ColumnRow",
    "LogLine",
    "LogTail",
    "VersionDiff",
    "column_rows",
    "home_overview",
    "run_log_tail",
    "version_diff",
]

# Statistics compared side by side in a version diff, in display order.
DIFF_STATS = (
    ("rows", "rows"),
    ("nulls", "null %"),
    ("distinct", "distinct"),
    ("min", "min"),
    ("max", "max"),
    ("mean", "mean"),
    ("std", "std"),
)
_LOG_KEYS = frozenset({"ts", "level", "logger", "msg", "run", "attempt"})


def _days(count: int, today: date | None = None) -> list[date]:
    last = today or timezone.localdate()
    return [last - timedelta(days=offset) for offset in range(count - 1, -1, -1)]


def runs_by_status() -> list[tuple[str, int]]:
    counts = dict(Run.objects.values_list("status").annotate(n=Count("id")).order_by())
    return [(status, counts.get(status, 0)) for status in RunStatus.values]


def status_per_day(
    records: QuerySet[Any], *, days: int, today: date | None = None
) -> list[tuple[date, dict[str, float]]]:
    """``[(day, {status: count})]`` for the last ``days`` days of ``records`` (by ``created_at``)."""
    window = _days(days, today)
    rows = (
        records.filter(created_at__date__gte=window[0])
        .annotate(day=TruncDate("created_at"))
        .values_list("day", "status")
        .annotate(n=Count("id"))
        .order_by()
    )
    per_day: dict[date, dict[str, float]] = {day: {} for day in window}
    for day, status, count in rows:
        if day in per_day:
            per_day[day][status] = float(count)
    return list(per_day.items())


def runs_per_day(*, days: int, today: date | None = None) -> list[tuple[date, dict[str, float]]]:
    return status_per_day(Run.objects.all(), days=days, today=today)


def savings_per_day(
    *, days: list[dict[str, Any]], count: int, today: date | None = None
) -> list[tuple[date, dict[str, float]]]:
    window = _days(count, today)
    saved = {row["date"]: float(row["bytes_saved"]) for row in days}
    return [(day, {"saved": saved.get(day.isoformat(), 0.0)}) for day in window]


def home_overview(*, price_per_gb_month: float, days: int = 14) -> dict[str, Any]:
    """Totals for the home page, savings per format and their cost, runs by status, and
    per-day series for its two charts."""
    stats = savings_stats(price_per_gb_month=price_per_gb_month)
    return {
        "total": stats["total"],
        "formats": stats["formats"],
        "cost": stats["cost"],
        "runs_by_status": runs_by_status(),
        "runs_total": Run.objects.count(),
        "saved_per_day": savings_per_day(days=stats["days"], count=days),
        "runs_per_day": runs_per_day(days=days),
        "recent_runs": list(run_list(limit=5)),
    }


@dataclass(frozen=True)
class ColumnRow:
    """One column of a version: its table type and the statistics of that version's batch."""

    name: str
    type: str
    stats: ColumnStats
    histogram: BarChart | None

    @property
    def kind(self) -> str:
        return self.stats.get("kind", "")

    @property
    def top(self) -> list[TopValue]:
        return self.stats.get("top", [])[:3]

    @property
    def true_pct(self) -> float | None:
        present = (self.stats.get("rows") or 0) - (self.stats.get("nulls") or 0)
        true = self.stats.get("true")
        return round(100 * true / present, 2) if true is not None and present else None


def column_rows(version: DatasetVersion) -> list[ColumnRow]:
    """Every column of the table as of ``version``, in table order, then batch-only columns."""
    names = list(version.table_schema) + [c for c in version.stats if c not in version.table_schema]
    rows = []
    for name in names:
        stats: ColumnStats = version.stats.get(name) or {}
        sketch = stats.get("histogram")
        edges, counts = (sketch["edges"], sketch["counts"]) if sketch else ([], [])
        chart = histogram(edges, counts, title=f"Distribution of {name}")
        rows.append(
            ColumnRow(
                name=name,
                type=version.table_schema.get(name) or version.schema.get(name, ""),
                stats=stats,
                histogram=chart,
            )
        )
    return rows


@dataclass(frozen=True)
class ColumnDiff:
    name: str
    type_a: str | None
    type_b: str | None
    stats: list[tuple[str, Any, Any, float | None]] = field(default_factory=list)

    @property
    def change(self) -> str:
        if self.type_a is None:
            return "added"
        if self.type_b is None:
            return "removed"
        return "type changed" if self.type_a != self.type_b else ""


@dataclass(frozen=True)
class VersionDiff:
    a: DatasetVersion
    b: DatasetVersion
    columns: list[ColumnDiff]

    @property
    def changed(self) -> list[ColumnDiff]:
        return [c for c in self.columns if c.change]


def version_diff(*, name: str, a: int, b: int) -> VersionDiff:
    """Schema (table types) and batch statistics of versions ``a`` and ``b`` side by side."""
    first, second = version_get(name=name, number=a), version_get(name=name, number=b)
    names = list(first.table_schema) + [c for c in second.table_schema if c not in first.table_schema]
    columns = []
    for column in names:
        sa, sb = first.stats.get(column, {}), second.stats.get(column, {})
        stats = [
            (label, _stat(sa, key), _stat(sb, key), _delta(_stat(sa, key), _stat(sb, key)))
            for key, label in DIFF_STATS
            if key in sa or key in sb
        ]
        columns.append(
            ColumnDiff(
                name=column,
                type_a=first.table_schema.get(column),
                type_b=second.table_schema.get(column),
                stats=stats,
            )
        )
    return VersionDiff(a=first, b=second, columns=columns)


def _delta(a: Any, b: Any) -> float | None:
    numbers = all(isinstance(v, int | float) and not isinstance(v, bool) for v in (a, b))
    return b - a if numbers else None


def _stat(stats: Mapping[str, Any], key: str) -> Any:
    return stats.get("null_pct") if key == "nulls" and "null_pct" in stats else stats.get(key)


@dataclass(frozen=True)
class LogLine:
    ts: str
    level: str
    msg: str
    fields: list[tuple[str, Any]]

    @property
    def time(self) -> str:
        return self.ts[11:23] if len(self.ts) >= 23 else self.ts


@dataclass(frozen=True)
class LogTail:
    lines: list[LogLine]
    cursor: int
    skipped: int


def run_log_tail(*, run_id: int, after: int = 0, limit: int = 500) -> LogTail:
    """A run's log lines after line ``after`` (at most the last ``limit``) and the next cursor."""
    entries, cursor = run_log_read(run_id=run_id, after=after)
    skipped = max(0, len(entries) - limit)
    lines = [
        LogLine(
            ts=str(entry.get("ts", "")),
            level=str(entry.get("level", "INFO")),
            msg=str(entry.get("msg", "")),
            fields=[(k, v) for k, v in entry.items() if k not in _LOG_KEYS],
        )
        for entry in entries[skipped:]
    ]
    return LogTail(lines=lines, cursor=cursor, skipped=skipped)
