from __future__ import annotations

from datetime import datetime
from typing import Any

from ninja import Field, Schema
from pydantic import JsonValue

from lakegate_server.jobs.registry import JOBS


class RunCreateIn(Schema):
    kind: str = Field(
        ...,
        description="Job kind, e.g. `selfcheck`.",
        examples=["selfcheck"],
        json_schema_extra={
            "enum": list[JsonValue](sorted(JOBS))
        },  # checked by the registry (422 naming them)
    )
    params: dict[str, Any] = Field(default_factory=dict, description="Parameters of the job kind.")


class RunOut(Schema):
    id: int
    kind: str
    params: dict[str, Any]
    status: str
    attempts: int
    max_attempts: int
    created_by: str
    created_at: datetime
    queued_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    worker: str
    heartbeat_at: datetime | None
    lease_expires_at: datetime | None
    result: dict[str, Any] | None
    last_error: str


class RunListOut(Schema):
    items: list[RunOut]


class RunLogsOut(Schema):
    entries: list[dict[str, Any]]
    next: int = Field(..., description="Pass as `after` to read only newer lines.")
