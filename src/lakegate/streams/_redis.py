"""Redis stream consumer: XREADGROUP -> StreamLog.append (fsync) -> XACK. At-least-once."""

from __future__ import annotations

import logging
import threading
import time
from typing import Any
from urllib.parse import urlsplit

import orjson

from lakegate.errors import TransientSourceError
from lakegate.streams._consume import ConsumeStats, MessageBatch
from lakegate.streams._layout import host_name
from lakegate.streams._log import StreamLog

__all__ = ["consume_redis"]

log_ = logging.getLogger(__name__)
_MAX_BACKOFF = 10.0


def _safe_url(url: str) -> str:
    parts = urlsplit(url)
    host = parts.hostname or ""
    return f"{parts.scheme}://{host}{f':{parts.port}' if parts.port else ''}{parts.path}"


def _batch(entries: list[Any], stream: str, key: bytes) -> tuple[MessageBatch, list[bytes]]:
    batch = MessageBatch(source=f"redis:{stream}")
    ids = []
    for raw_id, fields in entries:
        ids.append(raw_id)
        message_id = raw_id.decode()
        if not fields:  # a pending entry whose message was trimmed away: nothing to keep
            continue
        if key in fields:
            batch.add(message_id, fields[key])
        else:  # no payload field: the whole message mapping is the record
            record = {
                name.decode("utf-8", "replace"): value.decode("utf-8", "replace")
                for name, value in fields.items()
            }
            batch.add(message_id, orjson.dumps(record))
    return batch, ids


def consume_redis(
    url: str,
    stream: str,
    log: StreamLog,
    *,
    group: str = "lakegate",
    consumer: str | None = None,
    block_ms: int = 1000,
    count: int = 1000,
    stop: threading.Event | None = None,
    field: str = "data",
    max_messages: int | None = None,
    claim_idle_ms: int | None = 60_000,
) -> ConsumeStats:
    """Read ``stream`` as ``group``/``consumer`` into ``log`` until ``stop`` is set.

    Each message's ``field`` holds a JSON object, an array of them or NDJSON (without
    that field the whole message mapping is the record). A batch is appended (fsynced)
    before its ids are XACKed; invalid messages go to ``rejected/`` and are acked too.
    On start (and after a lost connection) this consumer's own pending entries are read
    again first; entries another consumer left pending for ``claim_idle_ms`` (it died,
    or restarted under a new name) are taken over with XAUTOCLAIM (None: never). So
    delivery is at-least-once: a crash between fsync and XACK repeats a batch.
    """
    import redis

    where = f"redis {_safe_url(url)} stream {stream!r}"
    client = redis.Redis.from_url(url, socket_timeout=max(block_ms / 1000, 0) + 10)
    name = consumer or host_name()
    stats = ConsumeStats()
    started = time.monotonic()
    next_takeover = 0.0 if claim_idle_ms is not None else float("inf")
    try:
        _ensure_group(client, stream, group, where)
        cursor = b"0"  # first: our own pending entries (delivered before a crash, never acked)
        backoff = 0.5
        while not (stop is not None and stop.is_set()):
            if max_messages is not None and stats.messages >= max_messages:
                break
            want = count if max_messages is None else min(count, max_messages - stats.messages)
            try:
                if cursor == b">" and time.monotonic() >= next_takeover:
                    assert claim_idle_ms is not None
                    reply: Any = client.xautoclaim(stream, group, name, claim_idle_ms, "0-0", count=want)
                    entries = reply[1]
                    if not entries:  # nothing abandoned: look again after a while
                        next_takeover = time.monotonic() + claim_idle_ms / 2000
                        continue
                else:
                    block = block_ms if cursor == b">" else None
                    reply = client.xreadgroup(group, name, {stream: cursor}, count=want, block=block)
                    entries = reply[0][1] if reply else []
                    if not entries:
                        cursor = b">"
                        continue
                    if cursor != b">":
                        cursor = entries[-1][0]  # page through the pending list
                _handle(client, log, stream, group, entries, field, stats)
            except (redis.ConnectionError, redis.TimeoutError) as exc:
                log_.warning("%s: %s; retrying in %.1fs", where, exc, backoff)
                if _pause(stop, backoff):
                    break
                backoff = min(backoff * 2, _MAX_BACKOFF)
                cursor = b"0"  # what was delivered but not acked is pending again
                continue
            backoff = 0.5
    finally:
        stats.seconds = time.monotonic() - started
        client.close()
    return stats


def _handle(
    client: Any, log: StreamLog, stream: str, group: str, entries: list[Any], field: str, stats: ConsumeStats
) -> None:
    """Append one batch (fsync), keep its rejects, then XACK every id of it."""
    batch, ids = _batch(entries, stream, field.encode())
    log.append(batch.parsed())
    log.reject(batch.rejected)
    client.xack(stream, group, *ids)
    stats.messages += len(ids)
    stats.records += batch.records
    stats.rejected += len(batch.rejected)


def _pause(stop: threading.Event | None, seconds: float) -> bool:
    """Sleep ``seconds`` (or until ``stop`` is set); True when stopped."""
    if stop is None:
        time.sleep(seconds)
        return False
    return stop.wait(seconds)


def _ensure_group(client: Any, stream: str, group: str, where: str) -> None:
    import redis

    try:
        client.xgroup_create(stream, group, id="0", mkstream=True)
    except redis.ResponseError as exc:
        if "BUSYGROUP" not in str(exc):
            raise TransientSourceError(f"{where}: cannot create group {group!r}: {exc}") from exc
    except (redis.ConnectionError, redis.TimeoutError) as exc:
        raise TransientSourceError(f"{where}: cannot connect: {exc}") from exc
