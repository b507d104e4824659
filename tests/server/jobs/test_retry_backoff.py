"""A run whose job hit a transient error waits, doubling, before its next attempt.

The test project retries at once (``retry_delay_seconds: 0`` in tests/conftest.py); every
test here turns the back-off on. Delayed runs wait in Huey's schedule of the real queue
storage (SQLite, or Redis in the PostgreSQL + Redis pass), and one test lets a real Huey
consumer (scheduler + worker threads, as ``lakegate worker`` runs them) take the run.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from django.db import connection
from django.utils import timezone
from huey.api import Task
from huey.consumer import Consumer
from pydantic import BaseModel, ConfigDict, ValidationError

from lakegate.config import RunSettings
from lakegate.errors import LakeUnavailableError
from lakegate_server.jobs.context import JobContext
from lakegate_server.jobs.models import Run, RunStatus
from lakegate_server.jobs.queue import enqueue_run, huey
from lakegate_server.jobs.registry import JOBS, JobSpec
from lakegate_server.jobs.services import run_cancel, run_claim, run_create, run_fail, runs_reap

# (run id, attempt, when it started): what the flaky job saw, in this process.
STARTS: list[tuple[int, int, datetime]] = []


class FlakyParams(BaseModel):
    model_config = ConfigDict(extra="forbid")

    fail_attempts: int = 1


def flaky(ctx: JobContext, params: FlakyParams) -> dict[str, Any]:
    """A job whose lake is down for its first ``fail_attempts`` attempts."""
    STARTS.append((ctx.run_id, ctx.attempt, timezone.now()))
    if ctx.attempt <= params.fail_attempts:
        raise LakeUnavailableError(f"the lake is down (attempt {ctx.attempt})")
    return {"attempt": ctx.attempt}


FLAKY = JobSpec(name="flaky", description="Fails transiently, then works.", params=FlakyParams, func=flaky)


@pytest.fixture(autouse=True)
def _flaky_kind(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setitem(JOBS, "flaky", f"{__name__}:FLAKY")
    STARTS.clear()
    yield
    STARTS.clear()


@pytest.fixture
def runs_settings(settings: Any) -> Callable[..., None]:
    def update(**values: Any) -> None:
        runs = settings.LAKEGATE.runs.model_copy(update=values)
        settings.LAKEGATE = settings.LAKEGATE.model_copy(update={"runs": runs})

    return update


def huey_time(moment: datetime) -> datetime:
    """``moment`` as Huey keeps an eta: naive UTC."""
    return moment.astimezone(UTC).replace(tzinfo=None)


def scheduled_task(run: Run) -> Task:
    """The one message waiting in Huey's schedule, checked to carry ``run`` due at its queued_at."""
    assert huey.pending_count() == 0, "a delayed run must not be in the queue a worker reads"
    (task,) = huey.scheduled()
    assert task.args == (run.pk,)
    assert task.eta == huey_time(run.queued_at)
    return task


def release(run: Run) -> list[Any]:
    """Do what the consumer's scheduler does once ``run`` is due, then execute it as a worker."""
    eta = scheduled_task(run).eta
    assert huey.read_schedule(eta - timedelta(milliseconds=1)) == [], "released before it was due"
    due = huey.read_schedule(eta)
    assert len(due) == 1
    # Its time has come: the run is due by the database's clock too (run_claim checks).
    Run.objects.filter(pk=run.pk, status=RunStatus.QUEUED).update(queued_at=timezone.now())
    return [huey.execute(task, eta) for task in due]


@pytest.mark.django_db(transaction=True)
def test_a_second_message_for_a_waiting_run_does_not_skip_its_wait(runs_settings, execute_queued):
    """The reaper may re-send a run still in the queue; a worker taking that copy early gets nothing."""
    runs_settings(retry_delay_seconds=30)
    run = run_create(kind="flaky", params={"fail_attempts": 1})
    assert execute_queued() == ["queued"]
    run.refresh_from_db()
    assert run.queued_at > timezone.now() + timedelta(seconds=20)
    assert run_claim(run_id=run.pk, worker="early") is None
    run.refresh_from_db()
    assert (run.status, run.attempts) == (RunStatus.QUEUED, 1)
    Run.objects.filter(pk=run.pk).update(queued_at=timezone.now() + timedelta(seconds=2))
    assert run_claim(run_id=run.pk, worker="on-time") is not None  # within the clock slack


