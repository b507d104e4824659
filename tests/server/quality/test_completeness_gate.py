"""Completeness through the CLI: a column that empties (0% -> 40% nulls) gets the version rejected."""

from __future__ import annotations

import json

import polars as pl
import pytest
from typer.testing import CliRunner

from lakegate.config import DatasetSettings
from lakegate_server.cli import app
from lakegate_server.datasets.selectors import version_get

pytestmark = pytest.mark.django_db(transaction=True)


def _emptied(source, target, share: float):
    frame = pl.read_csv(source)
    cut = int(frame.height * share)
    frame.with_columns(
        humidity=pl.when(pl.int_range(pl.len()) < cut).then(None).otherwise(pl.col("humidity"))
    ).write_csv(target)
    return target


def test_a_column_that_empties_is_rejected_by_default(readings, tmp_path):
    runner = CliRunner()
    first = runner.invoke(app, ["ingest", str(readings("b1.csv", seed=1)), "-d", "sensors"])
    assert first.exit_code == 0, first.output
    emptied = _emptied(readings("b2.csv", seed=2), tmp_path / "b2-empty.csv", 0.4)
    second = runner.invoke(app, ["ingest", str(emptied), "-d", "sensors"])
    assert second.exit_code == 3, second.output
    assert version_get(name="sensors", number=2).status == "rejected"

    result = runner.invoke(app, ["check", "sensors", "--version", "2", "--json"])
    assert result.exit_code == 3
    report = json.loads(result.stdout)
    completeness = next(c for c in report["checks"] if c["kind"] == "completeness")
    assert completeness["status"] == "fail"
    assert [(r["code"], r["column"]) for r in completeness["reasons"]] == [("null_share_jump", "humidity")]
    drift = next(c for c in report["checks"] if c["kind"] == "drift")
    assert all(r["status"] != "fail" for r in drift["reasons"]), "the null jump alone is not a drift failure"


def test_the_threshold_is_configurable_per_dataset(readings, tmp_path, settings):
    checks = [{"kind": "schema"}, {"kind": "completeness", "increase": 50}]
    datasets = {**settings.LAKEGATE.datasets, "sensors": DatasetSettings(checks=checks)}
    settings.LAKEGATE = settings.LAKEGATE.model_copy(update={"datasets": datasets})
    runner = CliRunner()
    assert runner.invoke(app, ["ingest", str(readings("b1.csv", seed=1)), "-d", "sensors"]).exit_code == 0
    emptied = _emptied(readings("b2.csv", seed=2), tmp_path / "b2-empty.csv", 0.4)
    second = runner.invoke(app, ["ingest", str(emptied), "-d", "sensors"])
    assert second.exit_code == 0, second.output
    assert version_get(name="sensors", number=2).status == "accepted"
