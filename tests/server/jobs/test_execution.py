"""Executing runs through the real queue storage, as a worker does."""

from __future__ import annotations

import threading
import time

import pytest
from django.conf import settings as django_settings
from django.db import connection

from lakegate.config import RunSettings
from lakegate_server.jobs.execution import run_execute
from lakegate_server.jobs.models import Run, RunStatus
from lakegate_server.jobs.queue import huey
from lakegate_server.jobs.selectors import run_log_read
from lakegate_server.jobs.services import run_cancel, run_create


def log_lines(run_id: int) -> list[dict]:
    return run_log_read(run_id=run_id)[0]


@pytest.mark.django_db(transaction=True)
def test_a_queued_selfcheck_runs_through_the_queue(execute_queued):
    run = run_create(kind="selfcheck", params={"seconds": 0}, created_by="test")
    assert huey.pending_count() == 1
    assert execute_queued() == ["succeeded"]
    run.refresh_from_db()
    assert run.status == RunStatus.SUCCEEDED
    assert run.attempts == 1
    assert run.heartbeat_at is not None
    assert run.result["database"] in {"sqlite", "postgresql"}
    assert run.result["queue"] == ("redis" if django_settings.LAKEGATE.redis_url else "sqlite")
    artifact = django_settings.LAKEGATE.paths.artifacts / "runs" / str(run.pk) / "selfcheck.txt"
    assert artifact.read_text().startswith(f"run {run.pk} attempt 1")
    messages = [entry["msg"] for entry in log_lines(run.pk)]
    assert messages[0] == "attempt started"
    assert messages[-1] == "attempt succeeded"
    assert "database answered" in messages


@pytest.mark.django_db(transaction=True)
def test_a_duplicate_queue_message_does_not_run_twice(execute_queued):
    run = run_create(kind="selfcheck", params={"seconds": 0})
    huey.enqueue(huey._registry.string_to_task("lakegate_server.jobs.tasks.run_execute")(args=(run.pk,)))
    assert sorted(execute_queued()) == ["skipped", "succeeded"]
    run.refresh_from_db()
    assert run.attempts == 1


@pytest.mark.django_db(transaction=True)
def test_a_failing_job_fails_without_retry_and_keeps_the_error(execute_queued):
    run = run_create(kind="selfcheck", params={"seconds": 0, "fail": True})
    assert execute_queued() == ["failed"]
    run.refresh_from_db()
    assert run.status == RunStatus.FAILED
    assert run.attempts == 1
    assert run.last_error == "selfcheck failed on purpose (fail=true)"
    failed = [e for e in log_lines(run.pk) if e["msg"] == "attempt failed"]
    assert "JobError" in failed[0]["trace"]


@pytest.mark.django_db(transaction=True)
def test_a_running_job_stops_itself_when_its_lease_is_lost(settings):
    settings.LAKEGATE = settings.LAKEGATE.model_copy(
        update={"runs": RunSettings(heartbeat_seconds=0.1, lease_seconds=0.5)}
    )
    run = run_create(kind="selfcheck", params={"seconds": 30})
    outcome: list[str] = []

    def work() -> None:
        try:
            outcome.append(run_execute(run_id=run.pk, worker="t1"))
        finally:
            connection.close()  # each thread has its own connection; a worker task closes it too

    worker = threading.Thread(target=work)
    worker.start()
    deadline = time.monotonic() + 10
    while Run.objects.get(id=run.pk).heartbeat_at is None and time.monotonic() < deadline:
        time.sleep(0.05)
    run_cancel(run_id=run.pk, by="test")
    started = time.monotonic()
    worker.join(timeout=10)
    assert not worker.is_alive()
    assert time.monotonic() - started < 5, "the job should notice the lost lease within a few heartbeats"
    assert outcome == ["lost"]
    run.refresh_from_db()
    assert run.status == RunStatus.CANCELLED
    assert run.result is None
    assert any(e["msg"] == "attempt stopped: lease lost" for e in log_lines(run.pk))
