"""Server-backed CLI commands through typer's CliRunner, in the test project."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from lakegate_server.cli import app
from lakegate_server.jobs.models import Run

runner = CliRunner()


def invoke(*args: str):
    return runner.invoke(app, list(args))


@pytest.mark.django_db(transaction=True)
def test_token_create_list_revoke():
    created = invoke("token", "create", "--role", "editor", "--name", "ci", "--json")
    assert created.exit_code == 0, created.output
    token = json.loads(created.stdout)
    assert token["role"] == "editor"
    assert token["token"].startswith(f"lg_{token['prefix']}_")

    listed = json.loads(invoke("token", "list", "--json").stdout)["items"]
    assert [t["name"] for t in listed] == ["ci"]
    assert "token" not in listed[0]

    assert invoke("token", "revoke", str(token["id"])).exit_code == 0
    assert json.loads(invoke("token", "list", "--json").stdout)["items"] == []


@pytest.mark.django_db(transaction=True)
def test_token_create_rejects_an_unknown_role():
    result = invoke("token", "create", "--role", "boss")
    assert result.exit_code == 1
    assert "unknown role 'boss'" in result.stderr


@pytest.mark.django_db(transaction=True)
def test_runs_start_show_list_logs_cancel(execute_queued):
    started = invoke("runs", "start", "selfcheck", "--param", "seconds=0", "--json")
    assert started.exit_code == 0, started.output
    run = json.loads(started.stdout)
    assert (run["status"], run["params"]["seconds"]) == ("queued", 0.0)

    execute_queued()
    shown = json.loads(invoke("runs", "show", str(run["id"]), "--json").stdout)
    assert shown["status"] == "succeeded"
    assert shown["result"]["attempt"] == 1

    human = invoke("runs", "show", str(run["id"]))
    assert "succeeded" in human.stdout

    listed = json.loads(invoke("runs", "list", "--json").stdout)["items"]
    assert [r["id"] for r in listed] == [run["id"]]

    logs = json.loads(invoke("runs", "logs", str(run["id"]), "--json").stdout)
    assert logs["entries"][-1]["msg"] == "attempt succeeded"
    assert "attempt succeeded" in invoke("runs", "logs", str(run["id"])).stdout

    other = json.loads(invoke("runs", "start", "selfcheck", "--json").stdout)
    cancelled = invoke("runs", "cancel", str(other["id"]), "--json")
    assert json.loads(cancelled.stdout)["status"] == "cancelled"
    assert Run.objects.get(id=other["id"]).last_error == "cancelled by cli"


@pytest.mark.django_db(transaction=True)
def test_runs_errors_exit_1_with_one_line():
    missing = invoke("runs", "show", "424242")
    assert missing.exit_code == 1
    assert missing.stderr.strip() == "error: no run with id 424242"
    bad_param = invoke("runs", "start", "selfcheck", "--param", "seconds")
    assert bad_param.exit_code == 1
    assert "expected KEY=VALUE" in bad_param.stderr
    bad_kind = invoke("runs", "start", "nope")
    assert bad_kind.exit_code == 1
    assert "known kinds: check, export, ingest, notify, predict, selfcheck, source, train" in bad_kind.stderr


def test_a_usage_error_exits_2():
    assert invoke("runs", "show", "not-a-number").exit_code == 2
