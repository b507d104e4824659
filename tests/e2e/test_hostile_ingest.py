"""``lakegate ingest`` over files that once crashed a reader: each gets its outcome, the batch goes on,
every refused file is quarantined with its reason, the exit is non-zero, no traceback."""

from __future__ import annotations

import json

import pytest

from tests.support.hostile_ingest import check_ingest, reader_crashes


@pytest.mark.timeout(600)
def test_a_batch_of_hostile_files_reports_every_file_and_quarantines_the_refused(project):
    files = reader_crashes(project.root / "hostile")
    figures = check_ingest(project.run, files)
    assert figures["violations"] == []
    assert figures["files"] == len(files)
    assert figures["exit"] == 1
    assert figures["ingested"] >= 2  # good.csv and the durations (as seconds)
    assert figures["quarantined"] == figures["refused"]
    listed = json.loads(project.run("quarantine", "list", "--json").stdout)["items"]
    reasons = {item["source"]: item["reason"] for item in listed}
    assert "nested" in reasons["nested.json"]
    assert "differ only in case" in reasons["case-dup-keys.json"]
    assert "readers.max_columns" in reasons["wide.csv"]
    assert "good.csv" not in reasons
    assert "durations.parquet" not in reasons
