"""Sources through the service: versions + resumable state, crash resume, REST over HTTP, cron, CLI."""

from __future__ import annotations

import datetime as dt
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import ClassVar
from urllib.parse import parse_qs, urlsplit

import psycopg
import pytest
from typer.testing import CliRunner

from lakegate_server.cli import app
from lakegate_server.conf import project
from lakegate_server.datasets.models import DatasetVersion
from lakegate_server.flow import source_pull
from lakegate_server.jobs.models import Run
from lakegate_server.sources import services
from lakegate_server.sources.models import Source, SourceFetch
from lakegate_server.sources.services import sources_cron_fire
from tests.server.sources.conftest import PG_URL

pytestmark = pytest.mark.django_db(transaction=True)
runner = CliRunner()


@pytest.fixture
def orders_table(pg_schema):
    table = f"{pg_schema}.orders"
    with psycopg.connect(PG_URL, autocommit=True) as conn:
        conn.execute(f"CREATE TABLE {table} (id int PRIMARY KEY, amount numeric(10,2), city text, day date)")
        conn.execute(
            f"INSERT INTO {table} SELECT g, g * 1.5, 'c' || (g % 7), DATE '2026-01-01' + g % 30 "
            "FROM generate_series(1, 2500) g"
        )
    return table


def _insert(table: str, first: int, last: int) -> None:
    with psycopg.connect(PG_URL, autocommit=True) as conn:
        conn.execute(f"INSERT INTO {table} SELECT g, g, 'new', NULL FROM generate_series({first}, {last}) g")


def _sql_source(table: str, **extra):
    return {
        "kind": "sql",
        "dataset": "orders",
        "url": PG_URL,
        "query": f"SELECT * FROM {table}",
        "incremental": {"cursor_column": "id"},
        **extra,
    }


def _rows(name: str) -> int:
    latest = DatasetVersion.objects.filter(dataset__name=name).order_by("-number").first()
    return latest.total_rows if latest else 0


def test_sql_source_loads_then_only_new_rows(configure, orders_table):
    configure(sources={"orders-db": _sql_source(orders_table)})
    first = source_pull(config=project(), name="orders-db").to_dict()
    assert (first["new_versions"], first["rows"]) == (1, 2500)
    assert Source.objects.get(name="orders-db").state != {}
    assert DatasetVersion.objects.get(dataset__name="orders", number=1).status == "accepted"

    assert (
        source_pull(config=project(), name="orders-db").to_dict()["batches"] == 0
    )  # nothing new, nothing fetched
    _insert(orders_table, 2501, 2600)
    again = source_pull(config=project(), name="orders-db").to_dict()
    assert (again["new_versions"], again["rows"]) == (1, 100)
    assert _rows("orders") == 2600


def test_a_run_that_dies_between_batches_resumes_without_duplicates(configure, orders_table, monkeypatch):
    configure(sources={"orders-db": _sql_source(orders_table, batch_rows=1000)})
    real_create = SourceFetch.objects.create
    calls = {"n": 0}

    def dies_on_second_batch(**kwargs):
        calls["n"] += 1
        if calls["n"] == 2:  # the process "dies" after batch 2 reached the lake, before its commit
            raise KeyboardInterrupt
        return real_create(**kwargs)

    monkeypatch.setattr(SourceFetch.objects, "create", dies_on_second_batch)
    with pytest.raises(KeyboardInterrupt):
        source_pull(config=project(), name="orders-db")
    monkeypatch.setattr(SourceFetch.objects, "create", real_create)
    assert _rows("orders") == 1000  # only the first batch was committed, with its state

    resumed = source_pull(config=project(), name="orders-db").to_dict()
    assert [f["rows"] for f in resumed["fetches"]] == [1000, 500]
    assert _rows("orders") == 2500
    assert DatasetVersion.objects.filter(dataset__name="orders").count() == 3


