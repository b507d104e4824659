from __future__ import annotations

from typing import Literal

from ninja import Schema
from pydantic import Field


class ExportIn(Schema):
    to: str = Field(
        pattern=r"^(postgres(ql)?://|env:|dlt:)\S+$",
        description="postgresql://user@host/db, env:NAME or dlt:<destination>; checked against the "
        "outbound policy before the run is queued",
        examples=["postgresql://etl@warehouse.example.org/analytics"],
    )
    table: str = Field(min_length=1)
    mode: Literal["append", "replace", "merge"] = "append"
    key: list[str] = Field(default_factory=list)
    schema_: str | None = Field(None, alias="schema")
    version: int | None = Field(None, ge=1)
