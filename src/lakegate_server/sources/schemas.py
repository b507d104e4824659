from __future__ import annotations

from datetime import datetime
from typing import Any

from ninja import Schema
from pydantic import Field


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


class StreamAcceptedOut(Schema):
    dataset: str
    accepted: int


class ExportIn(Schema):
    to: str
    table: str
    mode: str = Field("append", description="append, replace or merge")
    key: list[str] = Field(default_factory=list)
    schema_: str | None = Field(None, alias="schema")
    version: int | None = None
