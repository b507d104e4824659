"""``GET /lineage/dataset/{name}/{version}`` and ``/lineage/model/{name}/{version}``."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja import Router

from lakegate_server.accounts.auth import authorize
from lakegate_server.accounts.models import Role
from lakegate_server.lineage.selectors import dataset_lineage, model_lineage

__all__ = ["router"]

router = Router()


@router.get(
    "/dataset/{name}/{int:number}",
    response=dict[str, Any],
    summary="A dataset version's lineage: its file, checks, decisions, and what it fed",
)
def lineage_dataset(request: HttpRequest, name: str, number: int) -> dict[str, Any]:
    authorize(request, Role.VIEWER)
    return dataset_lineage(name=name, number=number)


@router.get(
    "/model/{name}/{int:number}",
    response=dict[str, Any],
    summary="A model version's lineage: its training data (and their files), decisions, predictions",
)
def lineage_model(request: HttpRequest, name: str, number: int) -> dict[str, Any]:
    authorize(request, Role.VIEWER)
    return model_lineage(name=name, number=number)
