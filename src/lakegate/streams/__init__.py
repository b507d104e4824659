"""Pushed records: a durable write-ahead log on disk, claims for the flusher, broker consumers.

Records pushed over HTTP (or read from a Redis stream / MQTT topic) are validated by
:func:`parse_records` and appended by a :class:`StreamLog` to a segment file that is
fsynced before the client (or broker) is acknowledged. Segments are sealed by size or
age, claimed as immutable :class:`ClaimedBatch` folders, written to Parquet and
committed by the server's flusher, then removed. See ``docs/streams.md``.
"""

from lakegate.streams._batch import ClaimedBatch, claim_batch, pending_batches, stream_datasets
from lakegate.streams._consume import ConsumeStats
from lakegate.streams._log import StreamLog, seal_stale
from lakegate.streams._mqtt import consume_mqtt
from lakegate.streams._parse import ParsedRecords, parse_records
from lakegate.streams._redis import consume_redis

__all__ = [
    "ClaimedBatch",
    "ConsumeStats",
    "ParsedRecords",
    "StreamLog",
    "claim_batch",
    "consume_mqtt",
    "consume_redis",
    "parse_records",
    "pending_batches",
    "seal_stale",
    "stream_datasets",
]
