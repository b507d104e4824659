"""``dag_module``: the generated Airflow/Dagster source, per trigger (the real libraries load it
in tests/e2e/test_export_dag.py)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from lakegate.errors import InputError
from lakegate.pipelines import PipelineSpec
from lakegate.pipelines._dags import dag_module, dag_module_name


def spec(*triggers: object) -> PipelineSpec:
    return PipelineSpec.model_validate(
        {
            "name": "churn-v2",
            "inputs": ["customers"],
            "target": "churned",
            "model": {"task": "classification", "algorithm": "logistic_regression"},
            "triggers": list(triggers),
        }
    )


def dag_ids(source: str) -> list[str]:
    tree = ast.parse(source)
    return [
        kw.value.value
        for node in ast.walk(tree)
        if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "DAG"
        for kw in node.keywords
        if kw.arg == "dag_id"
    ]


def test_each_cron_trigger_is_a_dag_and_each_new_version_trigger_a_sensor_dag():
    source = dag_module(
        spec(
            {"cron": "0 3 * * *"},
            {"cron": "0 * * * 1", "timezone": "Asia/Tokyo"},
            {"on_new_version": "customers"},
        ),
        to="airflow",
        project_dir=Path("/srv/proj"),
    )
    assert dag_ids(source) == [
        "lakegate_churn_v2_cron0",
        "lakegate_churn_v2_cron1",
        "lakegate_churn_v2_on_customers",
    ]
    assert "schedule='0 * * * 1'" in source
    assert "tz='Asia/Tokyo'" in source
    assert "PROJECT = '/srv/proj'" in source
    assert "LAKEGATE = ['lakegate']" in source


def test_a_manual_pipeline_is_one_unscheduled_dag_and_no_dagster_schedule():
    airflow = dag_module(
        spec("manual"), to="airflow", project_dir=Path("/p"), lakegate_command=["/venv/bin/lakegate"]
    )
    assert dag_ids(airflow) == ["lakegate_churn_v2"]
    assert "schedule=None" in airflow
    assert "LAKEGATE = ['/venv/bin/lakegate']" in airflow
    dagster = dag_module(spec("manual"), to="dagster", project_dir=Path("/p"))
    ast.parse(dagster)
    assert "schedules = [\n]" in dagster
    assert "@dg.sensor" not in dagster


def test_the_dagster_module_has_a_schedule_and_a_cursor_sensor():
    source = dag_module(
        spec({"cron": "5 4 * * *", "timezone": "Europe/Paris"}, {"on_new_version": "customers"}),
        to="dagster",
        project_dir=Path("/p"),
    )
    ast.parse(source)
    assert "cron_schedule='5 4 * * *', execution_timezone='Europe/Paris'" in source
    assert "def on_customers(context):" in source
    assert 'run_key=f"customers-v{latest}"' in source


def test_an_unknown_orchestrator_is_an_input_error():
    with pytest.raises(InputError, match="--to must be one of airflow, dagster"):
        dag_module(spec("manual"), to="prefect", project_dir=Path("/p"))


def test_the_module_file_is_named_after_the_pipeline_and_the_orchestrator():
    assert dag_module_name("churn-v2", "dagster") == "lakegate_churn_v2_dagster.py"
