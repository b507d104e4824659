"""Online predictions recorded: inputs and outputs, sampled, appended in micro-batches.

The predict route calls :meth:`PredictionRecorder.offer` once its answer is built: a token
bucket per model decides (all requests up to ``monitoring.record_rate`` records a second,
then ``record_sample`` of them; a request is kept or dropped whole, and a request bigger than
what is left in the bucket is kept and paid back over the next seconds) and the kept request
is queued in memory -- a few microseconds, no I/O, no serialisation on the event loop.

A background thread wakes every ``record_flush_seconds``, turns the queued requests into
NDJSON rows (the input fields, ``prediction``, ``proba_<label>`` per class as batch scoring
writes them, ``model``, ``model_version``, ``predicted_at``) and appends them to the stream
write-ahead log of ``<model>_online_predictions`` (:mod:`lakegate_server.streams.wal`); the
scheduler's stream flush commits them as dataset versions like any pushed stream.

What is queued but not yet appended is lost if the process dies (at most one interval); the
queue is bounded (``record_buffer`` records), beyond which new requests are dropped and
counted: recording never slows or fails a prediction.
"""

from __future__ import annotations

import atexit
import logging
import random
import threading
import time
from collections import deque
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any, Final

import orjson

from lakegate.config import MonitoringSettings

__all__ = ["OUTPUT_COLUMNS", "PredictionRecorder", "prediction_rows"]

log = logging.getLogger("lakegate.serving")

OUTPUT_COLUMNS: Final = ("prediction", "model", "model_version", "predicted_at")

Append = Callable[[str, bytes, int], None]  # (model, NDJSON lines, count)


def prediction_rows(
    model: str, version: int, at: float, payload: Any, answer: Mapping[str, Any]
) -> list[dict[str, Any]]:
    """The rows of one answered request: each input record with its outputs beside it.

    An input field named like an output column is kept as ``input.<name>``.
    """
    records = payload if isinstance(payload, list) else [payload]
    predictions = answer.get("predictions") or []
    probabilities = answer.get("probabilities")
    stamp = datetime.fromtimestamp(at, UTC).isoformat(timespec="milliseconds")
    rows = []
    for index, record in enumerate(records):
        row = {
            (f"input.{k}" if k in OUTPUT_COLUMNS or k.startswith("proba_") else k): v
            for k, v in record.items()
        }
        row["prediction"] = predictions[index] if index < len(predictions) else None
        if probabilities is not None and index < len(probabilities):
            for label, p in probabilities[index].items():
                row[f"proba_{label}"] = p
        row["model"] = model
        row["model_version"] = str(version)
        row["predicted_at"] = stamp
        rows.append(row)
    return rows


class PredictionRecorder:
    """Samples answered requests into a bounded queue; a thread appends them in micro-batches."""

    def __init__(
        self,
        settings: MonitoringSettings,
        *,
        append: Append | None = None,
        clock: Callable[[], float] = time.monotonic,
        chance: Callable[[], float] = random.random,
        start: bool = True,
    ) -> None:
        self.rate = settings.record_rate
        self.sample = settings.record_sample
        self.interval = settings.record_flush_seconds
        self.capacity = settings.record_buffer
        self._append = append or _append_to_stream_log
        self._clock = clock
        self._chance = chance
        self._buckets: dict[str, list[float]] = {}  # model -> [tokens, last refill]
        self._queue: deque[tuple[str, int, float, Any, Mapping[str, Any], int]] = deque()
        self._held = 0
        self._lock = threading.Lock()
        self._flushing = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._autostart = start
        self.recorded = 0
        self.sampled_out = 0
        self.dropped = 0

    def offer(self, model: str, version: int, payload: Any, answer: Mapping[str, Any]) -> bool:
        """Keep this answered request for recording, or not (sampling, a full buffer): hot path."""
        count = len(payload) if isinstance(payload, list) else 1
        now = self._clock()
        bucket = self._buckets.get(model)
        if bucket is None:
            bucket = self._buckets[model] = [self.rate, now]
        else:
            bucket[0] = min(self.rate, bucket[0] + (now - bucket[1]) * self.rate)
            bucket[1] = now
        if bucket[0] > 0:  # a request bigger than the bucket is kept whole and leaves a debt
            bucket[0] -= count
        elif self._chance() >= self.sample:
            self.sampled_out += count
            return False
        if self._held + count > self.capacity:
            self.dropped += count
            return False
        with self._lock:
            self._queue.append((model, version, time.time(), payload, answer, count))
            self._held += count
        if self._thread is None and self._autostart:
            self._start()
        return True

    def flush(self) -> int:
        """Append what is queued to the write-ahead logs now; return how many records."""
        with self._flushing:
            with self._lock:
                taken = list(self._queue)
                self._queue.clear()
                self._held = 0
            by_model: dict[str, list[bytes]] = {}
            for model, version, at, payload, answer, _count in taken:
                lines = by_model.setdefault(model, [])
                rows = prediction_rows(model, version, at, payload, answer)
                lines.extend(orjson.dumps(row, option=orjson.OPT_SERIALIZE_NUMPY) for row in rows)
            written = 0
            for model, lines in by_model.items():
                try:
                    self._append(model, b"\n".join(lines) + b"\n", len(lines))
                except Exception:  # recording must never take the route down
                    self.dropped += len(lines)
                    log.exception(
                        "online predictions not recorded", extra={"model": model, "records": len(lines)}
                    )
                    continue
                written += len(lines)
            self.recorded += written
            return written

    def close(self) -> None:
        """Stop the thread and append what is left."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self.flush()

    def _start(self) -> None:
        with self._lock:
            if self._thread is not None:
                return
            self._thread = threading.Thread(target=self._run, name="prediction-recorder", daemon=True)
            self._thread.start()
        atexit.register(self.close)

    def _run(self) -> None:
        reported = 0
        while not self._stop.wait(self.interval):
            self.flush()
            if self.dropped > reported:
                log.warning("online predictions dropped", extra={"records": self.dropped - reported})
                reported = self.dropped


def _append_to_stream_log(model: str, lines: bytes, count: int) -> None:
    from lakegate.streams import ParsedRecords
    from lakegate_server.streams.wal import stream_log_for
    from lakegate_server.training.selectors import online_predictions_dataset

    stream_log_for(online_predictions_dataset(model)).append(ParsedRecords(lines=lines, count=count))
