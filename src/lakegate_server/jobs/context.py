"""What a running job sees: its run, a log, cooperative stop checks, and the settings."""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lakegate.config import Settings
from lakegate.errors import LeaseLostError

__all__ = ["JobContext", "json_safe"]


@dataclass
class JobContext:
    """Passed to every job function.

    Jobs call :meth:`checkpoint` (or :meth:`sleep`, :meth:`log`) between steps: when the
    worker lost the run's lease (it was reaped or cancelled), the next call raises
    :class:`LeaseLostError`, so the job stops itself and never runs twice at once.
    """

    run_id: int
    attempt: int
    worker: str
    settings: Settings
    logger: logging.Logger
    lost: threading.Event = field(default_factory=threading.Event)
    lost_reason: str = ""

    @property
    def artifacts_dir(self) -> Path:
        """``.lakegate/artifacts/runs/<run>/``: outputs here are keyed by run, so a retry overwrites."""
        path = self.settings.paths.artifacts / "runs" / str(self.run_id)
        path.mkdir(parents=True, exist_ok=True)
        return path

    def checkpoint(self) -> None:
        if self.lost.is_set():
            raise LeaseLostError(f"run {self.run_id} attempt {self.attempt} stopped: {self.lost_reason}")

    def log(self, message: str, **fields: Any) -> None:
        self.checkpoint()
        self.logger.info(message, extra={"run": self.run_id, "attempt": self.attempt, **fields})

    def sleep(self, seconds: float) -> None:
        """Sleep, waking at once (and raising) if the lease is lost meanwhile."""
        if self.lost.wait(timeout=max(seconds, 0.0)):
            self.checkpoint()


def json_safe(row: dict[str, Any]) -> dict[str, Any]:
    """``row`` with dates and datetimes as ISO strings: what a job returns is stored as JSON."""
    return {k: v.isoformat() if hasattr(v, "isoformat") else v for k, v in row.items()}
