"""`lakegate init --demo`: deterministic sample data and settings that load."""

from __future__ import annotations

import polars as pl
from typer.testing import CliRunner

from lakegate import load_settings
from lakegate.cli import app
from lakegate.pipelines import load_pipelines


def test_init_demo_writes_sample_data_and_valid_pipelines(tmp_path, monkeypatch):
    for key in [k for k in __import__("os").environ if k.startswith("LAKEGATE_")]:
        monkeypatch.delenv(key)
    result = CliRunner().invoke(app, ["init", str(tmp_path), "--demo"])
    assert result.exit_code == 0, result.output
    sample = tmp_path / "sample-data"
    first = pl.read_csv(sample / "customers-2026-10.csv")
    assert first.height == 1500
    assert first["churned"].mean() == 0.25
    drifted = pl.read_csv(sample / "customers-2026-12.csv")
    assert drifted["churned"].mean() == 0.6
    assert drifted["monthly_spend"].mean() > first["monthly_spend"].mean() + 50
    assert pl.read_excel(sample / "customers-2026-11.xlsx").height == 1500
    assert pl.read_csv(sample / "readings-2026-11.csv")["sensor_id"].n_unique() == 8
    assert (sample / "docs" / "water" / "lakes" / "blooms.md").is_file()

    settings = load_settings(tmp_path)
    assert settings.dataset("customers").target == "churned"
    assert set(load_pipelines({"pipelines": settings.pipelines}, env="dev")) == {"churn", "sensor-regimes"}
    other = tmp_path / "again"
    assert CliRunner().invoke(app, ["init", str(other), "--demo"]).exit_code == 0
    for name in ("customers-2026-10.csv", "customers-2026-12.csv", "readings-2026-11.csv"):
        assert (other / "sample-data" / name).read_bytes() == (sample / name).read_bytes(), "deterministic"
