"""The storage seam on both backends: atomic puts, reads, streaming, listing, deletes, errors."""

from __future__ import annotations

import os

import pytest

from lakegate.errors import ConflictError, InputError, NotFoundError
from lakegate.storage import READ_CHUNK, Storage
from tests.core.lake.s3server import keys


def test_bytes_round_trip_and_overwrite(storage):
    assert storage.put_bytes("a/b.txt", b"first") == "a/b.txt"
    assert storage.get_bytes("a/b.txt") == b"first"
    storage.put_bytes("a/b.txt", b"second, longer")
    assert storage.get_bytes("a/b.txt") == b"second, longer"
    assert storage.size("a/b.txt") == 14
    assert storage.exists("a/b.txt")
    assert storage.info("a/b.txt").key == "a/b.txt"


def test_a_create_only_put_never_replaces_an_object(storage):
    storage.put_bytes("claims/run-7", b"worker-a", overwrite=False)
    with pytest.raises(ConflictError, match=r"claims/run-7: already exists in the storage"):
        storage.put_bytes("claims/run-7", b"worker-b", overwrite=False)
    assert storage.get_bytes("claims/run-7") == b"worker-a"


def test_missing_objects_are_not_found_everywhere(storage, tmp_path):
    assert not storage.exists("nope/x.parquet")
    for read in (storage.get_bytes, storage.info, storage.open):
        with pytest.raises(NotFoundError, match=r"nope/x\.parquet: no such object in the storage"):
            read("nope/x.parquet")
    with pytest.raises(NotFoundError):
        storage.download("nope/x.parquet", tmp_path / "out" / "x.parquet")
    assert not (tmp_path / "out" / "x.parquet").exists()
    assert list((tmp_path / "out").iterdir()) == []  # no partial file left behind
    storage.delete("nope/x.parquet")  # deleting what is gone is fine: deletes are retried


def test_a_large_file_uploads_in_parts_and_streams_back_in_ranges(storage, tmp_path):
    # Bigger than obstore's 5 MiB part size and than one ranged read.
    data = os.urandom(READ_CHUNK + 3 * 1024 * 1024 + 17)
    source = tmp_path / "big.bin"
    source.write_bytes(data)
    storage.put_file("uploads/run-1/big.bin", source)
    assert storage.size("uploads/run-1/big.bin") == len(data)

    with storage.open("uploads/run-1/big.bin") as stream:
        head = stream.read(10)
        rest = stream.read()
    assert head + rest == data

    copy = storage.download("uploads/run-1/big.bin", tmp_path / "scratch" / "big.bin")
    assert copy.read_bytes() == data
    assert [p.name for p in copy.parent.iterdir()] == ["big.bin"]


def test_open_reads_lines(storage):
    storage.put_bytes("logs/runs/3.jsonl", b'{"n": 1}\n{"n": 2}\n')
    with storage.open("logs/runs/3.jsonl") as stream:
        assert stream.readlines() == [b'{"n": 1}\n', b'{"n": 2}\n']


def test_listing_is_by_path_segment_and_sorted(storage):
    for key in ("q/b/reason.json", "q/a/file.csv", "q/a/reason.json", "qa/other", "top"):
        storage.put_bytes(key, b"x")
    assert [o.key for o in storage.list_objects("q")] == [
        "q/a/file.csv",
        "q/a/reason.json",
        "q/b/reason.json",
    ]
    assert storage.list_dirs("q") == ["q/a", "q/b"]
    assert {o.key for o in storage.list_objects()} >= {"top", "qa/other"}
    assert all(o.size == 1 for o in storage.list_objects("q"))


def test_delete_prefix_removes_only_that_prefix(storage):
    for key in ("artifacts/runs/1/a", "artifacts/runs/1/b/c", "artifacts/runs/10/a"):
        storage.put_bytes(key, b"x")
    assert storage.delete_prefix("artifacts/runs/1") == 2
    assert [o.key for o in storage.list_objects("artifacts")] == ["artifacts/runs/10/a"]


def test_download_prefix_keeps_relative_paths(storage, tmp_path):
    storage.put_bytes("kb/docs/kb.jsonl", b"{}\n")
    storage.put_bytes("kb/docs/parts/1.npy", b"\x93NUMPY")
    paths = storage.download_prefix("kb/docs", tmp_path / "kb")
    assert sorted(p.relative_to(tmp_path / "kb").as_posix() for p in paths) == ["kb.jsonl", "parts/1.npy"]
    assert (tmp_path / "kb" / "parts" / "1.npy").read_bytes() == b"\x93NUMPY"


@pytest.mark.parametrize("key", ["../escape", "a/../../escape", "/abs", "a//b", "a/./b", "a\\b", ""])
def test_keys_never_leave_the_root(storage, key):
    with pytest.raises(InputError, match="storage key"):
        storage.put_bytes(key, b"x")
    assert storage.list_objects() == []


def test_check_passes_and_leaves_nothing_behind(storage):
    storage.check()
    assert storage.list_objects() == []


def test_local_storage_is_plain_files_in_its_folder(tmp_path):
    storage = Storage(tmp_path / "state")
    storage.put_bytes("quarantine/7/reason.json", b"{}")
    assert (tmp_path / "state" / "quarantine" / "7" / "reason.json").read_bytes() == b"{}"
    assert storage.local_path("quarantine/7/reason.json") == tmp_path / "state/quarantine/7/reason.json"
    assert storage.uri == (tmp_path / "state").as_uri()
    storage.delete("quarantine/7/reason.json")
    assert not (tmp_path / "state" / "quarantine").exists()  # emptied folders go too


def test_s3_storage_keeps_everything_under_its_prefix(endpoint):
    from tests.core.lake.s3server import new_bucket, storage_options

    bucket = new_bucket(endpoint)
    storage = Storage(f"s3://{bucket}/team/state/", storage_options(endpoint))
    assert storage.uri == f"s3://{bucket}/team/state"
    assert storage.local_path("x") is None
    storage.put_bytes("uploads/1/a.csv", b"id\n1\n")
    assert keys(endpoint, bucket) == ["team/state/uploads/1/a.csv"]
    assert storage.url("uploads/1/a.csv") == f"s3://{bucket}/team/state/uploads/1/a.csv"
    assert storage.describe() == f"s3://{bucket}/team/state (endpoint {endpoint})"
    assert "testing" not in repr(storage) + storage.describe()  # no credentials shown
