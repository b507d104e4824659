"""``lakegate worker``: a Huey consumer that finishes its current runs on SIGTERM."""

from __future__ import annotations

import logging
import os
import signal
import threading
import time

from huey.consumer import Consumer

from lakegate_server.jobs.queue import huey

__all__ = ["watch_parent", "worker_run"]

log = logging.getLogger("lakegate.worker")


def worker_run(*, concurrency: int = 1) -> None:
    # graceful_signal="TERM": SIGTERM stops taking new runs and waits for the current ones
    # (their heartbeats go on); a second SIGTERM or SIGINT stops at once and the reaper
    # re-queues whatever was left running.
    consumer = Consumer(
        huey,
        workers=concurrency,
        worker_type="thread",
        periodic=False,
        check_worker_health=True,
        graceful_signal="TERM",
    )
    log.info("worker started", extra={"concurrency": concurrency, "pid": os.getpid()})
    consumer.run()
    log.info("worker stopped")


def watch_parent(parent_pid: int, *, interval: float = 1.0) -> None:
    """Send SIGTERM to this process when ``parent_pid`` is gone (``lakegate up`` was killed)."""

    def watch() -> None:
        while True:
            time.sleep(interval)
            if os.getppid() != parent_pid:
                log.warning("parent process gone; stopping", extra={"parent": parent_pid})
                os.kill(os.getpid(), signal.SIGTERM)
                return

    threading.Thread(target=watch, name="parent-watch", daemon=True).start()
