"""Run reads: one run, a filtered list, a run's log lines."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from lakegate.errors import InputError, NotFoundError
from lakegate_server.jobs.models import Run, RunLogLine, RunStatus

__all__ = ["run_get", "run_list", "run_log_read"]


def run_get(*, run_id: int) -> Run:
    run = Run.objects.filter(id=run_id).first()
    if run is None:
        raise NotFoundError(f"no run with id {run_id}", detail={"run": run_id})
    return run


def run_list(*, status: str | None = None, kind: str | None = None, limit: int = 50) -> QuerySet[Run]:
    runs = Run.objects.all()
    if status:
        if status not in RunStatus.values:
            raise InputError(
                f"unknown status {status!r}; choose one of {', '.join(RunStatus.values)}",
                detail={"field": "status"},
            )
        runs = runs.filter(status=status)
    if kind:
        runs = runs.filter(kind=kind)
    return runs[: max(1, min(limit, 1000))]


def run_log_read(*, run_id: int, after: int = 0) -> tuple[list[dict[str, Any]], int]:
    """Log entries of a run after the first ``after`` lines, and the cursor for the next read."""
    run_get(run_id=run_id)
    lines = RunLogLine.objects.filter(run_id=run_id).order_by("id").values_list("entry", flat=True)
    entries = list(lines[max(after, 0) :])
    return entries, after + len(entries)
