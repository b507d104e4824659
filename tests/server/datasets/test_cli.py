"""`lakegate ingest`, `datasets ...`, `quarantine ...`, `stats` through the CLI."""

from __future__ import annotations

import json

import polars as pl
import pytest
from typer.testing import CliRunner

from lakegate_server.cli import app

pytestmark = pytest.mark.django_db(transaction=True)
runner = CliRunner()


def invoke(*args):
    return runner.invoke(app, [str(a) for a in args])


def test_ingest_history_show_export_stats(csv_file, tmp_path):
    w1 = csv_file("w1.csv", "id,temp,city\n1,20.5,Oslo\n2,22.1,Rome\n")
    w2 = csv_file("w2.csv", "id,temp,city,wind\n3,18,Oslo,4\n")
    result = invoke("ingest", w1, w2, "--dataset", "weather", "--json")
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    assert [(r["version"], r["rows"], r["duplicate"]) for r in out["results"]] == [
        (1, 2, False),
        (2, 1, False),
    ]
    assert out["results"][1]["added_columns"] == ["wind"]

    human = invoke("ingest", w1, "--dataset", "weather")
    assert human.exit_code == 0
    assert "duplicate of version 1" in human.stdout

    history = json.loads(invoke("datasets", "history", "weather", "--json").stdout)
    assert [v["version"] for v in history["items"]] == [2, 1]
    shown = json.loads(invoke("datasets", "show", "weather", "--version", 1, "--json").stdout)
    assert shown["stats"]["temp"]["max"] == 22.1
    assert json.loads(invoke("datasets", "list", "--json").stdout)["items"][0]["rows"] == 3
    table = invoke("datasets", "list")
    assert table.exit_code == 0, table.output
    assert "weather" in table.stdout

    target = tmp_path / "v1.parquet"
    exported = invoke("datasets", "export", "weather", "--version", 1, "-o", target, "--json")
    assert json.loads(exported.stdout)["rows"] == 2
    assert pl.read_parquet(target).columns == ["id", "temp", "city"]

    stats = json.loads(invoke("stats", "--json").stdout)
    assert stats["total"]["files"] == 2
    assert [(row["format"], row["files"]) for row in stats["formats"]] == [("csv", 2)]
    assert stats["cost"]["price_per_gb_month"] == 0.023
    human = invoke("stats")
    assert human.exit_code == 0, human.output
    assert "per format" in human.stdout
    assert "per GB-month" in human.stdout


def test_a_bad_file_exits_1_names_it_and_can_be_retried(csv_file):
    invoke("ingest", csv_file("w1.csv", "id,temp\n1,2.5\n"), "--dataset", "weather")
    bad = invoke("ingest", csv_file("bad.csv", "id,temp\nabc,1\n"), "--dataset", "weather")
    assert bad.exit_code == 1
    assert bad.stderr.startswith("error: bad.csv: type conflict: id is int")
    assert "kept in quarantine as" in bad.stderr

    listed = json.loads(invoke("quarantine", "list", "--json").stdout)["items"]
    assert [item["source"] for item in listed] == ["bad.csv"]
    retried = invoke("quarantine", "retry", listed[0]["id"], "--evolve", "--json")
    assert retried.exit_code == 0, retried.output
    assert json.loads(retried.stdout)["widened_columns"] == {"id": "string"}


def test_unknown_dataset_is_exit_1():
    result = invoke("datasets", "history", "nope")
    assert result.exit_code == 1
    assert result.stderr.strip() == "error: no dataset named 'nope'"
