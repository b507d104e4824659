"""The ledger in the dashboard: decisions on the version page, reject / revoke, the ledger page."""

from __future__ import annotations

from pathlib import Path

import pytest

from lakegate_server.conf import project
from lakegate_server.datasets.models import DatasetVersion
from lakegate_server.flow import ingest_file
from tests.server.training.data import customer_frame

pytestmark = pytest.mark.django_db(transaction=True)


def _ingest(tmp_path: Path, name: str, seed: int) -> DatasetVersion:
    path = tmp_path / name
    customer_frame(300, seed=seed).write_csv(path)
    return ingest_file(config=project(), dataset="customers", path=path, actor="test").version


def test_the_dashboard_shows_decisions_and_rejects_or_revokes(tmp_path, browse):
    _ingest(tmp_path, "a.csv", 1)
    editor, viewer = browse("editor"), browse("viewer")
    page = viewer.get("/datasets/customers/?version=1")
    assert page.status_code == 200
    html = page.content.decode()
    assert "Decisions" in html
    assert "verdict" in html
    assert "Reject version 1" not in html, "viewers get no buttons"
    assert viewer.post("/datasets/customers/versions/1/reject/", {"reason": "x"}).status_code == 403

    done = editor.post("/datasets/customers/versions/1/reject/", {"reason": "late file"}, follow=True)
    assert done.status_code == 200
    assert "customers version 1 rejected: it is rejected now" in done.content.decode()
    assert DatasetVersion.objects.get().status == "rejected"
    refused = editor.post("/datasets/customers/versions/1/revoke/", {"reason": "x"}, follow=True)
    assert "Not revoked: customers version 1 has no approval to revoke" in refused.content.decode()

    ledger = viewer.get("/ledger/", {"dataset": "customers"})
    assert ledger.status_code == 200
    body = ledger.content.decode()
    assert "late file" in body
    assert "customers v1" in body
