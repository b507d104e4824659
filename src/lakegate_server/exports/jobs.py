"""The ``export`` job: send a dataset version to a warehouse table (worker side)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from lakegate.errors import InputError
from lakegate_server.exports.services import dataset_export, dataset_export_declared, inline_secret_refusal
from lakegate_server.jobs.context import JobContext, json_safe
from lakegate_server.jobs.registry import JobSpec

__all__ = ["EXPORT", "ExportParams"]


class ExportParams(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    dataset: str
    version: int | None = Field(None, description="Default: the latest accepted version.")
    export: int | None = Field(
        None,
        ge=0,
        description="Index of an export declared under datasets.<name>.exports (its settings win).",
    )
    to: str = Field(
        "",
        description="postgresql://user@host/db (no password: run parameters are readable by viewers), "
        "env:NAME (a variable listed in exports.allowed_env) or dlt:<destination>.",
    )
    table: str = ""
    mode: Literal["append", "replace", "merge"] = "append"
    key: list[str] = Field(default_factory=list)
    schema_: str | None = Field(None, alias="schema")
    scope: Literal["table", "batch"] = "table"

    @field_validator("to")
    @classmethod
    def _no_secret_stored(cls, to: str) -> str:
        # Checked however the run is created (the export API, POST /runs): params are stored as given.
        reason = inline_secret_refusal(to)
        if reason is not None:
            raise ValueError(reason)
        return to


def _export(ctx: JobContext, params: ExportParams) -> dict[str, Any]:
    ctx.log("export started", dataset=params.dataset, table=params.table, mode=params.mode)
    common: dict[str, Any] = {
        "config": ctx.settings,
        "dataset": params.dataset,
        "number": params.version,
        "scope": params.scope,
        "created_by": f"run:{ctx.run_id}",
        "progress": lambda rows: ctx.checkpoint(),
    }
    if params.export is not None:  # the operator's target, from lakegate.yaml
        record = dataset_export_declared(export=params.export, **common)
    elif not params.to or not params.table:
        raise InputError("an export needs `to` and `table` (or `export`: a declared export's index)")
    else:  # a user's target: checked against the export policy again, now, before connecting
        record = dataset_export(
            to=params.to,
            table=params.table,
            mode=params.mode,
            key=params.key,
            schema=params.schema_,
            **common,
        )
    ctx.log("export finished", rows=record.rows, seconds=record.seconds)
    return json_safe(record.to_dict())


EXPORT = JobSpec(
    name="export",
    description="Export a dataset version to a warehouse table.",
    params=ExportParams,
    func=_export,
)
