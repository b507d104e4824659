from __future__ import annotations

from ninja import Schema
from pydantic import Field


class ExportIn(Schema):
    to: str
    table: str
    mode: str = Field("append", description="append, replace or merge")
    key: list[str] = Field(default_factory=list)
    schema_: str | None = Field(None, alias="schema")
    version: int | None = None
