"""Run state changes. Every write is a conditional UPDATE, so racing workers and the reaper
agree on one outcome without locks held across a job."""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import partial
from typing import Any

from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from lakegate.errors import ConflictError, LakegateError, NotFoundError
from lakegate_server.conf import project
from lakegate_server.jobs.models import FINISHED, Run, RunStatus
from lakegate_server.jobs.queue import enqueue_run
from lakegate_server.jobs.registry import job_spec, validate_params

__all__ = [
    "Claim",
    "ReapReport",
    "run_cancel",
    "run_claim",
    "run_complete",
    "run_create",
    "run_fail",
    "run_heartbeat",
    "runs_reap",
]

log = logging.getLogger("lakegate.runs")


@dataclass(frozen=True)
class Claim:
    """A worker's hold on one attempt of a run; ``token`` fences all its writes."""

    run_id: int
    attempt: int
    token: str
    worker: str


@transaction.atomic
def run_create(*, kind: str, params: dict[str, Any] | None = None, created_by: str = "") -> Run:
    """Create a queued run of ``kind`` and hand it to the queue after commit."""
    spec = job_spec(kind)
    clean = validate_params(spec, params or {})
    run = Run.objects.create(
        kind=kind,
        params=clean,
        created_by=created_by,
        queued_at=timezone.now(),
        max_attempts=project().runs.max_attempts,
    )
    enqueue_run(run.pk)
    log.info("run queued", extra={"run": run.pk, "kind": kind, "by": created_by})
    return run


def _lease_until(now: datetime) -> datetime:
    return now + timedelta(seconds=project().runs.lease_seconds)


# A run waiting out its retry back-off is claimable this close to its due time, no earlier:
# the queue releases its message once due, and machines' clocks may differ by this much.
_DUE_SLACK = timedelta(seconds=5)


def run_claim(*, run_id: int, worker: str) -> Claim | None:
    """Move a queued run to running for ``worker``; None if another worker has it or it ended.

    Also None for a run not due yet (``queued_at`` ahead: a retry's back-off): a second
    message for it (the reaper re-sent it) must not skip the wait; the scheduled one comes.
    """
    now = timezone.now()
    token = uuid.uuid4().hex
    claimed = Run.objects.filter(id=run_id, status=RunStatus.QUEUED, queued_at__lte=now + _DUE_SLACK).update(
        status=RunStatus.RUNNING,
        attempts=F("attempts") + 1,
        worker=worker,
        lease_token=token,
        lease_expires_at=_lease_until(now),
        heartbeat_at=None,
        started_at=now,
    )
    if claimed != 1:
        return None
    attempt = Run.objects.values_list("attempts", flat=True).get(id=run_id)
    return Claim(run_id=run_id, attempt=attempt, token=token, worker=worker)


def _held(claim: Claim) -> Any:
    return Run.objects.filter(id=claim.run_id, status=RunStatus.RUNNING, lease_token=claim.token)


def run_heartbeat(*, claim: Claim) -> bool:
    """Renew the lease. False means the lease is gone (reaped or cancelled): stop the job."""
    now = timezone.now()
    return _held(claim).update(heartbeat_at=now, lease_expires_at=_lease_until(now)) == 1


def run_complete(*, claim: Claim, result: dict[str, Any]) -> bool:
    """Record success; False (and nothing written) if this attempt no longer holds the lease."""
    return (
        _held(claim).update(
            status=RunStatus.SUCCEEDED,
            result=result,
            finished_at=timezone.now(),
            lease_token="",
            lease_expires_at=None,
        )
        == 1
    )


@transaction.atomic
def run_fail(*, claim: Claim, error: str, retry: bool) -> RunStatus | None:
    """Record a failed attempt: re-queue when ``retry`` and attempts remain, else fail.

    A retried run waits ``runs.retry_delay_seconds``, doubled after each failed attempt
    (capped at ``runs.retry_max_delay_seconds``), before a worker may take it again.
    Returns the new status, or None when the attempt had already lost its lease.
    """
    run = _held(claim).select_for_update().first()
    if run is None:
        return None
    return _retry_or_fail(run, error=error, retry=retry, backoff=True)


