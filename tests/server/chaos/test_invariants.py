"""Each chaos invariant holds on a good state and fails, naming the problem, on a hand-made bad one."""

from __future__ import annotations

import copy

import pytest

from lakegate_server.chaos.invariants import (
    Sent,
    Snapshot,
    check_all,
    check_champion,
    check_delta,
    check_files,
    check_models,
    check_poison,
    check_predict,
    check_runs,
    check_stream,
    check_versions_decided,
)

NOW = 1_000_000.0


def good() -> tuple[Sent, Snapshot]:
    sent = Sent(
        files={
            "a.csv": ("inbox", 10, "a" * 64, False),
            "b.csv": ("inbox", 5, "b" * 64, False),
            "bad.bin": ("inbox", 0, "c" * 64, True),
        },
        stream_acked=[1, 2, 3],
        poison_runs=[9],
        predict_answers=12,
    )
    snap = Snapshot(
        now=NOW,
        lease_seconds=2.0,
        versions=[
            {
                "dataset": "inbox",
                "number": 1,
                "sha256": "a" * 64,
                "rows": 10,
                "total_rows": 10,
                "status": "accepted",
            },
            {
                "dataset": "inbox",
                "number": 2,
                "sha256": "b" * 64,
                "rows": 5,
                "total_rows": 15,
                "status": "rejected",
            },
            {
                "dataset": "stream",
                "number": 1,
                "sha256": "d" * 64,
                "rows": 3,
                "total_rows": 3,
                "status": "accepted",
            },
        ],
        quarantine=[
            {
                "id": "q1",
                "dataset": "inbox",
                "sha256": "c" * 64,
                "reason": "not a CSV",
                "resolved_version": None,
            }
        ],
        delta={
            "inbox": {"latest": 1, "rows": 15, "unreadable": {}},
            "stream": {"latest": 0, "rows": 3, "unreadable": {}},
        },
        stream_ids=[1, 2, 3],
        runs=[
            {
                "id": 7,
                "kind": "train",
                "status": "succeeded",
                "attempts": 2,
                "max_attempts": 3,
                "queued_at": NOW - 50,
                "created": True,
                "model_version": 1,
            },
            {
                "id": 11,
                "kind": "train",
                "status": "succeeded",
                "attempts": 1,
                "max_attempts": 3,
                "queued_at": NOW - 40,
                "created": False,
                "model_version": 1,
            },
            {
                "id": 8,
                "kind": "ingest",
                "status": "queued",
                "attempts": 0,
                "max_attempts": 3,
                "queued_at": NOW - 1,
            },
            {
                "id": 9,
                "kind": "selfcheck",
                "status": "failed",
                "attempts": 3,
                "max_attempts": 3,
                "queued_at": NOW - 90,
            },
        ],
        model_versions=[{"model": "m", "number": 1, "run_id": 7}],
        champions={"m": {"version": 1, "loadable": True, "error": ""}},
    )
    return sent, snap


def test_a_good_state_has_no_violations():
    sent, snap = good()
    assert check_all(sent, snap) == []


def test_a_file_neither_in_the_lake_nor_quarantined_is_lost():
    sent, snap = good()
    snap.versions = snap.versions[1:]
    found = check_files(sent, snap)
    assert [v.detail for v in found] == ["a.csv: neither in the lake nor quarantined"]


def test_a_file_in_the_lake_and_still_quarantined_is_there_twice():
    sent, snap = good()
    snap.quarantine.append(
        {"id": "q2", "dataset": "inbox", "sha256": "a" * 64, "reason": "x", "resolved_version": None}
    )
    (found,) = check_files(sent, snap)
    assert "a.csv: in the lake as version 1 and still quarantined (q2)" in found.detail
    # once the entry was retried into that version, it is resolved, not a second copy
    snap.quarantine[-1]["resolved_version"] = 1
    assert check_files(sent, snap) == []


def test_two_versions_with_one_content_hash_are_a_duplicate():
    sent, snap = good()
    snap.versions.append({**snap.versions[0], "number": 3})
    found = check_files(sent, snap)
    assert found[0].invariant == "no duplicate content hashes"


