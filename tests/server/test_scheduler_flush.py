"""The scheduler's stream flusher: an outage is waited out with a growing pause, one line each time."""

from __future__ import annotations

import itertools
import logging
import threading
import time
from typing import Any

import pytest

from lakegate.config import StreamSettings
from lakegate.errors import LakeUnavailableError
from lakegate_server import scheduler
from lakegate_server.conf import project


def _run_flusher(seconds: float) -> None:
    stop = threading.Event()
    thread = threading.Thread(target=scheduler._flush_streams, args=(project(), stop))
    thread.start()
    time.sleep(seconds)
    stop.set()
    thread.join(timeout=10)
    assert not thread.is_alive()


@pytest.fixture
def fast_flushes(settings: Any) -> None:
    settings.LAKEGATE = settings.LAKEGATE.model_copy(update={"streams": StreamSettings(flush_seconds=0.2)})


def test_an_outage_backs_off_and_logs_no_traceback(fast_flushes, monkeypatch, caplog):
    calls: list[float] = []

    def lake_down(**_: object) -> None:
        calls.append(time.monotonic())
        raise LakeUnavailableError("s3://lake/x: the lake is unreachable (connection refused)")

    monkeypatch.setattr(scheduler, "streams_flush", lake_down)
    with caplog.at_level(logging.WARNING, logger="lakegate.scheduler"):
        _run_flusher(3.3)
    # Waits of 0.2 (first), 0.4, 0.8, 1.6 s: calls at ~0.2, 0.6, 1.4, 3.0 s. Every second, 16 calls.
    assert 3 <= len(calls) <= 5, calls
    gaps = [b - a for a, b in itertools.pairwise(calls)]
    assert gaps == sorted(gaps), "each pause is longer than the one before"
    records = [r for r in caplog.records if r.name == "lakegate.scheduler"]
    assert {r.getMessage() for r in records} == {"stream flush waiting"}
    assert all(r.levelno == logging.WARNING and r.exc_info is None for r in records)


def test_other_failures_keep_the_short_interval_and_a_traceback(fast_flushes, monkeypatch, caplog):
    calls: list[float] = []

    def broken(**_: object) -> None:
        calls.append(time.monotonic())
        raise RuntimeError("a bug")

    monkeypatch.setattr(scheduler, "streams_flush", broken)
    with caplog.at_level(logging.ERROR, logger="lakegate.scheduler"):
        _run_flusher(1.3)
    assert len(calls) >= 5, calls  # every 0.2 s: a bug is not an outage to wait out
    assert all(r.exc_info is not None for r in caplog.records if r.name == "lakegate.scheduler")
