"""The Python API (``lakegate.Project``) through its public surface, on the test project.

The notebook in ``examples/`` drives the same API in a fresh process and project
(tests/e2e/test_notebook.py); here each behaviour is checked against the records it leaves.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys

import polars as pl
import pytest
from django.conf import settings

import lakegate
from lakegate.errors import ConflictError, InputError, JobError, NotFoundError, ProjectNotFoundError
from lakegate_server.datasets.models import DatasetVersion
from lakegate_server.jobs.models import Run
from lakegate_server.training.models import PredictionBatch
from tests.server.training.data import CHURN, customer_frame

pytestmark = pytest.mark.django_db(transaction=True)

PUBLIC = [
    "Dataset",
    "LakegateError",
    "ModelVersion",
    "Project",
    "ProjectPaths",
    "Report",
    "Settings",
    "Version",
    "__version__",
    "find_project_dir",
    "init_project",
    "load_settings",
]


@pytest.fixture(autouse=True)
def _fresh_state() -> None:
    paths = settings.LAKEGATE.paths
    for folder in (paths.lake, paths.artifacts / "models", paths.artifacts / "runs"):
        shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture
def lg() -> lakegate.Project:
    return lakegate.Project(settings.LAKEGATE.project_dir)


def test_the_public_names_are_curated_and_import_lakegate_stays_light():
    assert sorted(lakegate.__all__) == PUBLIC
    heavy = "sorted(m for m in ('django', 'polars', 'sklearn') if m in sys.modules)"
    code = f"import json, sys, lakegate; p = lakegate.Project; print(json.dumps([p.__module__, {heavy}]))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert json.loads(out) == ["lakegate_server.project", []]


def test_ingest_a_file_and_a_frame_gated_versioned_and_time_travel(lg, tmp_path):
    first = tmp_path / "customers.parquet"
    customer_frame(300, seed=1).write_parquet(first)
    v1 = lg.ingest(first, dataset="customers")
    assert (v1.dataset, v1.number, v1.status, v1.rows, v1.duplicate) == (
        "customers",
        1,
        "accepted",
        300,
        False,
    )
    assert v1.report is not None
    assert v1.report.status == "pass"
    assert "<iframe srcdoc=" in v1.report._repr_html_()
    assert "customers" in v1._repr_html_()
    assert first.is_file(), "the user's file is copied, never moved"

    v2 = lg.ingest(customer_frame(200, seed=2, start_id=301), dataset="customers")
    assert (v2.number, v2.rows, v2.total_rows) == (2, 200, 500)
    again = lg.ingest(first, dataset="customers")
    assert (again.number, again.duplicate) == (1, True)
    rows = DatasetVersion.objects.filter(dataset__name="customers").order_by("number")
    assert [(r.number, r.created_by) for r in rows] == [(1, "python"), (2, "python")]

    assert list(lg.datasets) == ["customers"]
    assert len(lg.datasets) == 1
    customers = lg.datasets["customers"]
    assert customers.to_polars(version=1).height == 300
    assert customers.to_polars().height == 500
    assert customers.scan(version=2).select(pl.len()).collect().item() == 500
    assert [v.number for v in customers.versions()] == [2, 1]
    assert customers.version(1).report.status == "pass"
    with pytest.raises(KeyError):
        lg.datasets["nope"]
    with pytest.raises(NotFoundError):
        customers.to_polars(version=9)


def test_check_records_a_verdict_and_returns_the_html_report(lg, tmp_path):
    lg.ingest(customer_frame(400, seed=1), dataset="customers")
    shifted = customer_frame(400, seed=2, start_id=401).with_columns(
        pl.col("income", "age", "tenure_months", "tickets") * 50
    )
    lg.ingest(shifted, dataset="customers")
    report = lg.check("customers", version=2, reference=1)
    assert (report.dataset, report.version, report.status) == ("customers", 2, "fail")
    assert "drift" in [check["kind"] for check in report.failed]
    assert DatasetVersion.objects.get(number=2).status == "rejected"
    saved = report.save_html(tmp_path / "report.html")
    assert saved.read_text() == report.html
    assert "Quality report: customers 2" in report.html
    approved = lg.approve("customers", version=2, reason="income is in cents now")
    assert approved.status == "accepted"


def test_train_in_process_then_predict_a_frame_and_a_file(lg, pipelines, tmp_path):
    lg.ingest(customer_frame(1000, seed=1), dataset="customers")
    model_spec = {**CHURN["model"], "positive_class": "yes"}  # the frames' label is "yes" / "no"
    pipelines(churn={**CHURN, "model": model_spec, "predict_on": None})
    model = lg.train("churn")
    assert (model.name, model.number, model.stage, model.champion) == ("churn", 1, "champion", True)
    assert model.metrics["f1"] > 0.3
    assert "first model" in model.decision
    assert lg.model("churn").number == 1
    assert [m.number for m in lg.models("churn")] == [1]
    run = Run.objects.get(kind="train", created_by="python")
    assert run.status == "succeeded"
    assert run.result["version"] == 1

    new = customer_frame(50, seed=9, start_id=5000).drop("churned")
    scored = lg.predict("churn", new)
    assert scored.height == 50
    assert {"customer_id", "prediction", "proba_yes"} <= set(scored.columns)
    source = tmp_path / "new.csv"
    new.write_csv(source)
    out = tmp_path / "scored.parquet"
    from_file = lg.predict("churn", source, out=out)
    assert from_file.equals(scored)
    assert pl.read_parquet(out).equals(scored)
    assert PredictionBatch.objects.filter(created_by="python").count() == 2

    queued = lg.train("churn", in_process=False)
    assert (queued.kind, queued.status) == ("train", "queued")
    done = lg.run_queued(kinds=["train"])
    assert [(r.id, r.status) for r in done] == [(queued.id, "succeeded")]
    assert done[0].result["created"] is False, "same data, same config: no new version"


def test_a_failed_training_run_raises_with_the_run_named(lg, pipelines):
    pipelines(churn=CHURN)  # no customers dataset: nothing to train on
    with pytest.raises(JobError, match=r"training run \d+ of 'churn' failed"):
        lg.train("churn")
    with pytest.raises(NotFoundError, match="train its pipeline first"):
        lg.predict("churn", pl.DataFrame({"x": [1]}))


def test_convert_and_kb_without_the_catalog(lg, tmp_path, settings):
    source = tmp_path / "in.csv"
    source.write_text("id,amount\n1,2.5\n2,3.5\n")
    [result] = lg.convert(source, tmp_path / "out", types={"id": "string"})
    assert pl.read_parquet(result.tables[0].path).schema["id"] == pl.String

    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "rivers.txt").write_text("The river water quality is measured every week at the weir.")
    (docs / "cake.txt").write_text("Bake the chocolate cake for forty minutes at 180 degrees.")
    lg.kb.build(docs, tmp_path / "kb.jsonl", categories=1)
    settings.LAKEGATE = settings.LAKEGATE.model_copy(
        update={"knowledge_bases": {"docs": tmp_path / "kb.jsonl"}}
    )
    assert lg.kb.names() == ["docs"]
    hits = lg.kb.search("river water", k=1)
    assert hits[0]["path"].endswith("rivers.txt")


def test_bad_input_is_a_clear_error(lg, tmp_path):
    with pytest.raises(ProjectNotFoundError, match=r"holds no lakegate\.yaml"):
        lakegate.Project(tmp_path)
    other = tmp_path / "other"
    lakegate.init_project(other)
    with pytest.raises(ConflictError, match="one process serves one project"):
        lakegate.Project(other).datasets["x"]
    with pytest.raises(InputError, match="expected a file path or a polars/pandas DataFrame, got dict"):
        lg.ingest({"a": [1]}, dataset="customers")
    bad = tmp_path / "bad.csv"
    bad.write_bytes(b"\x00\x01 not a table")
    with pytest.raises(InputError):
        lg.ingest(bad, dataset="customers")
