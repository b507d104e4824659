"""Export targets probed as an attacker would: SSRF, env: variables, passwords, remote replies.

Refusals are asserted before any connection (an export's ``psycopg.connect`` fails the
test); names resolve through a stub; the only traffic goes to 127.0.0.1 (the local
PostgreSQL and listeners started here).
"""

from __future__ import annotations

import importlib
import ipaddress
import json
import logging
import socket
from collections.abc import Callable, Iterator

import psycopg
import pytest
from django.apps import apps
from django.test import Client
from django.urls import reverse
from typer.testing import CliRunner

from lakegate_server.accounts.services import user_create
from lakegate_server.cli import app
from lakegate_server.conf import project
from lakegate_server.datasets.models import DatasetVersion
from lakegate_server.datasets.services import version_commit
from lakegate_server.exports.models import ExportRecord
from lakegate_server.jobs.models import Run
from tests.core.export.fakepg import BANNER, listener, pg_error
from tests.server.exports.conftest import LOOPBACK, PG_URL, pg_rows

pytestmark = pytest.mark.django_db(transaction=True)
runner = CliRunner()
SECRET = "hunter2-export-pw"
EXPORT = "/api/v1/datasets/orders/export"


@pytest.fixture
def orders(tmp_path) -> None:
    path = tmp_path / "orders.csv"
    path.write_text("id,amount\n1,10\n2,20\n", encoding="utf-8")
    version = version_commit(config=project(), name="orders", source=path, created_by="test").version
    DatasetVersion.objects.filter(pk=version.pk).update(status="accepted")


@pytest.fixture
def no_connection(monkeypatch: pytest.MonkeyPatch) -> None:
    """An export's connection attempt fails the test; the catalog's own (Django on PostgreSQL) passes."""
    real = psycopg.connect

    def guarded(conninfo: str = "", **kwargs: object) -> psycopg.Connection:
        if kwargs.get("application_name") == "lakegate-export" or "hostaddr" in kwargs:
            pytest.fail(f"an export connection was attempted: {conninfo!r} {kwargs}")
        return real(conninfo, **kwargs)

    monkeypatch.setattr(psycopg, "connect", guarded)


@pytest.fixture
def resolver(monkeypatch: pytest.MonkeyPatch) -> Callable[[dict[str, list[list[str]]]], None]:
    """``resolver({"name": [first answer, second answer, ...]})``: a stub DNS; others fail the test."""

    real = socket.getaddrinfo

    def install(answers: dict[str, list[list[str]]]) -> None:
        left = {name: iter(replies) for name, replies in answers.items()}

        def getaddrinfo(host: str, port: object, *args: object, **kwargs: object) -> list[tuple]:
            if host not in left and _is_address(host):  # the catalog and queue servers: no DNS involved
                return real(host, port, *args, **kwargs)
            if host not in left:
                pytest.fail(f"unexpected DNS lookup of {host!r}")
            return [
                (
                    socket.AF_INET6 if ipaddress.ip_address(a).version == 6 else socket.AF_INET,
                    1,
                    6,
                    "",
                    (a, port),
                )
                for a in next(left[host])
            ]

        monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)

    return install