def test_the_delay_doubles_per_failed_attempt_up_to_the_cap():
    runs = RunSettings(retry_delay_seconds=10, retry_max_delay_seconds=300)
    assert [runs.retry_delay(n) for n in range(1, 8)] == [10, 20, 40, 80, 160, 300, 300]
    assert runs.retry_delay(10_000) == 300  # no float overflow on a very patient run
    assert RunSettings().retry_delay(1) == 10
    assert RunSettings().retry_delay(6) == 300
    assert RunSettings(retry_delay_seconds=0).retry_delay(5) == 0
    assert RunSettings(retry_delay_seconds=60, retry_max_delay_seconds=30).retry_delay(1) == 30
    assert RunSettings(retry_delay_seconds=0.5).retry_delay(3) == 2
    with pytest.raises(ValidationError, match="retry_delay_seconds"):
        RunSettings(retry_delay_seconds=-1)
    with pytest.raises(ValidationError, match="retry_max_delay_seconds"):
        RunSettings(retry_max_delay_seconds=-1)


@pytest.mark.django_db(transaction=True)
def test_each_transient_failure_waits_longer_up_to_the_cap(runs_settings, execute_queued):
    runs_settings(retry_delay_seconds=10, retry_max_delay_seconds=30, max_attempts=4)
    run = run_create(kind="flaky", params={"fail_attempts": 4})

    # Attempt 3 would wait 40 s; the cap says 30.
    for number, delay in ((1, 10), (2, 20), (3, 30)):
        before = timezone.now()
        assert (execute_queued() if number == 1 else release(run)) == ["queued"]
        after = timezone.now()
        run.refresh_from_db()
        assert run.status == RunStatus.QUEUED
        assert run.attempts == number
        assert before + timedelta(seconds=delay) <= run.queued_at <= after + timedelta(seconds=delay)
        assert run.last_error == (
            f"the lake is down (attempt {number}); retrying in {delay} s (attempt {number + 1} of 4)"
        )
        scheduled_task(run)
        assert execute_queued() == [], "nothing is due to a worker yet"

    assert release(run) == ["failed"]
    run.refresh_from_db()
    assert run.status == RunStatus.FAILED
    assert run.attempts == 4
    assert run.last_error == "the lake is down (attempt 4) (gave up after 4 attempts)"
    assert huey.scheduled_count() == huey.pending_count() == 0
    assert [attempt for _, attempt, _ in STARTS] == [1, 2, 3, 4]


@pytest.mark.django_db(transaction=True)
def test_a_real_consumer_runs_a_delayed_run_when_it_is_due_and_not_before(runs_settings):
    delay = 1.5
    runs_settings(retry_delay_seconds=delay)

    class TestConsumer(Consumer):
        def _set_signal_handlers(self) -> None:
            pass  # pytest owns this process's signals

    # As `lakegate worker` builds it (jobs/worker.py), in threads of this process.
    consumer = TestConsumer(
        huey,
        workers=1,
        worker_type="thread",
        periodic=False,
        check_worker_health=True,
        graceful_signal="TERM",
    )
    timeout_handler = huey._timeout_handler
    consumer.start()
    try:
        run = run_create(kind="flaky", params={"fail_attempts": 1})
        deadline = time.monotonic() + 30
        while not ((r := Run.objects.get(id=run.pk)).attempts == 1 and r.status == RunStatus.QUEUED):
            assert time.monotonic() < deadline, "the first attempt never failed"
            time.sleep(0.05)
        due = r.queued_at
        assert "retrying in 1.5 s (attempt 2 of 3)" in r.last_error

        # Until it is due the run sits queued, its second attempt not started.
        while timezone.now() < due - timedelta(seconds=0.1):
            r.refresh_from_db()
            assert (r.status, r.attempts) == (RunStatus.QUEUED, 1)
            assert len(STARTS) == 1
            time.sleep(0.1)

        deadline = time.monotonic() + 30
        while (r := Run.objects.get(id=run.pk)).status != RunStatus.SUCCEEDED:
            assert time.monotonic() < deadline, f"the retry never ran: {r.status}, {r.last_error}"
            time.sleep(0.05)
    finally:
        consumer.stop(graceful=True)
        huey._timeout_handler = timeout_handler
        connection.close()

    assert r.attempts == 2
    assert r.result == {"attempt": 2}
    (_, _, first), (_, _, second) = STARTS
    assert second - first >= timedelta(seconds=delay)
    assert second >= due
    # Huey's scheduler looks once a second; the worker then polls the queue at most ~1 s apart.
    late = (second - due).total_seconds()
    assert late < 6, f"attempt 2 started {late:.2f} s after it was due"


