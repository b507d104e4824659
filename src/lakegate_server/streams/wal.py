"""This process's write-ahead logs of pushed records, one per dataset (see ``lakegate.streams``).

Kept free of the lake and the gate so the lean stream route in front of Django
(``lakegate_server.serving``) imports only this. ``stream_append`` returns once the records
are fsynced to a segment: that is when a client or broker may be told they are safe.
"""

from __future__ import annotations

import atexit
import threading
from typing import TYPE_CHECKING

from django.core.exceptions import ValidationError

from lakegate.errors import InputError, PayloadTooLargeError
from lakegate_server.conf import project
from lakegate_server.datasets.models import name_validator
from lakegate_server.metrics import stream_acknowledged

if TYPE_CHECKING:
    from lakegate.streams import StreamLog

__all__ = ["stream_append", "stream_log_for", "stream_logs_close"]

_logs: dict[str, StreamLog] = {}
_logs_lock = threading.Lock()


def _stream_log(dataset: str) -> StreamLog:
    from lakegate.streams import StreamLog

    with _logs_lock:
        if dataset not in _logs:
            config = project()
            cfg = config.streams
            _logs[dataset] = StreamLog(
                config.paths.streams,
                dataset,
                max_records=cfg.segment_records,
                max_age_seconds=cfg.flush_seconds,
                fsync=cfg.fsync,
            )
        return _logs[dataset]


@atexit.register
def stream_logs_close() -> None:
    with _logs_lock:
        for stream_log in _logs.values():
            stream_log.close()
        _logs.clear()


def stream_append(*, dataset: str, body: bytes, content_type: str | None) -> int:
    """Durably append the records in ``body`` (JSON array or NDJSON); return how many."""
    from lakegate.streams import parse_records

    _validate(dataset)
    cfg = project().streams
    if len(body) > cfg.max_body_bytes:
        raise PayloadTooLargeError(
            f"the body is over streams.max_body_bytes ({cfg.max_body_bytes} bytes)",
            detail={"limit": cfg.max_body_bytes},
        )
    parsed = parse_records(body, content_type=content_type, max_records=cfg.max_records_per_request)
    _stream_log(dataset).append(parsed)
    stream_acknowledged(dataset, parsed.count)
    return parsed.count


def stream_log_for(dataset: str) -> StreamLog:
    """The write-ahead log of ``dataset`` in this process (consumers append to it)."""
    _validate(dataset)
    return _stream_log(dataset)


def _validate(dataset: str) -> None:
    try:
        name_validator(dataset)
    except ValidationError as exc:
        raise InputError(f"dataset name {dataset!r}: {exc.messages[0]}", detail={"field": "dataset"}) from exc
