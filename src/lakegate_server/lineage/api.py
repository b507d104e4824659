"""``GET /lineage/dataset/{name}/{version}`` and ``/lineage/model/{name}/{version}``."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja import Router

from lakegate_server.accounts.auth import authorize
from lakegate_server.accounts.models import Role
from lakegate_server.api_errors import PositiveInt, errors
from lakegate_server.datasets.schemas import DatasetName
from lakegate_server.lineage.selectors import dataset_lineage, model_lineage

__all__ = ["router"]

router = Router()


@router.get(
    "/dataset/{name}/{int:number}",
    response={200: dict[str, Any], **errors(404)},
    summary="A dataset version's lineage: its file, checks, decisions, and what it fed",
)
def lineage_dataset(request: HttpRequest, name: DatasetName, number: PositiveInt) -> dict[str, Any]:
    authorize(request, Role.VIEWER)
    return dataset_lineage(name=name, number=number)


@router.get(
    "/model/{name}/{int:number}",
    response={200: dict[str, Any], **errors(404)},
    summary="A model version's lineage: its training data (and their files), decisions, predictions",
)
def lineage_model(request: HttpRequest, name: str, number: PositiveInt) -> dict[str, Any]:
    authorize(request, Role.VIEWER)
    return model_lineage(name=name, number=number)
