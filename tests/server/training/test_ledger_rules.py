"""Promotion consults the ledger: a model trained on data rejected since needs an admin's override."""

from __future__ import annotations

import pytest

from lakegate.errors import ConflictError
from lakegate_server.conf import project
from lakegate_server.flow import version_reject
from lakegate_server.ledger.models import Decision
from lakegate_server.training.models import ModelVersion
from lakegate_server.training.promotion import model_promote
from tests.server.training.data import CHURN, customer_frame

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def two_versions(ingest, pipelines, train):
    """churn v1 (champion, on customers v1) and v2 (on v1 + v2); then customers v2 is rejected."""
    never = {"rule": "f1 >= champion.f1 + 10", "floor": "f1 >= 0.3"}  # v1 only (no champion yet)
    pipelines(churn={**CHURN, "triggers": ["manual"], "promotion": never})
    ingest("customers", customer_frame(600, seed=1))
    assert train("churn").status == "succeeded"
    ingest("customers", customer_frame(600, seed=2, start_id=5000))
    assert train("churn").status == "succeeded"
    version_reject(config=project(), dataset="customers", number=2, reason="duplicated rows", actor="alice")
    return ModelVersion.objects.get(model__name="churn", number=2)


def test_promoting_a_model_trained_on_rejected_data_is_refused_then_overridden(two_versions, api):
    with pytest.raises(ConflictError, match=r"trained on data no longer accepted: customers v2 \(rejected\)"):
        model_promote(config=project(), name="churn", number=2, reason="looks better", actor="bob")
    editor = api("editor").post(
        "/api/v1/models/churn/versions/2/promote", {"reason": "looks better", "override": True}
    )
    assert editor.status_code == 403, "an override is an admin's call"
    refused = api("admin").post("/api/v1/models/churn/versions/2/promote", {"reason": "looks better"})
    assert refused.status_code == 409
    assert refused.json()["error"]["detail"]["blocked"] == [{"dataset": "customers", "version": 2}]

    promoted = api("admin").post(
        "/api/v1/models/churn/versions/2/promote", {"reason": "rows were fine after all", "override": True}
    )
    assert promoted.status_code == 200, promoted.content
    decision = Decision.objects.filter(model_version__model__name="churn", action="promote").latest("id")
    assert decision.model_version.number == 2
    assert decision.detail == {"override": True, "blocked": "customers v2 (rejected)"}
    archived = Decision.objects.filter(action="archive").latest("id")
    assert (archived.model_version.number, archived.outcome) == (1, "archived")


def test_the_rule_does_not_promote_a_model_whose_data_was_rejected_while_it_trained(
    ingest, pipelines, train, monkeypatch
):
    pipelines(churn={**CHURN, "triggers": ["manual"]})
    ingest("customers", customer_frame(600, seed=1))

    from lakegate_server.training import jobs

    real = jobs.model_version_register

    def reject_first(**kwargs):
        version_reject(config=project(), dataset="customers", number=1, reason="found bad", actor="alice")
        return real(**kwargs)

    monkeypatch.setattr(jobs, "model_version_register", reject_first)
    run = train("churn")
    assert run.status == "succeeded", run.last_error
    version = ModelVersion.objects.get(model__name="churn", number=1)
    assert version.stage == "candidate"
    assert version.decision["promote"] is False
    assert "trained on data no longer accepted: customers v1 (rejected)" in version.decision["reason"]
