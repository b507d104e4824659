from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from ninja import Schema


class SubjectOut(Schema):
    kind: Literal["dataset", "model"]
    name: str
    version: int


class DecisionOut(Schema):
    id: int
    action: str
    subject: SubjectOut
    outcome: str
    verdict: str
    actor: str
    reason: str
    replaces: int | None
    detail: dict[str, Any]
    created_at: datetime
