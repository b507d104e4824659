"""Run state machine: claim, heartbeat, fenced outcomes, cancel, and the reaper."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from lakegate.errors import ConflictError, InputError, NotFoundError
from lakegate_server.jobs.models import Run, RunStatus
from lakegate_server.jobs.queue import huey
from lakegate_server.jobs.services import (
    run_cancel,
    run_claim,
    run_complete,
    run_create,
    run_fail,
    run_heartbeat,
    runs_reap,
)

pytestmark = pytest.mark.django_db


def make_run(**params) -> Run:
    return run_create(kind="selfcheck", params=params, created_by="test")


def test_create_validates_kind_and_params():
    known = (
        "check, export, ingest, kb_build, notify, performance, predict, scoring_drift, selfcheck, "
        "source, train"
    )
    with pytest.raises(InputError, match=f"unknown run kind 'nope'; known kinds: {known}"):
        run_create(kind="nope")
    with pytest.raises(InputError, match=r"params\.seconds"):
        make_run(seconds=-1)
    with pytest.raises(InputError, match=r"params\.bogus"):
        make_run(bogus=1)
    run = make_run(seconds=2)
    assert run.status == RunStatus.QUEUED
    assert run.params == {"seconds": 2.0, "fail": False}
    assert run.max_attempts == 3


def test_create_enqueues_after_commit(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        make_run()
    assert len(callbacks) == 1
    assert huey.pending_count() == 1


def test_only_one_worker_can_claim_a_run():
    run = make_run()
    first = run_claim(run_id=run.pk, worker="w1")
    second = run_claim(run_id=run.pk, worker="w2")
    assert first is not None
    assert first.attempt == 1
    assert second is None
    run.refresh_from_db()
    assert (run.status, run.worker, run.attempts) == (RunStatus.RUNNING, "w1", 1)


def test_heartbeat_renews_the_lease():
    run = make_run()
    claim = run_claim(run_id=run.pk, worker="w1")
    Run.objects.filter(id=run.pk).update(lease_expires_at=timezone.now())
    assert run_heartbeat(claim=claim)
    run.refresh_from_db()
    assert run.heartbeat_at is not None
    assert run.lease_expires_at > timezone.now() + timedelta(seconds=20)


def test_a_stale_attempt_cannot_write_its_outcome():
    run = make_run()
    stale = run_claim(run_id=run.pk, worker="w1")
    expire(run)
    assert runs_reap().requeued == [run.pk]
    fresh = run_claim(run_id=run.pk, worker="w2")
    assert fresh.attempt == 2

    assert not run_heartbeat(claim=stale)
    assert not run_complete(claim=stale, result={"by": "stale"})
    assert run_fail(claim=stale, error="late", retry=False) is None
    assert run_complete(claim=fresh, result={"by": "fresh"})
    run.refresh_from_db()
    assert (run.status, run.result, run.attempts) == (RunStatus.SUCCEEDED, {"by": "fresh"}, 2)


def expire(run: Run, *, heartbeat: bool = True) -> None:
    past = timezone.now() - timedelta(seconds=1)
    Run.objects.filter(id=run.pk).update(lease_expires_at=past, heartbeat_at=past if heartbeat else None)


def test_reaper_requeues_then_fails_after_max_attempts(django_capture_on_commit_callbacks):
    run = make_run()
    for attempt in (1, 2, 3):
        assert run_claim(run_id=run.pk, worker=f"w{attempt}").attempt == attempt
        expire(run)
        with django_capture_on_commit_callbacks(execute=True):
            report = runs_reap()
        run.refresh_from_db()
        if attempt < 3:
            assert report.requeued == [run.pk]
            assert run.status == RunStatus.QUEUED
            assert "stopped heartbeating during attempt" in run.last_error
        else:
            assert report.failed == [run.pk]
            assert run.status == RunStatus.FAILED
            assert "gave up after 3 attempts" in run.last_error
            assert run.finished_at is not None


def test_reaper_names_a_run_that_never_sent_a_first_heartbeat():
    run = make_run()
    run_claim(run_id=run.pk, worker="w1")
    expire(run, heartbeat=False)
    runs_reap()
    run.refresh_from_db()
    assert run.status == RunStatus.QUEUED
    assert "never sent a heartbeat" in run.last_error


def test_reaper_leaves_live_runs_alone():
    run = make_run()
    claim = run_claim(run_id=run.pk, worker="w1")
    run_heartbeat(claim=claim)
    report = runs_reap()
    assert report.requeued == report.failed == report.resent == []
    run.refresh_from_db()
    assert run.status == RunStatus.RUNNING


def test_reaper_resends_runs_stuck_in_queued_then_fails_them(django_capture_on_commit_callbacks):
    run = make_run()
    huey.flush()
    later = timezone.now() + timedelta(seconds=601)
    for resend in (1, 2, 3):
        with django_capture_on_commit_callbacks(execute=True):
            assert runs_reap(now=later).resent == [run.pk]
        run.refresh_from_db()
        assert run.requeues == resend
        assert "without a worker taking it" in run.last_error
        later += timedelta(seconds=601)
    assert huey.pending_count() == 3
    assert runs_reap(now=later).failed == [run.pk]
    run.refresh_from_db()
    assert run.status == RunStatus.FAILED
    assert "is `lakegate worker` running?" in run.last_error


def test_run_fail_retries_only_when_asked_and_attempts_remain():
    run = make_run()
    claim = run_claim(run_id=run.pk, worker="w1")
    assert run_fail(claim=claim, error="db went away", retry=True) == RunStatus.QUEUED
    claim = run_claim(run_id=run.pk, worker="w1")
    assert run_fail(claim=claim, error="bad input", retry=False) == RunStatus.FAILED
    run.refresh_from_db()
    assert (run.status, run.attempts, run.last_error) == (RunStatus.FAILED, 2, "bad input")


def test_cancel_stops_a_running_run_and_fences_it():
    run = make_run()
    claim = run_claim(run_id=run.pk, worker="w1")
    cancelled = run_cancel(run_id=run.pk, by="alice")
    assert cancelled.status == RunStatus.CANCELLED
    assert cancelled.last_error == "cancelled by alice"
    assert not run_heartbeat(claim=claim)
    assert not run_complete(claim=claim, result={})
    with pytest.raises(ConflictError, match="already cancelled"):
        run_cancel(run_id=run.pk)
    with pytest.raises(NotFoundError):
        run_cancel(run_id=123456)


def test_reaper_waits_for_a_worker_process_still_alive_on_this_host(django_capture_on_commit_callbacks):
    """A heartbeat held up (a SQLite lock wait, a loaded machine) is late, not dead: re-queueing
    would run the attempt twice, and an ingest's failure hook would quarantine a copy of the file
    the live attempt then ingests (the file twice). Bounded: a hung process is reaped after
    LIVE_GRACE_LEASES leases; a dead one at once."""
    import socket
    import subprocess

    from lakegate_server.conf import project
    from lakegate_server.jobs.services import LIVE_GRACE_LEASES

    alive = subprocess.Popen(["sleep", "60"])
    try:
        run = make_run()
        run_claim(run_id=run.pk, worker=f"{socket.gethostname()}:{alive.pid}:Worker-1")
        expire(run)
        report = runs_reap()
        assert report.late == [run.pk]
        assert report.requeued == report.failed == []
        run.refresh_from_db()
        assert run.status == RunStatus.RUNNING

        hung = run.lease_expires_at + timedelta(seconds=LIVE_GRACE_LEASES * project().runs.lease_seconds + 1)
        with django_capture_on_commit_callbacks(execute=True):
            assert runs_reap(now=hung).requeued == [run.pk], "a hung process is taken back in the end"
    finally:
        alive.kill()
        alive.wait()

    gone = make_run()
    run_claim(run_id=gone.pk, worker=f"{socket.gethostname()}:{alive.pid}:Worker-1")  # that pid is dead now
    expire(gone)
    with django_capture_on_commit_callbacks(execute=True):
        assert runs_reap().requeued == [gone.pk]