class _Api(BaseHTTPRequestHandler):
    """Two pages of records, ``updated_since`` filtering; counts requests."""

    records: ClassVar[list[dict]] = [
        {"id": i, "name": f"p{i}", "updated": f"2026-01-{i:02d}"} for i in range(1, 8)
    ]
    seen: ClassVar[list[str]] = []

    def do_GET(self) -> None:
        query = parse_qs(urlsplit(self.path).query)
        self.seen.append(self.path)
        since = query.get("updated_since", [""])[0]
        rows = [r for r in self.records if r["updated"] > since]
        page = int(query.get("page", ["1"])[0])
        body = json.dumps({"data": rows[(page - 1) * 4 : page * 4], "pages": max(1, -(-len(rows) // 4))})
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(body.encode())

    def log_message(self, *args) -> None:
        pass


@pytest.fixture
def rest_api():
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Api)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    _Api.seen = []
    yield f"http://127.0.0.1:{server.server_port}/products"
    server.shutdown()
    server.server_close()


def _rest_source(url: str) -> dict:
    return {
        "kind": "rest",
        "dataset": "products",
        "url": url,
        "data_selector": "data",
        "paginator": {"type": "page_number", "page_param": "page", "total_path": "pages"},
        "incremental": {"cursor_field": "updated", "param": "updated_since"},
    }


def test_rest_source_through_the_api_and_the_outbound_policy(api, configure, rest_api, execute_queued):
    configure(sources={"catalog": _rest_source(rest_api)})
    # Loopback is refused by default: the run fails and says why.
    response = api("editor").post("/api/v1/sources/catalog/run")
    assert response.status_code == 202, response.content
    execute_queued()
    run = Run.objects.get(pk=response.json()["id"])
    assert run.status == "failed"
    assert "127.0.0.1" in run.last_error
    assert _Api.seen == []  # refused before connecting

    configure(outbound={"allow_private": True})
    response = api("editor").post("/api/v1/sources/catalog/run")
    execute_queued()
    run = Run.objects.get(pk=response.json()["id"])
    assert run.status == "succeeded", run.last_error
    assert _rows("products") == 7
    listed = api("viewer").get("/api/v1/sources").json()["items"]
    assert listed[0]["name"] == "catalog"
    assert listed[0]["last_status"] == "succeeded"
    assert listed[0]["fetches"][0]["rows"] == 7

    _Api.records.append({"id": 8, "name": "p8", "updated": "2026-01-08"})
    try:
        again = source_pull(config=project(), name="catalog").to_dict()
    finally:
        _Api.records.pop()
    assert again["rows"] == 1
    assert "updated_since=2026-01-07" in _Api.seen[-1]
    assert api("viewer").post("/api/v1/sources/catalog/run").status_code == 403
    assert api("editor").post("/api/v1/sources/nope/run").status_code == 404


def test_cron_arms_then_fires_each_slot_once(configure, orders_table):
    configure(sources={"orders-db": _sql_source(orders_table, schedule="*/5 * * * *")})
    start = dt.datetime(2026, 11, 26, 10, 1, tzinfo=dt.UTC)
    assert sources_cron_fire(config=project(), now=start) == []  # armed
    assert sources_cron_fire(config=project(), now=start + dt.timedelta(minutes=3)) == []
    fired = sources_cron_fire(config=project(), now=start + dt.timedelta(minutes=4, seconds=5))
    assert [r.kind for r in fired] == ["source"]
    assert fired[0].params == {"name": "orders-db"}
    assert sources_cron_fire(config=project(), now=start + dt.timedelta(minutes=4, seconds=30)) == []
    late = sources_cron_fire(
        config=project(), now=start + dt.timedelta(minutes=31)
    )  # 5 slots missed: fires once
    assert len(late) == 1


def test_cli_source_list_and_run(configure, orders_table):
    configure(sources={"orders-db": _sql_source(orders_table)})
    listed = runner.invoke(app, ["source", "list", "--json"])
    assert listed.exit_code == 0, listed.output
    assert json.loads(listed.stdout)["items"][0]["kind"] == "sql"
    ran = runner.invoke(app, ["source", "run", "orders-db", "--json"])
    assert ran.exit_code == 0, ran.output
    assert json.loads(ran.stdout)["rows"] == 2500
    human = runner.invoke(app, ["source", "run", "orders-db"])
    assert "0 batch(es)" in human.stdout
    table = runner.invoke(app, ["source", "list"])
    assert table.exit_code == 0, table.output
    assert "orders-db" in table.stdout
    assert "succeeded" in table.stdout  # the last run's status, read from the row
    missing = runner.invoke(app, ["source", "run", "nope"])
    assert missing.exit_code == 1
    assert "no source 'nope'" in missing.output


def test_a_bad_source_config_names_the_field(configure):
    configure(sources={"broken": {"kind": "sql", "dataset": "x", "query": "select 1"}})
    with pytest.raises(Exception, match=r"sources\.broken"):
        services.source_run(config=project(), name="broken")


def test_a_lake_outage_leaves_the_cursor_and_quarantine_alone(configure, orders_table, settings):
    """The lake is down, not the batch: the run fails as transient (the runner retries it), the
    source's state does not move past rows that never landed, nothing is quarantined."""
    from lakegate.errors import LakeUnavailableError
    from lakegate_server.datasets.models import QuarantinedFile
    from tests.core.lake import deadends

    configure(sources={"orders-db": _sql_source(orders_table)})
    with deadends.refusing() as endpoint:
        settings.LAKEGATE = settings.LAKEGATE.model_copy(
            update={
                "lake": "s3://lg-lake-down/lake",
                "lake_storage_options": deadends.options(endpoint)
                | {"connect_timeout": "1s", "retry_timeout": "1s"},
            }
        )
        with pytest.raises(LakeUnavailableError, match="the lake is unreachable"):
            source_pull(config=project(), name="orders-db")
    assert Source.objects.get(name="orders-db").state == {}
    assert not SourceFetch.objects.exists()
    assert not QuarantinedFile.objects.exists()
    assert not DatasetVersion.objects.exists()
