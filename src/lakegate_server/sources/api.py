"""Sources over HTTP: ``GET /sources``, ``POST /sources/{name}/run`` (a ``source`` run)."""

from __future__ import annotations

from dataclasses import asdict

from django.http import HttpRequest
from ninja import Router, Status

from lakegate_server.accounts.auth import authorize
from lakegate_server.accounts.models import Role
from lakegate_server.api_errors import errors
from lakegate_server.conf import project
from lakegate_server.jobs.schemas import RunOut
from lakegate_server.sources.schemas import SourceListOut, SourceOut
from lakegate_server.sources.selectors import source_list
from lakegate_server.sources.services import source_run_queue

__all__ = ["sources_router"]

sources_router = Router()


@sources_router.get("", response=SourceListOut, summary="List declared sources and where each stands")
def sources_list(request: HttpRequest) -> SourceListOut:
    authorize(request, Role.VIEWER)
    return SourceListOut(items=[SourceOut(**asdict(row)) for row in source_list(config=project())])


@sources_router.post(
    "/{name}/run", response={202: RunOut, **errors(404)}, summary="Fetch what is new in a source (a run)"
)
def sources_run(request: HttpRequest, name: str) -> Status[RunOut]:
    token = authorize(request, Role.EDITOR)
    run = source_run_queue(config=project(), name=name, created_by=f"token:{token.name}")
    return Status(202, RunOut.model_validate(run.to_dict()))
