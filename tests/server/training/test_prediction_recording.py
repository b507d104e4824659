"""Online predictions recorded: sampled, micro-batched into ``<model>_online_predictions``, counted."""

from __future__ import annotations

import time
from typing import Any

import orjson
import polars as pl
import pytest

from lakegate.config import MonitoringSettings
from lakegate_server.conf import project
from lakegate_server.flow import streams_flush
from lakegate_server.serving import build_app
from lakegate_server.serving.cache import ChampionCache
from lakegate_server.serving.record import PredictionRecorder, prediction_rows
from lakegate_server.training.selectors import online_prediction_counts
from tests.server.training.test_serving import RECORD, bearer

pytestmark = pytest.mark.django_db(transaction=True)


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def _recorder(rate: float = 10, sample: float = 0.5, buffer: int = 1000, **kw: Any):
    written: list[tuple[str, list[dict[str, Any]]]] = []
    clock, chances = Clock(), iter([0.2, 0.7] * 100)
    settings = MonitoringSettings(record_rate=rate, record_sample=sample, record_buffer=buffer)
    recorder = PredictionRecorder(
        settings,
        append=lambda model, lines, count: written.append(
            (model, [orjson.loads(x) for x in lines.splitlines()])
        ),
        clock=clock,
        chance=lambda: next(chances),
        start=False,
        **kw,
    )
    return recorder, clock, written


ANSWER = {"predictions": [True], "probabilities": [{"False": 0.25, "True": 0.75}]}


def test_all_up_to_the_rate_then_a_sample():
    recorder, clock, written = _recorder(rate=10, sample=0.5)
    kept = [recorder.offer("churn", 1, {"a": i}, ANSWER) for i in range(14)]
    assert kept == [True] * 10 + [True, False, True, False], "10 in full, then every other (chance 0.2/0.7)"
    assert recorder.sampled_out == 2
    clock.now = 1.0  # a second later the bucket is full again
    assert all(recorder.offer("churn", 1, {"a": i}, ANSWER) for i in range(10))
    assert recorder.flush() == 22
    ((model, rows),) = written
    assert model == "churn"
    assert len(rows) == 22
    assert recorder.flush() == 0, "nothing twice"


def test_a_big_request_is_kept_whole_and_paid_back():
    recorder, clock, _ = _recorder(rate=10, sample=0.0)
    assert recorder.offer("churn", 1, [{"a": 1}] * 50, {"predictions": [1] * 50})
    assert not recorder.offer("churn", 1, {"a": 1}, ANSWER), "the bucket is 40 records in debt"
    clock.now = 4.0
    assert not recorder.offer("churn", 1, {"a": 1}, ANSWER), "still in debt after 4 s (40 back)"
    clock.now = 4.2
    assert recorder.offer("churn", 1, {"a": 1}, ANSWER)


def test_a_full_buffer_drops_and_counts_never_blocks():
    recorder, _, _ = _recorder(rate=1000, buffer=5)
    assert recorder.offer("churn", 1, [{"a": 1}] * 4, {"predictions": [1, 2, 3, 4]})
    assert not recorder.offer("churn", 1, [{"a": 1}] * 2, {"predictions": [1, 2]})
    assert recorder.dropped == 2
    recorder.flush()
    assert recorder.offer("churn", 1, [{"a": 1}] * 2, {"predictions": [1, 2]}), "room again after a flush"


def test_a_failing_append_is_counted_not_raised():
    def broken(model: str, lines: bytes, count: int) -> None:
        raise OSError("disk full")

    recorder = PredictionRecorder(MonitoringSettings(), append=broken, start=False)
    recorder.offer("churn", 1, {"a": 1}, ANSWER)
    assert recorder.flush() == 0
    assert recorder.dropped == 1


def test_rows_hold_inputs_and_outputs_and_keep_clashing_inputs():
    (row,) = prediction_rows("churn", 3, 0.0, {"age": 4, "prediction": "mine"}, ANSWER)
    assert row == {
        "age": 4,
        "input.prediction": "mine",
        "prediction": True,
        "proba_False": 0.25,
        "proba_True": 0.75,
        "model": "churn",
        "model_version": "3",
        "predicted_at": "1970-01-01T00:00:00.000+00:00",
    }


@pytest.fixture
def trained(ingest, pipelines, execute_queued):
    from lakegate_server.training.services import pipeline_run_create
    from tests.server.training.data import CHURN, customer_frame

    ingest("customers", customer_frame(1200, seed=1))
    pipelines(churn=CHURN)
    pipeline_run_create(config=project(), name="churn", created_by="test")
    assert execute_queued() == ["succeeded"]


def test_served_predictions_land_in_the_lake_and_the_lineage(trained, recording_client, recorder, api):
    headers = bearer()
    many = [{**RECORD, "customer_id": i} for i in range(30)]
    assert (
        recording_client.post("/api/v1/models/churn/predict", json=RECORD, headers=headers).status_code == 200
    )
    assert (
        recording_client.post("/api/v1/models/churn/predict", json=many, headers=headers).status_code == 200
    )
    refused = recording_client.post(
        "/api/v1/models/churn/predict", json={**RECORD, "age": "x"}, headers=headers
    )
    assert refused.status_code == 422
    assert recorder.flush() == 31, "answered requests only"

    streams = project().streams.model_copy(update={"flush_seconds": 0.01})
    config = project().model_copy(update={"streams": streams})
    time.sleep(0.05)  # the segment is older than flush_seconds: the flush seals and commits it
    flushed = streams_flush(config=config, dataset="churn_online_predictions")
    assert [f["records"] for f in flushed if "records" in f] == [31]
    table = pl.read_delta(str(project().paths.lake / "churn_online_predictions"))
    assert table.height == 31
    assert {
        "customer_id",
        "age",
        "prediction",
        "proba_True",
        "model",
        "model_version",
        "predicted_at",
    } <= set(table.columns)
    assert sorted(table.get_column("customer_id").to_list()) == sorted([9, *range(30)])
    assert table.get_column("model_version").unique().to_list() == ["1"]
    assert table.filter(pl.col("prediction").is_null()).height == 0

    assert online_prediction_counts(name="churn") == {1: 31}
    lineage = api("viewer").get("/api/v1/lineage/model/churn/1").json()
    assert lineage["downstream"]["online_predictions"] == {
        "dataset": "churn_online_predictions",
        "records": 31,
    }


def test_recording_can_be_switched_off(settings):
    settings.LAKEGATE = settings.LAKEGATE.model_copy(
        update={"monitoring": MonitoringSettings(record_predictions=False)}
    )
    app = build_app(champions=ChampionCache(refresh_seconds=0.05))
    assert app.state.endpoint.recorder is None
