"""Throughput of parse_records + StreamLog.append for 1k-record batches (not a test).

uv run python -m tests.core.streams.bench_streams [--seconds 3] [--threads 1,4]
"""

from __future__ import annotations

import argparse
import tempfile
import threading
import time
from pathlib import Path

import orjson

from lakegate.streams import StreamLog, parse_records


def record(n: int) -> dict:
    return {
        "id": n,
        "device": f"sensor-{n % 97}",
        "ts": "2024-05-01T12:00:00Z",
        "temp": 20.5 + n % 10,
        "humidity": 0.41,
        "ok": True,
        "count": n * 3,
        "site": "north",
        "note": None,
        "level": n % 5,
    }


def timed(label: str, seconds: float, step) -> float:
    runs, started = 0, time.perf_counter()
    while time.perf_counter() - started < seconds:
        step()
        runs += 1
    per_call = (time.perf_counter() - started) / runs
    print(f"{label:<44} {per_call * 1e3:7.3f} ms/batch  {1000 / per_call:>11,.0f} records/s")
    return per_call


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=3.0)
    parser.add_argument("--threads", default="1,4")
    args = parser.parse_args()
    rows = [record(n) for n in range(1000)]
    array = orjson.dumps(rows)
    ndjson = b"".join(orjson.dumps(r) + b"\n" for r in rows)
    parsed = parse_records(array, content_type="application/json")
    print(f"batch: 1000 records, {len(array):,} bytes as a JSON array")
    timed("parse_records (JSON array)", args.seconds, lambda: parse_records(array, content_type=None))
    timed(
        "parse_records (NDJSON, kept as sent)", args.seconds, lambda: parse_records(ndjson, content_type=None)
    )
    with tempfile.TemporaryDirectory(dir=Path.cwd()) as folder:
        for fsync in (False, True):
            with StreamLog(Path(folder), f"bench{int(fsync)}", fsync=fsync) as log:
                timed(f"StreamLog.append (fsync={fsync})", args.seconds, lambda log=log: log.append(parsed))
            with StreamLog(Path(folder), f"both{int(fsync)}", fsync=fsync) as log:
                timed(
                    f"parse + append (fsync={fsync})",
                    args.seconds,
                    lambda log=log: log.append(parse_records(array, content_type=None)),
                )
        for threads in [int(t) for t in args.threads.split(",")]:
            with StreamLog(Path(folder), f"threads{threads}") as log:
                done = [0] * threads
                stop = time.perf_counter() + args.seconds

                def work(slot: int, log: StreamLog = log, stop: float = stop, done: list[int] = done) -> None:
                    while time.perf_counter() < stop:
                        log.append(parse_records(array, content_type=None))
                        done[slot] += 1

                workers = [threading.Thread(target=work, args=(i,)) for i in range(threads)]
                started = time.perf_counter()
                for worker in workers:
                    worker.start()
                for worker in workers:
                    worker.join()
                rate = sum(done) * 1000 / (time.perf_counter() - started)
                print(
                    f"{f'parse + append, fsync, {threads} thread(s)':<44} {'':>16} {rate:>11,.0f} records/s"
                )


if __name__ == "__main__":
    main()
