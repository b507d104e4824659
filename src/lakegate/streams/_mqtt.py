"""MQTT consumer (paho-mqtt 2.x): persistent session, manual PUBACK after the fsync."""

from __future__ import annotations

import queue
import threading
import time
from typing import TYPE_CHECKING, Any

from lakegate.errors import SourceError, TransientSourceError
from lakegate.streams._consume import ConsumeStats, MessageBatch
from lakegate.streams._log import StreamLog

if TYPE_CHECKING:
    import paho.mqtt.client as mqtt

__all__ = ["consume_mqtt"]

_POLL = 0.2  # how often an idle consumer looks at ``stop``
# Flush when no message came for this long: the broker stops sending once its in-flight
# window of unacked QoS 1 messages is full (mosquitto: max_inflight_messages 20), so
# waiting for ``batch_size`` would only add latency.
_LINGER = 0.05
_CONNECT_TIMEOUT = 10.0


def consume_mqtt(
    host: str,
    port: int,
    topic: str,
    log: StreamLog,
    *,
    client_id: str,
    qos: int = 1,
    username: str | None = None,
    password: str | None = None,
    stop: threading.Event | None = None,
    max_messages: int | None = None,
    batch_size: int = 1000,
    batch_seconds: float = 0.5,
) -> ConsumeStats:
    """Read ``topic`` into ``log`` until ``stop`` is set (or ``max_messages`` were read).

    MQTT 3.1.1 with ``clean_session=False``: the broker keeps the subscription and queues
    QoS 1 messages while the consumer is away. Messages are acked (PUBACK) only after the
    append of their batch was fsynced; unacked ones are sent again on reconnect, so
    delivery is at-least-once. Payload: a JSON object, an array of them, or NDJSON.
    """
    import paho.mqtt.client as mqtt
    from paho.mqtt.enums import CallbackAPIVersion

    where = f"mqtt {host}:{port} topic {topic!r}"
    inbox: queue.Queue[mqtt.MQTTMessage] = queue.Queue()
    connected = threading.Event()
    refused: list[str] = []

    def on_connect(client: mqtt.Client, _u: Any, _f: Any, reason: Any, _p: Any) -> None:
        if reason.is_failure:
            refused.append(str(reason))
        else:
            # Subscribe on every connect: cheap, and safe if the broker lost the session.
            client.subscribe(topic, qos)
        connected.set()

    def on_message(_c: mqtt.Client, _u: Any, message: mqtt.MQTTMessage) -> None:
        inbox.put(message)

    client = mqtt.Client(
        CallbackAPIVersion.VERSION2,
        client_id=client_id,
        clean_session=False,
        protocol=mqtt.MQTTv311,
        manual_ack=True,
    )
    if username is not None:
        client.username_pw_set(username, password)
    client.on_connect = on_connect
    client.on_message = on_message
    try:
        client.connect(host, port, keepalive=30)
    except OSError as exc:
        raise TransientSourceError(f"{where}: cannot connect: {exc}") from exc
    stats = ConsumeStats()
    started = time.monotonic()
    client.loop_start()
    try:
        if not connected.wait(_CONNECT_TIMEOUT):
            raise TransientSourceError(f"{where}: no answer to CONNECT in {_CONNECT_TIMEOUT:.0f}s")
        if refused:
            raise SourceError(f"{where}: connection refused: {refused[0]}")
        while not (stop is not None and stop.is_set()):
            limit = batch_size if max_messages is None else min(batch_size, max_messages - stats.messages)
            if limit <= 0:
                break
            messages = _collect(inbox, limit, batch_seconds)
            if not messages:
                continue
            _process(client, log, topic, messages, stats)
    finally:
        stats.seconds = time.monotonic() - started
        client.disconnect()
        client.loop_stop()
    return stats


def _process(
    client: mqtt.Client, log: StreamLog, topic: str, messages: list[mqtt.MQTTMessage], stats: ConsumeStats
) -> None:
    """Append one batch (fsync), keep its rejects, then PUBACK every message of it."""
    batch = MessageBatch(source=f"mqtt:{topic}")
    for message in messages:
        batch.add(f"{message.topic}#{message.mid}", bytes(message.payload))
    log.append(batch.parsed())
    log.reject(batch.rejected)
    for message in messages:
        client.ack(message.mid, message.qos)
    stats.messages += len(messages)
    stats.records += batch.records
    stats.rejected += len(batch.rejected)


def _collect(inbox: queue.Queue[mqtt.MQTTMessage], limit: int, seconds: float) -> list[mqtt.MQTTMessage]:
    """Up to ``limit`` messages: wait for a first one, then for more until ``seconds`` pass."""
    try:
        messages = [inbox.get(timeout=_POLL)]
    except queue.Empty:
        return []
    deadline = time.monotonic() + seconds
    while len(messages) < limit:
        left = deadline - time.monotonic()
        if left <= 0:
            break
        try:
            messages.append(inbox.get(timeout=min(left, _LINGER)))
        except queue.Empty:
            break
    return messages
