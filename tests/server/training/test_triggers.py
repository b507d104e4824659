"""What starts a run: an accepted version (the quality gate calls
``pipeline_runs_for_accepted_version``), cron in the scheduler, a rejected version (nothing)."""

from __future__ import annotations

import datetime as dt
import logging

import pytest

from lakegate_server.conf import project
from lakegate_server.jobs.models import Run
from lakegate_server.training.models import TriggerFire
from lakegate_server.training.services import (
    pipeline_runs_for_accepted_version,
    pipelines_cron_fire,
    pipelines_data_notify,
)
from tests.server.training.data import CHURN, customer_frame

pytestmark = pytest.mark.django_db(transaction=True)

UTC = dt.UTC


def _accepted(*, dataset: str, number: int) -> list[Run]:
    return pipeline_runs_for_accepted_version(config=project(), dataset=dataset, number=number)


def test_an_accepted_version_queues_training_once(ingest, pipelines):
    version = ingest("customers", customer_frame(200, seed=1))
    pipelines(churn=CHURN)
    runs = _accepted(dataset="customers", number=version.number)
    assert [(r.kind, r.params) for r in runs] == [
        (
            "train",
            {
                "pipeline": "churn",
                "trigger": "on_new_version",
                "dataset": "customers",
                "version": 1,
                "predict": None,
            },
        )
    ]
    assert runs[0].created_by == "trigger:on_new_version"
    assert _accepted(dataset="customers", number=version.number) == []
    assert Run.objects.filter(kind="train").count() == 1


def test_versions_arriving_before_training_starts_join_the_queued_run(ingest, pipelines, execute_queued):
    """Micro-batches faster than training: one queued run covers them all, then a new one."""
    first = ingest("customers", customer_frame(300, seed=1))
    second = ingest("customers", customer_frame(300, seed=2))
    pipelines(churn=CHURN)
    [queued] = _accepted(dataset="customers", number=first.number)
    assert pipeline_runs_for_accepted_version(
        config=project(), dataset="customers", number=second.number
    ) == [queued]
    assert Run.objects.filter(kind="train").count() == 1
    fires = TriggerFire.objects.filter(pipeline="churn", trigger="on_new_version").order_by("key")
    assert [(f.key, f.run_id) for f in fires] == [("customers@1", queued.pk), ("customers@2", queued.pk)]
    execute_queued()
    queued.refresh_from_db()
    assert queued.status == "succeeded", queued.last_error
    third = ingest("customers", customer_frame(300, seed=3))  # the gate fires it as it accepts
    later = Run.objects.filter(kind="train").exclude(pk=queued.pk).get()
    assert later.params["version"] == third.number  # the first run is done: a new version gets a new run


@pytest.mark.parametrize("status", ["rejected", "pending"])
def test_a_version_that_is_not_accepted_trains_nothing(ingest, pipelines, status):
    version = ingest("customers", customer_frame(200, seed=1), status=status)
    pipelines(churn=CHURN)
    assert _accepted(dataset="customers", number=version.number) == []
    assert not Run.objects.filter(kind__in=["train", "predict"]).exists()
    assert not TriggerFire.objects.exists()


def test_unknown_versions_and_unrelated_datasets_start_nothing(ingest, pipelines):
    ingest("weather", customer_frame(50, seed=1))
    pipelines(churn=CHURN)
    assert _accepted(dataset="weather", number=1) == []
    assert _accepted(dataset="customers", number=99) == []


def test_only_pipelines_with_the_trigger_train(ingest, pipelines):
    version = ingest("customers", customer_frame(200, seed=1))
    pipelines(churn={**CHURN, "triggers": ["manual"]})
    assert _accepted(dataset="customers", number=version.number) == []


def test_a_scoring_dataset_is_scored_by_the_champion(ingest, pipelines, train):
    ingest("customers", customer_frame(1200, seed=1))
    current = ingest("customers_current", customer_frame(100, seed=5, start_id=50_000).drop("churned"))
    pipelines(churn=CHURN)
    # No champion yet: nothing to score with.
    assert (
        pipeline_runs_for_accepted_version(
            config=project(), dataset="customers_current", number=current.number
        )
        == []
    )
    TriggerFire.objects.all().delete()
    train()
    runs = pipeline_runs_for_accepted_version(
        config=project(), dataset="customers_current", number=current.number
    )
    assert [(r.kind, r.params) for r in runs] == [
        ("predict", {"model": "churn", "dataset": "customers_current", "version": 1})
    ]


