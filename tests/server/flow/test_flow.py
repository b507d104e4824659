"""The spine (``lakegate_server.flow``): what each entry point starts, and what it leaves to runs."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from lakegate.config import DatasetSettings
from lakegate.errors import LakeUnavailableError
from lakegate.storage import open_storage
from lakegate_server.conf import project
from lakegate_server.datasets.models import DatasetVersion, QuarantinedFile
from lakegate_server.datasets.services import QuarantinedError, version_commit
from lakegate_server.flow import (
    ingest_file,
    ingest_resume,
    ingest_staged,
    on_version_decided,
    version_approve,
    version_gate,
    versions_pending_gate,
)
from lakegate_server.jobs.models import Run
from lakegate_server.training.models import TriggerFire
from tests.server.training.data import CHURN, customer_frame

pytestmark = pytest.mark.django_db(transaction=True)

TEAM = {"team": {"kind": "email", "to": ["ml@example.com"]}}


def _csv(tmp_path: Path, name: str, *, seed: int) -> Path:
    path = tmp_path / name
    customer_frame(400, seed=seed).write_csv(path)
    return path


def _failing_contract(configure) -> None:
    """Every batch fails the gate: the contract allows no customer older than 1."""
    contract = {"columns": {"age": {"type": "int", "max": 1}}}
    configure(datasets={"customers": DatasetSettings(contract=contract)})


def test_a_failed_gate_queues_a_notice_and_sends_nothing_in_the_callers_process(
    tmp_path, pipelines, configure, mailbox, execute_queued
):
    pipelines(notifiers=TEAM, churn={**CHURN, "notifications": ["team"]})
    ingest_file(config=project(), dataset="customers", path=_csv(tmp_path, "a.csv", seed=1), actor="test")
    _failing_contract(configure)
    failed = ingest_file(
        config=project(), dataset="customers", path=_csv(tmp_path, "b.csv", seed=2), actor="test"
    )
    assert failed.version.status == "rejected"
    assert mailbox == [], "the caller (CLI, request) never waits on a mail server"
    notice = Run.objects.get(kind="notify")
    assert notice.params == {"event": "gate.failed", "dataset": "customers", "version": 2}
    assert not Run.objects.filter(kind="train", params__version=2).exists(), (
        "a rejected version trains nothing"
    )

    execute_queued()
    notice.refresh_from_db()
    assert notice.status == "succeeded"
    assert notice.result["outcome"] == {"churn": {"team": None}}
    gate_mails = [m.subject for m in mailbox if "quality gate" in m.subject]
    assert gate_mails == ["[lakegate] customers v2 failed the quality gate; churn did not use it"]


def test_no_notice_run_when_no_pipeline_listens(tmp_path, pipelines, configure):
    pipelines(churn=CHURN)  # no notifications: channels
    _failing_contract(configure)
    failed = ingest_file(
        config=project(), dataset="customers", path=_csv(tmp_path, "a.csv", seed=1), actor="test"
    )
    assert failed.version.verdict == "fail"
    assert not Run.objects.filter(kind="notify").exists()


def test_an_approval_starts_the_runs_of_an_accepted_version_and_no_second_notice(
    tmp_path, pipelines, configure
):
    pipelines(notifiers=TEAM, churn={**CHURN, "notifications": ["team"]})
    _failing_contract(configure)
    ingest_file(config=project(), dataset="customers", path=_csv(tmp_path, "a.csv", seed=1), actor="test")
    assert Run.objects.filter(kind="notify").count() == 1
    assert not Run.objects.filter(kind="train").exists()

    approved = version_approve(
        config=project(), dataset="customers", number=1, reason="known price change", actor="alice"
    )
    assert approved.status == "accepted"
    assert TriggerFire.objects.filter(pipeline="churn", trigger="on_new_version", key="customers@1").exists()
    assert Run.objects.filter(kind="train").count() == 1, "the approved version starts its training run"
    assert Run.objects.filter(kind="notify").count() == 1, "an approval is not a gate failure"


def test_deciding_again_starts_nothing_twice(tmp_path, pipelines):
    pipelines(churn=CHURN)
    result = ingest_file(
        config=project(), dataset="customers", path=_csv(tmp_path, "a.csv", seed=1), actor="test"
    )
    runs = Run.objects.count()
    assert on_version_decided(config=project(), version=result.version) == []
    version_gate(config=project(), dataset="customers", number=1, actor="test")
    assert Run.objects.count() == runs, "each trigger fires once per version"


def test_a_pending_version_starts_nothing(tmp_path, pipelines):
    pipelines(churn=CHURN)
    committed = version_commit(
        config=project(), name="customers", source=_csv(tmp_path, "a.csv", seed=1), created_by="test"
    )
    assert committed.version.status == "pending"
    assert on_version_decided(config=project(), version=committed.version) == []
    assert not Run.objects.exists()


def test_ingest_resume_gates_what_a_killed_attempt_committed(tmp_path, pipelines):
    """The worker died after the commit: the retry finds the version and gates it."""
    pipelines(churn=CHURN)
    committed = version_commit(
        config=project(), name="customers", source=_csv(tmp_path, "a.csv", seed=1), created_by="run:41"
    )
    assert committed.version.status == "pending"
    assert ingest_resume(config=project(), dataset="customers", actor="run:7") is None, "not this run's"

    resumed = ingest_resume(config=project(), dataset="customers", actor="run:41")
    assert resumed is not None
    assert (resumed.version.number, resumed.version.status) == (1, "accepted")
    assert resumed.report is not None
    assert Run.objects.filter(kind="train").count() == 1, "what the gate's decision starts, starts"
    again = ingest_resume(config=project(), dataset="customers", actor="run:41")
    assert again is not None
    assert again.report == resumed.report, "a second resume decides nothing again"


def test_a_retry_whose_file_is_still_staged_gates_the_version_its_killed_attempt_committed(tmp_path):
    """Killed between the commit and removing the staged file (found by `lakegate chaos`): the retry
    reads the same bytes, finds its own pending version and gates it, instead of calling it a
    duplicate and leaving it pending for ever."""
    config = project()
    storage = open_storage(config)
    staged = _csv(tmp_path, "a.csv", seed=1)
    key = storage.put_file("uploads/41/a.csv", staged)
    committed = version_commit(config=config, name="customers", source=staged, created_by="run:41")
    assert committed.version.status == "pending"

    other_key = storage.put_file("uploads/7/b.csv", staged)
    other = ingest_staged(config=config, dataset="customers", key=other_key, actor="run:7")
    assert other.duplicate, "another run's copy of the bytes is a duplicate, and gates nothing"
    assert DatasetVersion.objects.get().status == "pending"

    retried = ingest_staged(config=config, dataset="customers", key=key, actor="run:41")
    assert not retried.duplicate
    assert retried.report is not None
    assert (retried.version.number, retried.version.status) == (1, "accepted")
    assert not storage.exists(key), "the staged file is gone once its version is decided"
    assert DatasetVersion.objects.count() == 1


def test_versions_left_pending_are_gated_by_the_sweep_unless_their_run_is_still_at_it(tmp_path):
    """The lake dropped between commit and check (or the process died there): the scheduler's
    sweep decides the version once it is older than 3 leases; a live run's version is its own."""
    from datetime import timedelta

    from django.utils import timezone

    config = project()
    orphan = version_commit(
        config=config, name="customers", source=_csv(tmp_path, "a.csv", seed=1), created_by="cli"
    )
    live_run = Run.objects.create(kind="ingest", status="running", queued_at=timezone.now())
    owned = version_commit(
        config=config,
        name="customers",
        source=_csv(tmp_path, "b.csv", seed=2),
        created_by=f"run:{live_run.pk}",
    )
    assert versions_pending_gate(config=config) == [], "too young: its caller may be checking it now"

    later = timezone.now() + timedelta(seconds=3 * config.runs.lease_seconds + 1)
    assert versions_pending_gate(config=config, now=later) == [orphan.version.pk]
    assert DatasetVersion.objects.get(pk=orphan.version.pk).status == "accepted"
    assert DatasetVersion.objects.get(pk=owned.version.pk).status == "pending", "its run resumes it"

    Run.objects.filter(pk=live_run.pk).update(status="failed")
    assert versions_pending_gate(config=config, now=later) == [owned.version.pk]
    assert not DatasetVersion.objects.filter(status="pending").exists()


