"""Dataset reads: catalog, versions, statistics, quarantine, savings."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.db.models import Count, Max, QuerySet, Sum
from django.db.models.functions import TruncDate

from lakegate.config import Settings
from lakegate.errors import NotFoundError
from lakegate.lake import export_version
from lakegate_server.datasets.models import Dataset, DatasetVersion, QuarantinedFile, VersionStatus
from lakegate_server.datasets.shapes import DatasetRow

__all__ = [
    "dataset_export",
    "dataset_get",
    "dataset_list",
    "dataset_versions",
    "quarantine_list",
    "savings_stats",
    "version_accepted",
    "version_get",
]


def dataset_list() -> list[DatasetRow]:
    """Every dataset with its latest version's numbers."""
    rows = []
    for dataset in Dataset.objects.annotate(version_count=Count("versions")).order_by("name"):
        latest = dataset.versions.order_by("-number").first()
        rows.append(
            DatasetRow(
                name=dataset.name,
                versions=dataset.version_count,
                latest_version=latest.number if latest else None,
                rows=latest.total_rows if latest else 0,
                columns=len(latest.table_schema) if latest else 0,
                updated_at=latest.created_at if latest else dataset.created_at,
                created_at=dataset.created_at,
            )
        )
    return rows


def dataset_get(*, name: str) -> Dataset:
    dataset = Dataset.objects.filter(name=name).first()
    if dataset is None:
        raise NotFoundError(f"no dataset named {name!r}", detail={"dataset": name})
    return dataset


def dataset_versions(*, name: str) -> QuerySet[DatasetVersion]:
    return dataset_get(name=name).versions.select_related("dataset").order_by("-number")


def version_get(*, name: str, number: int | None = None) -> DatasetVersion:
    """Version ``number`` of ``name`` (latest when None)."""
    versions = dataset_versions(name=name)
    version = versions.first() if number is None else versions.filter(number=number).first()
    if version is None:
        raise NotFoundError(
            f"dataset {name!r} has no version {number}" if number else f"dataset {name!r} has no versions",
            detail={"dataset": name, "version": number},
        )
    return version


def version_accepted(*, name: str, before: int | None = None, limit: int = 1) -> list[DatasetVersion]:
    """The latest accepted versions of ``name`` (newest first), optionally older than ``before``."""
    versions = dataset_versions(name=name).filter(status=VersionStatus.ACCEPTED)
    if before is not None:
        versions = versions.filter(number__lt=before)
    return list(versions[:limit])


def dataset_export(
    *, config: Settings, name: str, number: int | None, out: Path
) -> tuple[DatasetVersion, int]:
    """Write the dataset as of version ``number`` (latest when None) to Parquet ``out``."""
    version = version_get(name=name, number=number)
    rows = export_version(config.lake_table(name), version.delta_version, out)
    return version, rows


def quarantine_list(*, include_resolved: bool = False) -> QuerySet[QuarantinedFile]:
    entries = QuarantinedFile.objects.select_related("resolved_version")
    return entries if include_resolved else entries.filter(resolved_at__isnull=True)


def _totals(versions: QuerySet[DatasetVersion]) -> dict[str, Any]:
    agg = versions.aggregate(
        files=Count("id"), rows=Sum("rows"), bytes_in=Sum("bytes_in"), bytes_out=Sum("bytes_out")
    )
    bytes_in, bytes_out = agg["bytes_in"] or 0, agg["bytes_out"] or 0
    return {
        "files": agg["files"],
        "rows": agg["rows"] or 0,
        "bytes_in": bytes_in,
        "bytes_out": bytes_out,
        "bytes_saved": bytes_in - bytes_out,
        "ratio": round(bytes_in / bytes_out, 3) if bytes_out else 0.0,
    }


def savings_stats() -> dict[str, Any]:
    """Files ingested, rows, bytes in/out/saved and ratio: in total, per dataset, per day."""
    versions = DatasetVersion.objects.all()
    per_dataset = [
        {"dataset": name, **_totals(versions.filter(dataset__name=name))}
        for name in Dataset.objects.order_by("name").values_list("name", flat=True)
    ]
    per_day = [
        {
            "date": row["day"].isoformat(),
            "files": row["files"],
            "rows": row["rows"] or 0,
            "bytes_in": row["bytes_in"] or 0,
            "bytes_out": row["bytes_out"] or 0,
            "bytes_saved": (row["bytes_in"] or 0) - (row["bytes_out"] or 0),
        }
        for row in versions.annotate(day=TruncDate("created_at"))
        .values("day")
        .annotate(files=Count("id"), rows=Sum("rows"), bytes_in=Sum("bytes_in"), bytes_out=Sum("bytes_out"))
        .order_by("day")
    ]
    return {
        "total": {
            **_totals(versions),
            "datasets": Dataset.objects.count(),
            "quarantined": QuarantinedFile.objects.filter(resolved_at__isnull=True).count(),
            "last_ingest": versions.aggregate(last=Max("created_at"))["last"],
        },
        "datasets": per_dataset,
        "days": per_day,
    }
