"""The ``source`` and ``export`` jobs (worker side)."""

from __future__ import annotations

from typing import Any, Literal

from django.conf import settings
from pydantic import BaseModel, ConfigDict, Field

from lakegate.errors import InputError
from lakegate_server.jobs.context import JobContext
from lakegate_server.jobs.registry import JobSpec
from lakegate_server.sources.exports import dataset_export
from lakegate_server.sources.services import source_run

__all__ = ["EXPORT", "SOURCE"]


class SourceParams(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(..., description="A source declared under `sources:` in lakegate.yaml.")


def _source(ctx: JobContext, params: SourceParams) -> dict[str, Any]:
    ctx.log("source run started", source=params.name)
    result = source_run(name=params.name, created_by=f"run:{ctx.run_id}", log_fn=ctx.log, run_id=ctx.run_id)
    summary = result.to_dict()
    ctx.log("source run finished", **{k: v for k, v in summary.items() if k != "fetches"})
    return {**summary, "fetches": [{k: _plain(v) for k, v in f.items()} for f in summary["fetches"]]}


def _plain(value: Any) -> Any:
    return value.isoformat() if hasattr(value, "isoformat") else value


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


def _declared(params: ExportParams) -> ExportParams:
    """Fill the parameters of a declared export from lakegate.yaml (URLs never sit in run params)."""
    if params.export is None:
        if not params.to or not params.table:
            raise InputError("an export needs `to` and `table` (or `export`: a declared export's index)")
        return params
    exports = settings.LAKEGATE.dataset(params.dataset).exports
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
    params = _declared(params)
    ctx.log("export started", dataset=params.dataset, table=params.table, mode=params.mode)
    record = dataset_export(
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
    return {k: _plain(v) for k, v in record.to_dict().items()}


SOURCE = JobSpec(
    name="source",
    description="Fetch what is new in a source into its dataset.",
    params=SourceParams,
    func=_source,
)
EXPORT = JobSpec(
    name="export",
    description="Export a dataset version to a warehouse table.",
    params=ExportParams,
    func=_export,
)