def test_a_dataset_that_is_input_and_scored_trains_first(ingest, pipelines):
    version = ingest("customers", customer_frame(200, seed=1))
    pipelines(churn={**CHURN, "predict_on": "customers"})
    (run,) = _accepted(dataset="customers", number=version.number)
    assert run.kind == "train"
    assert run.params["predict"] == {"dataset": "customers", "version": 1}


def test_broken_pipelines_do_not_break_the_caller(ingest, pipelines, caplog):
    version = ingest("customers", customer_frame(200, seed=1))
    pipelines(churn={**CHURN, "model": {"task": "classification", "algorithm": "no_such_thing"}})
    with caplog.at_level(logging.ERROR, logger="lakegate.training"):
        assert _accepted(dataset="customers", number=version.number) == []
    assert "pipelines not loaded" in caplog.text


def test_a_rejected_version_is_notified_as_a_gate_failure(ingest, pipelines, mailbox):
    version = ingest("customers", customer_frame(200, seed=1), status="rejected")
    pipelines(
        notifiers={"team": {"kind": "email", "to": ["ml@example.com"]}},
        churn={**CHURN, "notifications": ["team"]},
    )
    outcome = pipelines_data_notify(
        config=project(), event="gate.failed", dataset="customers", number=version.number
    )
    assert outcome == {"churn": {"team": None}}
    assert mailbox[0].subject == "[lakegate] customers v1 failed the quality gate; churn did not use it"


def _at(hour: int, minute: int = 0, day: int = 1) -> dt.datetime:
    return dt.datetime(2026, 3, day, hour, minute, tzinfo=UTC)


@pytest.fixture
def nightly(pipelines, ingest):
    ingest("customers", customer_frame(200, seed=1))
    pipelines(churn={**CHURN, "triggers": [{"cron": "0 3 * * *"}]})


def test_cron_arms_then_fires_once_per_slot(nightly):
    assert pipelines_cron_fire(config=project(), now=_at(1)) == [], "first sight: armed, not fired"
    assert pipelines_cron_fire(config=project(), now=_at(2, 59)) == []
    (run,) = pipelines_cron_fire(config=project(), now=_at(3, 0))
    assert run.params == {
        "pipeline": "churn",
        "trigger": "cron",
        "dataset": None,
        "version": None,
        "predict": None,
    }
    assert run.created_by == "trigger:cron"
    assert pipelines_cron_fire(config=project(), now=_at(3, 1)) == [], "the slot fired already"
    assert pipelines_cron_fire(config=project(), now=_at(3, 0, day=2))[0].kind == "train"
    assert Run.objects.filter(kind="train").count() == 2


def test_a_restarted_scheduler_catches_up_once_and_says_so(nightly, caplog):
    pipelines_cron_fire(config=project(), now=_at(1))
    # The scheduler was down for three nights: one run for the latest slot, and a warning.
    with caplog.at_level(logging.WARNING, logger="lakegate.training"):
        runs = pipelines_cron_fire(config=project(), now=_at(12, day=4))
    assert len(runs) == 1
    fired = TriggerFire.objects.filter(run__isnull=False).get()
    assert fired.fired_at == _at(3, day=4)
    assert "cron slots missed" in caplog.text
    assert pipelines_cron_fire(config=project(), now=_at(13, day=4)) == []


def test_cron_honours_the_time_zone(pipelines, ingest):
    ingest("customers", customer_frame(200, seed=1))
    pipelines(churn={**CHURN, "triggers": [{"cron": "0 3 * * *", "timezone": "Europe/Paris"}]})
    pipelines_cron_fire(config=project(), now=_at(0))
    assert pipelines_cron_fire(config=project(), now=_at(1, 59)) == []
    assert len(pipelines_cron_fire(config=project(), now=_at(2, 0))) == 1, (
        "03:00 in Paris is 02:00 UTC in March"
    )


def test_the_scheduler_loop_arms_cron(nightly, settings):
    import threading
    import time

    from lakegate_server.scheduler import scheduler_run

    runs = settings.LAKEGATE.runs.model_copy(update={"reap_interval_seconds": 0.1})
    settings.LAKEGATE = settings.LAKEGATE.model_copy(update={"runs": runs})
    stop = threading.Event()
    loop = threading.Thread(target=scheduler_run, kwargs={"stop": stop, "install_signals": False})
    loop.start()
    try:
        deadline = time.monotonic() + 20
        while not TriggerFire.objects.exists() and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        stop.set()
        loop.join(timeout=10)
    assert TriggerFire.objects.get().key.startswith("armed:")
