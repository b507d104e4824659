"""claim_batch / pending_batches / ClaimedBatch: immutable claims, deterministic Parquet."""

from __future__ import annotations

import hashlib
import os
import time

import orjson
import polars as pl
import pytest

from lakegate.streams import (
    ClaimedBatch,
    StreamLog,
    claim_batch,
    parse_records,
    pending_batches,
    stream_datasets,
)


def sealed_segment(root, dataset: str, name: str, records: list[dict], *, tail: bytes = b"", age: float = 0):
    folder = root / dataset / "sealed"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.ndjson"
    path.write_bytes(b"".join(orjson.dumps(r) + b"\n" for r in records) + tail)
    stamp = time.time() - age
    os.utime(path, (stamp, stamp))
    return path


def sha256(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_claim_moves_sealed_segments_oldest_first_into_a_batch(tmp_path):
    sealed_segment(tmp_path, "ev", "b-newer", [{"n": 3}], age=10)
    sealed_segment(tmp_path, "ev", "a-older", [{"n": 1}, {"n": 2}], age=20)
    batch = claim_batch(tmp_path, "ev")
    assert isinstance(batch, ClaimedBatch)
    assert (batch.dataset, batch.records, batch.torn_lines) == ("ev", 3, 0)
    assert batch.bytes == sum(path.stat().st_size for path in batch.segments)
    assert [path.name for path in batch.segments] == ["a-older.ndjson", "b-newer.ndjson"]
    assert batch.path == tmp_path / "ev" / "flushing" / batch.id
    assert list((tmp_path / "ev" / "sealed").iterdir()) == []
    assert claim_batch(tmp_path, "ev") is None
    assert batch.to_frame()["n"].to_list() == [1, 2, 3]


def test_claim_respects_max_records_and_later_segments_never_join(tmp_path):
    for n, name in enumerate(["s1", "s2", "s3"]):
        sealed_segment(tmp_path, "ev", name, [{"n": n}] * 10, age=30 - n)
    first = claim_batch(tmp_path, "ev", max_records=25)
    assert first is not None
    assert [p.name for p in first.segments] == ["s1.ndjson", "s2.ndjson"]
    sealed_segment(tmp_path, "ev", "s4", [{"n": 4}] * 10)
    second = claim_batch(tmp_path, "ev", max_records=5)  # one segment even if it is over the limit
    assert second is not None
    assert [p.name for p in second.segments] == ["s3.ndjson"]
    assert second.id > first.id  # batch ids sort by claim time
    assert [b.id for b in pending_batches(tmp_path, "ev")] == [first.id, second.id]
    assert pending_batches(tmp_path, "ev")[0] == first  # the manifest fixes the set and order
    first.done()
    first.done()  # idempotent
    assert [b.id for b in pending_batches(tmp_path, "ev")] == [second.id]
    assert not first.path.exists()


def test_write_parquet_is_deterministic(tmp_path):
    sealed_segment(tmp_path, "ev", "a", [{"id": n, "name": f"n{n}", "v": n / 7} for n in range(500)], age=5)
    sealed_segment(tmp_path, "ev", "b", [{"id": n, "tags": ["x", str(n)]} for n in range(500, 900)])
    batch = claim_batch(tmp_path, "ev")
    assert batch is not None
    first = batch.write_parquet(tmp_path / "out" / "one.parquet")
    second = batch.write_parquet(tmp_path / "out" / "two.parquet")
    assert sha256(first) == sha256(second)
    reloaded = pending_batches(tmp_path, "ev")[0].write_parquet(tmp_path / "out" / "three.parquet")
    assert sha256(reloaded) == sha256(first)
    frame = pl.read_parquet(first)
    assert frame.height == batch.records == 900
    assert frame["id"].to_list() == list(range(900))
    assert [p.name for p in (tmp_path / "out").iterdir() if p.name.startswith(".")] == []


def test_mixed_schemas_merge_with_nulls(tmp_path):
    sealed_segment(tmp_path, "ev", "a", [{"a": 1, "b": "x", "nested": {"k": 1}}], age=5)
    sealed_segment(tmp_path, "ev", "b", [{"a": 2.5, "c": True, "nested": {"j": "y"}}])
    batch = claim_batch(tmp_path, "ev")
    assert batch is not None
    frame = pl.read_parquet(batch.write_parquet(tmp_path / "out.parquet"))
    assert frame.schema["a"] == pl.Float64
    assert frame.select("a", "b", "c").rows() == [(1.0, "x", None), (2.5, None, True)]
    assert frame["nested"].to_list() == [{"k": 1, "j": None}, {"k": None, "j": "y"}]


def test_conflicting_nested_types_fall_back_to_json_text(tmp_path):
    sealed_segment(tmp_path, "ev", "a", [{"id": 1, "v": [1, 2]}, {"id": 2, "v": {"x": 1}}, {"id": 3}])
    batch = claim_batch(tmp_path, "ev")
    assert batch is not None
    frame = pl.read_parquet(batch.write_parquet(tmp_path / "out.parquet"))
    assert frame.rows() == [(1, "[1,2]"), (2, '{"x":1}'), (3, None)]


def test_an_empty_object_is_kept_as_json_text_so_the_batch_can_be_written(tmp_path):
    # Found by fuzzing the API: Parquet has no struct without fields, and a batch holding
    # {"x": {}} could never be flushed (every later flush of the dataset failed on it).
    sealed_segment(tmp_path, "ev", "a", [{"id": 1, "x": {}}, {"id": 2, "x": {"k": [{}]}}])
    batch = claim_batch(tmp_path, "ev")
    assert batch is not None
    frame = pl.read_parquet(batch.write_parquet(tmp_path / "out.parquet"))
    assert frame.rows() == [(1, "{}"), (2, '{"k":[{}]}')]


def test_a_torn_final_line_is_dropped_and_counted(tmp_path):
    sealed_segment(tmp_path, "ev", "a", [{"n": 1}, {"n": 2}], tail=b'{"n": 3, "cut', age=5)
    sealed_segment(tmp_path, "ev", "b", [{"n": 4}])
    batch = claim_batch(tmp_path, "ev")
    assert batch is not None
    assert (batch.records, batch.torn_lines) == (3, 1)
    frame = pl.read_parquet(batch.write_parquet(tmp_path / "out.parquet"))
    assert frame["n"].to_list() == [1, 2, 4]


def test_a_claim_cut_short_by_a_crash_is_undone(tmp_path):
    sealed_segment(tmp_path, "ev", "kept", [{"n": 1}])
    broken = tmp_path / "ev" / "flushing" / "00000000000000000001-deadbeef"
    broken.mkdir(parents=True)
    (broken / "moved.ndjson").write_bytes(b'{"n":2}\n')  # moved, but no batch.json written
    assert pending_batches(tmp_path, "ev") == []
    assert not broken.exists()
    assert sorted(p.name for p in (tmp_path / "ev" / "sealed").iterdir()) == ["kept.ndjson", "moved.ndjson"]
    batch = claim_batch(tmp_path, "ev")
    assert batch is not None
    assert batch.records == 2


def test_stream_datasets_lists_datasets_with_data(tmp_path):
    assert stream_datasets(tmp_path / "missing") == []
    StreamLog(tmp_path, "no_data").close()  # folders, but nothing written
    (tmp_path / "empty" / "sealed").mkdir(parents=True)
    sealed_segment(tmp_path, "sealed_one", "a", [{"n": 1}])
    sealed_segment(tmp_path, "claimed", "a", [{"n": 1}])
    assert claim_batch(tmp_path, "claimed") is not None
    writer = StreamLog(tmp_path, "writing")
    writer.append(parse_records(b'{"n":1}\n', content_type=None))
    assert stream_datasets(tmp_path) == ["claimed", "sealed_one", "writing"]
    writer.close()
    assert claim_batch(tmp_path, "missing") is None
    assert pending_batches(tmp_path, "missing") == []


@pytest.mark.parametrize("records", [1, 2000], ids=["one", "many"])
def test_round_trip_from_log_to_parquet(tmp_path, records):
    with StreamLog(tmp_path, "ev", max_records=700) as log:
        for start in range(0, records, 300):
            rows = [{"n": n} for n in range(start, min(start + 300, records))]
            log.append(parse_records(orjson.dumps(rows), content_type=None))
    batches = []
    while (batch := claim_batch(tmp_path, "ev", max_records=1000)) is not None:
        batches.append(batch)
    values = [pl.read_parquet(b.write_parquet(tmp_path / f"{b.id}.parquet"))["n"] for b in batches]
    assert pl.concat(values).sort().to_list() == list(range(records))
    assert sum(b.records for b in batches) == records
