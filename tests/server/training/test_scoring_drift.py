"""Scoring drift: recorded online predictions against the champion's training profiles (CLI, API, runs)."""

from __future__ import annotations

import json
import time
from typing import Any

import polars as pl
import pytest
from django.test import Client
from typer.testing import CliRunner

from lakegate.errors import NotFoundError
from lakegate_server.accounts.services import user_create
from lakegate_server.cli import app
from lakegate_server.conf import project
from lakegate_server.flow import streams_flush
from lakegate_server.serving.record import PredictionRecorder
from lakegate_server.training.monitoring import scoring_drift, scoring_drift_cron_fire
from tests.server.training.data import CHURN, customer_frame
from tests.server.training.test_serving import PortalClient, bearer

pytestmark = pytest.mark.django_db(transaction=True)

EMAIL = {"team": {"kind": "email", "to": ["ml@example.com"]}}


@pytest.fixture
def champion(ingest, pipelines, train) -> None:
    ingest("customers", customer_frame(1500, seed=1))
    pipelines(notifiers=EMAIL, churn={**CHURN, "notifications": ["team"], "triggers": ["manual"]})
    assert train("churn").status == "succeeded"


def _records(frame: pl.DataFrame) -> list[dict[str, Any]]:
    return [{**row, "signup_date": str(row["signup_date"])} for row in frame.drop("churned").to_dicts()]


def serve_and_flush(client: PortalClient, recorder: PredictionRecorder, frame: pl.DataFrame) -> None:
    """Predict ``frame`` through the online route, record it, flush it into a version."""
    headers = bearer()
    records = _records(frame)
    for start in range(0, len(records), 500):
        answer = client.post(
            "/api/v1/models/churn/predict", json=records[start : start + 500], headers=headers
        )
        assert answer.status_code == 200, answer.text
    assert recorder.flush() == len(records)
    streams = project().streams.model_copy(update={"flush_seconds": 0.01, "check": False})
    time.sleep(0.05)
    flushed = streams_flush(
        config=project().model_copy(update={"streams": streams}), dataset="churn_online_predictions"
    )
    assert sum(f.get("records", 0) for f in flushed) == len(records)


def test_similar_traffic_passes_and_only_new_batches_are_read(champion, recording_client, recorder):
    serve_and_flush(recording_client, recorder, customer_frame(1000, seed=5))
    first = scoring_drift(config=project(), name="churn")
    assert (first.versions, first.rows, first.through) == ([1], 1000, 1)
    assert first.status in {"pass", "warn"}, first.failed
    assert first.failed == []
    assert "customer_id" not in first.drifted, "an id column is not a feature"

    nothing = scoring_drift(config=project(), name="churn", since=first.through)
    assert (nothing.status, nothing.versions, nothing.rows) == ("skip", [], 0)

    serve_and_flush(recording_client, recorder, customer_frame(400, seed=6))
    second = scoring_drift(config=project(), name="churn", since=first.through)
    assert (second.versions, second.rows) == ([2], 400), "only the new batch"


def test_drifted_or_emptied_inputs_fail_through_the_cli_and_api(
    champion, recording_client, recorder, execute_queued, api, mailbox, tmp_path
):
    shifted = customer_frame(1000, seed=5).with_columns(
        pl.col("age") + 30, pl.col("tenure_months") * 4, pl.lit(None, pl.Int64).alias("tickets")
    )
    serve_and_flush(recording_client, recorder, shifted)
    runner = CliRunner()
    queued = runner.invoke(app, ["models", "drift", "churn", "--no-wait", "--json"])
    assert queued.exit_code == 0, queued.output
    assert json.loads(queued.stdout)["kind"] == "scoring_drift"
    assert execute_queued() == ["succeeded"]

    html = tmp_path / "drift.html"
    shown = runner.invoke(app, ["models", "drift", "churn", "--last", "--json", "--html", str(html)])
    assert shown.exit_code == 3, shown.output
    report = json.loads(shown.stdout)
    assert report["report"] == "lakegate.check_report"
    by_kind = {c["kind"]: c for c in report["checks"]}
    assert by_kind["completeness"]["status"] == "fail"
    assert [r["column"] for r in by_kind["completeness"]["reasons"]] == ["tickets"]
    drift = by_kind["drift"]
    drifted = {c["column"] for c in drift["details"]["columns"] if c["drifted"]}
    assert {"age", "tenure_months"} <= drifted
    assert "prediction" in {c["column"] for c in drift["details"]["columns"]}, (
        "the prediction distribution too"
    )
    assert "<svg" in html.read_text()
    assert [m.subject for m in mailbox][-1] == "[lakegate] churn v1: scoring drift failed"

    viewer = api("viewer")
    got = viewer.get("/api/v1/models/churn/drift")
    assert got.status_code == 200
    assert got.json()["status"] == "fail"
    page = viewer.get("/api/v1/models/churn/drift?format=html")
    assert page.status_code == 200
    assert page["content-type"].startswith("text/html")
    assert viewer.post("/api/v1/models/churn/drift").status_code == 403
    browser = Client()
    browser.force_login(user_create(username="viewer-person", password="pw-long-enough-1", role="viewer"))
    model_page = browser.get("/models/churn/").content.decode()
    assert "Scoring drift" in model_page
    assert "/models/churn/drift/" in model_page
    report_page = browser.get("/models/churn/drift/")
    assert report_page.status_code == 200
    assert "<svg" in report_page.content.decode()
    assert browser.get("/models/nope/drift/").status_code == 404

    started = api("editor").post("/api/v1/models/churn/drift?all_versions=true")
    assert started.status_code == 201
    assert started.json()["params"] == {"model": "churn", "all_versions": True}


def test_no_champion_or_report_is_a_clear_error(db, api):
    with pytest.raises(NotFoundError):
        scoring_drift(config=project(), name="nope")
    assert api("viewer").get("/api/v1/models/nope/drift").status_code == 404


def test_the_schedule_starts_a_run_only_with_new_predictions(champion, recording_client, recorder, settings):
    import datetime as dt

    t0 = dt.datetime(2026, 1, 1, 0, 0, 30, tzinfo=dt.UTC)
    assert scoring_drift_cron_fire(config=project(), now=t0) == [], "the first pass arms the schedule"
    assert scoring_drift_cron_fire(config=project(), now=t0 + dt.timedelta(hours=1)) == [], (
        "nothing recorded yet"
    )
    serve_and_flush(recording_client, recorder, customer_frame(300, seed=5))
    (run,) = scoring_drift_cron_fire(config=project(), now=t0 + dt.timedelta(hours=2))
    assert (run.kind, run.params["model"], run.created_by) == ("scoring_drift", "churn", "trigger:cron")
    assert scoring_drift_cron_fire(config=project(), now=t0 + dt.timedelta(hours=2)) == [], (
        "a slot fires once"
    )
