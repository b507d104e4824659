"""Knowledge bases built by the service: POST /api/v1/kb as a run, build reports with corpus
drift, the folder fence, and the dashboard's knowledge pages."""

from __future__ import annotations

import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.conf import settings as django_settings

from lakegate_server.knowledge.models import KnowledgeBuild

pytestmark = pytest.mark.django_db(transaction=True)

WATER = {
    "water/rivers.txt": "River water quality depends on nitrate levels and dissolved oxygen in streams.",
    "water/lakes.md": "# Lakes\n\nLake temperature and algae blooms change with the seasons.",
    "water/wells.txt": "Wells draw ground water; nitrate from fields can reach the water table.",
    "notes.txt": "Water samples are taken every month from rivers, lakes and wells.",
}
ENGINES = {
    "engines/diesel.txt": "The diesel engine injects fuel into compressed hot air in the cylinder.",
    "engines/turbo.txt": "A turbocharger pushes more air into the engine cylinders for more power.",
    "engines/oil.txt": "Engine oil keeps the pistons and the crankshaft of the engine lubricated.",
    "engines/spark.txt": "A spark plug ignites the fuel and air mixture in a petrol engine cylinder.",
}


def write(root: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text, encoding="utf-8")


@pytest.fixture
def folder() -> Iterator[str]:
    """A folder of documents inside the test project, named relative to it."""
    name = f"docs-{uuid.uuid4().hex[:8]}"
    root = django_settings.LAKEGATE.project_dir / name
    write(root, WATER)
    yield name
    shutil.rmtree(root, ignore_errors=True)


def build(api, execute_queued, **payload):
    response = api("editor").post("/api/v1/kb", payload)
    assert response.status_code == 202, response.text
    assert response.json()["kind"] == "kb_build"
    assert execute_queued() == ["succeeded"]
    return response.json()["id"]


def test_a_build_is_a_run_whose_report_is_kept_and_whose_base_is_searchable(api, execute_queued, folder):
    run_id = build(api, execute_queued, name="water", folder=folder, categories=2)
    [item] = api("viewer").get("/api/v1/kb/builds", kb="water").json()["items"]
    assert item["run"] == run_id
    assert (item["name"], item["folder"], item["embedder"]) == ("water", folder, "tfidf")
    assert item["report"]["files_indexed"] == len(WATER)
    assert item["report"]["drift"] is None  # a first build has nothing to compare with
    assert Path(item["output"]).is_relative_to(django_settings.LAKEGATE.paths.state / "kb" / "water")

    assert {"name": "water", "path": item["output"]} in api("viewer").get("/api/v1/kb").json()["items"]
    hits = api("viewer").get("/api/v1/kb/search", q="dissolved oxygen", kb="water").json()["hits"]
    assert hits[0]["path"] == "water/rivers.txt"
    logs = api("viewer").get(f"/api/v1/runs/{run_id}/logs").json()["entries"]
    assert "knowledge base built" in [entry["msg"] for entry in logs]


def test_a_rebuild_reads_only_changes_and_reports_the_corpus_drift(api, execute_queued, folder):
    build(api, execute_queued, name="drifting", folder=folder, categories=2)
    write(django_settings.LAKEGATE.project_dir / folder, ENGINES)
    build(api, execute_queued, name="drifting", folder=folder, categories=2)
    newest, first = api("viewer").get("/api/v1/kb/builds", kb="drifting").json()["items"]
    assert first["report"]["drift"] is None
    report = newest["report"]
    assert (report["files_read"], report["files_reused"]) == (len(ENGINES), len(WATER))
    drift = report["drift"]
    assert drift["previous_chunks"] == first["report"]["chunks"]
    assert drift["centroid_shift"] > 0.05
    assert drift["new_categories"], drift  # the engines are a topic the last build did not have
    assert 0 < drift["new_category_share"] < 1


@pytest.mark.parametrize(
    ("payload", "status", "reason"),
    [
        ({"name": "x", "folder": "../outside"}, 422, "outside_project"),
        ({"name": "x", "folder": "/etc"}, 422, "outside_project"),
        ({"name": "x", "folder": ".lakegate"}, 422, "outside_project"),
        ({"name": "x", "folder": "."}, 422, "outside_project"),
        ({"name": "Bad Name", "folder": "docs"}, 422, None),  # the schema's pattern (validation_error)
        ({"name": "x", "folder": "no-such-folder"}, 404, None),
    ],
)
def test_a_build_outside_the_project_or_with_a_bad_name_is_refused_before_queueing(
    api, payload, status, reason
):
    response = api("editor").post("/api/v1/kb", payload)
    assert response.status_code == status, response.text
    if reason:
        assert response.json()["error"]["detail"]["reason"] == reason
    assert not KnowledgeBuild.objects.exists()
    assert api("viewer").get("/api/v1/runs", kind="kb_build").json()["items"] == []


def test_a_symbolic_link_out_of_the_project_is_refused(api, tmp_path):
    link = django_settings.LAKEGATE.project_dir / f"link-{uuid.uuid4().hex[:8]}"
    link.symlink_to(tmp_path, target_is_directory=True)
    try:
        response = api("editor").post("/api/v1/kb", {"name": "x", "folder": link.name})
    finally:
        link.unlink()
    assert response.status_code == 422
    assert "outside the project" in response.json()["error"]["message"]
