"""Performance once labels arrive: labels dataset -> a performance run -> metrics, chart, rule acts."""

from __future__ import annotations

import json

import pytest
from django.test import Client
from typer.testing import CliRunner

from lakegate_server.accounts.services import user_create
from lakegate_server.cli import app
from lakegate_server.jobs.models import Run
from tests.server.training.data import CHURN, customer_frame
from tests.server.training.test_scoring_drift import EMAIL, serve_and_flush

pytestmark = pytest.mark.django_db(transaction=True)

PERFORMANCE = {
    "labels": "churn_labels",
    "id": "customer_id",
    "window": 100,
    "rule": "f1 < 0.99",
    "action": "both",
}


def test_labels_arriving_measure_the_champion_and_fire_the_rule(
    ingest, pipelines, train, execute_queued, recording_client, recorder, mailbox
):
    ingest("customers", customer_frame(1500, seed=1))
    spec = {**CHURN, "notifications": ["team"], "triggers": ["manual"], "performance": PERFORMANCE}
    pipelines(notifiers=EMAIL, churn=spec)
    assert train("churn").status == "succeeded"
    served = customer_frame(300, seed=5, start_id=5000)
    serve_and_flush(recording_client, recorder, served)

    # the labels come later, for 250 of the 300 (a dataset like any other)
    ingest("churn_labels", served.select("customer_id", "churned").head(250))
    assert execute_queued()[:1] == ["succeeded"], "accepted labels queue a performance run"
    run = Run.objects.filter(kind="performance").get()
    result = run.result
    assert (result["labelled"], result["window"], result["model_version"]) == (250, 100, 1)
    assert [w["rows"] for w in result["series"]] == [50, 100, 100]
    assert 0 < result["latest"]["f1"] < 0.99
    assert result["fired"] is True
    assert result["actions"][0] == "notify"
    assert result["actions"][1].startswith("retrain:run ")
    assert Run.objects.filter(kind="train", created_by="trigger:performance").count() == 1
    assert any(
        m.subject.startswith("[lakegate] churn v1: f1 < 0.99 over the last 100 labelled") for m in mailbox
    )

    shown = CliRunner().invoke(app, ["models", "performance", "churn", "--last", "--json"])
    assert shown.exit_code == 0, shown.output
    assert json.loads(shown.stdout)["labelled"] == 250

    viewer = Client()
    viewer.force_login(user_create(username="viewer-person", password="pw-long-enough-1", role="viewer"))
    page = viewer.get("/models/churn/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "Performance in production" in html
    assert "<polyline" in html
    assert 'class="threshold"' in html


def test_without_a_performance_section_it_is_a_clear_error(ingest, pipelines, train):
    ingest("customers", customer_frame(600, seed=1))
    pipelines(churn={**CHURN, "triggers": ["manual"]})
    assert train("churn").status == "succeeded"
    result = CliRunner().invoke(app, ["models", "performance", "churn"])
    assert result.exit_code != 0
    assert "no performance: section" in result.output
