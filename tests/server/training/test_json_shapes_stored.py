"""What the services really store fits the declared JSON shapes (``<app>/shapes.py``): data
ingested through the gate, two models trained and promoted, one forced promotion by hand."""

from __future__ import annotations

import pytest

from lakegate_server.conf import project
from lakegate_server.datasets.models import DatasetVersion
from lakegate_server.jobs.models import RunLogLine
from lakegate_server.ledger.models import Decision
from lakegate_server.quality.models import CheckReport
from lakegate_server.training.models import ModelVersion, StageChange
from lakegate_server.training.promotion import model_promote
from tests.server.training.data import CHURN, customer_frame
from tests.support.shapes import stored_misfits

pytestmark = pytest.mark.django_db(transaction=True)


def test_stored_json_fits_the_declared_shapes(ingest, pipelines, train):
    ingest("customers", customer_frame(600, seed=1, noise=0.7))
    pipelines(churn=CHURN)
    assert train().status == "succeeded"
    ingest("customers", customer_frame(3000, seed=2, start_id=10_000))
    assert train().status == "succeeded"
    model_promote(config=project(), name="churn", number=1, reason="roll back for the test", actor="test")

    # Every kind of row the shapes describe was written.
    assert CheckReport.objects.count() == 2
    assert ModelVersion.objects.count() == 2
    assert StageChange.objects.filter(action="archived").count() == 2
    assert Decision.objects.filter(action="promote").exists()
    assert RunLogLine.objects.exists()
    checked, problems = stored_misfits()
    assert problems == []
    assert checked > 30

    # The check reads the rows: one value of the wrong shape is found, and named.
    first = DatasetVersion.objects.order_by("id").first()
    DatasetVersion.objects.filter(pk=first.pk).update(stats={"age": {"kind": "numeric", "rows": "many"}})
    assert [line.split(":")[0] for line in stored_misfits()[1]] == [
        f"datasets.DatasetVersion.stats of row {first.pk}"
    ]
