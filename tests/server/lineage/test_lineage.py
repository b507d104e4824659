"""Lineage both ways: file -> version -> checks/decisions -> runs -> models -> prediction tables."""

from __future__ import annotations

from pathlib import Path

import pytest

from lakegate_server.conf import project
from lakegate_server.flow import ingest_file, predictions_to_lake, version_reject
from tests.server.training.data import CHURN, customer_frame

pytestmark = pytest.mark.django_db(transaction=True)


def _ingest(tmp_path: Path, dataset: str, name: str, seed: int, start_id: int = 1) -> int:
    path = tmp_path / name
    customer_frame(500, seed=seed, start_id=start_id).write_csv(path)
    return ingest_file(config=project(), dataset=dataset, path=path, actor="cli").version.number


def test_from_a_file_to_the_predictions_it_influenced_and_back(tmp_path, pipelines, train, api):
    pipelines(churn={**CHURN, "triggers": ["manual"]})
    _ingest(tmp_path, "customers", "jan.csv", seed=1)
    assert train("churn").status == "succeeded"
    _ingest(tmp_path, "customers_current", "feb.csv", seed=2, start_id=9000)
    batch = predictions_to_lake(config=project(), model="churn", dataset="customers_current", number=1)

    viewer = api("viewer")
    data = viewer.get("/api/v1/lineage/dataset/customers/1").json()
    assert data["node"]["dataset"] == "customers"
    assert data["upstream"]["file"]["name"] == "jan.csv"
    assert data["upstream"]["file"]["via"] == "cli"
    assert len(data["upstream"]["file"]["sha256"]) == 64
    assert [c["status"] for c in data["checks"]] == ["pass"] or data["checks"][0]["status"] in {
        "pass",
        "warn",
    }
    assert [d["action"] for d in data["decisions"]] == ["verdict"]
    assert [(m["model"], m["version"]) for m in data["downstream"]["models"]] == [("churn", 1)]
    assert any(r["kind"] == "train" for r in data["downstream"]["runs"])

    scored = viewer.get("/api/v1/lineage/dataset/customers_current/1").json()
    assert [(p["model"], p["model_version"], p["output"]) for p in scored["downstream"]["predictions"]] == [
        ("churn", 1, batch.output)
    ]
    predictions = viewer.get(
        f"/api/v1/lineage/dataset/churn_predictions/{batch.output_version.number}"
    ).json()
    assert predictions["upstream"]["model"]["model"] == "churn"
    scored_ref = predictions["upstream"]["scored"]
    assert (scored_ref["dataset"], scored_ref["version"]) == ("customers_current", 1)
    assert predictions["upstream"]["file"]["via"] == "predictions"

    model = viewer.get("/api/v1/lineage/model/churn/1").json()
    assert [(d["dataset"], d["version"], d["file"]["name"]) for d in model["upstream"]["training_data"]] == [
        ("customers", 1, "jan.csv")
    ]
    assert model["upstream"]["run"]["kind"] == "train"
    assert [p["output_dataset"] for p in model["downstream"]["predictions"]] == ["churn_predictions"]
    assert [d["action"] for d in model["decisions"]] == ["promote"]

    # Last Tuesday's file was bad: which models used it, and what did they predict?
    version_reject(config=project(), dataset="customers", number=1, reason="bad file", actor="alice")
    after = viewer.get("/api/v1/lineage/dataset/customers/1").json()
    assert after["node"]["status"] == "rejected"
    assert [d["action"] for d in after["decisions"]] == ["reject", "verdict"]
    assert viewer.get("/api/v1/lineage/dataset/customers/9").status_code == 404
    assert api(None).get("/api/v1/lineage/model/churn/1").status_code == 401
