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
    assert (
        "known kinds: check, export, ingest, notify, performance, predict, scoring_drift, selfcheck, "
        "source, train" in bad_kind.stderr
    )


def test_a_usage_error_exits_2():
    assert invoke("runs", "show", "not-a-number").exit_code == 2


@pytest.mark.django_db(transaction=True)
def test_an_unexpected_error_is_one_line_and_its_traceback_goes_to_the_cli_log(monkeypatch):
    from django.conf import settings

    import lakegate_server.datasets.selectors

    def broken(**_kwargs):
        raise ZeroDivisionError("division by zero")

    monkeypatch.setattr(lakegate_server.datasets.selectors, "dataset_list", broken)
    log = settings.LAKEGATE.paths.logs / "cli.jsonl"
    before = log.read_text(encoding="utf-8").count("\n") if log.exists() else 0

    result = invoke("datasets", "list")

    assert result.exit_code == 1
    assert result.stderr == (
        "error: unexpected error, a bug in lakegate (ZeroDivisionError: division by zero); "
        f"the traceback is in {log}; run again with --verbose to print it\n"
    )
    new = [json.loads(line) for line in log.read_text(encoding="utf-8").splitlines()[before:]]
    [entry] = [e for e in new if e["level"] == "ERROR"]
    assert entry["msg"] == "unexpected error: ZeroDivisionError: division by zero"
    assert entry["exc"].startswith("Traceback (most recent call last):")
    assert "in broken" in entry["exc"]