def _retry_or_fail(run: Run, *, error: str, retry: bool, backoff: bool = False) -> RunStatus:
    """Re-queue ``run`` (still QUEUED, due after the back-off) or fail it for good.

    ``backoff`` is for a job that raised a transient error: the next attempt waits. The
    reaper re-queues a run whose worker died without it: nothing is wrong with the run.
    """
    now = timezone.now()
    run.lease_token = ""
    run.lease_expires_at = None
    if retry and run.attempts < run.max_attempts:
        delay = project().runs.retry_delay(run.attempts) if backoff else 0.0
        run.status = RunStatus.QUEUED
        # The moment the run is due: the reaper's queued_timeout_seconds counts from here.
        run.queued_at = now + timedelta(seconds=delay)
        run.last_error = error
        if delay > 0:
            wait = f"{delay:.1f}".removesuffix(".0")
            run.last_error += f"; retrying in {wait} s (attempt {run.attempts + 1} of {run.max_attempts})"
        run.save()
        enqueue_run(run.pk, eta=run.queued_at if delay > 0 else None)
        log.warning(
            "run re-queued",
            extra={"run": run.pk, "attempt": run.attempts, "error": error, "delay_seconds": delay},
        )
    else:
        _fail(run, error=error if not retry else f"{error} (gave up after {run.attempts} attempts)", now=now)
    return RunStatus(run.status)


def _fail(run: Run, *, error: str, now: datetime) -> None:
    """The one way a run ends FAILED (the job raised, or the reaper gave up on it).

    Call inside the transaction holding the run's row lock; the kind's ``on_failed`` hook
    (a pipeline's ``run.failed`` notification) runs once that transaction has committed.
    """
    run.status = RunStatus.FAILED
    run.finished_at = now
    run.last_error = error
    run.save()
    log.error("run failed", extra={"run": run.pk, "attempt": run.attempts, "error": error})
    transaction.on_commit(partial(_announce_failure, run))


def _announce_failure(run: Run) -> None:
    """Run the kind's failure hook. Never raises: the failure is committed, and the caller may
    be the reaper's loop, which must go on to the next run whatever a notifier does."""
    try:
        hook = job_spec(run.kind).on_failed
        if hook is not None:
            hook(run, project())
    except LakegateError as exc:
        log.warning("run failure hook failed", extra={"run": run.pk, "kind": run.kind, "error": exc.message})
    except Exception:
        log.exception("run failure hook failed", extra={"run": run.pk, "kind": run.kind})


@transaction.atomic
def run_cancel(*, run_id: int, by: str = "") -> Run:
    """Cancel a queued or running run; a running job stops at its next checkpoint."""
    run = Run.objects.select_for_update().filter(id=run_id).first()
    if run is None:
        raise NotFoundError(f"no run with id {run_id}")
    if run.status in FINISHED:
        raise ConflictError(f"run {run_id} already {run.status}; nothing to cancel")
    run.status = RunStatus.CANCELLED
    run.finished_at = timezone.now()
    run.lease_token = ""
    run.lease_expires_at = None
    run.last_error = f"cancelled by {by}" if by else "cancelled"
    run.save()
    return run


@dataclass
class ReapReport:
    requeued: list[int] = field(default_factory=list)
    failed: list[int] = field(default_factory=list)
    resent: list[int] = field(default_factory=list)
    late: list[int] = field(default_factory=list)  # lease expired, worker process alive here: waited for


# How many leases past expiry a run whose worker process is still alive on this host waits
# before the reaper takes it anyway (a hung process is not alive in any useful sense).
LIVE_GRACE_LEASES = 10


