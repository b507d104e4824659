"""`lakegate export`, the export API and exports queued after an accepted version (real PostgreSQL)."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from lakegate.config import DatasetSettings
from lakegate_server.cli import app
from lakegate_server.conf import project
from lakegate_server.datasets.models import DatasetVersion
from lakegate_server.datasets.services import version_commit
from lakegate_server.exports.models import ExportRecord
from lakegate_server.flow import ingest_file
from lakegate_server.jobs.models import Run
from tests.server.exports.conftest import PG_URL, pg_rows

pytestmark = pytest.mark.django_db(transaction=True)
runner = CliRunner()


def _ingest(tmp_path, name, text, *, status="accepted"):
    path = tmp_path / f"{name}-{abs(hash(text))}.csv"
    path.write_text(text, encoding="utf-8")
    version = version_commit(config=project(), name=name, source=path, created_by="test").version
    DatasetVersion.objects.filter(pk=version.pk).update(status=status)
    return version


def test_cli_export_append_replace_and_merge(tmp_path, pg_schema, loopback_allowed):
    _ingest(tmp_path, "orders", "id,amount,city\n1,10.5,Oslo\n2,20,Rome\n")
    target = ["--to", PG_URL, "--table", "orders", "--schema", pg_schema]
    first = runner.invoke(app, ["export", "orders", *target, "--json"])
    assert first.exit_code == 0, first.output
    assert json.loads(first.stdout)["rows"] == 2
    assert "postgres@" in json.loads(first.stdout)["destination"]
    assert pg_rows(f"select id, amount, city from {pg_schema}.orders order by id") == [
        (1, 10.5, "Oslo"),
        (2, 20.0, "Rome"),
    ]

    _ingest(tmp_path, "orders", "id,amount,city\n2,25,Roma\n3,30,Bergen\n")
    merged = runner.invoke(app, ["export", "orders", *target, "--mode", "merge", "--key", "id", "--batch"])
    assert merged.exit_code == 0, merged.output
    assert pg_rows(f"select id, amount, city from {pg_schema}.orders order by id") == [
        (1, 10.5, "Oslo"),
        (2, 25.0, "Roma"),
        (3, 30.0, "Bergen"),
    ]

    replaced = runner.invoke(app, ["export", "orders", *target, "--mode", "replace", "--version", "1"])
    assert replaced.exit_code == 0, replaced.output
    assert pg_rows(f"select count(*) from {pg_schema}.orders") == [(2,)]
    assert ExportRecord.objects.count() == 3


def test_only_accepted_versions_are_exported(tmp_path, pg_schema, loopback_allowed):
    _ingest(tmp_path, "orders", "id,amount\n1,10\n", status="rejected")
    result = runner.invoke(app, ["export", "orders", "--to", PG_URL, "--table", "t", "--schema", pg_schema])
    assert result.exit_code == 1
    assert "no accepted version" in result.output
    result = runner.invoke(
        app, ["export", "orders", "--to", PG_URL, "--table", "t", "--schema", pg_schema, "--version", "1"]
    )
    assert result.exit_code == 1
    assert "rejected" in result.output
    assert pg_rows(f"select count(*) from information_schema.tables where table_schema = '{pg_schema}'") == [
        (0,)
    ]


def test_declared_export_runs_after_the_gate_accepts(
    tmp_path, pg_schema, configure, execute_queued, monkeypatch
):
    monkeypatch.setenv("LG_TEST_WAREHOUSE", PG_URL)
    export = {
        "to": "env:LG_TEST_WAREHOUSE",
        "table": "orders",
        "schema": pg_schema,
        "mode": "merge",
        "key": ["id"],
    }
    configure(datasets={"orders": DatasetSettings.model_validate({"exports": [export]})})
    path = tmp_path / "orders.csv"
    path.write_text("id,amount\n1,10\n2,20\n", encoding="utf-8")
    outcome = ingest_file(config=project(), dataset="orders", path=path, actor="test")
    assert outcome.version.status == "accepted"
    run = Run.objects.get(kind="export")
    assert run.params["export"] == 0
    assert PG_URL not in json.dumps(run.params)  # URLs stay in lakegate.yaml / the environment
    execute_queued()
    run.refresh_from_db()
    assert run.status == "succeeded", run.last_error
    assert pg_rows(f"select id, amount from {pg_schema}.orders order by id") == [(1, 10), (2, 20)]


def test_export_api_queues_a_run(api, tmp_path, pg_schema, execute_queued, loopback_allowed):
    _ingest(tmp_path, "orders", "id,amount\n1,10\n")
    body = {"to": PG_URL, "table": "orders_api", "schema": pg_schema}
    assert api("viewer").post("/api/v1/datasets/orders/export", body).status_code == 403
    response = api("editor").post("/api/v1/datasets/orders/export", body)
    assert response.status_code == 202, response.content
    execute_queued()
    assert Run.objects.get(pk=response.json()["id"]).status == "succeeded"
    assert pg_rows(f"select count(*) from {pg_schema}.orders_api") == [(1,)]
