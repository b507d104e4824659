"""The train job through the real queue: accepted data in, one registered version out,
promoted or kept as a candidate by the pipeline's rule, notified, retry-safe."""

from __future__ import annotations

import json

import polars as pl
import pytest
from django.conf import settings

from lakegate.storage import MANIFEST
from lakegate_server.conf import project
from lakegate_server.datasets.models import DatasetVersion
from lakegate_server.jobs.models import Run, RunStatus
from lakegate_server.jobs.queue import enqueue_run
from lakegate_server.training.models import ModelVersion, PredictionBatch, RegisteredModel, StageChange
from lakegate_server.training.selectors import version_artifact_dir, version_card_html
from lakegate_server.training.services import pipeline_run_create
from tests.server.training.data import CHURN, customer_frame

pytestmark = pytest.mark.django_db(transaction=True)

EMAIL = {"team": {"kind": "email", "to": ["ml@example.com"]}}


def test_the_first_model_becomes_champion(ingest, pipelines, train):
    v1 = ingest("customers", customer_frame(1200, seed=1))
    pipelines(churn=CHURN)
    run = train()
    assert run.status == "succeeded", run.last_error
    version = ModelVersion.objects.get()
    assert (version.number, version.stage) == (1, "champion")
    assert version.lineage[0]["versions"] == [v1.number]
    assert list(version.dataset_versions.all()) == [v1]
    assert version.code_version["lakegate"]
    artifact = version_artifact_dir(project(), version)
    assert artifact.parent.parent == settings.LAKEGATE.paths.artifacts / "models" / "churn"
    assert (artifact / "model.json").is_file()
    assert (artifact.parent / MANIFEST).is_file(), "committed with its manifest"
    assert version_card_html(project(), version).startswith(b"<!doctype html>")
    changes = list(StageChange.objects.order_by("id"))
    assert [(c.action, c.from_stage, c.to_stage) for c in changes] == [
        ("registered", "", "candidate"),
        ("promoted", "candidate", "champion"),
    ]
    assert changes[1].actor == f"run:{run.pk}"
    assert changes[1].gate == [
        {"dataset": "customers", "version": 1, "status": "accepted", "verdict": "pass"}
    ]
    assert "first model" in changes[1].reason
    assert run.result["version"] == 1
    assert run.result["promoted"] is True
    assert RegisteredModel.objects.get().generation == 1


def test_a_better_model_is_promoted_and_the_old_champion_archived(ingest, pipelines, train):
    ingest("customers", customer_frame(600, seed=1, noise=0.7))
    pipelines(churn=CHURN)
    assert train().status == "succeeded"
    ingest("customers", customer_frame(3000, seed=2, start_id=10_000))
    run = train()
    assert run.status == "succeeded", run.last_error
    assert dict(ModelVersion.objects.values_list("number", "stage")) == {1: "archived", 2: "champion"}
    v2 = ModelVersion.objects.get(number=2)
    assert v2.lineage[0]["versions"] == [1, 2]
    assert v2.decision["promote"] is True
    assert "rule met" in v2.decision["reason"]
    archived = StageChange.objects.get(action="archived")
    assert archived.version.number == 1
    assert archived.compared["champion"]["version"] == 1
    assert archived.compared["candidate"]["version"] == 2
    assert RegisteredModel.objects.get().generation == 2


def test_a_worse_model_stays_a_candidate(ingest, pipelines, train):
    ingest("customers", customer_frame(1500, seed=1))
    pipelines(churn=CHURN)
    train()
    ingest("customers", customer_frame(3000, seed=2, noise=0.9, start_id=10_000))
    run = train()
    assert run.status == "succeeded", run.last_error
    assert dict(ModelVersion.objects.values_list("number", "stage")) == {1: "champion", 2: "candidate"}
    v2 = ModelVersion.objects.get(number=2)
    assert v2.decision["promote"] is False
    assert v2.decision["reason"].startswith(("rule not met", "below the floor"))
    assert run.result["promoted"] is False
    last = StageChange.objects.order_by("-id").first()
    assert (last.version.number, last.action, last.to_stage) == (2, "registered", "candidate")
    assert last.reason == v2.decision["reason"]


