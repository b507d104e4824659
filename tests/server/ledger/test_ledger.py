"""The decision ledger: append-only, the version's status derived from it, reject / revoke / approve."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from django.db import connection, transaction
from django.db.utils import DatabaseError
from typer.testing import CliRunner

from lakegate.config import DatasetSettings
from lakegate.errors import ConflictError, InputError
from lakegate_server.cli import app
from lakegate_server.conf import project
from lakegate_server.datasets.models import DatasetVersion
from lakegate_server.flow import ingest_file, version_approve, version_gate, version_reject, version_revoke
from lakegate_server.jobs.models import Run
from lakegate_server.ledger.models import Decision
from lakegate_server.ledger.selectors import derived_status
from tests.server.training.data import CHURN, customer_frame

pytestmark = pytest.mark.django_db(transaction=True)


def _csv(tmp_path: Path, name: str, seed: int) -> Path:
    path = tmp_path / name
    customer_frame(300, seed=seed).write_csv(path)
    return path


def _ingest(tmp_path: Path, name: str, seed: int) -> DatasetVersion:
    return ingest_file(
        config=project(), dataset="customers", path=_csv(tmp_path, name, seed), actor="test"
    ).version


def _strict(configure) -> None:
    """Every later batch fails the gate (no customer may be older than 1)."""
    contract = {"columns": {"age": {"type": "int", "max": 1}}}
    configure(datasets={"customers": DatasetSettings(contract=contract)})


def _actions(version: DatasetVersion) -> list[tuple[str, str]]:
    return [(d.action, d.outcome) for d in version.decisions.order_by("id")]


def test_every_step_is_one_decision_and_the_status_is_what_the_ledger_says(tmp_path, configure):
    _strict(configure)
    version = _ingest(tmp_path, "a.csv", 1)
    assert _actions(version) == [("verdict", "rejected")]

    version_approve(config=project(), dataset="customers", number=1, reason="known outlier", actor="alice")
    version_gate(config=project(), dataset="customers", number=1, actor="test")  # a re-check
    version_revoke(config=project(), dataset="customers", number=1, reason="not so known", actor="bob")
    version_approve(config=project(), dataset="customers", number=1, reason="checked again", actor="carol")
    version_reject(config=project(), dataset="customers", number=1, reason="bad source", actor="dave")
    version.refresh_from_db()
    assert _actions(version) == [
        ("verdict", "rejected"),
        ("approve", "accepted"),
        ("verdict", "rejected"),
        ("revoke", "rejected"),
        ("approve", "accepted"),
        ("reject", "rejected"),
    ]
    decisions = list(version.decisions.order_by("id"))
    assert [d.replaces_id for d in decisions] == [None, *[d.pk for d in decisions[:-1]]]
    assert [d.actor for d in decisions][1::2] == ["alice", "bob", "dave"]
    assert version.status == derived_status(version) == "rejected"
    assert version.approved_at is None, "the projection forgets an approval that no longer stands"


@pytest.mark.parametrize(
    "steps",
    [
        [],
        [("approve", "ok")],
        [("approve", "ok"), ("check", "")],
        [("approve", "ok"), ("revoke", "no")],
        [("reject", "no")],
        [("reject", "no"), ("approve", "yes"), ("check", "")],
    ],
)
def test_the_status_column_always_equals_the_ledgers_derivation(tmp_path, configure, steps):
    _ingest(tmp_path, "a.csv", 1)  # accepted by the gate
    _strict(configure)
    _ingest(tmp_path, "b.csv", 2)  # rejected by the gate
    for number in (1, 2):
        for action, reason in steps:
            kwargs = {"config": project(), "dataset": "customers", "number": number}
            try:
                if action == "check":
                    version_gate(**kwargs, actor="test")
                else:
                    {"approve": version_approve, "reject": version_reject, "revoke": version_revoke}[action](
                        **kwargs, reason=reason, actor="test"
                    )
            except ConflictError:
                pass  # e.g. rejecting what is rejected: refused, and nothing recorded
    for version in DatasetVersion.objects.all():
        assert version.status == derived_status(version), (version.number, _actions(version))


def test_refused_decisions_record_nothing(tmp_path):
    _ingest(tmp_path, "a.csv", 1)
    before = Decision.objects.count()
    with pytest.raises(ConflictError, match="no approval to revoke"):
        version_revoke(config=project(), dataset="customers", number=1, reason="x", actor="test")
    with pytest.raises(InputError, match="needs a reason"):
        version_reject(config=project(), dataset="customers", number=1, reason="  ", actor="test")
    version_reject(config=project(), dataset="customers", number=1, reason="bad", actor="test")
    with pytest.raises(ConflictError, match="already rejected"):
        version_reject(config=project(), dataset="customers", number=1, reason="again", actor="test")
    assert Decision.objects.count() == before + 1


def test_the_ledger_cannot_be_rewritten(tmp_path):
    _ingest(tmp_path, "a.csv", 1)
    decision = Decision.objects.get()
    decision.reason = "rewritten"
    with pytest.raises(TypeError, match="append-only"):
        decision.save()
    with pytest.raises(TypeError, match="append-only"):
        Decision.objects.filter(pk=decision.pk).update(reason="rewritten")
    with pytest.raises(TypeError, match="append-only"):
        Decision.objects.filter(pk=decision.pk).delete()
    with (
        pytest.raises(DatabaseError, match="append-only"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute("UPDATE ledger_decision SET reason = 'rewritten'")
    assert Decision.objects.get().reason != "rewritten"


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL refuses row deletes with a trigger")
def test_postgres_refuses_deleting_a_decision(tmp_path):
    _ingest(tmp_path, "a.csv", 1)
    with (
        pytest.raises(DatabaseError, match="append-only"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute("DELETE FROM ledger_decision")
    assert Decision.objects.count() == 1


def test_a_rejected_version_is_no_longer_trained_on_and_its_readers_are_told(
    tmp_path, pipelines, train, execute_queued, mailbox
):
    pipelines(
        notifiers={"team": {"kind": "email", "to": ["ml@example.com"]}},
        churn={**CHURN, "triggers": ["manual"], "notifications": ["team"]},
    )
    _ingest(tmp_path, "a.csv", 1)
    _ingest(tmp_path, "b.csv", 2)
    trained = train("churn")
    assert trained.status == "succeeded", trained.last_error
    assert [i["versions"] for i in trained.result["inputs"]] == [[1, 2]]

    rejected = version_reject(
        config=project(), dataset="customers", number=2, reason="bad rows", actor="alice"
    )
    assert rejected.impact.to_dict()["models"] == [{"model": "churn", "version": 1, "stage": "champion"}]
    notice = Run.objects.get(kind="notify")
    assert notice.params["event"] == "data.rejected"
    mailbox.clear()
    execute_queued()
    assert [m.subject for m in mailbox] == ["[lakegate] customers v2 is rejected; churn stops using it"]
    assert "churn v1 (champion)" in mailbox[0].body

    again = train("churn")
    assert again.status == "succeeded", again.last_error
    assert [i["versions"] for i in again.result["inputs"]] == [[1]], "training reads accepted versions only"


def test_reject_revoke_and_the_ledger_from_the_cli(tmp_path, configure):
    _ingest(tmp_path, "a.csv", 1)
    runner = CliRunner()
    rejected = runner.invoke(app, ["check", "reject", "customers", "--version", "1", "--reason", "late file"])
    assert rejected.exit_code == 0, rejected.output
    assert "customers version 1 rejected" in rejected.stdout
    assert "it fed no model and no prediction table" in rejected.stdout
    missing = runner.invoke(app, ["check", "revoke", "customers", "--version", "1"])
    assert missing.exit_code == 2
    assert "usage: lakegate check revoke NAME" in missing.output

    listed = runner.invoke(app, ["ledger", "--dataset", "customers", "--json"])
    assert listed.exit_code == 0, listed.output
    items = json.loads(listed.stdout)["items"]
    assert [(i["action"], i["outcome"], i["actor"]) for i in items] == [
        ("reject", "rejected", "cli"),
        ("verdict", "accepted", "test"),
    ]
    assert items[0]["reason"] == "late file"
    assert items[0]["replaces"] == items[1]["id"]
    assert items[0]["subject"] == {"kind": "dataset", "name": "customers", "version": 1}


def test_reject_revoke_and_the_ledger_over_http(api, tmp_path):
    _ingest(tmp_path, "a.csv", 1)
    assert (
        api("viewer").post("/api/v1/datasets/customers/versions/1/reject", {"reason": "x"}).status_code == 403
    )
    rejected = api("editor").post("/api/v1/datasets/customers/versions/1/reject", {"reason": "late file"})
    assert rejected.status_code == 200, rejected.content
    assert rejected.json()["status"] == "rejected"
    assert rejected.json()["impact"] == {"models": [], "prediction_tables": []}
    approved = api("editor").post(
        "/api/v1/datasets/customers/versions/1/approve", {"reason": "on time after all"}
    )
    assert approved.json()["status"] == "accepted"
    revoked = api("editor").post("/api/v1/datasets/customers/versions/1/revoke", {"reason": "no it was not"})
    assert revoked.json()["status"] == "accepted", (
        "the gate had accepted it: revoking the approval keeps that"
    )

    ledger = api("viewer").get("/api/v1/ledger", dataset="customers", version=1).json()["items"]
    assert [d["action"] for d in ledger] == ["revoke", "approve", "reject", "verdict"]
    assert api("viewer").get("/api/v1/ledger", model="churn").json()["items"] == []
