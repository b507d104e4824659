"""`lakegate run`, `pipelines list`, `models ...` and `predict` through the CLI."""

from __future__ import annotations

import json

import polars as pl
import pytest
from typer.testing import CliRunner

from lakegate_server.cli import app
from lakegate_server.training.models import PredictionBatch
from tests.server.training.data import CHURN, customer_frame

pytestmark = pytest.mark.django_db(transaction=True)
runner = CliRunner()


def invoke(*args):
    return runner.invoke(app, [str(a) for a in args])


def test_run_queues_a_training_run(pipelines):
    pipelines(churn=CHURN)
    result = invoke("run", "churn", "--json")
    assert result.exit_code == 0, result.output
    run = json.loads(result.stdout)
    assert (run["kind"], run["status"], run["params"]["pipeline"]) == ("train", "queued", "churn")
    assert run["created_by"] == "cli"


def test_run_an_unknown_pipeline(pipelines):
    pipelines(churn=CHURN)
    result = invoke("run", "nope")
    assert result.exit_code == 1
    assert "no pipeline 'nope' in lakegate.yaml (defined: churn)" in result.stderr


def test_pipelines_list(pipelines):
    pipelines(churn=CHURN)
    listed = json.loads(invoke("pipelines", "list", "--json").stdout)
    assert [p["name"] for p in listed["items"]] == ["churn"]
    human = invoke("pipelines", "list")
    assert human.exit_code == 0
    assert "churn" in human.stdout
    assert "customers" in human.stdout


def test_models_list_show_promote_rollback_audit(registry, pipelines):
    pipelines(churn=CHURN)
    registry("churn", ["champion", "candidate"], [{"f1": 0.61}, {"f1": 0.66}])
    listed = json.loads(invoke("models", "list", "--json").stdout)["items"]
    assert [(m["name"], m["champion_version"]) for m in listed] == [("churn", 1)]
    assert "churn" in invoke("models", "list").stdout

    shown = json.loads(invoke("models", "show", "churn", "--json").stdout)
    assert [v["stage"] for v in shown["items"]] == ["candidate", "champion"]
    one = json.loads(invoke("models", "show", "churn", "--version", 2, "--json").stdout)
    assert one["metrics"] == {"f1": 0.66}
    assert "v2: candidate" in invoke("models", "show", "churn", "--version", 2).stdout

    promoted = invoke("models", "promote", "churn", 2, "--reason", "new data", "--json")
    assert promoted.exit_code == 0, promoted.output
    assert json.loads(promoted.stdout)["stage"] == "champion"
    restored = invoke("models", "rollback", "churn", "--reason", "revert")
    assert restored.exit_code == 0, restored.output
    assert "churn v1 restored" in restored.stdout

    audit = json.loads(invoke("models", "audit", "churn", "--json").stdout)["items"]
    assert [(a["action"], a["version"], a["actor"]) for a in audit[:2]] == [
        ("rolled_back", 1, "cli"),
        ("archived", 2, "cli"),
    ]
    assert "revert" in invoke("models", "audit", "churn").stdout


def test_stage_changes_need_a_reason_and_say_why_they_fail(registry):
    registry("churn", ["champion"])
    assert invoke("models", "promote", "churn", 1).exit_code == 2  # usage: --reason is required
    again = invoke("models", "promote", "churn", 1, "--reason", "x")
    assert again.exit_code == 1
    assert "already the champion" in again.stderr
    assert invoke("models", "show", "nope").exit_code == 1


def test_predict_a_file_with_the_champion(ingest, pipelines, train, tmp_path):
    ingest("customers", customer_frame(1200, seed=1))
    pipelines(churn=CHURN)
    train()
    source = tmp_path / "to_score.csv"
    customer_frame(300, seed=9, start_id=70_000).drop("churned").write_csv(source)
    out = tmp_path / "scored.parquet"
    result = invoke("predict", "churn", source, "-o", out, "--json")
    assert result.exit_code == 0, result.output
    batch = json.loads(result.stdout)
    assert (batch["model"], batch["version"], batch["rows"]) == ("churn", 1, 300)
    scored = pl.read_parquet(out)
    assert scored.columns == ["customer_id", "prediction", "proba_False", "proba_True"]
    assert scored["customer_id"].to_list()[:2] == [70_000, 70_001]
    assert PredictionBatch.objects.get().output == str(out)

    parquet = tmp_path / "to_score.parquet"
    pl.read_csv(source, try_parse_dates=True).write_parquet(parquet)
    human = invoke("predict", "churn", parquet, "-o", tmp_path / "again.parquet")
    assert human.exit_code == 0, human.output
    assert "Wrote 300 predictions of churn v1" in human.stdout


def test_predict_refuses_what_it_cannot_score(ingest, pipelines, train, tmp_path):
    ingest("customers", customer_frame(1200, seed=1))
    pipelines(churn=CHURN)
    missing = invoke("predict", "churn", tmp_path / "nope.csv", "-o", tmp_path / "x.parquet")
    assert missing.exit_code == 1  # no model yet
    assert "no model named 'churn'" in missing.stderr
    train()
    bad = tmp_path / "bad.csv"
    bad.write_text("customer_id,age\n1,abc\n")
    result = invoke("predict", "churn", bad, "-o", tmp_path / "x.parquet")
    assert result.exit_code == 1
    assert "invalid input" in result.stderr
    assert not (tmp_path / "x.parquet").exists()
