"""Queue tasks: take ids, call a service. Retries are the Run table's business, not Huey's."""

from __future__ import annotations

from django.db import close_old_connections

from lakegate_server.jobs.execution import run_execute
from lakegate_server.jobs.queue import huey

__all__ = ["run_execute_task"]


@huey.task(name="run_execute")
def run_execute_task(run_id: int) -> str:
    close_old_connections()
    try:
        return run_execute(run_id=run_id)
    finally:
        close_old_connections()
