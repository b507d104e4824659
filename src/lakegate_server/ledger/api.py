"""``GET /ledger``: every decision about data and models, newest first."""

from __future__ import annotations

from django.http import HttpRequest
from ninja import Query, Router, Schema

from lakegate_server.accounts.auth import authorize
from lakegate_server.accounts.models import Role
from lakegate_server.ledger.schemas import DecisionOut
from lakegate_server.ledger.selectors import decisions_list

__all__ = ["router"]

router = Router()


class LedgerOut(Schema):
    items: list[DecisionOut]


@router.get("", response=LedgerOut, summary="Decisions (verdicts, approvals, rejections, promotions...)")
def ledger_index(
    request: HttpRequest,
    dataset: str | None = Query(None, description="Only decisions about this dataset's versions."),
    model: str | None = Query(None, description="Only decisions about this model's versions."),
    version: int | None = Query(None, ge=1, description="With dataset or model: only this version."),
    limit: int = Query(200, ge=1, le=1000),
) -> LedgerOut:
    authorize(request, Role.VIEWER)
    decisions = decisions_list(dataset=dataset, model=model, version=version, limit=limit)
    return LedgerOut(items=[DecisionOut.model_validate(d.to_dict()) for d in decisions])
