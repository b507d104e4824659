"""The ``source`` job: fetch what is new in a declared source (worker side)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from lakegate_server.flow import source_pull
from lakegate_server.jobs.context import JobContext, json_safe
from lakegate_server.jobs.registry import JobSpec

__all__ = ["SOURCE", "SourceParams"]


class SourceParams(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(..., description="A source declared under `sources:` in lakegate.yaml.")


def _source(ctx: JobContext, params: SourceParams) -> dict[str, Any]:
    ctx.log("source run started", source=params.name)
    result = source_pull(
        config=ctx.settings, name=params.name, actor=f"run:{ctx.run_id}", log_fn=ctx.log, run_id=ctx.run_id
    )
    summary = result.to_dict()
    ctx.log("source run finished", **{k: v for k, v in summary.items() if k != "fetches"})
    return {**summary, "fetches": [json_safe(f) for f in summary["fetches"]]}


SOURCE = JobSpec(
    name="source",
    description="Fetch what is new in a source into its dataset.",
    params=SourceParams,
    func=_source,
)
