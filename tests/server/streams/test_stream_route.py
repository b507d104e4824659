"""The stream route as the web server serves it: Starlette in front of Django, tokens from memory."""

from __future__ import annotations

import pytest
from django.core.handlers.asgi import ASGIHandler

from lakegate_server.accounts.services import token_create
from lakegate_server.conf import project
from lakegate_server.datasets.models import DatasetVersion
from lakegate_server.flow import streams_flush
from lakegate_server.serving import build_app, mount
from lakegate_server.streams.wal import stream_logs_close
from tests.server.training.test_serving import PortalClient

pytestmark = pytest.mark.django_db(transaction=True)
URL = "/api/v1/streams/events/records"


@pytest.fixture
def client():
    import anyio.from_thread

    with anyio.from_thread.start_blocking_portal() as portal:
        yield PortalClient(mount(ASGIHandler(), build_app()), portal)


def _bearer(role: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token_create(name=f'{role}-s', role=role).raw}"}


def test_stream_route_appends_then_flush_ingests(client):
    editor = _bearer("editor")
    for start in range(0, 3000, 1000):
        records = [{"id": i, "kind": "click" if i % 2 else "view"} for i in range(start, start + 1000)]
        response = client.post(URL, json=records, headers=editor)
        assert response.status_code == 202, response.text
        assert response.json() == {"dataset": "events", "accepted": 1000}
    ndjson = b'{"id": 3000, "kind": "view"}\n{"id": 3001, "kind": "click"}\n'
    response = client.post(URL, content=ndjson, headers={**editor, "Content-Type": "application/x-ndjson"})
    assert response.json()["accepted"] == 2
    stream_logs_close()
    streams_flush(config=project())
    version = DatasetVersion.objects.get(dataset__name="events")
    assert version.rows == 3002


def test_stream_route_refusals_use_the_api_error_schema(client, configure):
    assert client.post(URL, json=[{"id": 1}]).status_code == 401
    viewer = client.post(URL, json=[{"id": 1}], headers=_bearer("viewer"))
    assert viewer.status_code == 403
    assert "editor" in viewer.json()["error"]["message"]
    editor = _bearer("editor")
    bad = client.post(URL, content=b'[{"id": 1}, 7]', headers=editor)
    assert bad.status_code == 422
    assert bad.json()["error"]["code"] == "stream_error"
    assert "record 1" in bad.json()["error"]["message"]
    assert (
        client.post("/api/v1/streams/Not Valid/records", json=[{"id": 1}], headers=editor).status_code == 422
    )
    configure(streams={"max_body_bytes": 100})
    big = client.post(URL, json=[{"id": i} for i in range(100)], headers=editor)
    assert big.status_code == 413
    stream_logs_close()
    assert streams_flush(config=project()) == []
