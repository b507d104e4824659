"""``lakegate scheduler``: the reaper loop (and, later, cron triggers)."""

from __future__ import annotations

import logging
import signal
import threading
from types import FrameType

from django.conf import settings
from django.db import close_old_connections

from lakegate_server.jobs.services import runs_reap

__all__ = ["scheduler_run"]

log = logging.getLogger("lakegate.scheduler")


def scheduler_run(*, stop: threading.Event | None = None, install_signals: bool = True) -> None:
    stop = stop or threading.Event()
    if install_signals:

        def _stop(signum: int, frame: FrameType | None) -> None:
            log.info("stopping on signal", extra={"signal": signal.Signals(signum).name})
            stop.set()

        signal.signal(signal.SIGTERM, _stop)
        signal.signal(signal.SIGINT, _stop)
    interval = settings.LAKEGATE.runs.reap_interval_seconds
    log.info("scheduler started", extra={"reap_interval_seconds": interval})
    while not stop.is_set():
        try:
            runs_reap()
        except Exception:  # keep reaping: one bad pass must not stop recovery for good
            log.exception("reaper pass failed")
        finally:
            close_old_connections()
        stop.wait(interval)
    log.info("scheduler stopped")
