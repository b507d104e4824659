"""Runs endpoints: authorize -> validate -> service/selector -> schema."""

from __future__ import annotations

from typing import Literal

from django.http import HttpRequest
from ninja import Query, Router, Status

from lakegate_server.accounts.auth import authorize
from lakegate_server.accounts.models import Role
from lakegate_server.api_errors import PositiveInt, errors
from lakegate_server.jobs.schemas import RunCreateIn, RunListOut, RunLogsOut, RunOut
from lakegate_server.jobs.selectors import run_get, run_list, run_log_read
from lakegate_server.jobs.services import run_cancel, run_create

router = Router()


@router.post("", response={201: RunOut}, summary="Start a run")
def runs_create(request: HttpRequest, payload: RunCreateIn) -> Status[RunOut]:
    token = authorize(request, Role.EDITOR)
    run = run_create(kind=payload.kind, params=payload.params, created_by=f"token:{token.name}")
    return Status(201, RunOut.model_validate(run.to_dict()))


@router.get("", response=RunListOut, summary="List runs, newest first")
def runs_list(
    request: HttpRequest,
    status: Literal["queued", "running", "succeeded", "failed", "cancelled"] | None = Query(None),
    kind: str | None = None,
    limit: int = Query(50, ge=1, le=1000),
) -> RunListOut:
    authorize(request, Role.VIEWER)
    runs = run_list(status=status, kind=kind, limit=limit)
    return RunListOut(items=[RunOut.model_validate(run.to_dict()) for run in runs])


@router.get("/{int:run_id}", response={200: RunOut, **errors(404)}, summary="One run")
def runs_show(request: HttpRequest, run_id: PositiveInt) -> RunOut:
    authorize(request, Role.VIEWER)
    return RunOut.model_validate(run_get(run_id=run_id).to_dict())


@router.get("/{int:run_id}/logs", response={200: RunLogsOut, **errors(404)}, summary="A run's log lines")
def runs_logs(request: HttpRequest, run_id: PositiveInt, after: int = Query(0, ge=0)) -> RunLogsOut:
    authorize(request, Role.VIEWER)
    entries, cursor = run_log_read(run_id=run_id, after=after)
    return RunLogsOut(entries=entries, next=cursor)


@router.post(
    "/{int:run_id}/cancel",
    response={200: RunOut, **errors(404, 409)},
    summary="Cancel a queued or running run",
)
def runs_cancel(request: HttpRequest, run_id: PositiveInt) -> RunOut:
    token = authorize(request, Role.EDITOR)
    return RunOut.model_validate(run_cancel(run_id=run_id, by=f"token:{token.name}").to_dict())
