"""``/metrics``: Prometheus text for a token of any role; the series move when work is done.

Scraped over HTTP through the real ASGI app (what ``lakegate up`` serves). This process
counts alone here (no ``PROMETHEUS_MULTIPROC_DIR``); the processes of a live ``lakegate up``
counting together are tested in ``tests/server/test_web_processes.py``.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import anyio.from_thread
import httpx
import polars as pl
import pytest
from django.core.handlers.asgi import ASGIHandler
from prometheus_client.parser import text_string_to_metric_families

from lakegate_server.accounts.services import token_create
from lakegate_server.conf import project
from lakegate_server.flow import ingest_file, streams_flush
from lakegate_server.jobs.services import run_create
from lakegate_server.metrics import metrics_text, multiprocess_dir_prepare
from lakegate_server.serving import build_app, mount
from lakegate_server.streams.wal import stream_logs_close

pytestmark = pytest.mark.django_db(transaction=True)


class Scraper:
    def __init__(self, portal: Any) -> None:
        self.portal = portal
        self.lines: list[bytes] = []
        self.app = mount(ASGIHandler(), build_app(), access_log=self.lines.append)
        self.headers = {"Authorization": f"Bearer {token_create(name='prometheus', role='viewer').raw}"}

    def request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        async def go() -> httpx.Response:
            transport = httpx.ASGITransport(app=self.app)
            async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as client:
                return await client.request(method, path, **kwargs)

        return self.portal.call(go)

    def scrape(self) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
        response = self.request("GET", "/metrics", headers=self.headers)
        assert response.status_code == 200, response.text
        assert response.headers["content-type"].startswith("text/plain; version=")
        return {
            (sample.name, tuple(sorted(sample.labels.items()))): sample.value
            for family in text_string_to_metric_families(response.text)
            for sample in family.samples
        }


@pytest.fixture
def scraper() -> Iterator[Scraper]:
    with anyio.from_thread.start_blocking_portal() as portal:
        yield Scraper(portal)


def value(samples: dict[Any, float], name: str, **labels: str) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


def test_metrics_need_a_token(scraper):
    anonymous = scraper.request("GET", "/metrics")
    assert anonymous.status_code == 401
    assert anonymous.headers["www-authenticate"] == "Bearer"
    assert anonymous.json()["error"]["code"] == "unauthorized"
    wrong = scraper.request("GET", "/metrics", headers={"Authorization": "Bearer lg_nope_nope"})
    assert wrong.status_code == 401
    assert b"lakegate_" not in wrong.content
    assert scraper.request("POST", "/metrics", headers=scraper.headers).status_code == 405
    scraper.scrape()
    logged = json.loads(scraper.lines[-1])
    assert (logged["route"], logged["status"], logged["token"]) == ("/metrics", 200, "prometheus")


def test_an_ingest_moves_bytes_versions_verdicts(scraper, tmp_path: Path):
    before = scraper.scrape()
    path = tmp_path / "orders.csv"
    pl.DataFrame({"id": list(range(500)), "amount": [i * 1.5 for i in range(500)]}).write_csv(path)
    version = ingest_file(config=project(), dataset="orders", path=path, actor="test").version
    after = scraper.scrape()
    assert value(after, "lakegate_ingested_bytes_in_total") - value(
        before, "lakegate_ingested_bytes_in_total"
    ) == (version.bytes_in)
    assert value(after, "lakegate_ingested_bytes_out_total") - value(
        before, "lakegate_ingested_bytes_out_total"
    ) == (version.bytes_out)
    assert (
        value(after, "lakegate_dataset_versions_total")
        == value(before, "lakegate_dataset_versions_total") + 1
    )
    verdicts = sum(
        value(after, "lakegate_gate_verdicts_total", verdict=v)
        - value(before, "lakegate_gate_verdicts_total", verdict=v)
        for v in ("pass", "warn", "fail")
    )
    assert verdicts == 1


def test_runs_queue_and_durations(scraper, execute_queued):
    run_create(kind="selfcheck", params={"seconds": 0}, created_by="test")
    run_create(kind="selfcheck", params={"seconds": 0}, created_by="test")
    queued = scraper.scrape()
    assert value(queued, "lakegate_runs", kind="selfcheck", status="queued") == 2
    assert value(queued, "lakegate_queue_depth") == 2
    assert value(queued, "lakegate_queue_oldest_age_seconds") >= 0
    assert execute_queued() == ["succeeded", "succeeded"]
    done = scraper.scrape()
    assert value(done, "lakegate_runs", kind="selfcheck", status="succeeded") == 2
    assert value(done, "lakegate_runs", kind="selfcheck", status="queued") == 0
    assert value(done, "lakegate_queue_depth") == 0
    assert value(done, "lakegate_run_duration_seconds_count", kind="selfcheck") == 2
    assert value(done, "lakegate_run_duration_seconds_bucket", kind="selfcheck", le="+Inf") == 2
    assert value(done, "lakegate_run_duration_seconds_bucket", kind="selfcheck", le="3600.0") == 2
    assert value(done, "lakegate_run_duration_seconds_sum", kind="selfcheck") >= 0


def test_stream_pushes_are_acknowledged_then_flushed(scraper):
    editor = {"Authorization": f"Bearer {token_create(name='pusher', role='editor').raw}"}
    before = scraper.scrape()
    records = [{"sensor": i, "value": i / 10} for i in range(7)]
    pushed = scraper.request("POST", "/api/v1/streams/metrics_events/records", json=records, headers=editor)
    assert pushed.status_code == 202, pushed.text
    acked = scraper.scrape()
    name = "lakegate_stream_records_acknowledged_total"
    assert value(acked, name, dataset="metrics_events") - value(before, name, dataset="metrics_events") == 7
    assert value(acked, "lakegate_stream_lag_records", dataset="metrics_events") == 7
    stream_logs_close()  # seal this process's segment so the flush takes it
    flushed_runs = streams_flush(config=project(), dataset="metrics_events")
    assert sum(f.get("records", 0) for f in flushed_runs) == 7
    flushed = scraper.scrape()
    name = "lakegate_stream_records_flushed_total"
    assert value(flushed, name, dataset="metrics_events") - value(before, name, dataset="metrics_events") == 7
    assert value(flushed, "lakegate_stream_lag_records", dataset="metrics_events") == 0


def test_refused_predictions_are_counted_by_code(scraper):
    before = scraper.scrape()
    response = scraper.request("POST", "/api/v1/models/nope/predict", json={"a": 1}, headers=scraper.headers)
    assert response.status_code == 404
    after = scraper.scrape()
    name = "lakegate_prediction_errors_total"
    assert value(after, name, code="not_found") - value(before, name, code="not_found") == 1


def test_the_multiprocess_folder_of_up(tmp_path, monkeypatch):
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", "")  # restored to unset after the test
    monkeypatch.delenv("PROMETHEUS_MULTIPROC_DIR")
    stale = tmp_path / "metrics" / "up-999999999"  # no such process
    stale.mkdir(parents=True)
    folder = multiprocess_dir_prepare(tmp_path)
    assert folder.is_dir()
    assert folder.name.startswith("up-")
    assert not stale.exists()
    assert os.environ["PROMETHEUS_MULTIPROC_DIR"] == str(folder)
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(tmp_path / "given"))
    assert multiprocess_dir_prepare(tmp_path) == tmp_path / "given"
    assert (tmp_path / "given").is_dir()
    body, content_type = metrics_text()  # an empty folder: the catalog's series alone
    assert content_type.startswith("text/plain")
    assert b"lakegate_queue_depth" in body
