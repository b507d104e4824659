"""consume_mqtt against the local Mosquitto: persistent session, ack after fsync."""

from __future__ import annotations

import threading
import time
import uuid

import orjson
import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from lakegate.errors import TransientSourceError
from lakegate.streams import StreamLog, consume_mqtt
from tests.core.streams.conftest import log_records

HOST, PORT = "127.0.0.1", 1883


def publisher() -> mqtt.Client:
    client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"lakegate-pub-{uuid.uuid4().hex[:12]}")
    client.connect(HOST, PORT)
    client.loop_start()
    return client


def publish(client: mqtt.Client, topic: str, payload: bytes) -> None:
    info = client.publish(topic, payload, qos=1)
    info.wait_for_publish(timeout=10)
    assert info.is_published()


def close(client: mqtt.Client) -> None:
    client.disconnect()
    client.loop_stop()


def wait_for(predicate, seconds: float = 30) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return False


@pytest.fixture
def session():
    """A unique client id and topic; the broker-side persistent session is removed afterwards."""
    client_id = f"lakegate-test-{uuid.uuid4().hex[:12]}"
    yield client_id, f"lakegate/test/{client_id}"
    cleaner = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=client_id, clean_session=True)
    cleaner.connect(HOST, PORT)
    cleaner.loop_start()
    cleaner.disconnect()
    cleaner.loop_stop()


def run_consumer(log: StreamLog, client_id: str, topic: str, stop: threading.Event) -> threading.Thread:
    thread = threading.Thread(
        target=consume_mqtt,
        args=(HOST, PORT, topic, log),
        kwargs={"client_id": client_id, "stop": stop, "batch_seconds": 0.2},
    )
    thread.start()
    return thread


def test_messages_published_while_stopped_arrive_after_a_restart(tmp_path, session):
    client_id, topic = session
    pub = publisher()
    try:
        # First run: the broker learns the subscription (persistent session).
        stop = threading.Event()
        with StreamLog(tmp_path, "ev") as log:
            thread = run_consumer(log, client_id, topic, stop)
            assert wait_for(lambda: publish(pub, topic, b'{"probe": 1}') or log_records(tmp_path, "ev"))
            stop.set()
            thread.join(timeout=10)
        assert not thread.is_alive()

        # Published while no consumer is connected.
        for n in range(0, 40, 2):
            publish(pub, topic, orjson.dumps([{"n": n}, {"n": n + 1}]))
        publish(pub, topic, b'{"n": 40}\n{"n": 41}\n')
        publish(pub, topic, b"garbage")

        stop = threading.Event()
        with StreamLog(tmp_path, "ev") as log:
            thread = run_consumer(log, client_id, topic, stop)
            assert wait_for(lambda: {r.get("n") for r in log_records(tmp_path, "ev")} >= set(range(42)))
            assert wait_for((tmp_path / "ev" / "rejected").is_dir)
            stop.set()
            thread.join(timeout=10)
    finally:
        close(pub)
    numbers = [r["n"] for r in log_records(tmp_path, "ev") if "n" in r]
    assert sorted(set(numbers)) == list(range(42))
    rejected = [orjson.loads(p.read_bytes()) for p in (tmp_path / "ev" / "rejected").iterdir()]
    assert [(r["payload"], r["source"]) for r in rejected] == [("garbage", f"mqtt:{topic}")]
    assert rejected[0]["reason"].startswith("line 1: invalid JSON")


def test_max_messages_and_stats(tmp_path, session):
    client_id, topic = session
    pub = publisher()
    results = []
    try:
        with StreamLog(tmp_path, "ev") as log:
            thread = threading.Thread(
                target=lambda: results.append(
                    consume_mqtt(HOST, PORT, topic, log, client_id=client_id, max_messages=5, batch_size=2)
                )
            )
            thread.start()
            n = 0
            while thread.is_alive() and n < 500:  # keep publishing until the subscription is live
                publish(pub, topic, orjson.dumps({"n": n}))
                n += 1
                time.sleep(0.02)
            thread.join(timeout=10)
    finally:
        close(pub)
    (stats,) = results
    assert (stats.messages, stats.records, stats.rejected) == (5, 5, 0)
    assert len(log_records(tmp_path, "ev")) == 5


def test_an_unreachable_broker_is_a_transient_source_error(tmp_path):
    with (
        StreamLog(tmp_path, "ev") as log,
        pytest.raises(TransientSourceError, match="cannot connect") as caught,
    ):
        consume_mqtt("127.0.0.1", 1, "t", log, client_id="x")
    assert "mqtt 127.0.0.1:1 topic 't'" in caught.value.message
