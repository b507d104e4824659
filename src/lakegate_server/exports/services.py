"""Export checked dataset versions to warehouses (PostgreSQL natively, others through dlt).

``dataset_export`` exports one accepted version: the whole table as of that version, or
only the rows that version added (``scope="batch"``: what an automatic export after each
accepted version sends for append and merge). ``export_runs_for_accepted_version`` queues
the exports declared under ``datasets: {NAME: {exports: [...]}}``; the spine calls it when
a version is accepted (:func:`lakegate_server.flow.on_version_decided`).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any, Literal

from lakegate.config import Settings
from lakegate.errors import ConflictError
from lakegate_server.datasets.models import DatasetVersion, VersionStatus
from lakegate_server.datasets.selectors import version_accepted, version_get
from lakegate_server.exports.models import ExportRecord
from lakegate_server.jobs.models import Run
from lakegate_server.jobs.services import run_create

__all__ = ["dataset_export", "export_runs_for_accepted_version"]

log = logging.getLogger("lakegate.export")
Scope = Literal["table", "batch"]


def dataset_export(
    *,
    config: Settings,
    dataset: str,
    to: str,
    table: str,
    mode: Literal["append", "replace", "merge"] = "append",
    key: list[str] | None = None,
    schema: str | None = None,
    number: int | None = None,
    scope: Scope = "table",
    created_by: str = "",
    progress: Callable[[int], None] | None = None,
) -> ExportRecord:
    """Export version ``number`` (default: the latest accepted) of ``dataset`` to ``to``."""
    from lakegate.export import export_table
    from lakegate.lake import batch_frame

    version = version_get(name=dataset, number=number) if number is not None else _latest_accepted(dataset)
    if version.status != VersionStatus.ACCEPTED:
        raise ConflictError(
            f"{dataset} v{version.number} is {version.status}: only accepted versions are exported "
            "(approve it first with `lakegate check approve`)",
            detail={"dataset": dataset, "version": version.number, "status": version.status},
        )
    path = config.lake_table(dataset)
    source: Any = batch_frame(path, version.delta_version) if scope == "batch" else path
    result = export_table(
        source,
        to=to,
        table=table,
        mode=mode,
        key=key or None,
        schema=schema,
        version=None if scope == "batch" else version.delta_version,
        progress=progress,
    )
    record = ExportRecord.objects.create(
        dataset=dataset,
        number=version.number,
        destination=result.destination[:500],
        table=result.table[:200],
        mode=mode,
        rows=result.rows,
        seconds=result.seconds,
        created_by=created_by,
    )
    log.info("dataset exported", extra={"dataset": dataset, "version": version.number, "rows": result.rows})
    return record


def _latest_accepted(dataset: str) -> DatasetVersion:
    accepted = version_accepted(name=dataset)  # NotFoundError when there is no such dataset
    if not accepted:
        raise ConflictError(f"{dataset} has no accepted version to export", detail={"dataset": dataset})
    return accepted[0]


def export_runs_for_accepted_version(*, config: Settings, dataset: str, number: int) -> list[Run]:
    """Queue the dataset's declared exports for a newly accepted version (one run each)."""
    runs = []
    for index, export in enumerate(config.dataset(dataset).exports):
        params = {
            "dataset": dataset,
            "version": number,
            "export": index,
            "scope": "table" if export.mode == "replace" else "batch",
        }
        runs.append(run_create(kind="export", params=params, created_by=f"trigger:export#{index}"))
    return runs
