"""Hostile files through the upload API: each upload's run succeeds or fails, never a 5xx or a stuck
run; each refused file waits in the quarantine with its reason; nothing is left staged."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from tests.support.fixtures import staged_entries
from tests.support.hostile_ingest import reader_crashes

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.mark.timeout(600)
def test_hostile_uploads_are_ingested_or_quarantined_with_a_reason(api, execute_queued, settings, tmp_path):
    files = reader_crashes(tmp_path / "hostile")
    editor = api("editor")
    for index, item in enumerate(files):
        response = editor.client.post(
            f"/api/v1/datasets/hostile{index}/files",
            {"file": SimpleUploadedFile(item.path.name, item.path.read_bytes())},
            headers=editor.headers,
        )
        assert response.status_code == 202, (item.path.name, response.content)
    outcomes = execute_queued()
    assert len(outcomes) == len(files)
    assert set(outcomes) <= {"succeeded", "failed"}
    runs = api("viewer").get("/api/v1/runs?limit=100").json()["items"]
    failed = {r["params"]["original_name"]: r for r in runs if r["status"] == "failed"}
    assert {"good.csv", "durations.parquet"}.isdisjoint(failed)
    assert {"nested.json", "case-dup-keys.json", "wide.csv", "cut.xls", "zip-symlink.zip"} <= set(failed)
    # An entry named ../../evil.csv is read from a generated scratch name: nothing lands outside.
    assert not any(p.name == "evil.csv" for p in tmp_path.rglob("evil.csv"))
    assert all(r["attempts"] == 1 for r in failed.values()), "a hostile file is not retried"
    quarantined = {q["source"]: q for q in api("viewer").get("/api/v1/quarantine").json()["items"]}
    assert set(quarantined) == set(failed)
    assert all(q["reason"].strip() for q in quarantined.values())
    assert "readers.max_columns" in quarantined["wide.csv"]["reason"]
    assert not staged_entries(settings.LAKEGATE.paths.uploads), "no staged upload is left behind"


def test_an_unexpected_failure_while_ingesting_is_quarantined_not_a_crash(api, tmp_path, monkeypatch):
    from lakegate_server import flow
    from lakegate_server.conf import project
    from lakegate_server.datasets.services import QuarantinedError

    def explode(**_kwargs: object) -> None:
        raise RuntimeError("Schema error: something a library said")

    monkeypatch.setattr(flow, "version_commit", explode)
    path = tmp_path / "odd.csv"
    path.write_text("a\n1\n")
    with pytest.raises(QuarantinedError) as caught:
        flow.ingest_file(config=project(), dataset="odd", path=path, actor="test")
    assert "odd.csv: could not be ingested (RuntimeError: Schema error" in caught.value.message
    [entry] = api("viewer").get("/api/v1/quarantine").json()["items"]
    assert entry["source"] == "odd.csv"
    assert "RuntimeError" in entry["reason"]
    assert path.exists(), "the user's file is never moved"
