"""The ``kb_build`` job: build or rebuild a knowledge base from a folder of the project."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from lakegate_server.jobs.context import JobContext, json_safe
from lakegate_server.jobs.registry import JobSpec
from lakegate_server.knowledge.services import kb_build

__all__ = ["KB_BUILD", "KbBuildParams"]


class KbBuildParams(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(..., description="The knowledge base: 1-64 of a-z, 0-9, '-', '_'.")
    folder: str = Field(..., description="The folder of documents, relative to the project.")
    embed: str = Field("tfidf", description="tfidf (default) or minilm (the extra).")
    categories: int | None = Field(None, ge=1, le=100, description="Default: chosen by silhouette.")


def _kb_build(ctx: JobContext, params: KbBuildParams) -> dict[str, Any]:
    ctx.log("knowledge base build started", kb=params.name, folder=params.folder)
    last: dict[str, str] = {}

    def progress(stage: str, done: int, total: int) -> None:
        if last.get("stage") != stage:  # one line a stage; the lease is kept on every call
            last["stage"] = stage
            ctx.log(f"{stage}", done=done, total=total)
        ctx.checkpoint()

    build = kb_build(
        config=ctx.settings,
        name=params.name,
        folder=params.folder,
        embed=params.embed,
        categories=params.categories,
        run_id=ctx.run_id,
        created_by=f"run:{ctx.run_id}",
        progress=progress,
    )
    report = build.report
    ctx.log(
        "knowledge base built",
        chunks=report["chunks"],
        files=report["files_indexed"],
        drift=report["drift"]["centroid_shift"] if report["drift"] else None,
    )
    return json_safe({"build": build.pk, **{k: report[k] for k in ("chunks", "files_indexed", "up_to_date")}})


KB_BUILD = JobSpec(
    name="kb_build",
    description="Build or rebuild a knowledge base from a folder of the project.",
    params=KbBuildParams,
    func=_kb_build,
)