def test_the_sweep_leaves_a_version_pending_while_the_lake_is_still_down(tmp_path, monkeypatch):
    from datetime import timedelta

    from django.utils import timezone

    config = project()
    committed = version_commit(
        config=config, name="customers", source=_csv(tmp_path, "a.csv", seed=1), created_by="cli"
    )

    def down(**kwargs):
        raise LakeUnavailableError("the lake is unreachable (connection refused)")

    monkeypatch.setattr("lakegate_server.flow.version_check", down)
    later = timezone.now() + timedelta(seconds=3 * config.runs.lease_seconds + 1)
    assert versions_pending_gate(config=config, now=later) == []
    assert DatasetVersion.objects.get(pk=committed.version.pk).status == "pending"
    monkeypatch.undo()
    assert versions_pending_gate(config=config, now=later) == [committed.version.pk]


def test_a_users_file_is_copied_to_the_quarantine_never_moved(tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_bytes(b"\x00\x01\x02" * 400)
    with pytest.raises(QuarantinedError) as info:
        ingest_file(config=project(), dataset="customers", path=bad, actor="test")
    assert bad.is_file(), "the user's file stays where it was"
    entry = QuarantinedFile.objects.get(id=info.value.entry_id)
    kept = project().paths.quarantine / entry.id / "bad.csv"
    assert kept.read_bytes() == bad.read_bytes()
    assert not DatasetVersion.objects.exists()


def test_a_lake_outage_on_a_users_file_is_kept_and_named(tmp_path, monkeypatch):
    def down(*args, **kwargs):
        raise LakeUnavailableError("s3://lake/customers: the lake is unreachable (connection refused)")

    monkeypatch.setattr("lakegate_server.datasets.services.write_batch", down)
    path = _csv(tmp_path, "a.csv", seed=1)
    with pytest.raises(QuarantinedError) as info:
        ingest_file(config=project(), dataset="customers", path=path, actor="test")
    assert info.value.detail["reason_code"] == "lake_unavailable"
    assert "kept in quarantine as" in info.value.message
    assert path.is_file()
    shutil.rmtree(project().paths.quarantine / info.value.entry_id, ignore_errors=True)