def test_rows_lost_between_the_file_and_the_lake_are_counted():
    sent, snap = good()
    snap.versions[0]["rows"] = 9
    (found,) = check_files(sent, snap)
    assert found.detail == "a.csv: 10 rows sent, 9 in the lake"


def test_a_quarantine_entry_needs_a_reason_and_a_bad_file_never_becomes_a_version():
    sent, snap = good()
    snap.quarantine[0]["reason"] = " "
    assert [v.invariant for v in check_files(sent, snap)] == ["quarantined with a reason"]
    sent, snap = good()
    snap.quarantine = []
    snap.versions.append(
        {"dataset": "inbox", "number": 3, "sha256": "c" * 64, "rows": 0, "status": "accepted"}
    )
    assert "an unreadable file became a version" in check_files(sent, snap)[0].detail


def test_an_unreadable_delta_version_or_a_table_the_catalog_disagrees_with():
    _, snap = good()
    snap.delta["inbox"]["unreadable"] = {"1": "FileNotFoundError: part-0001.parquet"}
    (found,) = check_delta(snap)
    assert found.detail == "inbox@1: FileNotFoundError: part-0001.parquet"
    _, snap = good()
    snap.delta["inbox"]["rows"] = 25  # a commit the catalog never recorded
    (found,) = check_delta(snap)
    assert found.detail == "inbox: 25 rows in the table, catalog says 15"


def test_a_version_left_pending_is_a_violation():
    _, snap = good()
    snap.versions[1]["status"] = "pending"
    (found,) = check_versions_decided(snap)
    assert found.detail == "inbox@2 is still pending"


@pytest.mark.parametrize(
    ("ids", "expected"),
    [([1, 2, 3, 3], "1 records twice, e.g. id 3"), ([1, 3], "1 acknowledged records missing, e.g. id 2")],
)
def test_acknowledged_stream_records_land_exactly_once(ids, expected):
    sent, snap = good()
    snap.stream_ids = ids
    (found,) = check_stream(sent, snap)
    assert found.detail == expected


def test_runs_left_running_or_queued_past_three_leases_or_over_their_attempts():
    _, snap = good()
    next(r for r in snap.runs if r["id"] == 8)["queued_at"] = NOW - 7  # 3 x 2 s lease = 6 s
    snap.runs.append(
        {
            "id": 10,
            "kind": "ingest",
            "status": "running",
            "attempts": 1,
            "max_attempts": 3,
            "lease_expires_at": NOW - 30,
        }
    )
    snap.runs[0]["attempts"] = 4
    details = sorted(v.detail for v in check_runs(snap))
    assert details == [
        "run 10 (ingest) running, lease expired 30 s ago",
        "run 7 (train): 4 attempts > 3",
        "run 8 (ingest) queued for 7 s",
    ]


def test_a_poison_run_that_loops_or_fails_early_is_a_violation():
    sent, snap = good()
    looping = copy.deepcopy(snap)
    next(r for r in looping.runs if r["id"] == 9)["status"] = "queued"
    assert check_poison(sent, looping)[0].detail == "run 9 is queued"
    early = copy.deepcopy(snap)
    next(r for r in early.runs if r["id"] == 9)["attempts"] = 2
    assert check_poison(sent, early)[0].detail == "run 9 failed after 2 of 3 attempts"


def test_one_model_version_per_successful_training_run():
    _, snap = good()
    snap.model_versions.append({"model": "m", "number": 2, "run_id": 7})
    (found,) = check_models(snap)
    assert found.detail == "run 7 (succeeded): 2 model versions"
    _, snap = good()
    snap.model_versions = []
    assert [v.detail for v in check_models(snap)] == [
        "run 7 created a version, 0 in the registry",
        "run 11 names version 1, not in the registry",
    ]


def test_a_champion_that_does_not_load_and_a_predict_route_that_failed():
    sent, snap = good()
    snap.champions["m"] = {"version": 1, "loadable": False, "error": "sha256 mismatch"}
    assert check_champion(snap)[0].detail == "m v1: sha256 mismatch"
    sent.predict_failures = ["503 model unavailable"]
    assert check_predict(sent)[0].detail == "1 of 13 requests failed, e.g. 503 model unavailable"
