"""The ``check`` job: run the quality gate on a dataset version, then what its decision starts."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from lakegate_server.flow import version_gate
from lakegate_server.jobs.context import JobContext
from lakegate_server.jobs.registry import JobSpec

__all__ = ["CHECK", "CheckParams"]


class CheckParams(BaseModel):
    model_config = ConfigDict(extra="forbid")

    dataset: str
    version: int = Field(..., ge=1)
    reference: int | None = Field(None, ge=1, description="Compare with this version instead of the default.")


def check(ctx: JobContext, params: CheckParams) -> dict[str, Any]:
    ctx.log("check started", dataset=params.dataset, version=params.version)
    report = version_gate(
        config=ctx.settings,
        dataset=params.dataset,
        number=params.version,
        reference=params.reference,
        actor=f"run:{ctx.run_id}",
    )
    ctx.log("check finished", verdict=report.status, report=report.pk)
    return {
        "dataset": params.dataset,
        "version": params.version,
        "status": report.status,
        "report_id": report.pk,
        "reference_versions": report.reference_versions,
    }


CHECK = JobSpec(
    name="check",
    description="Run the quality gate on a dataset version.",
    params=CheckParams,
    func=check,
)
