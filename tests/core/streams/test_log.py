"""StreamLog: fsynced appends, rotation, sealing races with seal_stale, crash safety."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections import Counter

import orjson
import pytest

from lakegate.errors import StreamError
from lakegate.streams import ParsedRecords, StreamLog, parse_records, seal_stale
from tests.core.streams.conftest import log_records, segment_files


def batch(tag: str, size: int) -> ParsedRecords:
    return parse_records(orjson.dumps([{"id": f"{tag}-{n}", "n": n} for n in range(size)]), content_type=None)


def test_append_writes_whole_lines_to_an_open_segment(tmp_path):
    log = StreamLog(tmp_path, "events")
    log.append(batch("a", 3))
    log.append(ParsedRecords(lines=b"", count=0))
    (segment,) = segment_files(tmp_path, "events", "open")
    assert segment.read_bytes().count(b"\n") == 3
    assert segment.name.endswith(".ndjson")
    assert f"-{os.getpid()}-" in segment.name
    log.close()
    assert segment_files(tmp_path, "events", "open") == []
    assert [r["id"] for r in log_records(tmp_path, "events", "sealed")] == ["a-0", "a-1", "a-2"]


@pytest.mark.parametrize(
    ("options", "appends", "expected_segments"),
    [
        ({"max_records": 10}, 5, [12, 8]),  # sealed once a segment reaches 10 records
        ({"max_bytes": 150}, 5, [8, 8, 4]),  # 21 bytes a record: sealed past 150 bytes
    ],
    ids=["records", "bytes"],
)
def test_rotation_by_size(tmp_path, options, appends, expected_segments):
    with StreamLog(tmp_path, "events", **options) as log:
        for n in range(appends):
            log.append(batch(f"b{n}", 4))
    sealed = segment_files(tmp_path, "events", "sealed")
    assert [path.read_bytes().count(b"\n") for path in sealed] == expected_segments
    assert len(log_records(tmp_path, "events")) == appends * 4


def test_rotation_by_age(tmp_path):
    log = StreamLog(tmp_path, "events", max_age_seconds=1.0)
    log.append(batch("a", 2))
    assert segment_files(tmp_path, "events", "sealed") == []
    time.sleep(1.05)
    log.append(batch("b", 2))  # the segment is past its age: sealed after this append
    (sealed,) = segment_files(tmp_path, "events", "sealed")
    assert sealed.read_bytes().count(b"\n") == 4
    log.append(batch("c", 1))
    assert len(segment_files(tmp_path, "events", "open")) == 1
    log.close()


def test_seal_stale_seals_idle_segments_and_the_writer_moves_on(tmp_path):
    log = StreamLog(tmp_path, "events")
    log.append(batch("a", 2))
    assert seal_stale(tmp_path, max_age_seconds=60) == 0  # written just now
    time.sleep(0.05)
    assert seal_stale(tmp_path, max_age_seconds=0.01) == 1
    assert segment_files(tmp_path, "events", "open") == []
    log.append(batch("b", 2))  # its file was sealed: the writer opens a new segment
    log.close()
    sealed = segment_files(tmp_path, "events", "sealed")
    assert [path.read_bytes().count(b"\n") for path in sealed] == [2, 2]
    assert sorted(r["id"] for r in log_records(tmp_path, "events")) == ["a-0", "a-1", "b-0", "b-1"]


def test_seal_stale_removes_empty_segments(tmp_path):
    (tmp_path / "events" / "open").mkdir(parents=True)
    empty = tmp_path / "events" / "open" / "dead-1-1-000001.ndjson"
    empty.touch()
    os.utime(empty, (time.time() - 100, time.time() - 100))
    assert seal_stale(tmp_path, max_age_seconds=10) == 0
    assert not empty.exists()
    assert segment_files(tmp_path, "events", "sealed") == []


def test_seal_stale_skips_a_segment_while_its_writer_holds_the_lock(tmp_path):
    import fcntl

    log = StreamLog(tmp_path, "events")
    log.append(batch("a", 1))
    (segment,) = segment_files(tmp_path, "events", "open")
    holder = os.open(segment, os.O_RDONLY)
    try:
        fcntl.flock(holder, fcntl.LOCK_EX)
        assert seal_stale(tmp_path, max_age_seconds=0) == 0
        assert segment.exists()
    finally:
        os.close(holder)
    assert seal_stale(tmp_path, max_age_seconds=0) == 1
    log.close()


def test_threads_append_concurrently_without_losing_lines(tmp_path):
    log = StreamLog(tmp_path, "events", max_records=333, fsync=False)

    def work(thread: int) -> None:
        for n in range(100):
            log.append(batch(f"t{thread}-{n}", 10))

    threads = [threading.Thread(target=work, args=(t,)) for t in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    log.close()
    ids = Counter(r["id"] for r in log_records(tmp_path, "events", "sealed"))
    assert len(ids) == 4 * 100 * 10
    assert set(ids.values()) == {1}


def test_concurrent_appends_share_fsyncs_and_lose_nothing(tmp_path, monkeypatch):
    """Group commit: appends waiting while one thread syncs are covered by the next sync."""
    from lakegate.streams import _log

    syncs = []
    real_sync = _log._sync_data

    def counting_sync(fd: int) -> None:
        syncs.append(fd)
        time.sleep(0.002)  # a slow disk: the window in which other appends queue up
        real_sync(fd)

    monkeypatch.setattr(_log, "_sync_data", counting_sync)
    log = StreamLog(tmp_path, "events", max_records=700, fsync=True)

    def work(thread: int) -> None:
        for n in range(50):
            log.append(batch(f"t{thread}-{n}", 10))

    threads = [threading.Thread(target=work, args=(t,)) for t in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert log._synced == log._written == 400  # every append was covered before it returned
    log.close()
    assert len(syncs) < 400 * 0.75  # shared: far fewer syncs than appends
    ids = Counter(r["id"] for r in log_records(tmp_path, "events", "sealed"))
    assert len(ids) == 8 * 50 * 10
    assert set(ids.values()) == {1}


WRITER = """
import sys, time, orjson
from pathlib import Path
from lakegate.streams import StreamLog, parse_records
root, name, appends = Path(sys.argv[1]), sys.argv[2], int(sys.argv[3])
log = StreamLog(root, "events", max_records=int(sys.argv[4]), fsync=sys.argv[5] == "1")
for n in range(appends):
    body = orjson.dumps([{"id": f"{name}-{n}-{i}"} for i in range(20)])
    log.append(parse_records(body, content_type="application/json"))
    print(n, flush=True)
    if len(sys.argv) > 7:
        time.sleep(float(sys.argv[7]))  # leave the sealer room between appends, however loaded
