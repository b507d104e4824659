"""Quality-gate endpoints on dataset versions: check (as a run), report (JSON/HTML), approve."""

from __future__ import annotations

from typing import Any, Literal

from django.http import HttpRequest, HttpResponse
from ninja import Field, Query, Router, Schema, Status

from lakegate_server.accounts.auth import authorize
from lakegate_server.accounts.models import Role
from lakegate_server.api_errors import PositiveInt, errors
from lakegate_server.conf import project
from lakegate_server.datasets.schemas import DatasetName
from lakegate_server.datasets.selectors import version_get
from lakegate_server.datasets.shapes import VersionSummary
from lakegate_server.flow import version_approve, version_reject, version_revoke
from lakegate_server.jobs.schemas import RunOut
from lakegate_server.jobs.services import run_create
from lakegate_server.quality.selectors import report_html, report_latest

router = Router()


class CheckIn(Schema):
    reference: int | None = None


# A reason is something said: at least one character that is not white space.
_REASON = Field(..., min_length=1, max_length=2000, pattern=r"\S", description="Why: kept in the ledger.")


class ApproveIn(Schema):
    reason: str = _REASON


class DecisionIn(Schema):
    reason: str = _REASON


@router.post(
    "/{name}/versions/{int:number}/check",
    response={202: RunOut, **errors(404)},
    summary="Check a version (a run)",
)
def versions_check(
    request: HttpRequest, name: DatasetName, number: PositiveInt, payload: CheckIn | None = None
) -> Status[RunOut]:
    token = authorize(request, Role.EDITOR)
    version_get(name=name, number=number)
    params: dict[str, Any] = {"dataset": name, "version": number}
    if payload and payload.reference:
        params["reference"] = payload.reference
    run = run_create(kind="check", params=params, created_by=f"token:{token.name}")
    return Status(202, RunOut.model_validate(run.to_dict()))


@router.get(
    "/{name}/versions/{int:number}/report",
    response={200: dict[str, Any], **errors(404)},
    summary="The latest check report",
)
def versions_report(
    request: HttpRequest,
    name: DatasetName,
    number: PositiveInt,
    format: Literal["json", "html"] = Query("json"),  # noqa: A002
) -> Any:
    authorize(request, Role.VIEWER)
    report = report_latest(dataset=name, number=number)
    if format == "html":
        return HttpResponse(report_html(config=project(), report=report), content_type="text/html")
    return report.report


@router.post(
    "/{name}/versions/{int:number}/approve",
    response={200: dict[str, Any], **errors(404, 409)},
    summary="Accept a version (override)",
)
def versions_approve(
    request: HttpRequest, name: DatasetName, number: PositiveInt, payload: ApproveIn
) -> VersionSummary:
    token = authorize(request, Role.EDITOR)
    return version_approve(
        config=project(), dataset=name, number=number, reason=payload.reason, actor=f"token:{token.name}"
    ).summary()


@router.post(
    "/{name}/versions/{int:number}/reject",
    response={200: dict[str, Any], **errors(404, 409)},
    summary="Block an accepted version (pipelines stop using it); lists what it fed",
)
def versions_reject(
    request: HttpRequest, name: DatasetName, number: PositiveInt, payload: DecisionIn
) -> dict[str, Any]:
    token = authorize(request, Role.EDITOR)
    return version_reject(
        config=project(), dataset=name, number=number, reason=payload.reason, actor=f"token:{token.name}"
    ).to_dict()


@router.post(
    "/{name}/versions/{int:number}/revoke",
    response={200: dict[str, Any], **errors(404, 409)},
    summary="Withdraw an approval (the gate's verdict stands again); lists what the version fed",
)
def versions_revoke(
    request: HttpRequest, name: DatasetName, number: PositiveInt, payload: DecisionIn
) -> dict[str, Any]:
    token = authorize(request, Role.EDITOR)
    return version_revoke(
        config=project(), dataset=name, number=number, reason=payload.reason, actor=f"token:{token.name}"
    ).to_dict()
