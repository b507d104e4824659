"""`lakegate chaos` prints its table and exits 1 on any violation (the engine itself stubbed here;
tests/e2e/test_chaos.py runs it for real)."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from lakegate_server.chaos.engine import ChaosReport, TrialResult
from lakegate_server.chaos.invariants import Violation
from lakegate_server.cli import app

runner = CliRunner()


def _report(*violations: Violation) -> ChaosReport:
    report = ChaosReport(backend="embedded", seed=5, files=4, stream_records=120, predict_answers=30)
    report.trials = [
        TrialResult(1, "worker@ingest", "boundary:version created", True, 3.0, list(violations)),
        TrialResult(2, "up@all", "random:1.2s", True, 4.0),
    ]
    return report


def _run(monkeypatch, report: ChaosReport, *args: str):
    seen = {}

    def fake(**kwargs):
        seen.update(kwargs)
        return report

    monkeypatch.setattr("lakegate_server.chaos.engine.chaos_run", fake)
    return runner.invoke(app, ["chaos", *args]), seen


def test_a_clean_session_exits_0_with_kills_by_point(monkeypatch):
    result, seen = _run(monkeypatch, _report(), "--trials", "2", "--seed", "5", "--point", "worker@ingest")
    assert result.exit_code == 0, result.output
    assert seen["trials"] == 2
    assert seen["seed"] == 5
    assert seen["points"] == ["worker@ingest"]
    assert "worker@ingest" in result.output
    assert "up@all" in result.output


def test_any_violation_exits_1_and_is_named(monkeypatch):
    lost = Violation(
        "ingested exactly once or quarantined", "drop-1.csv: neither in the lake nor quarantined"
    )
    result, _ = _run(monkeypatch, _report(lost), "--json")
    assert result.exit_code == 1
    document = json.loads(result.stdout)
    assert document["ok"] is False
    assert document["kills_by_point"]["worker@ingest"] == 1
    assert document["violations"] == [{**lost.to_dict(), "trial": 1}]


def test_an_unknown_kill_point_is_refused(monkeypatch):
    result, _ = _run(monkeypatch, _report(), "--point", "disk@fire")
    assert result.exit_code != 0
    assert "disk@fire" in result.output
