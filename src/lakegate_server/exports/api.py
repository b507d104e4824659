"""``POST /datasets/{name}/export``: an ``export`` run of a dataset version."""

from __future__ import annotations

from django.http import HttpRequest
from ninja import Router, Status

from lakegate_server.accounts.auth import authorize
from lakegate_server.accounts.models import Role
from lakegate_server.api_errors import errors
from lakegate_server.conf import project
from lakegate_server.datasets.schemas import DatasetName
from lakegate_server.exports.schemas import ExportIn
from lakegate_server.exports.services import export_queue
from lakegate_server.jobs.schemas import RunOut

__all__ = ["export_router"]

export_router = Router()


@export_router.post(
    "/{name}/export",
    response={202: RunOut, **errors(404, 409)},
    summary="Export a dataset version to a warehouse",
    description="The target is checked before the run is queued (HTTP 422 naming the reason): a URL must "
    "carry no password and pass the `outbound:` policy; `env:NAME` must be listed in `exports.allowed_env`.",
)
def datasets_export(request: HttpRequest, name: DatasetName, payload: ExportIn) -> Status[RunOut]:
    token = authorize(request, Role.EDITOR)
    params = payload.model_dump(by_alias=False)
    params["schema"] = params.pop("schema_")
    run = export_queue(config=project(), dataset=name, params=params, created_by=f"token:{token.name}")
    return Status(202, RunOut.model_validate(run.to_dict()))
