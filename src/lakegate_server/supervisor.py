"""``lakegate up``: the ASGI server in this process, workers and scheduler as child processes.

Children get their own session, so a Ctrl-C in the terminal reaches only ``up``, which
then stops them in order: SIGTERM (workers finish their current runs), then SIGKILL after
the grace period (the reaper re-queues what was cut off). A child that crashes is
restarted with a back-off (reset once it has run for a while); children also stop by
themselves if ``up`` is killed.
"""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import threading
import time
from collections.abc import Mapping, Sequence

__all__ = ["Supervisor", "serve"]

log = logging.getLogger("lakegate.up")

# A child that ran at least this long before it exited restarts after the shortest delay
# again: only a crash loop backs off towards 30 s (found by `lakegate chaos`: without the
# reset, a worker killed six times in an hour waited 30 s before each later restart).
STABLE_SECONDS = 10.0


class Supervisor:
    def __init__(
        self,
        commands: Mapping[str, Sequence[str]],
        *,
        env: Mapping[str, str],
        grace_seconds: float = 20.0,
        stable_seconds: float = STABLE_SECONDS,
    ) -> None:
        self.commands = dict(commands)
        self.env = dict(env)
        self.grace_seconds = grace_seconds
        self.stable_seconds = stable_seconds
        self._backoff: dict[str, float] = {}
        self.procs: dict[str, subprocess.Popen[bytes]] = {}
        self.started_at: dict[str, float] = {}
        self._stopping = threading.Event()
        self._lock = threading.Lock()
        self._monitor = threading.Thread(target=self._watch, name="supervisor", daemon=True)

    def start(self) -> None:
        for name in self.commands:
            self._spawn(name)
        self._monitor.start()

    def _spawn(self, name: str) -> None:
        with self._lock:
            if self._stopping.is_set():
                return
            self.procs[name] = subprocess.Popen(  # noqa: S603 - our own interpreter and module
                list(self.commands[name]), env=self.env, start_new_session=True
            )
            self.started_at[name] = time.monotonic()
        log.info("started", extra={"child": name, "pid": self.procs[name].pid})

    def _watch(self) -> None:
        while not self._stopping.wait(1.0):
            for name, proc in list(self.procs.items()):
                code = proc.poll()
                if code is None or self._stopping.is_set():
                    continue
                delay = self.restart_delay(name, lived=time.monotonic() - self.started_at.get(name, 0.0))
                log.error("child exited; restarting", extra={"child": name, "code": code, "delay": delay})
                if not self._stopping.wait(delay):
                    self._spawn(name)

    def restart_delay(self, name: str, *, lived: float) -> float:
        """Seconds before restarting ``name``, which exited after ``lived`` seconds: doubling from
        1 s up to 30 s while it keeps dying young, 1 s again once it had run ``stable_seconds``."""
        if lived >= self.stable_seconds:
            self._backoff.pop(name, None)  # it had been up a while: a crash, not a crash loop
        delay = min(self._backoff.get(name, 0.5) * 2, 30.0)
        self._backoff[name] = delay
        return delay

    def stop(self) -> None:
        with self._lock:
            self._stopping.set()
        for proc in self.procs.values():
            if proc.poll() is None:
                proc.terminate()
        deadline = time.monotonic() + self.grace_seconds
        for name, proc in self.procs.items():
            try:
                proc.wait(timeout=max(deadline - time.monotonic(), 0.1))
            except subprocess.TimeoutExpired:
                log.warning("child did not stop in time; killing", extra={"child": name})
                proc.kill()
                proc.wait()
        log.info("all children stopped")


def serve(*, host: str, port: int, processes: int | None = None, verbose: bool = False) -> None:
    """Serve the ASGI app until SIGINT/SIGTERM (uvicorn handles both gracefully).

    With more than one process (``web.processes``), this process binds the port and runs
    uvicorn's process manager: each web process (:mod:`lakegate_server.web_process`) sets
    itself up, logs its start line and accepts on the shared socket; one that dies is
    replaced.
    """
    import uvicorn
    from django.conf import settings

    from lakegate_server.serving.server import uvicorn_config

    web = settings.LAKEGATE.web
    config = uvicorn_config(host=host, port=port, web=web, processes=processes)
    # uvicorn restores the previous handlers after its graceful shutdown and re-raises the
    # signal; with these no-op handlers in place, `up` goes on to stop its children and
    # exits 0 instead of dying from the re-raised signal.
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: None)
    if config.workers <= 1:
        uvicorn.Server(config).run()
        return
    from uvicorn.supervisors import Multiprocess

    os.environ["LAKEGATE_WEB_VERBOSE"] = "1" if verbose else ""  # read by each web process
    config = uvicorn_config(
        host=host, port=port, web=web, processes=processes, app="lakegate_server.web_process:application"
    )
    sock = config.bind_socket()
    try:
        Multiprocess(config, sockets=[sock]).run()
    finally:
        sock.close()
