"""`lakegate models report NAME --format markdown`: a pull-request comment with SVG charts."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET

import pytest
from typer.testing import CliRunner

from lakegate_server.cli import app
from tests.server.training.data import CHURN, customer_frame

pytestmark = pytest.mark.django_db(transaction=True)
runner = CliRunner()


def invoke(*args):
    return runner.invoke(app, [str(a) for a in args])


def test_a_candidate_against_the_champion(ingest, pipelines, train, tmp_path):
    ingest("customers", customer_frame(1200, seed=1))
    pipelines(churn=CHURN)
    assert train().status == "succeeded"
    ingest("customers", customer_frame(600, seed=2, noise=0.9, start_id=5000))
    assert train().status == "succeeded"

    result = invoke("models", "report", "churn", "-o", tmp_path / "pr", "--json")
    assert result.exit_code == 0, result.output
    written = json.loads(result.stdout)
    assert written["version"] == 2
    text = (tmp_path / "pr" / "report.md").read_text()
    assert text.startswith("## Model `churn` v2: candidate")
    assert "### Metrics against the champion (v1)" in text
    assert "| metric | v2 | champion v1 | change |" in text
    f1_row = next(line for line in text.splitlines() if line.startswith("| f1 |"))
    cells = [c.strip() for c in f1_row.strip("|").split("|")]
    assert float(cells[3]) == pytest.approx(float(cells[1]) - float(cells[2]), abs=2e-3)
    assert "| noise | 0.5 | f1 |" in text, "the robustness table lists each perturbation"
    assert "| customers | v1, v2 | 1,800 | v1 accepted (pass), v2 accepted (pass) |" in text
    assert "**Promotion decision:**" in text
    assert "![metrics](metrics.svg)" in text
    assert "![robustness](robustness.svg)" in text
    for chart in ("metrics.svg", "robustness.svg"):
        root = ET.parse(tmp_path / "pr" / chart).getroot()
        assert root.tag == "{http://www.w3.org/2000/svg}svg"
        assert len(root.findall("{http://www.w3.org/2000/svg}rect")) >= 2
    assert sorted(written["charts"]) == sorted(
        str(tmp_path / "pr" / c) for c in ("metrics.svg", "robustness.svg")
    )

    champion = invoke("models", "report", "churn", "--version", 1, "-o", tmp_path / "v1")
    assert champion.exit_code == 0, champion.output
    own = (tmp_path / "v1" / "report.md").read_text()
    assert own.startswith("## Model `churn` v1: champion")
    assert "| metric | this version |" in own


def test_bad_requests_are_clear(pipelines, tmp_path):
    pipelines(churn=CHURN)
    assert "only markdown" in invoke("models", "report", "churn", "--format", "html", "-o", tmp_path).stderr
    missing = invoke("models", "report", "churn", "-o", tmp_path)
    assert missing.exit_code == 1
    assert "no model named 'churn' (train its pipeline first)" in missing.stderr
