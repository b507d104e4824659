"""The lineage panel: a graph from file to predictions on the version and model pages."""

from __future__ import annotations

import pytest

from lakegate_server.conf import project
from lakegate_server.dashboard.lineage_graph import dataset_graph, model_graph
from lakegate_server.flow import ingest_file
from lakegate_server.lineage.selectors import dataset_lineage, model_lineage
from tests.server.training.data import CHURN, customer_frame

pytestmark = pytest.mark.django_db(transaction=True)


def test_the_graph_joins_each_stage_to_the_next():
    lineage = {
        "node": {"dataset": "customers", "version": 2, "status": "accepted", "rows": 10},
        "upstream": {"file": {"name": "jan.csv", "via": "upload", "sha256": "ab" * 32}},
        "downstream": {
            "models": [{"model": "churn", "version": 3, "stage": "champion"}],
            "predictions": [
                {"id": 7, "output": "churn_predictions@4", "model": "churn", "model_version": 1, "rows": 5}
            ],
        },
    }
    graph = dataset_graph(lineage, urls={"model:churn:3": "/models/churn/?version=3"})
    by_key = {n.key: n for n in graph.nodes}
    assert set(by_key) == {"file", "me", "mchurn:3", "p7"}
    assert by_key["file"].x < by_key["me"].x < by_key["mchurn:3"].x == by_key["p7"].x
    assert len(graph.edges) == 3, "file -> version, version -> model, version -> predictions"
    assert by_key["mchurn:3"].url == "/models/churn/?version=3"
    assert all(0 <= n.y <= graph.height - graph.node_height for n in graph.nodes)


def test_pages_draw_the_lineage(tmp_path, pipelines, train, browse):
    pipelines(churn={**CHURN, "triggers": ["manual"]})
    path = tmp_path / "jan.csv"
    customer_frame(500, seed=1).write_csv(path)
    ingest_file(config=project(), dataset="customers", path=path, actor="cli")
    assert train("churn").status == "succeeded"
    viewer = browse("viewer")

    page = viewer.get("/datasets/customers/?version=1").content.decode()
    assert "<svg" in page
    assert "Lineage of customers v1" in page
    assert "jan.csv" in page
    assert "model churn v1" in page
    assert 'href="/models/churn/?version=1"' in page
    assert "/api/v1/lineage/dataset/customers/1" in page

    model_page = viewer.get("/models/churn/").content.decode()
    assert "Lineage of model churn v1" in model_page
    assert 'href="/datasets/customers/?version=1"' in model_page
    graph = model_graph(model_lineage(name="churn", number=1))
    assert [n.kind for n in sorted(graph.nodes, key=lambda n: n.x)][:3] == ["file", "dataset", "model"]
    assert dataset_lineage(name="customers", number=1)["downstream"]["models"][0]["stage"] == "champion"
