"""The quality gate in the service: verdicts decide acceptance; approvals override, recorded."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from lakegate.config import DatasetSettings
from lakegate.errors import ConflictError, InputError, NotFoundError
from lakegate_server.cli import app
from lakegate_server.conf import project
from lakegate_server.datasets.selectors import version_get
from lakegate_server.flow import ingest_file, version_approve, version_gate

pytestmark = pytest.mark.django_db(transaction=True)


def with_dataset(settings, name: str, **config) -> None:
    datasets = {**settings.LAKEGATE.datasets, name: DatasetSettings(**config)}
    settings.LAKEGATE = settings.LAKEGATE.model_copy(update={"datasets": datasets})


def test_a_drifted_batch_is_rejected_and_a_similar_one_accepted(readings):
    first = ingest_file(config=project(), dataset="sensors", path=readings("b1.csv", seed=1), actor="test")
    assert first.version.status == "accepted"
    assert first.report is not None

    same = ingest_file(config=project(), dataset="sensors", path=readings("b2.csv", seed=2), actor="test")
    assert (same.version.status, same.report.status) == ("accepted", "pass")
    assert same.report.reference_versions == [1]

    drifted = ingest_file(
        config=project(), dataset="sensors", path=readings("b3.csv", seed=3, shift=6.0), actor="test"
    )
    assert (drifted.version.status, drifted.version.verdict) == ("rejected", "fail")
    drift = next(c for c in drifted.report.report["checks"] if c["kind"] == "drift")
    flagged = {r["column"] for r in drift["reasons"] if r["code"] == "column_drift"}
    assert flagged == {"temp"}, "only the shifted column drifts"
    assert drifted.report.reference_versions == [2], "compared with the last accepted version"


def test_policy_warn_accepts_a_failed_batch(readings, settings):
    with_dataset(settings, "sensors", policy="warn")
    ingest_file(config=project(), dataset="sensors", path=readings("b1.csv", seed=1), actor="test")
    drifted = ingest_file(
        config=project(), dataset="sensors", path=readings("b3.csv", seed=3, shift=6.0), actor="test"
    ).version
    assert (drifted.status, drifted.verdict) == ("accepted", "fail")


def test_a_contract_from_lakegate_yaml_is_enforced(readings, settings):
    with_dataset(settings, "sensors", contract={"columns": {"temp": {"type": "float", "max": 21.0}}})
    outcome = ingest_file(config=project(), dataset="sensors", path=readings("b1.csv", seed=1), actor="test")
    assert (outcome.version.status, outcome.report.status) == ("rejected", "fail")
    contract = next(c for c in outcome.report.report["checks"] if c["kind"] == "contract")
    assert contract["status"] == "fail"
    assert any(r.get("column") == "temp" for r in contract["reasons"])


def test_approval_accepts_and_is_recorded_once(readings):
    ingest_file(config=project(), dataset="sensors", path=readings("b1.csv", seed=1), actor="test")
    ingest_file(config=project(), dataset="sensors", path=readings("b3.csv", seed=3, shift=6.0), actor="test")
    with pytest.raises(InputError, match="needs a reason"):
        version_approve(config=project(), dataset="sensors", number=2, reason=" ", actor="alice")
    approved = version_approve(
        config=project(), dataset="sensors", number=2, reason="sensor recalibrated", actor="alice"
    )
    assert (approved.status, approved.approved_by, approved.approved_reason) == (
        "accepted",
        "alice",
        "sensor recalibrated",
    )
    assert approved.approved_at is not None
    version_gate(config=project(), dataset="sensors", number=2, actor="test")
    assert version_get(name="sensors", number=2).status == "accepted", "a re-check keeps an approval"
    with pytest.raises(ConflictError, match="already approved by alice"):
        version_approve(config=project(), dataset="sensors", number=2, reason="again", actor="bob")


def test_a_pinned_reference_must_exist(readings):
    ingest_file(config=project(), dataset="sensors", path=readings("b1.csv", seed=1), actor="test")
    with pytest.raises(NotFoundError, match="has no version 9 to compare with"):
        version_gate(config=project(), dataset="sensors", number=1, reference=9, actor="test")
    with pytest.raises(NotFoundError, match=r"no dataset named .empty."):
        version_gate(config=project(), dataset="empty", actor="test")


def test_reports_over_http(api, readings, execute_queued):
    ingest_file(config=project(), dataset="sensors", path=readings("b1.csv", seed=1), actor="test")
    ingest_file(config=project(), dataset="sensors", path=readings("b3.csv", seed=3, shift=6.0), actor="test")
    report = api("viewer").get("/api/v1/datasets/sensors/versions/2/report").json()
    assert report["status"] == "fail"
    assert report["report"] == "lakegate.check_report"
    html = api("viewer").get("/api/v1/datasets/sensors/versions/2/report", format="html")
    assert html["Content-Type"].startswith("text/html")
    assert b"<svg" in html.content
    assert b"http://" not in html.content
    assert b"https://" not in html.content

    assert api("viewer").post("/api/v1/datasets/sensors/versions/2/check").status_code == 403
    run = api("editor").post("/api/v1/datasets/sensors/versions/2/check", {"reference": 1})
    assert run.status_code == 202
    assert execute_queued() == ["succeeded"]
    result = api("viewer").get(f"/api/v1/runs/{run.json()['id']}").json()["result"]
    assert (result["status"], result["reference_versions"]) == ("fail", [1])

    approved = api("editor").post("/api/v1/datasets/sensors/versions/2/approve", {"reason": "known change"})
    assert approved.status_code == 200
    assert (approved.json()["status"], approved.json()["approved_reason"]) == ("accepted", "known change")
    assert api("viewer").get("/api/v1/datasets/sensors/versions/9/report").status_code == 404


def test_cli_check_exits_3_on_fail_and_writes_html(readings, tmp_path):
    runner = CliRunner()
    ingest_file(config=project(), dataset="sensors", path=readings("b1.csv", seed=1), actor="test")
    ingest = runner.invoke(app, ["ingest", str(readings("b3.csv", seed=3, shift=6.0)), "-d", "sensors"])
    assert ingest.exit_code == 3, ingest.output
    assert "rejected" in ingest.stdout

    html = tmp_path / "report.html"
    result = runner.invoke(app, ["check", "sensors", "--version", "2", "--json", "--html", str(html)])
    assert result.exit_code == 3
    assert json.loads(result.stdout)["status"] == "fail"
    assert "<svg" in html.read_text()
    assert "the quality gate failed" in result.stderr
    ok = runner.invoke(app, ["check", "sensors", "--version", "1"])
    assert ok.exit_code == 0, ok.output

    approve = runner.invoke(app, ["check", "approve", "sensors", "--version", "2", "--reason", "fine"])
    assert approve.exit_code == 0, approve.output
    assert version_get(name="sensors", number=2).approved_by == "cli"
    assert runner.invoke(app, ["check", "approve", "sensors"]).exit_code == 2


def test_contract_infer_writes_a_contract_the_gate_accepts(readings, tmp_path, settings):
    ingest_file(config=project(), dataset="sensors", path=readings("b1.csv", seed=1), actor="test")
    target = tmp_path / "contracts" / "sensors.yaml"
    result = CliRunner().invoke(app, ["contract", "infer", "sensors", "-o", str(target)])
    assert result.exit_code == 0, result.output
    assert "temp" in target.read_text()
    with_dataset(settings, "sensors", contract=str(target))
    assert version_gate(config=project(), dataset="sensors", number=1, actor="test").status == "pass"
