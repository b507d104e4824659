"""``lakegate export-dag``: the generated modules load in the real Airflow and Dagster, and a
Dagster materialisation trains the pipeline through lakegate.

Each orchestrator lives in its own environment, made by the test with uv and kept in
``~/.cache/lakegate-orchestrators`` (``LAKEGATE_ORCHESTRATOR_CACHE``), so the project's lock
stays lean. In CI (PyPI reachable) an environment that cannot be made is a failure; offline
elsewhere these tests are skipped.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.e2e.conftest import Project
from tests.e2e.test_training import configure, customer_frame, ingest
from tests.support.envs import tool_python

pytestmark = pytest.mark.slow

PINS = {"airflow": "apache-airflow==3.3.2", "dagster": "dagster==1.13.29"}
LAKEGATE_COMMAND = f"{sys.executable} -m lakegate_server.cli"
TRIGGERS = [{"on_new_version": "customers"}, {"cron": "0 3 * * *", "timezone": "Europe/Paris"}, "manual"]


def orchestrator_python(tool: str) -> Path:
    """The Python of an environment holding ``tool`` (made once, then reused)."""
    return tool_python(PINS[tool].replace("==", "-"), [PINS[tool]])


def in_orchestrator(tool: str, script: str, *, env: dict[str, str], cwd: Path) -> dict:
    done = subprocess.run(
        [str(orchestrator_python(tool)), "-c", script],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-4000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def exported(project: Project, to: str) -> Path:
    out = project.root / "dags"
    done = project.run(
        "export-dag", "churn", "--to", to, "-o", str(out), "--lakegate", LAKEGATE_COMMAND, "--json"
    )
    path = Path(json.loads(done.stdout)["path"])
    assert path == out / f"lakegate_churn_{to}.py"
    return path


AIRFLOW_PARSE = """
import json, sys
try:
    from airflow.dag_processing.dagbag import DagBag
except ImportError:
    from airflow.models.dagbag import DagBag
bag = DagBag(dag_folder=sys.argv[1] if len(sys.argv) > 1 else {path!r})
out = {{"errors": {{k: str(v) for k, v in bag.import_errors.items()}}, "dags": {{}}}}
for dag_id, dag in bag.dags.items():
    order = sorted(dag.task_ids)
    out["dags"][dag_id] = {{
        "timetable": type(dag.timetable).__name__,
        "expression": getattr(dag.timetable, "expression", getattr(dag.timetable, "_expression", None)),
        "timezone": str(getattr(dag.timetable, "timezone", getattr(dag.timetable, "_timezone", ""))),
        "tasks": order,
        "upstream": {{t.task_id: sorted(t.upstream_task_ids) for t in dag.tasks}},
    }}
print(json.dumps(out))
"""


def test_the_airflow_dag_parses_with_the_triggers_mapped(project):
    configure(project, triggers=TRIGGERS)
    path = exported(project, "airflow")
    env = {**os.environ, "AIRFLOW_HOME": str(project.root / "airflow-home")}
    parsed = in_orchestrator("airflow", AIRFLOW_PARSE.format(path=str(path)), env=env, cwd=project.root)
    assert parsed["errors"] == {}
    dags = parsed["dags"]
    assert set(dags) == {"lakegate_churn", "lakegate_churn_on_customers"}
    cron = dags["lakegate_churn"]
    assert (cron["expression"], cron["timezone"], cron["tasks"]) == ("0 3 * * *", "Europe/Paris", ["train"])
    sensor = dags["lakegate_churn_on_customers"]
    assert sensor["upstream"] == {
        "new_accepted_version_of_customers": [],
        "train": ["new_accepted_version_of_customers"],
        "mark_seen": ["train"],
    }


DAGSTER_RUN = """
import importlib.util, json
import dagster as dg
spec = importlib.util.spec_from_file_location("generated", {path!r})
module = importlib.util.module_from_spec(spec)
spec.loader.exec_module(module)
defs = module.defs
job = defs.get_job_def("lakegate_churn")
[schedule] = list(defs.schedules)
[sensor] = list(defs.sensors)
first = list(sensor(dg.build_sensor_context(cursor=None)))
again = list(sensor(dg.build_sensor_context(cursor="1")))
result = dg.materialize([module.model])
[event] = result.get_asset_materialization_events()
meta = {{k: v.value for k, v in event.materialization.metadata.items()}}
print(json.dumps({{
    "job": job.name,
    "assets": sorted("/".join(k.path) for k in defs.resolve_all_asset_keys()),
    "schedule": [schedule.cron_schedule, schedule.execution_timezone],
    "sensor_first": [r.run_key for r in first],
    "sensor_again": [r.run_key for r in again],
    "success": result.success,
    "meta": {{k: meta[k] for k in ("model_version", "promoted")}},
}}))
"""


def test_dagster_loads_the_definitions_and_a_materialisation_trains_through_lakegate(project):
    configure(project, triggers=["manual"])  # no training queued by the ingest itself
    version = ingest(project, "b1.csv", customer_frame(600, seed=1))
    assert version["status"] == "accepted", version
    configure(project, triggers=TRIGGERS)
    project.start("worker", log_name="worker")
    path = exported(project, "dagster")
    env = {**project.env, "DAGSTER_HOME": str(project.root / "dagster-home")}
    (project.root / "dagster-home").mkdir()
    ran = in_orchestrator("dagster", DAGSTER_RUN.format(path=str(path)), env=env, cwd=project.root)
    assert ran["job"] == "lakegate_churn"
    assert ran["assets"] == ["lakegate/churn_model", "lakegate/customers"]
    assert ran["schedule"] == ["0 3 * * *", "Europe/Paris"]
    assert ran["sensor_first"] == ["customers-v1"]  # version 1 accepted, nothing seen yet
    assert ran["sensor_again"] == []  # the cursor already holds version 1
    assert ran["success"] is True
    assert ran["meta"] == {"model_version": 1, "promoted": True}
    models = json.loads(project.run("models", "show", "churn", "--json").stdout)["items"]
    assert [(m["version"], m["stage"]) for m in models] == [(1, "champion")]
