"""Dataset reads: catalog, versions, statistics, quarantine, savings."""

from __future__ import annotations

from pathlib import Path, PurePosixPath
from typing import Any, Final

from django.db.models import Count, Max, QuerySet, Sum
from django.db.models.functions import TruncDate

from lakegate.config import Settings
from lakegate.errors import NotFoundError
from lakegate.formats import ARCHIVE_EXTENSIONS, EXTENSIONS
from lakegate.lake import export_version
from lakegate_server.datasets.models import Dataset, DatasetVersion, QuarantinedFile, VersionStatus
from lakegate_server.datasets.shapes import DatasetRow

__all__ = [
    "dataset_export",
    "dataset_get",
    "dataset_list",
    "dataset_versions",
    "file_format",
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


GB: Final = 10**9
"""Storage is billed per decimal gigabyte (as S3, GCS and Azure bill it)."""


def file_format(source_name: str) -> str:
    """The format a version's file came in, for the savings breakdown: its extension
    (``csv``, ``xlsx``, ``csv.gz``, ...), ``stream`` for a stream batch, ``dataset`` for
    batch predictions written from another version, ``other`` for anything else."""
    if source_name.startswith("stream:"):
        return "stream"
    name = PurePosixPath(source_name.replace("\\", "/")).name.lower()
    suffix = PurePosixPath(name).suffix
    if suffix in ARCHIVE_EXTENSIONS:
        inner = PurePosixPath(name[: -len(suffix)]).suffix
        return f"{inner[1:]}{suffix}" if inner in EXTENSIONS else suffix[1:]
    if suffix in EXTENSIONS:
        return suffix[1:]
    return "dataset" if "@" in source_name else "other"


def _per_format(versions: QuerySet[DatasetVersion]) -> list[dict[str, Any]]:
    """Totals per file format, largest input first (one query; grouped per version, not row)."""
    groups: dict[str, dict[str, int]] = {}
    for source_name, rows, bytes_in, bytes_out in versions.values_list(
        "source_name", "rows", "bytes_in", "bytes_out"
    ).iterator():
        group = groups.setdefault(
            file_format(source_name), {"files": 0, "rows": 0, "bytes_in": 0, "bytes_out": 0}
        )
        group["files"] += 1
        group["rows"] += rows
        group["bytes_in"] += bytes_in
        group["bytes_out"] += bytes_out
    return [
        {
            "format": name,
            **group,
            "bytes_saved": group["bytes_in"] - group["bytes_out"],
            "ratio": round(group["bytes_in"] / group["bytes_out"], 3) if group["bytes_out"] else 0.0,
        }
        for name, group in sorted(groups.items(), key=lambda item: (-item[1]["bytes_in"], item[0]))
    ]


def _cost(bytes_in: int, bytes_out: int, price_per_gb_month: float) -> dict[str, float]:
    """What the raw files would cost a month, what the lake costs, and the difference."""
    return {
        "price_per_gb_month": price_per_gb_month,
        "raw_per_month": round(bytes_in / GB * price_per_gb_month, 4),
        "stored_per_month": round(bytes_out / GB * price_per_gb_month, 4),
        "saved_per_month": round((bytes_in - bytes_out) / GB * price_per_gb_month, 4),
    }


def savings_stats(*, price_per_gb_month: float) -> dict[str, Any]:
    """Files ingested, rows, bytes in/out/saved and ratio: in total, per dataset, per file
    format, per day; and a cost line at ``price_per_gb_month`` per decimal GB."""
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
    totals = _totals(versions)
    return {
        "total": {
            **totals,
            "datasets": Dataset.objects.count(),
            "quarantined": QuarantinedFile.objects.filter(resolved_at__isnull=True).count(),
            "last_ingest": versions.aggregate(last=Max("created_at"))["last"],
        },
        "datasets": per_dataset,
        "formats": _per_format(versions),
        "days": per_day,
        "cost": _cost(totals["bytes_in"], totals["bytes_out"], price_per_gb_month),
    }