if sys.argv[6] == "close":
    log.close()
"""


def test_two_processes_append_while_a_sealer_races_them(tmp_path):
    writers = [
        subprocess.Popen(
            [sys.executable, "-c", WRITER, str(tmp_path), name, "300", "1000", "0", "close", "0.002"],
            stdout=subprocess.DEVNULL,
        )
        for name in ("w1", "w2")
    ]
    sealed = 0
    while any(writer.poll() is None for writer in writers):
        sealed += seal_stale(tmp_path, max_age_seconds=0)
    assert [writer.wait(timeout=60) for writer in writers] == [0, 0]
    sealed += seal_stale(tmp_path, max_age_seconds=0)
    assert sealed > 0  # the race was exercised
    assert segment_files(tmp_path, "events", "open") == []
    ids = Counter(r["id"] for r in log_records(tmp_path, "events", "sealed"))
    assert len(ids) == 2 * 300 * 20
    assert set(ids.values()) == {1}


def test_acknowledged_appends_survive_sigkill(tmp_path):
    with subprocess.Popen(
        [sys.executable, "-c", WRITER, str(tmp_path), "k", "100000", "150", "1", "keep"],
        stdout=subprocess.PIPE,
        text=True,
    ) as writer:
        assert writer.stdout is not None
        acked = -1
        while acked < 40:
            acked = int(writer.stdout.readline())
        writer.send_signal(signal.SIGKILL)
        writer.wait(timeout=10)
    assert writer.returncode == -signal.SIGKILL
    on_disk = {r["id"] for r in log_records(tmp_path, "events")}
    expected = {f"k-{n}-{i}" for n in range(acked + 1) for i in range(20)}
    assert expected <= on_disk
    for path in segment_files(tmp_path, "events"):
        data = path.read_bytes()
        whole = data[: data.rfind(b"\n") + 1]
        assert all(orjson.loads(line) for line in whole.splitlines())  # no torn line mid-file
    # The dead writer's open segment is sealed by the flusher once it is stale.
    assert seal_stale(tmp_path, max_age_seconds=0) >= 1
    assert segment_files(tmp_path, "events", "open") == []


@pytest.mark.parametrize(
    "name", ["", "../up", "a/b", ".hidden", "x" * 200], ids=["empty", "parent", "slash", "hidden", "too-long"]
)
def test_dataset_names_are_checked(tmp_path, name):
    with pytest.raises(StreamError, match="not a valid stream name") as caught:
        StreamLog(tmp_path, name)
    assert caught.value.detail == {"dataset": name}


def test_a_forked_child_writes_its_own_segment(tmp_path):
    log = StreamLog(tmp_path, "events")
    log.append(batch("parent", 2))
    child = os.fork()
    if child == 0:  # pragma: no cover - runs in the child
        try:
            log.append(batch("child", 3))
            log.close()
        finally:
            os._exit(0 if len(segment_files(tmp_path, "events", "sealed")) == 1 else 1)
    _, status = os.waitpid(child, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    log.append(batch("parent2", 1))
    log.close()
    sealed = segment_files(tmp_path, "events", "sealed")
    by_file = sorted(sorted(r["id"].split("-")[0] for r in log_records_of(path)) for path in sealed)
    assert by_file == [["child"] * 3, ["parent", "parent", "parent2"]]


def log_records_of(path):
    return [orjson.loads(line) for line in path.read_bytes().splitlines()]
