"""The ``export`` job: send a dataset version to a warehouse table (worker side)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from lakegate.config import Settings
from lakegate.errors import InputError
from lakegate_server.exports.services import dataset_export
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
        "", description="postgresql://..., env:VAR (keeps passwords out of run params) or dlt:<dest>."
    )
    table: str = ""
    mode: Literal["append", "replace", "merge"] = "append"
    key: list[str] = Field(default_factory=list)
    schema_: str | None = Field(None, alias="schema")
    scope: Literal["table", "batch"] = "table"


def _declared(config: Settings, params: ExportParams) -> ExportParams:
    """Fill the parameters of a declared export from lakegate.yaml (URLs never sit in run params)."""
    if params.export is None:
        if not params.to or not params.table:
            raise InputError("an export needs `to` and `table` (or `export`: a declared export's index)")
        return params
    exports = config.dataset(params.dataset).exports
    if params.export >= len(exports):
        raise InputError(
            f"datasets.{params.dataset}.exports has no entry {params.export}", detail={"field": "export"}
        )
    declared = exports[params.export]
    return params.model_copy(
        update={
            "to": declared.to,
            "table": declared.table,
            "mode": declared.mode,
            "key": declared.key,
            "schema_": declared.db_schema,
        }
    )


def _export(ctx: JobContext, params: ExportParams) -> dict[str, Any]:
    params = _declared(ctx.settings, params)
    ctx.log("export started", dataset=params.dataset, table=params.table, mode=params.mode)
    record = dataset_export(
        config=ctx.settings,
        dataset=params.dataset,
        number=params.version,
        to=params.to,
        table=params.table,
        mode=params.mode,
        key=params.key,
        schema=params.schema_,
        scope=params.scope,
        created_by=f"run:{ctx.run_id}",
        progress=lambda rows: ctx.checkpoint(),
    )
    ctx.log("export finished", rows=record.rows, seconds=record.seconds)
    return json_safe(record.to_dict())


EXPORT = JobSpec(
    name="export",
    description="Export a dataset version to a warehouse table.",
    params=ExportParams,
    func=_export,
)