def test_rejected_and_pending_versions_never_reach_a_model(ingest, pipelines, train):
    ingest("customers", customer_frame(800, seed=1))
    ingest("customers", customer_frame(500, seed=2, start_id=5000), status="rejected")
    ingest("customers", customer_frame(700, seed=3, start_id=9000))
    ingest("customers", customer_frame(300, seed=4, start_id=20_000), status="pending")
    pipelines(churn=CHURN)
    run = train()
    assert run.status == "succeeded", run.last_error
    lineage = ModelVersion.objects.get().lineage[0]
    assert lineage["versions"] == [1, 3]
    assert lineage["rows"] == 1500
    assert {g["status"] for g in lineage["gate"]} == {"accepted"}
    artifact = version_artifact_dir(project(), ModelVersion.objects.get())
    training = json.loads((artifact / "model.json").read_text())["training"]
    assert training["rows_train"] + training["rows_test"] == 1500, "trained and tested on v1 + v3 only"


def test_no_accepted_version_is_a_clear_failure_and_notified(ingest, pipelines, train, mailbox):
    ingest("customers", customer_frame(300, seed=1), status="rejected")
    pipelines(notifiers=EMAIL, churn={**CHURN, "notifications": ["team"]})
    run = train()
    assert run.status == "failed"
    assert run.attempts == 1, "a data problem is not retried"
    assert "input dataset 'customers' has no accepted version yet (1 rejected)" in run.last_error
    assert not ModelVersion.objects.exists()
    assert [m.subject for m in mailbox] == [f"[lakegate] churn: training run {run.pk} failed"]
    assert "no accepted version" in mailbox[0].body


def test_trained_and_promoted_are_notified_once(ingest, pipelines, train, mailbox):
    ingest("customers", customer_frame(1200, seed=1))
    pipelines(notifiers=EMAIL, churn={**CHURN, "notifications": ["team"]})
    run = train()
    subjects = [m.subject for m in mailbox]
    assert subjects == ["[lakegate] churn v1 trained (champion)", "[lakegate] churn v1 is the new champion"]
    assert mailbox[0].to == ["ml@example.com"]
    assert "f1=" in mailbox[0].body
    assert ModelVersion.objects.get().notified == {"team": None, "promoted:team": None}
    assert run.result["version"] == 1


def test_a_retried_run_registers_its_model_once(ingest, pipelines, execute_queued):
    ingest("customers", customer_frame(1200, seed=1))
    pipelines(churn=CHURN)
    run = pipeline_run_create(config=project(), name="churn", created_by="test")
    execute_queued()
    # As if the worker died after registering but before recording success: the reaper
    # re-queues the run and another attempt runs it from the start.
    Run.objects.filter(pk=run.pk).update(status=RunStatus.QUEUED, finished_at=None)
    from django.db import transaction

    with transaction.atomic():
        enqueue_run(run.pk)
    assert execute_queued() == ["succeeded"]
    run.refresh_from_db()
    assert run.attempts == 2
    assert ModelVersion.objects.count() == 1
    assert run.result["created"] is False
    assert StageChange.objects.count() == 2, "no second registration or promotion"
    assert run.result["cache_hits"], "the retry read the first attempt's work back"


def test_the_same_model_from_another_run_is_not_a_new_version(ingest, pipelines, train):
    ingest("customers", customer_frame(1200, seed=1))
    pipelines(churn=CHURN)
    train()
    again = train()
    assert again.status == "succeeded"
    assert again.result["created"] is False
    assert again.result["version"] == 1
    assert ModelVersion.objects.count() == 1


def test_training_then_scoring_the_same_new_version(ingest, pipelines, execute_queued):
    first = ingest("customers", customer_frame(1200, seed=1))
    pipelines(churn={**CHURN, "predict_on": "customers"})
    pipeline_run_create(
        config=project(),
        name="churn",
        created_by="test",
        predict={"dataset": "customers", "version": first.number},
    )
    assert execute_queued() == ["succeeded", "succeeded"]  # train, then the scoring it queued
    predict_run = Run.objects.get(kind="predict")
    assert predict_run.params == {"model": "churn", "dataset": "customers", "version": 1}
    batch = PredictionBatch.objects.get()
    assert (batch.rows, batch.source, batch.output) == (1200, "customers@1", "churn_predictions@1")
    out = DatasetVersion.objects.get(dataset__name="churn_predictions")
    table = pl.scan_delta(str(settings.LAKEGATE.paths.lake / "churn_predictions"), version=out.delta_version)
    frame = table.collect()
    assert frame.height == 1200
    assert {"customer_id", "prediction", "proba_True", "model_version", "source_version"} <= set(
        frame.columns
    )
    assert frame["model_version"].unique().to_list() == [1]