def _alive_here(worker: str) -> bool:
    """Whether ``worker`` (``host:pid:thread``) names a live process on this very host."""
    import os
    import socket

    host, _, rest = worker.partition(":")
    pid_text = rest.partition(":")[0]
    if host != socket.gethostname() or not pid_text.isdigit():
        return False
    pid = int(pid_text)
    if pid == os.getpid():
        return False  # this process reaps: an attempt here that stopped heartbeating is not ours to wait for
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # exists, owned by someone else
    return _not_zombie(pid)


def _not_zombie(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as stat:  # noqa: PTH123 - one small read
            return stat.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return True  # no /proc (macOS): the signal check above is all there is


def runs_reap(*, now: datetime | None = None) -> ReapReport:
    """Recover runs whose worker died, and runs no worker ever picked up.

    - running with an expired lease (also: claimed but never sent a first heartbeat):
      re-queued while attempts remain, else failed with the reason;
    - queued longer than ``runs.queued_timeout_seconds`` (the queue lost the message, or
      no worker runs): sent to the queue again, up to ``max_attempts`` times, then failed.
      A run waiting out a retry back-off has ``queued_at`` at the moment it is due, so the
      timeout counts from then, not from its failed attempt.

    The reaper's own re-queue is immediate (no back-off): the worker died, not the job.

    Oldest runs first. A run failed here gets its kind's failure hook (notifications) like
    one whose job raised; each run is its own transaction, so the hook runs right after that
    run's commit.
    """
    now = now or timezone.now()
    cfg = project().runs
    report = ReapReport()
    expired = Run.objects.filter(status=RunStatus.RUNNING, lease_expires_at__lt=now).order_by("id")
    for run_id in expired.values_list("id", flat=True):
        with transaction.atomic():
            run = Run.objects.select_for_update().filter(id=run_id, status=RunStatus.RUNNING).first()
            if run is None or run.lease_expires_at is None or run.lease_expires_at >= now:
                continue  # renewed or finished since we looked
            if _alive_here(run.worker) and now - run.lease_expires_at < timedelta(
                seconds=LIVE_GRACE_LEASES * cfg.lease_seconds
            ):
                # Its process is alive on this host: the heartbeat is late (a SQLite lock wait,
                # a loaded machine), not dead. Re-queueing now would run the attempt twice and
                # fail-hooks would quarantine a file the live attempt is still ingesting.
                report.late.append(run.pk)
                continue
            if run.heartbeat_at is None:
                reason = f"worker {run.worker} claimed attempt {run.attempts} but never sent a heartbeat"
            else:
                reason = (
                    f"worker {run.worker} stopped heartbeating during attempt {run.attempts} "
                    f"(last heartbeat {run.heartbeat_at.isoformat()})"
                )
            status = _retry_or_fail(run, error=reason, retry=True)
            (report.requeued if status == RunStatus.QUEUED else report.failed).append(run.pk)

    stale = now - timedelta(seconds=cfg.queued_timeout_seconds)
    waiting = Run.objects.filter(status=RunStatus.QUEUED, queued_at__lt=stale).order_by("id")
    for run_id in waiting.values_list("id", flat=True):
        with transaction.atomic():
            run = (
                Run.objects.select_for_update()
                .filter(Q(id=run_id) & Q(status=RunStatus.QUEUED) & Q(queued_at__lt=stale))
                .first()
            )
            if run is None:
                continue
            waited = int((now - run.queued_at).total_seconds())
            if run.requeues >= run.max_attempts:
                reason = (
                    f"no worker picked the run up in {waited} s after {run.requeues} re-sends; "
                    "is `lakegate worker` running?"
                )
                _fail(run, error=reason, now=now)
                report.failed.append(run.pk)
                continue
            run.requeues += 1
            run.queued_at = now
            run.last_error = f"queued {waited} s without a worker taking it; sent to the queue again"
            run.save()
            enqueue_run(run.pk)
            report.resent.append(run.pk)
    if report.requeued or report.failed or report.resent:
        log.warning(
            "reaper acted",
            extra={"requeued": report.requeued, "failed": report.failed, "resent": report.resent},
        )
    if report.late:
        log.warning(
            "lease expired but the worker process is alive here; waiting", extra={"runs": report.late}
        )
    return report
