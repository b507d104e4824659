"""consume_redis against the local Redis (db 14, one unique stream key per test)."""

from __future__ import annotations

import signal
import subprocess
import sys
import threading
import time
import uuid

import orjson
import pytest
import redis

from lakegate.errors import TransientSourceError
from lakegate.streams import StreamLog, consume_redis
from tests.core.streams.conftest import log_records

URL = "redis://127.0.0.1:6379/14"


@pytest.fixture
def stream():
    client = redis.Redis.from_url(URL)
    key = f"lakegate-test-{uuid.uuid4().hex}"
    yield key
    client.delete(key)
    client.close()


@pytest.fixture
def client():
    connection = redis.Redis.from_url(URL)
    yield connection
    connection.close()


def pending_count(client, stream: str, group: str = "lakegate") -> int:
    return client.xpending(stream, group)["pending"]


def test_records_arrive_in_the_log_and_are_acked(tmp_path, stream, client):
    pipe = client.pipeline()
    for n in range(20):
        pipe.xadd(stream, {"data": orjson.dumps({"n": n})})
    pipe.xadd(stream, {"data": orjson.dumps([{"n": 20}, {"n": 21}])})
    pipe.xadd(stream, {"data": b'{"n": 22}\n{"n": 23}\n'})
    pipe.xadd(stream, {"sensor": "t1", "value": "3.5"})  # no "data" field: the mapping is the record
    pipe.execute()
    with StreamLog(tmp_path, "ev") as log:
        stats = consume_redis(URL, stream, log, consumer="c1", count=7, block_ms=100, max_messages=23)
    assert (stats.messages, stats.records, stats.rejected) == (23, 25, 0)
    assert stats.seconds > 0
    records = log_records(tmp_path, "ev")
    assert sorted(r["n"] for r in records if "n" in r) == list(range(24))
    assert {"sensor": "t1", "value": "3.5"} in records
    assert pending_count(client, stream) == 0


def test_invalid_messages_are_rejected_with_a_reason_and_acked(tmp_path, stream, client):
    client.xadd(stream, {"data": b"not json"})
    client.xadd(stream, {"data": b"[1, 2]"})
    client.xadd(stream, {"data": orjson.dumps({"ok": 1})})
    with StreamLog(tmp_path, "ev") as log:
        stats = consume_redis(URL, stream, log, consumer="c1", block_ms=100, max_messages=3)
    assert (stats.messages, stats.records, stats.rejected) == (3, 1, 2)
    assert log_records(tmp_path, "ev") == [{"ok": 1}]
    rejected = [
        orjson.loads(line)
        for p in (tmp_path / "ev" / "rejected").iterdir()
        for line in p.read_bytes().splitlines()
    ]
    assert [(r["payload"], r["source"]) for r in rejected] == [
        ("not json", f"redis:{stream}"),
        ("[1, 2]", f"redis:{stream}"),
    ]
    assert rejected[0]["reason"].startswith("line 1: invalid JSON")
    assert rejected[1]["reason"] == "record 0: expected a JSON object, got a number"
    assert all(r["id"].count("-") == 1 for r in rejected)
    assert pending_count(client, stream) == 0


def test_stop_event_ends_an_idle_consumer(tmp_path, stream):
    stop = threading.Event()
    with StreamLog(tmp_path, "ev") as log:
        timer = threading.Timer(0.3, stop.set)
        timer.start()
        stats = consume_redis(URL, stream, log, consumer="c1", block_ms=100, stop=stop)
        timer.join()
    assert stats.messages == 0
    assert 0.25 < stats.seconds < 5


def test_an_unreachable_server_is_a_transient_source_error(tmp_path):
    with (
        StreamLog(tmp_path, "ev") as log,
        pytest.raises(TransientSourceError, match="cannot connect") as caught,
    ):
        consume_redis("redis://:secret@127.0.0.1:1/0", "s", log)
    assert "127.0.0.1:1" in caught.value.message
    assert "secret" not in caught.value.message


CRASHING_CONSUMER = """
import sys, time
from pathlib import Path
from lakegate.streams import StreamLog, consume_redis

class Log(StreamLog):
    appends = 0
    def append(self, parsed):
        super().append(parsed)
        Log.appends += 1
        print(Log.appends, flush=True)
        if Log.appends == 5:
            time.sleep(600)  # appended but never acked: killed here

log = Log(Path(sys.argv[1]), "ev")
consume_redis(sys.argv[2], sys.argv[3], log, consumer="crashy", count=50, block_ms=100)
"""


@pytest.mark.parametrize(
    ("restart_as", "claim_idle_ms"),
    [("crashy", None), ("new-name", 300)],
    ids=["same-consumer-rereads-its-pending", "new-consumer-takes-over-idle-pending"],
)
def test_a_consumer_killed_mid_stream_loses_nothing(tmp_path, stream, client, restart_as, claim_idle_ms):
    total = 1000
    pipe = client.pipeline()
    for n in range(total):
        pipe.xadd(stream, {"data": orjson.dumps({"n": n})})
    pipe.execute()
    with subprocess.Popen(
        [sys.executable, "-c", CRASHING_CONSUMER, str(tmp_path), URL, stream],
        stdout=subprocess.PIPE,
        text=True,
    ) as crashy:
        assert crashy.stdout is not None
        while int(crashy.stdout.readline()) < 5:
            pass
        crashy.send_signal(signal.SIGKILL)
        crashy.wait(timeout=10)
    before = {r["n"] for r in log_records(tmp_path, "ev")}
    assert len(before) == 250  # five batches of 50 were fsynced
    assert pending_count(client, stream) == 50  # the fifth was delivered, never acked

    stop = threading.Event()
    with StreamLog(tmp_path, "ev") as log:
        thread = threading.Thread(
            target=consume_redis,
            args=(URL, stream, log),
            kwargs={"consumer": restart_as, "block_ms": 100, "stop": stop, "claim_idle_ms": claim_idle_ms},
        )
        thread.start()
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            numbers = [r["n"] for r in log_records(tmp_path, "ev")]
            if set(numbers) == set(range(total)) and pending_count(client, stream) == 0:
                break
            time.sleep(0.1)
        stop.set()
        thread.join(timeout=10)
    assert set(numbers) == set(range(total))
    assert len(numbers) == total + 50  # at-least-once: the unacked batch was logged twice
    assert pending_count(client, stream) == 0
