from __future__ import annotations

from datetime import datetime
from typing import Any

from ninja import Schema


class SourceOut(Schema):
    name: str
    kind: str
    dataset: str
    schedule: str | None
    state: dict[str, Any]
    last_run_at: datetime | None
    last_status: str
    last_error: str
    fetches: list[dict[str, Any]]


class SourceListOut(Schema):
    items: list[SourceOut]
