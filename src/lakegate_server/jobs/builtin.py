"""Built-in jobs. ``selfcheck`` proves the path web -> queue -> worker -> database -> disk."""

from __future__ import annotations

import time
from typing import Any

from django.db import connection
from pydantic import BaseModel, ConfigDict, Field

from lakegate._atomic import write_bytes_atomic
from lakegate.errors import JobError
from lakegate_server.jobs.context import JobContext
from lakegate_server.jobs.models import Run
from lakegate_server.jobs.queue import backend_name
from lakegate_server.jobs.registry import JobSpec

__all__ = ["SELFCHECK", "SelfcheckParams"]


class SelfcheckParams(BaseModel):
    model_config = ConfigDict(extra="forbid")

    seconds: float = Field(1.0, ge=0, le=3600, description="How long to keep working (heartbeats go on).")
    fail: bool = Field(False, description="Fail on purpose, to try failure handling and notifications.")


def selfcheck(ctx: JobContext, params: SelfcheckParams) -> dict[str, Any]:
    started = time.monotonic()
    ctx.log("selfcheck started", seconds=params.seconds)
    runs = Run.objects.count()
    ctx.log("database answered", vendor=connection.vendor, runs=runs)

    # Deterministic output path + write-then-rename: a retried attempt overwrites, never half-writes.
    target = ctx.artifacts_dir / "selfcheck.txt"
    write_bytes_atomic(target, f"run {ctx.run_id} attempt {ctx.attempt} by {ctx.worker}\n".encode())
    ctx.log("artifact written", path=str(target))

    deadline = started + params.seconds
    while (left := deadline - time.monotonic()) > 0:
        ctx.sleep(min(left, 0.5))
        ctx.checkpoint()
    if params.fail:
        raise JobError("selfcheck failed on purpose (fail=true)")
    ctx.log("selfcheck finished")
    return {
        "database": connection.vendor,
        "queue": backend_name(),
        "artifact": str(target),
        "attempt": ctx.attempt,
        "worker": ctx.worker,
        "seconds": round(time.monotonic() - started, 3),
    }


SELFCHECK = JobSpec(
    name="selfcheck",
    description="Check database, queue, worker and disk end to end.",
    params=SelfcheckParams,
    func=selfcheck,
)
