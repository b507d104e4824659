"""``lakegate scheduler``: one loop for the periodic work of a deployment.

- the reaper (``runs_reap``): re-queue runs of dead workers, re-send lost queue messages;
- the inbox (``inbox_claim``): files dropped into ``.lakegate/inbox/<dataset>/`` become
  ``ingest`` runs. A watchfiles thread wakes the loop as soon as a file lands; the loop
  also runs every ``runs.reap_interval_seconds``, so nothing depends on file events alone.
  Then ``staging_sweep`` lists inbox links and stranded uploads in the quarantine, and
  (every 10 minutes) ``model_attempts_sweep`` deletes model uploads no version row names.
- versions left ``pending`` (the lake dropped, or a process died, between commit and gate)
  are gated (``versions_pending_gate``).
- cron triggers of pipelines (``pipelines_cron_fire``) and sources (``sources_cron_fire``):
  last fire times live in the database, so a restarted scheduler neither fires a slot twice
  nor skips one silently.
- stream flushes (``streams_flush``), on their own thread every second: sealed write-ahead
  segments become dataset versions, and tables with many small files are compacted.
"""

from __future__ import annotations

import logging
import signal
import threading
import time
from collections.abc import Callable
from types import FrameType

from django.db import close_old_connections

from lakegate.config import Settings
from lakegate.errors import Transient
from lakegate_server.conf import project
from lakegate_server.datasets.inbox import inbox_claim
from lakegate_server.datasets.sweep import staging_sweep
from lakegate_server.flow import streams_flush, versions_pending_gate
from lakegate_server.jobs.services import runs_reap
from lakegate_server.sources.services import sources_cron_fire
from lakegate_server.training.monitoring import scoring_drift_cron_fire
from lakegate_server.training.registry import model_attempts_sweep
from lakegate_server.training.services import pipelines_cron_fire

__all__ = ["scheduler_run"]

log = logging.getLogger("lakegate.scheduler")

_FLUSH_MAX_WAIT = 30.0
# Listing every model folder of the storage is not worth doing on each pass.
_SWEEP_EVERY = 600.0


def _every(seconds: float, task: Callable[[], object]) -> Callable[[], object]:
    """``task``, run at most once per ``seconds`` (the first call runs it)."""
    last = [float("-inf")]

    def throttled() -> object:
        now = time.monotonic()
        if now - last[0] < seconds:
            return None
        last[0] = now
        return task()

    return throttled


def _watch_inbox(config: Settings, wake: threading.Event, stop: threading.Event) -> None:
    from watchfiles import watch

    inbox = config.paths.inbox
    inbox.mkdir(parents=True, exist_ok=True)
    try:
        for _changes in watch(inbox, stop_event=stop, recursive=True, debounce=500):
            wake.set()
    except Exception:  # a broken watcher only costs latency: the loop still polls
        log.exception("inbox watcher stopped; polling only")


def _flush_streams(config: Settings, stop: threading.Event) -> None:
    """Flush sealed stream batches every second; while the lake is out, warn and wait longer.

    A batch that could not be flushed stays claimed on disk either way: the next pass takes it.
    An outage (a ``Transient`` error) gets one warning line per attempt and a wait that doubles
    up to ``_FLUSH_MAX_WAIT`` seconds, not a traceback every second.
    """
    interval = min(1.0, config.streams.flush_seconds)
    wait = interval
    while not stop.wait(wait):
        try:
            streams_flush(config=config)
            wait = interval
        except Exception as exc:  # the segments stay on disk: the next pass tries again
            if not isinstance(exc, Transient):  # (a mixin: not catchable by itself)
                log.exception("stream flush failed")
                wait = interval
                continue
            wait = min(wait * 2, _FLUSH_MAX_WAIT)
            log.warning("stream flush waiting", extra={"error": str(exc), "retry_in_seconds": wait})
        finally:
            close_old_connections()


def scheduler_run(*, stop: threading.Event | None = None, install_signals: bool = True) -> None:
    config = project()
    stop = stop or threading.Event()
    wake = threading.Event()
    if install_signals:

        def _stop(signum: int, frame: FrameType | None) -> None:
            log.info("stopping on signal", extra={"signal": signal.Signals(signum).name})
            stop.set()
            wake.set()

        signal.signal(signal.SIGTERM, _stop)
        signal.signal(signal.SIGINT, _stop)
    threading.Thread(target=_watch_inbox, args=(config, wake, stop), name="inbox-watch", daemon=True).start()
    flusher = threading.Thread(target=_flush_streams, args=(config, stop), name="stream-flush", daemon=True)
    flusher.start()
    interval = config.runs.reap_interval_seconds
    tasks: list[tuple[str, Callable[[], object]]] = [
        ("runs_reap", runs_reap),
        ("inbox_claim", lambda: inbox_claim(config=config)),
        ("staging_sweep", lambda: staging_sweep(config=config)),
        ("versions_pending_gate", lambda: versions_pending_gate(config=config)),
        ("pipelines_cron_fire", lambda: pipelines_cron_fire(config=config)),
        ("sources_cron_fire", lambda: sources_cron_fire(config=config)),
        ("scoring_drift_cron_fire", lambda: scoring_drift_cron_fire(config=config)),
        (
            "model_attempts_sweep",
            _every(_SWEEP_EVERY, lambda: model_attempts_sweep(config=config)),
        ),
    ]
    log.info("scheduler started", extra={"reap_interval_seconds": interval})
    while not stop.is_set():
        for name, task in tasks:
            try:
                task()
            except Exception:  # keep going: one bad pass must not stop recovery for good
                log.exception("scheduler task failed", extra={"task": name})
            finally:
                close_old_connections()
        wake.wait(interval)
        wake.clear()
    flusher.join(timeout=30)  # let a flush in progress finish its version
    log.info("scheduler stopped")
