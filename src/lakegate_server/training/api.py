"""Pipeline and model endpoints: authorize -> validate -> service/selector -> schema.

``POST /models/{name}/predict`` is served by a lean Starlette app in front of Django
(``lakegate_server.serving``), so online predictions skip the Django stack. The Ninja route
here documents it in OpenAPI (the Starlette route shadows it under ``lakegate up``) and
answers the same way when Django is reached directly: both call
:func:`~lakegate_server.serving.predict.predict_json`, this one loading the champion per
request.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Any, Final, Literal

from django.http import HttpRequest, HttpResponse
from ninja import Field, Query, Router, Schema, Status

from lakegate.errors import NotFoundError
from lakegate_server.accounts.auth import authorize
from lakegate_server.accounts.models import Role
from lakegate_server.api_errors import PositiveInt, errors
from lakegate_server.conf import project
from lakegate_server.jobs.schemas import RunOut
from lakegate_server.serving.predict import MAX_BODY_BYTES, MAX_RECORDS, load_champion, predict_json
from lakegate_server.training.promotion import model_promote, model_rollback
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
    version_card_html,
)
from lakegate_server.training.services import pipeline_run_create

pipelines_router = Router()
models_router = Router()

_RECORD: Final = {
    "type": "object",
    "additionalProperties": True,
    "description": "One record: input column -> value, as in the data the model was trained on.",
}
_RECORD_LIST: Final = {"type": "array", "items": _RECORD, "maxItems": MAX_RECORDS}
_PREDICT_BODY: Final = {
    "requestBody": {
        "required": True,
        "description": f'One record, a list of records, or {{"records": [...]}}; at most {MAX_RECORDS} '
        f"records and {MAX_BODY_BYTES} bytes.",
        "content": {
            "application/json": {
                "schema": {
                    "anyOf": [
                        _RECORD,
                        _RECORD_LIST,
                        {
                            "type": "object",
                            "properties": {"records": _RECORD_LIST},
                            "required": ["records"],
                            "additionalProperties": False,
                        },
                    ]
                }
            }
        },
    }
}


class ModelPredictOut(Schema):
    model: str
    version: int = Field(description="The champion version that answered.")
    predictions: list[Any] = Field(
        description="One per record, in input order: a class label, a value or a cluster id."
    )
    probabilities: list[dict[str, float]] | None = Field(
        None, description="Classifiers only: one per record, class label -> probability."
    )


@pipelines_router.get("", response=PipelineListOut, summary="Pipelines of lakegate.yaml (this environment)")
def pipelines_index(request: HttpRequest) -> PipelineListOut:
    authorize(request, Role.VIEWER)
    return PipelineListOut(items=[PipelineOut(**asdict(row)) for row in pipeline_list(config=project())])


@pipelines_router.post("/{name}/runs", response={201: RunOut, **errors(404)}, summary="Train a pipeline now")
def pipelines_run(request: HttpRequest, name: str) -> Status[RunOut]:
    token = authorize(request, Role.EDITOR)
    run = pipeline_run_create(config=project(), name=name, created_by=f"token:{token.name}")
    return Status(201, RunOut.model_validate(run.to_dict()))


@models_router.get("", response=ModelListOut, summary="Registered models with their champions")
def models_index(request: HttpRequest) -> ModelListOut:
    authorize(request, Role.VIEWER)
    return ModelListOut(items=[ModelOut(**asdict(row)) for row in model_list()])


@models_router.get(
    "/{name}",
    response={200: ModelDetailOut, **errors(404)},
    summary="One model and its versions, newest first",
)
def models_show(request: HttpRequest, name: str) -> dict[str, Any]:
    authorize(request, Role.VIEWER)
    model = model_get(name=name)
    row = next(r for r in model_list() if r.name == model.name)
    return {
        **asdict(row),
        "generation": model.generation,
        "items": [v.summary() for v in model_versions(name=name)],
    }


@models_router.get(
    "/{name}/versions/{int:number}",
    response={200: ModelVersionOut, **errors(404)},
    summary="One model version",
)
def models_version(request: HttpRequest, name: str, number: PositiveInt) -> dict[str, Any]:
    authorize(request, Role.VIEWER)
    return model_version_get(name=name, number=number).to_dict()


@models_router.get(
    "/{name}/versions/{int:number}/card",
    response=errors(404),
    summary="The version's model card (HTML)",
    openapi_extra={"responses": {200: {"content": {"text/html": {}}}}},
)
def models_card(request: HttpRequest, name: str, number: PositiveInt) -> HttpResponse:
    authorize(request, Role.VIEWER)
    version = model_version_get(name=name, number=number)
    card = version_card_html(project(), version)
    if card is None:
        raise NotFoundError(f"{name} v{number} has no model card")
    response = HttpResponse(card, content_type="text/html; charset=utf-8")
    # The card is self-contained (inline CSS, no scripts): forbid anything else.
    response["Content-Security-Policy"] = "default-src 'none'; style-src 'unsafe-inline'"
    return response


@models_router.post(
    "/{name}/versions/{int:number}/promote",
    response={200: ModelVersionOut, **errors(404, 409)},
    summary="Make a version champion",
)
def models_promote(
    request: HttpRequest, name: str, number: PositiveInt, payload: StageChangeIn
) -> dict[str, Any]:
    token = authorize(request, Role.EDITOR)
    if payload.override:
        authorize(request, Role.ADMIN)
    model_promote(
        config=project(),
        name=name,
        number=number,
        reason=payload.reason,
        actor=f"token:{token.name}",
        override=payload.override,
    )
    return model_version_get(name=name, number=number).to_dict()


@models_router.post(
    "/{name}/versions/{int:number}/rollback",
    response={200: ModelVersionOut, **errors(404, 409)},
    summary="Restore a former champion",
)
def models_rollback(
    request: HttpRequest, name: str, number: PositiveInt, payload: StageChangeIn
) -> dict[str, Any]:
    token = authorize(request, Role.EDITOR)
    if payload.override:
        authorize(request, Role.ADMIN)
    model_rollback(
        config=project(),
        name=name,
        number=number,
        reason=payload.reason,
        actor=f"token:{token.name}",
        override=payload.override,
    )
    return model_version_get(name=name, number=number).to_dict()


@models_router.post(
    "/{name}/predict",
    response={200: ModelPredictOut, **errors(404, 413)},
    exclude_none=True,
    summary="Predict with the model's champion (one record or a list)",
    description=(
        "Served by a lean route in front of Django: tokens and champions are cached in memory, "
        "a promotion or rollback is served within about a second, and a revoked token is "
        "refused at once (every request checks whether any token changed)."
    ),
    openapi_extra=_PREDICT_BODY,
)
def models_predict(request: HttpRequest, name: str) -> dict[str, Any]:
    authorize(request, Role.VIEWER)
    # The stream, not request.body: no 2.5 MB form-data cap; one byte more tells "too large".
    return predict_json(name=name, body=request.read(MAX_BODY_BYTES + 1), load=load_champion)


@models_router.get(
    "/{name}/audit", response={200: AuditOut, **errors(404)}, summary="Every stage change, newest first"
)
def models_audit(request: HttpRequest, name: str, limit: int = Query(200, ge=1, le=1000)) -> AuditOut:
    authorize(request, Role.VIEWER)
    return AuditOut(
        items=[StageChangeOut(**change.to_dict()) for change in model_audit(name=name, limit=limit)]
    )


@models_router.post(
    "/{name}/drift",
    response={201: RunOut, **errors(404)},
    summary="Check the champion's recent online predictions for drift",
)
def models_drift_run(request: HttpRequest, name: str, all_versions: bool = False) -> Status[RunOut]:
    token = authorize(request, Role.EDITOR)
    from lakegate_server.training.monitoring import scoring_drift_queue

    run = scoring_drift_queue(name=name, all_versions=all_versions, created_by=f"token:{token.name}")
    return Status(201, RunOut.model_validate(run.to_dict()))


@models_router.get(
    "/{name}/drift",
    response=errors(404),
    summary="The latest scoring-drift report (the gate's report format: JSON, or HTML with ?format=html)",
    openapi_extra={"responses": {200: {"content": {"application/json": {}, "text/html": {}}}}},
)
def models_drift_report(
    request: HttpRequest,
    name: str,
    format: Literal["json", "html"] = Query("json"),  # noqa: A002
) -> HttpResponse:
    authorize(request, Role.VIEWER)
    from lakegate_server.training.monitoring import scoring_drift_report

    body = scoring_drift_report(config=project(), name=name, page=format)
    if format == "html":
        response = HttpResponse(body, content_type="text/html; charset=utf-8")
        response["Content-Security-Policy"] = "default-src 'none'; style-src 'unsafe-inline'"
        return response
    return HttpResponse(body, content_type="application/json")
