"""``run.failed`` reaches a pipeline's channels however the run failed: its job raised, its
worker died on the last attempt (the reaper), or no worker ever took it (the reaper).

The channel is a real signed webhook posting to an HTTP server on loopback (opened with the
channel's ``outbound: {allow_private: true}``).
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable, Iterator
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, ClassVar

import pytest
from django.db import transaction
from django.utils import timezone

from lakegate_server.jobs.models import Run, RunStatus
from lakegate_server.jobs.queue import huey
from lakegate_server.jobs.services import run_claim, run_create, runs_reap
from tests.server.training.data import CHURN, customer_frame

pytestmark = pytest.mark.django_db(transaction=True)


class _Receiver(BaseHTTPRequestHandler):
    received: ClassVar[list[dict[str, Any]]] = []
    status: ClassVar[int] = 204

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        self.received.append({"event": self.headers["X-Lakegate-Event"], "body": json.loads(body)})
        self.send_response(self.status)
        self.end_headers()

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def webhook() -> Iterator[tuple[str, list[dict[str, Any]]]]:
    """A local HTTP server -> (its URL, the notifications it received)."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Receiver)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    _Receiver.received = []
    _Receiver.status = 204
    yield f"http://127.0.0.1:{server.server_port}/hooks/lakegate", _Receiver.received
    server.shutdown()
    server.server_close()


@pytest.fixture
def notified(pipelines: Callable[..., None], webhook: tuple[str, list[Any]]) -> list[dict[str, Any]]:
    """The ``churn`` pipeline notifying a webhook channel; -> what that webhook received."""
    url, received = webhook
    channel = {"kind": "webhook", "url": url, "secret": "s3cret", "outbound": {"allow_private": True}}
    pipelines(notifiers={"hook": channel}, churn={**CHURN, "notifications": ["hook"]})
    return received


def train_run(pipeline: str = "churn") -> Run:
    run = run_create(kind="train", params={"pipeline": pipeline, "trigger": "cron"}, created_by="test")
    huey.flush()  # the reaper, not a worker, deals with these runs
    return run


def worker_dies_on_every_attempt(run: Run) -> None:
    """Claim each attempt the reaper grants, then let the lease lapse, up to the last one."""
    for attempt in range(1, run.max_attempts + 1):
        assert run_claim(run_id=run.pk, worker=f"w{attempt}") is not None
        past = timezone.now() - timedelta(seconds=1)
        Run.objects.filter(id=run.pk).update(lease_expires_at=past, heartbeat_at=past)
        if attempt < run.max_attempts:
            assert runs_reap().requeued == [run.pk]


def assert_failure_notice(body: dict[str, Any], run: Run, fields: dict[str, Any]) -> None:
    """``body`` is churn's ``run.failed`` for ``run``, its text the run's recorded error."""
    assert body["event"] == "run.failed"
    assert body["pipeline"] == "churn"
    assert body["run_id"] == str(run.pk)
    assert body["title"] == f"churn: training run {run.pk} failed"
    assert body["text"] == run.last_error
    assert body["fields"] == fields


def test_a_run_whose_worker_died_on_its_last_attempt_is_notified(notified):
    run = train_run()
    worker_dies_on_every_attempt(run)
    assert notified == [], "re-queued attempts are not failures"

    report = runs_reap()

    assert report.failed == [run.pk]
    run.refresh_from_db()
    assert run.status == RunStatus.FAILED
    assert len(notified) == 1
    (message,) = notified
    assert message["event"] == "run.failed"
    body = message["body"]
    assert_failure_notice(body, run, {"attempt": 3, "trigger": "cron"})
    assert "worker w3 stopped heartbeating during attempt 3" in body["text"]
    assert "gave up after 3 attempts" in body["text"]


def test_a_run_no_worker_ever_took_is_notified(notified):
    run = train_run()
    later = timezone.now()
    for _resend in range(run.max_attempts):
        later += timedelta(seconds=601)
        assert runs_reap(now=later).resent == [run.pk]
    assert notified == []

    later += timedelta(seconds=601)
    assert runs_reap(now=later).failed == [run.pk]

    run.refresh_from_db()
    assert run.status == RunStatus.FAILED
    assert [m["event"] for m in notified] == ["run.failed"]
    body = notified[0]["body"]
    assert_failure_notice(body, run, {"attempt": 0, "trigger": "cron"})
    assert "no worker picked the run up" in body["text"]
    assert "after 3 re-sends; is `lakegate worker` running?" in body["text"]


def test_the_notification_waits_for_the_commit(notified):
    run = train_run()
    worker_dies_on_every_attempt(run)
    with transaction.atomic():
        assert runs_reap().failed == [run.pk]
        assert notified == [], "sent before the failure was committed"
    assert [m["body"]["run_id"] for m in notified] == [str(run.pk)]


def test_a_failing_hook_or_channel_does_not_stop_the_reaper(notified, caplog):
    # Reaped in id order: a run of a pipeline since removed from lakegate.yaml (the hook
    # raises NotFoundError), one whose params no longer validate (the hook raises a
    # pydantic error), then a good run while the webhook answers 500.
    gone = train_run("retired")
    broken = train_run()
    Run.objects.filter(id=broken.pk).update(params={"pipeline": "churn", "trigger": "sometimes"})
    good = train_run()
    _Receiver.status = 500
    for run in (gone, broken, good):
        Run.objects.filter(id=run.pk).update(requeues=run.max_attempts)
    later = timezone.now() + timedelta(seconds=601)

    with caplog.at_level(logging.WARNING):
        report = runs_reap(now=later)

    assert report.failed == [gone.pk, broken.pk, good.pk]
    assert set(Run.objects.values_list("status", flat=True)) == {RunStatus.FAILED}
    assert [m["body"]["run_id"] for m in notified] == [str(good.pk)], "the 500 was still a delivery try"
    hook_failures = {r.run: r for r in caplog.records if r.getMessage() == "run failure hook failed"}
    assert set(hook_failures) == {gone.pk, broken.pk}
    assert "no pipeline 'retired'" in hook_failures[gone.pk].error
    assert hook_failures[broken.pk].exc_info is not None
    undelivered = [r for r in caplog.records if r.getMessage() == "notification not delivered"]
    assert [(r.channel, r.event) for r in undelivered] == [("hook", "run.failed")]
    assert "500" in undelivered[0].error


def test_a_run_whose_job_raised_sends_the_same_notification(notified, ingest, train):
    ingest("customers", customer_frame(300, seed=1), status="rejected")  # also queues a triggered run
    run = train()
    assert run.status == RunStatus.FAILED
    failed = {str(pk) for pk in Run.objects.filter(status=RunStatus.FAILED).values_list("pk", flat=True)}
    assert len(failed) == 2
    assert sorted(m["body"]["run_id"] for m in notified) == sorted(failed), "one notification per run"
    (body,) = [m["body"] for m in notified if m["body"]["run_id"] == str(run.pk)]
    assert_failure_notice(body, run, {"attempt": 1, "trigger": "manual"})
    assert "has no accepted version yet" in body["text"]