@pytest.mark.django_db
def test_the_reaper_counts_the_queued_timeout_from_when_a_delayed_run_is_due(
    runs_settings, django_capture_on_commit_callbacks
):
    runs_settings(retry_delay_seconds=300)
    run = run_create(kind="flaky")
    claim = run_claim(run_id=run.pk, worker="w1")
    failed_at = timezone.now()
    with django_capture_on_commit_callbacks(execute=True):
        assert run_fail(claim=claim, error="lake down", retry=True) == RunStatus.QUEUED
    run.refresh_from_db()
    assert run.queued_at >= failed_at + timedelta(seconds=300)

    # 601 s after the failure the old rule (queued_at = failure) would re-send it.
    assert runs_reap(now=failed_at + timedelta(seconds=601)).resent == []
    assert runs_reap(now=run.queued_at + timedelta(seconds=599)).resent == []
    run.refresh_from_db()
    assert (run.status, run.requeues) == (RunStatus.QUEUED, 0)

    later = run.queued_at + timedelta(seconds=601)
    with django_capture_on_commit_callbacks(execute=True):
        assert runs_reap(now=later).resent == [run.pk]
    run.refresh_from_db()
    assert run.requeues == 1
    assert run.queued_at == later
    assert huey.pending_count() == 1, "the reaper's re-send is immediate"


@pytest.mark.django_db
def test_the_reaper_requeues_a_dead_workers_run_at_once(runs_settings, django_capture_on_commit_callbacks):
    runs_settings(retry_delay_seconds=60)
    run = run_create(kind="flaky")
    huey.flush()
    run_claim(run_id=run.pk, worker="w1")
    past = timezone.now() - timedelta(seconds=1)
    Run.objects.filter(id=run.pk).update(lease_expires_at=past, heartbeat_at=past)
    with django_capture_on_commit_callbacks(execute=True):
        assert runs_reap().requeued == [run.pk]
    run.refresh_from_db()
    assert run.status == RunStatus.QUEUED
    assert run.queued_at <= timezone.now()
    assert "retrying in" not in run.last_error
    assert (huey.pending_count(), huey.scheduled_count()) == (1, 0)


@pytest.mark.django_db(transaction=True)
def test_a_delayed_run_can_be_cancelled_and_its_message_then_does_nothing(runs_settings, execute_queued):
    runs_settings(retry_delay_seconds=10)
    run = run_create(kind="flaky", params={"fail_attempts": 1})
    assert execute_queued() == ["queued"]
    run.refresh_from_db()
    assert run.queued_at > timezone.now()

    cancelled = run_cancel(run_id=run.pk, by="alice")
    assert cancelled.status == RunStatus.CANCELLED
    assert release(run) == ["skipped"]
    run.refresh_from_db()
    assert (run.status, run.attempts, run.last_error) == (RunStatus.CANCELLED, 1, "cancelled by alice")
    assert len(STARTS) == 1


@pytest.mark.django_db
def test_with_no_delay_a_retry_is_queued_at_once_as_before(runs_settings, django_capture_on_commit_callbacks):
    runs_settings(retry_delay_seconds=0)
    run = run_create(kind="flaky")
    huey.flush()
    claim = run_claim(run_id=run.pk, worker="w1")
    before = timezone.now()
    with django_capture_on_commit_callbacks(execute=True):
        assert run_fail(claim=claim, error="lake down", retry=True) == RunStatus.QUEUED
    run.refresh_from_db()
    assert before <= run.queued_at <= timezone.now()
    assert run.last_error == "lake down"
    assert (huey.pending_count(), huey.scheduled_count()) == (1, 0)


@pytest.mark.django_db
def test_a_run_already_due_at_commit_goes_straight_to_the_queue(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        run = run_create(kind="flaky")
    huey.flush()
    with django_capture_on_commit_callbacks(execute=True):
        enqueue_run(run.pk, eta=timezone.now() - timedelta(seconds=1))
    assert (huey.pending_count(), huey.scheduled_count()) == (1, 0)
    with django_capture_on_commit_callbacks(execute=True):
        enqueue_run(run.pk, eta=timezone.now() + timedelta(seconds=5))
    assert (huey.pending_count(), huey.scheduled_count()) == (1, 1)
