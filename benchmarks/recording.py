"""Cost of recording online predictions, in CPU time per request (not a test).

    uv run python benchmarks/recording.py [--requests 200000]

The predict route pays :meth:`PredictionRecorder.offer` per answered request (the sampler and
a queue append); the recorder's thread pays :meth:`PredictionRecorder.flush` per kept record
(rows -> NDJSON -> an fsynced append to the stream write-ahead log, the real ``StreamLog`` in a
temporary folder). Both are timed with ``time.process_time`` over many calls with a
single-record request like ``serving.py``'s, for the default settings (100 records/s in full,
then 10%: in a tight loop nearly every request is past the rate) and for recording every
request. Compare with the route's CPU per request in ``results/serving_recording.json``
(``no_record``). Writes ``benchmarks/results/recording.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from pathlib import Path

from lakegate.config import MonitoringSettings
from lakegate.streams import ParsedRecords, StreamLog
from lakegate_server.serving.record import PredictionRecorder

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results" / "recording.json"
RECORD = {
    "customer_id": 9,
    "age": 41,
    "income": 52000.0,
    "city": "nice",
    "plan": "basic",
    "tenure_months": 3,
    "tickets": 4,
    "signup_date": "2022-05-01",
}
ANSWER = {
    "model": "churn",
    "version": 1,
    "predictions": [True],
    "probabilities": [{"False": 0.2, "True": 0.8}],
}


def offer_cost(settings: MonitoringSettings, requests: int) -> dict[str, float]:
    recorder = PredictionRecorder(settings, append=lambda *_: None, start=False)
    started = time.process_time()
    for index in range(requests):
        recorder.offer("churn", 1, RECORD, ANSWER)
        if index % 10_000 == 9_999:  # keep the queue bounded like the thread does
            with recorder._lock:
                recorder._queue.clear()
                recorder._held = 0
    cpu = time.process_time() - started
    return {
        "requests": requests,
        "kept": requests - recorder.sampled_out,
        "cpu_us_per_request": 1e6 * cpu / requests,
    }


def flush_cost(records: int, batch: int) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as folder:
        log = StreamLog(Path(folder), "churn_online_predictions", fsync=True)

        def append(_model: str, lines: bytes, count: int) -> None:
            log.append(ParsedRecords(lines=lines, count=count))

        recorder = PredictionRecorder(MonitoringSettings(record_rate=1e12), append=append, start=False)
        cpu = 0.0
        for _ in range(records // batch):
            for _ in range(batch):
                recorder.offer("churn", 1, RECORD, ANSWER)
            started = time.process_time()
            recorder.flush()
            cpu += time.process_time() - started
        log.close()
    return {"records": records, "per_flush": batch, "cpu_us_per_record": 1e6 * cpu / records}


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--requests", type=int, default=200_000)
    args = parser.parse_args()
    load = os.getloadavg()[0]
    default = offer_cost(MonitoringSettings(), args.requests)
    every = offer_cost(MonitoringSettings(record_rate=1e12), args.requests)
    flush = flush_cost(min(args.requests, 100_000), 1000)
    result = {
        "benchmark": "recording",
        "load_average": [round(load, 2), round(os.getloadavg()[0], 2)],
        "offer_default_settings": default,
        "offer_record_all": every,
        "flush_per_record": flush,
        "record_all_cpu_us_per_request": round(every["cpu_us_per_request"] + flush["cpu_us_per_record"], 2),
    }
    print(json.dumps(result, indent=2))
    RESULTS.write_text(json.dumps(result, indent=2) + "\n")
    print(f"wrote {RESULTS.relative_to(HERE.parent)}")


if __name__ == "__main__":
    main()
