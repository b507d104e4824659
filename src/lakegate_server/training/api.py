"""Pipeline and model endpoints: authorize -> validate -> service/selector -> schema.

``POST /models/{name}/predict`` is not here: the online route is a lean Starlette app in
front of Django (``lakegate_server.serving``), so predictions skip the Django stack.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from ninja import Query, Router, Status

from lakegate.errors import NotFoundError
from lakegate_server.accounts.auth import authorize
from lakegate_server.accounts.models import Role
from lakegate_server.jobs.schemas import RunOut
from lakegate_server.training.schemas import (
    AuditOut,
    ModelDetailOut,
    ModelListOut,
    ModelOut,
    ModelVersionOut,
    PipelineListOut,
    PipelineOut,
    StageChangeIn,
    StageChangeOut,
)
from lakegate_server.training.selectors import (
    model_audit,
    model_get,
    model_list,
    model_version_get,
    model_versions,
    pipeline_list,
)
from lakegate_server.training.services import model_promote, model_rollback, pipeline_run_create

pipelines_router = Router()
models_router = Router()


@pipelines_router.get("", response=PipelineListOut, summary="Pipelines of lakegate.yaml (this environment)")
def pipelines_index(request: HttpRequest) -> PipelineListOut:
    authorize(request, Role.VIEWER)
    return PipelineListOut(items=[PipelineOut(**row) for row in pipeline_list()])


@pipelines_router.post("/{name}/runs", response={201: RunOut}, summary="Train a pipeline now")
def pipelines_run(request: HttpRequest, name: str) -> Status[RunOut]:
    token = authorize(request, Role.EDITOR)
    run = pipeline_run_create(name=name, created_by=f"token:{token.name}")
    return Status(201, RunOut.model_validate(run.to_dict()))


@models_router.get("", response=ModelListOut, summary="Registered models with their champions")
def models_index(request: HttpRequest) -> ModelListOut:
    authorize(request, Role.VIEWER)
    return ModelListOut(items=[ModelOut(**row) for row in model_list()])


@models_router.get("/{name}", response=ModelDetailOut, summary="One model and its versions, newest first")
def models_show(request: HttpRequest, name: str) -> dict[str, Any]:
    authorize(request, Role.VIEWER)
    model = model_get(name=name)
    row = next(r for r in model_list() if r["name"] == model.name)
    return {**row, "generation": model.generation, "items": [v.summary() for v in model_versions(name=name)]}


@models_router.get("/{name}/versions/{int:number}", response=ModelVersionOut, summary="One model version")
def models_version(request: HttpRequest, name: str, number: int) -> dict[str, Any]:
    authorize(request, Role.VIEWER)
    return model_version_get(name=name, number=number).to_dict()


@models_router.get(
    "/{name}/versions/{int:number}/card",
    summary="The version's model card (HTML)",
    openapi_extra={"responses": {200: {"content": {"text/html": {}}}}},
)
def models_card(request: HttpRequest, name: str, number: int) -> HttpResponse:
    from django.conf import settings

    authorize(request, Role.VIEWER)
    version = model_version_get(name=name, number=number)
    path = settings.LAKEGATE.project_dir / version.card_path
    if not version.card_path or not path.is_file():
        raise NotFoundError(f"{name} v{number} has no model card on disk")
    response = HttpResponse(path.read_bytes(), content_type="text/html; charset=utf-8")
    # The card is self-contained (inline CSS, no scripts): forbid anything else.
    response["Content-Security-Policy"] = "default-src 'none'; style-src 'unsafe-inline'"
    return response


@models_router.post(
    "/{name}/versions/{int:number}/promote", response=ModelVersionOut, summary="Make a version champion"
)
def models_promote(request: HttpRequest, name: str, number: int, payload: StageChangeIn) -> dict[str, Any]:
    token = authorize(request, Role.EDITOR)
    model_promote(name=name, number=number, reason=payload.reason, actor=f"token:{token.name}")
    return model_version_get(name=name, number=number).to_dict()


@models_router.post(
    "/{name}/versions/{int:number}/rollback",
    response=ModelVersionOut,
    summary="Restore a former champion",
)
def models_rollback(request: HttpRequest, name: str, number: int, payload: StageChangeIn) -> dict[str, Any]:
    token = authorize(request, Role.EDITOR)
    model_rollback(name=name, number=number, reason=payload.reason, actor=f"token:{token.name}")
    return model_version_get(name=name, number=number).to_dict()


@models_router.get("/{name}/audit", response=AuditOut, summary="Every stage change, newest first")
def models_audit(request: HttpRequest, name: str, limit: int = Query(200, ge=1, le=1000)) -> AuditOut:
    authorize(request, Role.VIEWER)
    return AuditOut(
        items=[StageChangeOut(**change.to_dict()) for change in model_audit(name=name, limit=limit)]
    )
