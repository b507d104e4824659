"""Execute one attempt of a run: claim, keep the lease alive, run the job, record the outcome."""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
import traceback
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from django.db import close_old_connections, connection

from lakegate._logging import JsonFormatter
from lakegate.errors import LakegateError, LeaseLostError, Transient
from lakegate_server.conf import project
from lakegate_server.jobs.context import JobContext
from lakegate_server.jobs.models import Run, RunLogLine, RunStatus
from lakegate_server.jobs.registry import job_spec
from lakegate_server.jobs.services import Claim, run_claim, run_complete, run_fail, run_heartbeat

__all__ = ["run_execute", "worker_identity"]

log = logging.getLogger("lakegate.worker")


def worker_identity() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{threading.current_thread().name}"


class _LeaseKeeper(threading.Thread):
    """Heartbeats every ``heartbeat_seconds``; sets ``ctx.lost`` when the lease cannot be kept.

    The lease is lost when the run row says so (reaped, cancelled) or when the database
    cannot be reached until the lease would have expired anyway: then another worker may
    already be running it, so this one must stop.
    """

    def __init__(self, claim: Claim, ctx: JobContext) -> None:
        super().__init__(name=f"lease-{claim.run_id}", daemon=True)
        self.claim = claim
        self.ctx = ctx
        self.done = threading.Event()
        cfg = project().runs
        self.interval = cfg.heartbeat_seconds
        self.lease = cfg.lease_seconds

    def run(self) -> None:
        # The first heartbeat was sent before the job started; renew one interval later.
        deadline = time.monotonic() + self.lease - self.interval
        try:
            while not self.done.wait(self.interval):
                try:
                    sent = time.monotonic()
                    if not run_heartbeat(claim=self.claim):
                        self._lose("the run was reaped or cancelled")
                        return
                    # Give up one interval before the lease really ends: the reaper may act then.
                    deadline = sent + self.lease - self.interval
                except Exception as exc:  # noqa: BLE001 - a database blip must not kill the keeper
                    log.warning("heartbeat failed", extra={"run": self.claim.run_id, "error": str(exc)})
                    close_old_connections()
                    if time.monotonic() >= deadline:
                        self._lose(f"could not renew the lease before it expired ({exc})")
                        return
        finally:
            connection.close()

    def _lose(self, reason: str) -> None:
        if self.done.is_set():
            return  # the job ended meanwhile; its outcome write is fenced anyway
        self.ctx.lost_reason = reason
        self.ctx.lost.set()
        log.warning("lease lost", extra={"run": self.claim.run_id, "reason": reason})


class _RunLogHandler(logging.Handler):
    """Each record of a run's logger becomes a ``RunLogLine`` row (readable from every host)."""

    def __init__(self, run_id: int) -> None:
        super().__init__()
        self.run_id = run_id
        self.formatter_ = JsonFormatter()

    def emit(self, record: logging.LogRecord) -> None:
        try:
            RunLogLine.objects.create(run_id=self.run_id, entry=self.formatter_.entry(record))
        except Exception:  # noqa: BLE001 - a log line must never fail the job it describes
            self.handleError(record)


@contextmanager
def _run_logger(run_id: int) -> Iterator[logging.Logger]:
    """A logger writing the run's log into the database (``RunLogLine``), and to the worker log."""
    handler = _RunLogHandler(run_id)
    logger = logging.getLogger(f"lakegate.run.{run_id}")
    logger.setLevel(logging.INFO)
    logger.addHandler(handler)
    try:
        yield logger
    finally:
        logger.removeHandler(handler)
        handler.close()


def run_execute(*, run_id: int, worker: str | None = None) -> str:
    """Run one attempt of ``run_id`` if this worker can claim it. Returns what happened."""
    worker = worker or worker_identity()
    claim = run_claim(run_id=run_id, worker=worker)
    if claim is None:
        log.info("run not claimable (taken, finished or cancelled)", extra={"run": run_id})
        return "skipped"
    run = Run.objects.get(id=run_id)
    if not run_heartbeat(claim=claim):  # the first heartbeat: proof the worker got going
        log.info("run cancelled right after claim", extra={"run": run_id})
        return "lost"
    with _run_logger(run_id) as logger:
        ctx = JobContext(
            run_id=run_id, attempt=claim.attempt, worker=worker, settings=project(), logger=logger
        )
        keeper = _LeaseKeeper(claim, ctx)
        keeper.start()
        try:
            return _attempt(run, claim, ctx)
        finally:
            keeper.done.set()
            keeper.join()


def _lineage(
    ctx: JobContext,
    run: Run,
    event_type: Any,
    *,
    result: dict[str, Any] | None = None,
    error: str | None = None,
) -> None:
    """An OpenLineage event of this run: into its log, and POSTed when ``openlineage.url`` is set."""
    settings = ctx.settings.openlineage
    if not settings.enabled:
        return
    try:
        from lakegate.openlineage import post_event, run_event

        event = run_event(
            event_type,
            namespace=settings.namespace,
            project=str(ctx.settings.project_dir),
            run_id=run.pk,
            kind=run.kind,
            params=run.params,
            result=result,
            error=error,
        )
        ctx.logger.info("openlineage %s", event_type, extra={"run": run.pk, "openlineage": event})
        if settings.url:
            api_key = os.environ.get(settings.api_key_env) if settings.api_key_env else None
            post_event(settings.url, event, outbound=ctx.settings.outbound, api_key=api_key)
    except Exception as exc:  # noqa: BLE001 - lineage must never fail the run it describes
        ctx.logger.warning("openlineage event not sent", extra={"run": run.pk, "error": str(exc)[:500]})


def _attempt(run: Run, claim: Claim, ctx: JobContext) -> str:
    ctx.logger.info(
        "attempt started", extra={"run": run.pk, "attempt": claim.attempt, "worker": claim.worker}
    )
    _lineage(ctx, run, "START")
    try:
        spec = job_spec(run.kind)
        result: dict[str, Any] = spec.func(ctx, spec.params.model_validate(run.params))
    except LeaseLostError as exc:
        ctx.logger.warning("attempt stopped: lease lost", extra={"run": run.pk, "reason": str(exc)})
        return "lost"
    except Exception as exc:  # noqa: BLE001 - any job failure is recorded on the run, never lost
        transient = isinstance(exc, Transient) or (not isinstance(exc, LakegateError) and _is_transient(exc))
        message = exc.message if isinstance(exc, LakegateError) else f"{type(exc).__name__}: {exc}"
        ctx.logger.error(
            "attempt failed",
            extra={
                "run": run.pk,
                "attempt": claim.attempt,
                "error": message,
                "trace": traceback.format_exc(),
            },
        )
        status = run_fail(claim=claim, error=message, retry=transient)
        if status == RunStatus.FAILED:  # the last attempt: a retry would start again
            _lineage(ctx, run, "FAIL", error=message)
        return "lost" if status is None else str(status)
    if not run_complete(claim=claim, result=result):
        ctx.logger.warning("result discarded: lease lost before commit", extra={"run": run.pk})
        return "lost"
    _lineage(ctx, run, "COMPLETE", result=result)
    ctx.logger.info("attempt succeeded", extra={"run": run.pk, "attempt": claim.attempt})
    return "succeeded"


def _is_transient(exc: Exception) -> bool:
    """Library errors worth retrying: lost database or network connections."""
    from django.db import InterfaceError, OperationalError

    return isinstance(exc, OperationalError | InterfaceError | ConnectionError | TimeoutError)