def _is_address(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


@pytest.fixture
def viewer(db: None, settings) -> Client:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    client = Client()
    client.force_login(user_create(username="viewer-person", password="pw-of-the-viewer", role="viewer"))
    return client


def _everything_a_viewer_reads(api, viewer: Client) -> Iterator[str]:
    """Every place a viewer (or `lakegate runs`) sees export runs, as text."""
    reader = api("viewer")

    def ok(response) -> str:
        assert response.status_code == 200
        return response.content.decode()

    def cli(*args: str) -> str:
        result = runner.invoke(app, [*args, "--json"])
        assert result.exit_code == 0, result.output
        return result.output

    yield ok(reader.get("/api/v1/runs", kind="export"))
    for run in Run.objects.filter(kind="export"):
        yield ok(reader.get(f"/api/v1/runs/{run.pk}"))
        yield ok(reader.get(f"/api/v1/runs/{run.pk}/logs"))
        yield ok(viewer.get(reverse("dashboard:run", args=[run.pk])))
        yield cli("runs", "show", str(run.pk))
        yield cli("runs", "logs", str(run.pk))
    yield cli("runs", "list")
    yield json.dumps([r.to_dict() for r in ExportRecord.objects.all()], default=str)


PROBES = [
    ("postgresql://postgres@127.0.0.1:5432/dw", "refused_by_policy"),  # no outbound: setting
    ("postgresql://etl@169.254.169.254/dw", "refused_by_policy"),
    ("postgresql://etl@2130706433/dw", "refused_by_policy"),
    ("postgresql://etl@0x7f000001/dw", "refused_by_policy"),
    ("postgresql://etl@[::ffff:127.0.0.1]/dw", "refused_by_policy"),
    ("postgresql://etl@[fe80::1]/dw", "refused_by_policy"),
    ("postgresql://etl@[::1]/dw", "refused_by_policy"),
    ("postgresql://etl@db.internal/dw", "refused_by_policy"),  # resolves to 10.0.0.7 (stub)
    ("postgresql://etl@public.example/dw?host=10.0.0.1", "refused_by_policy"),
    ("postgresql://etl@public.example/dw?sslkey=/etc/ssl/private/lakegate.key", "invalid_target"),
    ("postgresql://etl@public.example/dw?service=catalog", "invalid_target"),
    ("postgresql:///lakegate", "invalid_target"),
    ("env:LAKEGATE_DATABASE_URL", "env_not_allowed"),
    ("env:HOME", "env_not_allowed"),
    ("dlt:duckdb", "dlt_not_allowed"),  # would write a file in the worker's folder
    (f"postgresql://etl:{SECRET}@public.example/dw", "invalid_target"),
    (f"postgresql://etl@public.example/dw?password={SECRET}", "invalid_target"),
    (f"host=public.example password={SECRET}", "invalid_target"),
]


@pytest.mark.parametrize(("to", "reason"), PROBES, ids=[p[0][:60] for p in PROBES])
def test_the_api_refuses_a_target_before_queueing_a_run(api, orders, no_connection, resolver, to, reason):
    resolver({"db.internal": [["10.0.0.7"]]})
    response = api("editor").post(EXPORT, {"to": to, "table": "t"})
    assert response.status_code == 422, response.content
    error = response.json()["error"]
    if isinstance(error["detail"], dict):
        assert error["detail"]["reason"] == reason
    else:  # not even URL-shaped: the schema's pattern refuses it (a validation error naming `to`)
        assert (reason, error["code"]) == ("invalid_target", "validation_error")
        assert "body.payload.to" in error["message"]
    assert SECRET not in response.content.decode()
    assert not Run.objects.filter(kind="export").exists()


def test_posting_a_run_directly_cannot_store_a_password(api, orders, no_connection):
    body = {
        "kind": "export",
        "params": {"dataset": "orders", "to": f"postgresql://etl:{SECRET}@h.example/dw"},
    }
    response = api("editor").post("/api/v1/runs", body)
    assert response.status_code == 422
    assert "password" in response.json()["error"]["message"]
    assert SECRET not in response.content.decode()
    assert not Run.objects.exists()


def test_a_run_posted_directly_is_refused_in_the_run(api, orders, no_connection, execute_queued):
    params = {"dataset": "orders", "to": "postgresql://etl@169.254.169.254/dw", "table": "t"}
    created = api("editor").post("/api/v1/runs", {"kind": "export", "params": params})
    assert created.status_code == 201  # POST /runs does not resolve hosts; the run checks before connecting
    execute_queued()
    run = Run.objects.get(pk=created.json()["id"])
    assert (run.status, run.attempts) == ("failed", 1)  # refused, not retried
    assert "refused_by_policy" in run.last_error


def test_a_second_dns_answer_cannot_swap_the_target(api, orders, loopback_allowed, resolver, execute_queued):
    resolver({"rebind.example": [["127.0.0.1"], ["169.254.169.254"]]})
    accepted = api("editor").post(EXPORT, {"to": "postgresql://postgres@rebind.example/dw", "table": "t"})
    assert accepted.status_code == 202  # the request: 127.0.0.1, allowed by outbound
    execute_queued()  # the run: the metadata address, refused before connecting
    run = Run.objects.get(pk=accepted.json()["id"])
    assert run.status == "failed"
    assert "refused_by_policy" in run.last_error
    assert "169.254.169.254" not in run.last_error


def test_the_cli_applies_the_same_policy(orders, no_connection, configure):
    refused = runner.invoke(
        app, ["export", "orders", "--to", "postgresql://postgres@127.0.0.1/dw", "--table", "t"]
    )
    assert refused.exit_code == 1
    assert "refused_by_policy" in refused.output
    configure(outbound=LOOPBACK)
    catalog = runner.invoke(app, ["export", "orders", "--to", "env:LAKEGATE_DATABASE_URL", "--table", "t"])
    assert catalog.exit_code == 1
    assert "env_not_allowed" in catalog.output


def test_a_viewer_never_sees_an_export_password(
    api, viewer, orders, pg_schema, configure, monkeypatch, caplog, execute_queued
):
    caplog.set_level(logging.DEBUG)
    with socket.socket() as probe:  # a port nobody listens on: the failing run
        probe.bind(("127.0.0.1", 0))
        closed = probe.getsockname()[1]
    working = PG_URL.replace("postgresql://postgres@", f"postgresql://postgres:{SECRET}@")
    assert SECRET in working
    monkeypatch.setenv("LG_TEST_WAREHOUSE", working)
    monkeypatch.setenv("LG_TEST_DOWN", f"postgresql://postgres:{SECRET}@127.0.0.1:{closed}/dw")
    configure(exports={"allowed_env": ["LG_TEST_WAREHOUSE", "LG_TEST_DOWN"]})
    editor = api("editor")
    ok = editor.post(EXPORT, {"to": "env:LG_TEST_WAREHOUSE", "table": "orders_env", "schema": pg_schema})
    down = editor.post(EXPORT, {"to": "env:LG_TEST_DOWN", "table": "t"})
    assert (ok.status_code, down.status_code) == (202, 202)
    execute_queued()
    assert Run.objects.get(pk=ok.json()["id"]).status == "succeeded"
    failed = Run.objects.get(pk=down.json()["id"])
    assert failed.status == "failed"
    assert "unreachable" in failed.last_error
    assert pg_rows(f"select count(*) from {pg_schema}.orders_env") == [(2,)]
    assert ExportRecord.objects.get().destination.startswith("postgresql://postgres:***@")
    for text in _everything_a_viewer_reads(api, viewer):
        assert SECRET not in text
    for record in caplog.records:
        assert SECRET not in record.getMessage()
        assert SECRET not in json.dumps(vars(record), default=str)


def test_a_remote_reply_never_reaches_the_run(api, viewer, orders, loopback_allowed, caplog, execute_queued):
    caplog.set_level(logging.WARNING, logger="lakegate.export")
    with listener(pg_error("28000", BANNER)) as server:
        response = api("editor").post(EXPORT, {"to": server.url(), "table": "t"})
        assert response.status_code == 202
        execute_queued()
    run = Run.objects.get(pk=response.json()["id"])
    assert run.status == "failed"
    assert "login_refused" in run.last_error
    for text in _everything_a_viewer_reads(api, viewer):
        assert "remote-reply-7f3a" not in text
    assert any("remote-reply-7f3a" in str(getattr(r, "reply", "")) for r in caplog.records)  # the operator's


def test_the_catalog_database_is_never_an_export_target(api, orders, loopback_allowed, no_connection):
    from django.db import connection

    from lakegate_server.exports.services import export_policy

    catalog = export_policy(config=project()).catalog
    if connection.vendor != "postgresql":
        assert catalog is None  # SQLite: no catalog server to reach
        return
    db = connection.settings_dict
    assert catalog is not None
    assert (catalog.port, catalog.name) == (int(db["PORT"] or 5432), db["NAME"])
    url = f"postgresql://{db['USER'] or 'postgres'}@127.0.0.1:{catalog.port}/{db['NAME']}"
    response = api("editor").post(EXPORT, {"to": url, "table": "jobs_run", "mode": "replace"})
    assert response.status_code == 422
    assert "catalog" in response.json()["error"]["message"]
    assert not Run.objects.filter(kind="export").exists()


def test_the_migration_masks_passwords_already_stored(orders):
    run = Run.objects.create(
        kind="export",
        params={"dataset": "orders", "to": f"postgresql://etl:{SECRET}@h.example/dw", "table": "t"},
        queued_at="2024-01-01T00:00:00Z",
    )
    other = Run.objects.create(
        kind="selfcheck", params={"to": f"postgresql://etl:{SECRET}@h"}, queued_at=run.queued_at
    )
    record = ExportRecord.objects.create(
        dataset="orders",
        number=1,
        destination=f"postgresql://etl:{SECRET}#x@h/dw",
        table="t",
        mode="append",
        rows=1,
        seconds=0.1,
    )
    migration = importlib.import_module("lakegate_server.exports.migrations.0002_mask_export_secrets")
    migration._mask(apps, None)
    run.refresh_from_db()
    record.refresh_from_db()
    other.refresh_from_db()
    assert run.params["to"] == "postgresql://etl:***@h.example/dw"
    assert SECRET not in record.destination
    assert other.params["to"].endswith(f"{SECRET}@h")  # only export runs are touched
