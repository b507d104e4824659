"""The queue seam: one Huey instance built from settings, and enqueue-by-name.

SQLite storage on one machine (``.lakegate/queue.sqlite3``), Redis when
``LAKEGATE_REDIS_URL`` is set. Services enqueue through :func:`enqueue_run` and never
import the tasks module; the task registers itself under :data:`RUN_TASK` when the
jobs app is ready, in every process.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db import transaction
from huey import Huey, RedisHuey, SqliteHuey
from huey.utils import normalize_time

from lakegate_server.conf import project

__all__ = ["RUN_TASK", "backend_name", "build_huey", "enqueue_run", "huey"]

RUN_TASK = "lakegate_server.jobs.tasks.run_execute"


def build_huey() -> Huey:
    lg = project()
    name = lg.queue_name
    if lg.redis_url:
        # Blocking reads wake a worker as soon as a run is queued, with no polling delay.
        return RedisHuey(name=name, url=lg.redis_url, results=False, blocking=True, read_timeout=1)
    lg.paths.state.mkdir(parents=True, exist_ok=True)
    return SqliteHuey(name=name, filename=str(lg.paths.queue), results=False, timeout=20)


def backend_name() -> str:
    return "redis" if project().redis_url else "sqlite"


huey: Huey = build_huey()


def _send(run_id: int, eta: datetime | None) -> None:
    task_class: Any = huey._registry.string_to_task(RUN_TASK)
    when = normalize_time(eta=eta, utc=huey.utc) if eta is not None else None
    task = task_class(args=(run_id,), eta=when)
    if when is not None and not huey.ready_to_run(task):
        # Straight into Huey's schedule: every consumer's scheduler thread (on with
        # ``periodic=False`` too) moves it to the queue once due, for SQLite and Redis alike.
        huey.add_schedule(task)
    else:
        huey.enqueue(task)


def enqueue_run(run_id: int, *, eta: datetime | None = None) -> None:
    """Hand ``run_id`` to the queue once the current transaction commits.

    With ``eta`` (an aware datetime) no worker gets the run before then; one already due
    when the transaction commits is queued at once.
    """
    transaction.on_commit(lambda: _send(run_id, eta))
