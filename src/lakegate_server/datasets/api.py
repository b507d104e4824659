"""Dataset endpoints: catalog, versions, statistics, uploads, quarantine, savings."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any, Literal

from django.http import HttpRequest
from ninja import Query, Router, Status

from lakegate.storage import open_storage
from lakegate_server.accounts.auth import authorize
from lakegate_server.accounts.models import Role
from lakegate_server.api_errors import PositiveInt, errors
from lakegate_server.conf import project
from lakegate_server.datasets.schemas import (
    DatasetDetailOut,
    DatasetListOut,
    DatasetName,
    DatasetOut,
    QuarantinedOut,
    QuarantineListOut,
    StatsOut,
    VersionListOut,
    VersionOut,
    VersionStatsOut,
)
from lakegate_server.datasets.selectors import (
    dataset_get,
    dataset_list,
    dataset_versions,
    quarantine_list,
    savings_stats,
    version_get,
)
from lakegate_server.datasets.services import dataset_upload_queue
from lakegate_server.datasets.shapes import VersionSummary
from lakegate_server.datasets.uploads import receive_upload
from lakegate_server.flow import quarantine_retry
from lakegate_server.jobs.schemas import RunOut

router = Router()
quarantine_router = Router()
stats_router = Router()

_MULTIPART = {
    "requestBody": {
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "properties": {"file": {"type": "string", "format": "binary", "minLength": 1}},
                    "required": ["file"],
                    "additionalProperties": False,
                }
            }
        },
    }
}


@router.get("", response=DatasetListOut, summary="List datasets")
def datasets_list(request: HttpRequest) -> DatasetListOut:
    authorize(request, Role.VIEWER)
    return DatasetListOut(items=[DatasetOut(**asdict(row)) for row in dataset_list()])


@router.get(
    "/{name}",
    response={200: DatasetDetailOut, **errors(404)},
    by_alias=True,
    summary="One dataset and its latest version",
)
def datasets_show(request: HttpRequest, name: DatasetName) -> dict[str, Any]:
    # Version payloads are returned as dicts: their "schema" key would clash with
    # pydantic's Model.schema() if ninja read it back from a schema instance.
    authorize(request, Role.VIEWER)
    dataset = dataset_get(name=name)
    row = next(r for r in dataset_list() if r.name == dataset.name)
    latest = dataset_versions(name=name).first()
    return {
        **asdict(row),
        "schema": latest.table_schema if latest else {},
        "latest": latest.summary() if latest else None,
    }


@router.get(
    "/{name}/versions",
    response={200: VersionListOut, **errors(404)},
    by_alias=True,
    summary="A dataset's versions, newest first",
)
def datasets_versions(request: HttpRequest, name: DatasetName) -> dict[str, Any]:
    authorize(request, Role.VIEWER)
    return {"items": [v.summary() for v in dataset_versions(name=name)]}


@router.get(
    "/{name}/versions/{int:number}",
    response={200: VersionOut, **errors(404)},
    by_alias=True,
    summary="One version",
)
def datasets_version(request: HttpRequest, name: DatasetName, number: PositiveInt) -> VersionSummary:
    authorize(request, Role.VIEWER)
    return version_get(name=name, number=number).summary()


@router.get(
    "/{name}/versions/{int:number}/stats",
    response={200: VersionStatsOut, **errors(404)},
    summary="Column statistics",
)
def datasets_version_stats(request: HttpRequest, name: DatasetName, number: PositiveInt) -> VersionStatsOut:
    authorize(request, Role.VIEWER)
    version = version_get(name=name, number=number)
    return VersionStatsOut(dataset=name, version=version.number, rows=version.rows, columns=version.stats)


@router.post(
    "/{name}/files",
    response={202: RunOut, **errors(413)},
    openapi_extra=_MULTIPART,
    summary="Upload a file (multipart field `file`); an ingest run makes it a new version",
)
def datasets_upload(
    request: HttpRequest,
    name: DatasetName,
    mode: Literal["append", "overwrite"] = "append",
    evolve: bool = False,
    sheet: str | None = Query(None),
) -> Status[RunOut]:
    token = authorize(request, Role.EDITOR)
    config = project()
    staged, original = receive_upload(request, config=config)
    try:
        run = dataset_upload_queue(
            config=config,
            name=name,
            key=staged,
            original_name=original,
            mode=mode,
            evolve=evolve,
            sheet=sheet,
            created_by=f"token:{token.name}",
        )
    except BaseException:
        open_storage(config).delete(staged)  # no run took the file: nothing left behind
        raise
    return Status(202, RunOut.model_validate(run.to_dict()))


@quarantine_router.get("", response=QuarantineListOut, summary="Quarantined files")
def quarantine_index(request: HttpRequest, resolved: bool = False) -> QuarantineListOut:
    authorize(request, Role.VIEWER)
    entries = quarantine_list(include_resolved=resolved)
    return QuarantineListOut(items=[QuarantinedOut(**entry.to_dict()) for entry in entries])


@quarantine_router.post(
    "/{entry_id}/retry",
    response={200: VersionOut, **errors(404, 409)},
    by_alias=True,
    summary="Ingest a quarantined file again",
)
def quarantine_retry_endpoint(request: HttpRequest, entry_id: str, evolve: bool = False) -> VersionSummary:
    token = authorize(request, Role.EDITOR)
    return quarantine_retry(
        config=project(), entry_id=entry_id, evolve=evolve, actor=f"token:{token.name}"
    ).version.summary()


@stats_router.get(
    "", response=StatsOut, summary="Files ingested, rows, bytes saved: total, per dataset, per day"
)
def stats_index(request: HttpRequest) -> StatsOut:
    authorize(request, Role.VIEWER)
    return StatsOut(**savings_stats(price_per_gb_month=project().price_per_gb_month))
