"""Datasets over HTTP: upload -> ingest run -> versions, stats, quarantine, savings."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from lakegate_server.conf import project
from lakegate_server.flow import ingest_file
from tests.support.fixtures import staged_entries

pytestmark = pytest.mark.django_db(transaction=True)

WEATHER = b"id,temp,city\n1,20.5,Oslo\n2,22.1,Rome\n3,,Oslo\n"


def upload(api, role, name, content, filename="w1.csv", **query):
    client = api(role)
    qs = "&".join(f"{k}={v}" for k, v in query.items())
    return client.client.post(
        f"/api/v1/datasets/{name}/files" + (f"?{qs}" if qs else ""),
        {"file": SimpleUploadedFile(filename, content)},
        headers=client.headers,
    )


def test_an_upload_becomes_a_version_through_an_ingest_run(api, execute_queued):
    response = upload(api, "editor", "weather", WEATHER)
    assert response.status_code == 202, response.content
    run = response.json()
    assert (run["kind"], run["params"]["dataset"], run["params"]["original_name"]) == (
        "ingest",
        "weather",
        "w1.csv",
    )
    assert execute_queued() == ["succeeded"]
    finished = api("viewer").get(f"/api/v1/runs/{run['id']}").json()
    assert finished["result"]["version"] == 1

    listed = api("viewer").get("/api/v1/datasets").json()["items"]
    assert [(d["name"], d["versions"], d["rows"]) for d in listed] == [("weather", 1, 3)]
    shown = api("viewer").get("/api/v1/datasets/weather").json()
    assert shown["schema"] == {"id": "int", "temp": "float", "city": "string"}
    assert shown["latest"]["source"] == "w1.csv"
    versions = api("viewer").get("/api/v1/datasets/weather/versions").json()["items"]
    assert [v["version"] for v in versions] == [1]
    stats = api("viewer").get("/api/v1/datasets/weather/versions/1/stats").json()
    assert stats["columns"]["temp"]["mean"] == pytest.approx(21.3)
    assert stats["columns"]["city"]["top"][0] == {"value": "Oslo", "count": 2}


def test_a_duplicate_upload_creates_no_version(api, execute_queued):
    upload(api, "editor", "weather", WEATHER)
    upload(api, "editor", "weather", WEATHER, filename="again.csv")
    execute_queued()
    runs = api("viewer").get("/api/v1/runs").json()["items"]
    assert runs[0]["result"]["duplicate"] is True
    assert runs[0]["result"]["message"] == "duplicate of version 1"
    assert len(api("viewer").get("/api/v1/datasets/weather/versions").json()["items"]) == 1


def test_a_bad_upload_fails_its_run_and_is_quarantined(api, execute_queued, settings):
    upload(api, "editor", "weather", WEATHER)
    upload(api, "editor", "weather", b"id,temp,city\nx,1,Oslo\n", filename="bad.csv")
    assert execute_queued() == ["succeeded", "failed"]
    failed = api("viewer").get("/api/v1/runs", status="failed").json()["items"][0]
    assert failed["attempts"] == 1, "a bad file is not retried"
    assert "bad.csv: type conflict" in failed["last_error"]
    quarantined = api("viewer").get("/api/v1/quarantine").json()["items"]
    assert [(q["source"], q["dataset"]) for q in quarantined] == [("bad.csv", "weather")]

    assert api("viewer").post(f"/api/v1/quarantine/{quarantined[0]['id']}/retry").status_code == 403
    retried = api("editor").post(f"/api/v1/quarantine/{quarantined[0]['id']}/retry?evolve=true")
    assert retried.status_code == 200, retried.content
    assert retried.json()["widened_columns"] == {"id": "string"}
    assert api("viewer").get("/api/v1/quarantine").json()["items"] == []
    assert not staged_entries(settings.LAKEGATE.paths.uploads), "no staged upload is left behind"


def test_uploads_over_the_limit_are_413(api, settings):
    before = staged_entries(settings.LAKEGATE.paths.uploads)
    web = settings.LAKEGATE.web.model_copy(update={"max_upload_bytes": 100})
    settings.LAKEGATE = settings.LAKEGATE.model_copy(update={"web": web})
    response = upload(api, "editor", "weather", b"x" * 5000)
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "payload_too_large"
    assert staged_entries(settings.LAKEGATE.paths.uploads) == before


def test_upload_needs_an_editor_a_file_and_a_valid_name(api, settings):
    before = staged_entries(settings.LAKEGATE.paths.uploads)
    assert upload(api, "viewer", "weather", WEATHER).status_code == 403
    assert upload(api, None, "weather", WEATHER).status_code == 401
    client = api("editor")
    missing = client.client.post("/api/v1/datasets/weather/files", {}, headers=client.headers)
    assert missing.status_code == 422
    assert "multipart form field 'file'" in missing.json()["error"]["message"]
    bad = upload(api, "editor", "Bad Name", WEATHER)
    assert bad.status_code == 422
    assert bad.json()["error"]["code"] == "validation_error"
    assert "path.name: String should match pattern" in bad.json()["error"]["message"]
    assert staged_entries(settings.LAKEGATE.paths.uploads) == before


def test_unknown_datasets_and_versions_are_404(api, tmp_path):
    assert api("viewer").get("/api/v1/datasets/nope").status_code == 404
    path = tmp_path / "w.csv"
    path.write_bytes(WEATHER)
    ingest_file(config=project(), dataset="weather", path=path, actor="test")
    assert (
        api("viewer").get("/api/v1/datasets/weather/versions/5/stats").json()["error"]["code"] == "not_found"
    )


def test_an_ingest_run_cannot_read_files_outside_the_uploads_folder(api, execute_queued, tmp_path):
    secret = tmp_path / "secret.csv"
    secret.write_bytes(WEATHER)
    run = api("editor").post(
        "/api/v1/runs", {"kind": "ingest", "params": {"dataset": "x", "path": str(secret)}}
    )
    assert run.status_code == 201
    assert execute_queued() == ["failed"]
    failed = api("viewer").get(f"/api/v1/runs/{run.json()['id']}").json()
    assert "params.path must be a file under" in failed["last_error"]
    assert api("viewer").get("/api/v1/datasets").json()["items"] == []


def test_stats_report_savings(api, tmp_path):
    path = tmp_path / "w.csv"
    path.write_bytes(WEATHER)
    version = ingest_file(config=project(), dataset="weather", path=path, actor="test").version
    body = api("viewer").get("/api/v1/stats").json()
    assert body["total"]["files"] == 1
    assert body["total"]["bytes_in"] == version.bytes_in == len(WEATHER)
    assert body["datasets"][0]["dataset"] == "weather"
    [csv] = body["formats"]
    assert (csv["format"], csv["files"], csv["bytes_in"]) == ("csv", 1, len(WEATHER))
    assert body["cost"]["raw_per_month"] == round(len(WEATHER) / 10**9 * 0.023, 4)
