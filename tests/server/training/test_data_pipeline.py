"""A data pipeline in the service: raw -> curated (a gated version, lineage to its inputs),
triggered by a new raw version, and a training pipeline fed by the curated dataset."""

from __future__ import annotations

import pytest

import lakegate
from lakegate_server.conf import project
from lakegate_server.datasets.models import DatasetVersion
from lakegate_server.flow import ingest_file
from lakegate_server.jobs.models import Run
from lakegate_server.lineage.selectors import dataset_lineage
from lakegate_server.training.models import ModelVersion
from lakegate_server.training.selectors import pipeline_list
from tests.server.training.data import CHURN, customer_frame

pytestmark = pytest.mark.django_db(transaction=True)

CURATE = {
    "inputs": ["customers_raw"],
    "steps": [{"fill_nulls": {"income": "median"}}, {"drop": ["age"]}],
    "output": {"dataset": "customers"},
    "triggers": [{"on_new_version": "customers_raw"}, "manual"],
}


def test_raw_to_curated_to_a_model_with_lineage(pipelines, execute_queued, tmp_path, settings):
    pipelines(curate=CURATE, churn={**CHURN, "predict_on": None})
    raw = tmp_path / "raw.csv"
    customer_frame(900, seed=1).write_csv(raw)
    ingest_file(config=project(), dataset="customers_raw", path=raw, actor="test")
    execute_queued()  # curate runs, its output is gated and accepted, churn trains on it

    curate_run = Run.objects.get(kind="train", params__pipeline="curate")
    assert curate_run.status == "succeeded", curate_run.last_error
    curated = DatasetVersion.objects.get(dataset__name="customers")
    assert (curated.number, curated.status, curated.rows) == (1, "accepted", 900)
    assert curated.created_by == f"run:{curate_run.pk}"
    assert "age" not in curated.table_schema
    assert curated.stats["income"]["null_pct"] == 0
    assert curate_run.result["output"] == {
        "dataset": "customers",
        "version": 1,
        "status": "accepted",
        "duplicate": False,
        "rows": 900,
    }

    model = ModelVersion.objects.get(model__name="churn")
    assert [(v.dataset.name, v.number) for v in model.dataset_versions.all()] == [("customers", 1)]

    up = dataset_lineage(name="customers", number=1)["upstream"]
    assert (up["file"]["via"], up["file"]["detail"], up["file"]["run"]) == (
        "pipeline",
        "curate",
        curate_run.pk,
    )
    assert [(d["dataset"], d["version"]) for d in up["derived_from"]] == [("customers_raw", 1)]
    down = dataset_lineage(name="customers_raw", number=1)["downstream"]
    assert [(d["dataset"], d["version"], d["pipeline"]) for d in down["datasets"]] == [
        ("customers", 1, "curate")
    ]

    listed = {row.name: row for row in pipeline_list(config=project())}
    assert (listed["curate"].task, listed["curate"].output) == ("dataset", "customers")

    # Run again by hand (the Python API): same inputs -> same bytes -> the existing version, no new one.
    again = lakegate.Project(settings.LAKEGATE.project_dir).train("curate")
    assert (again.dataset, again.number, again.status) == ("customers", 1, "accepted")
    last = Run.objects.filter(kind="train", params__pipeline="curate").latest("id")
    assert last.result["output"]["duplicate"] is True
    assert DatasetVersion.objects.filter(dataset__name="customers").count() == 1
