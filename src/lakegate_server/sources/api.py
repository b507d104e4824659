"""Sources, streams and exports over HTTP.

- ``GET /sources``, ``POST /sources/{name}/run`` (a ``source`` run);
- ``POST /streams/{dataset}/records``: a JSON array or NDJSON body, answered 202 once the
  records are on disk (they become a dataset version at the next flush);
- ``POST /datasets/{name}/export``: an ``export`` run of the latest accepted version.
"""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest
from ninja import Router, Status

from lakegate.errors import PayloadTooLargeError
from lakegate_server.accounts.auth import authorize
from lakegate_server.accounts.models import Role
from lakegate_server.jobs.schemas import RunOut
from lakegate_server.jobs.services import run_create
from lakegate_server.sources.schemas import ExportIn, SourceListOut, SourceOut, StreamAcceptedOut
from lakegate_server.sources.selectors import source_list
from lakegate_server.sources.services import source_run_queue
from lakegate_server.sources.wal import stream_append

__all__ = ["export_router", "sources_router", "streams_router"]

sources_router = Router()
streams_router = Router()
export_router = Router()

_RECORDS_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {"schema": {"type": "array", "items": {"type": "object"}}},
            "application/x-ndjson": {
                "schema": {"type": "string", "description": "One JSON object per line."}
            },
        },
    }
}


@sources_router.get("", response=SourceListOut, summary="List declared sources and where each stands")
def sources_list(request: HttpRequest) -> SourceListOut:
    authorize(request, Role.VIEWER)
    return SourceListOut(items=[SourceOut(**row) for row in source_list()])


@sources_router.post("/{name}/run", response={202: RunOut}, summary="Fetch what is new in a source (a run)")
def sources_run(request: HttpRequest, name: str) -> Status[RunOut]:
    token = authorize(request, Role.EDITOR)
    run = source_run_queue(name=name, created_by=f"token:{token.name}")
    return Status(202, RunOut.model_validate(run.to_dict()))


@streams_router.post(
    "/{dataset}/records",
    response={202: StreamAcceptedOut},
    summary="Append records (JSON array or NDJSON) to a stream dataset",
    openapi_extra=_RECORDS_BODY,
)
def streams_records(request: HttpRequest, dataset: str) -> Status[StreamAcceptedOut]:
    authorize(request, Role.EDITOR)
    limit = settings.LAKEGATE.streams.max_body_bytes
    body = request.read(limit + 1)  # the stream, not request.body: no 2.5 MB form-data cap, no copy
    if len(body) > limit:
        raise PayloadTooLargeError(
            f"the body is over streams.max_body_bytes ({limit} bytes)", detail={"limit": limit}
        )
    accepted = stream_append(dataset=dataset, body=body, content_type=request.content_type)
    return Status(202, StreamAcceptedOut(dataset=dataset, accepted=accepted))


@export_router.post(
    "/{name}/export", response={202: RunOut}, summary="Export a dataset version to a warehouse"
)
def datasets_export(request: HttpRequest, name: str, payload: ExportIn) -> Status[RunOut]:
    token = authorize(request, Role.EDITOR)
    params = payload.model_dump(by_alias=False)
    params["schema"] = params.pop("schema_")
    run = run_create(kind="export", params={"dataset": name, **params}, created_by=f"token:{token.name}")
    return Status(202, RunOut.model_validate(run.to_dict()))
