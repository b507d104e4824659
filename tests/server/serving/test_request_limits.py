"""Request bodies are bounded while they stream in, on every route of the real ASGI app.

The app under test is what ``lakegate up`` serves: ``mount(ASGIHandler(), build_app())``, the
guard in front of the lean routes and Django. Bodies are sent from generators that count what
was pulled, so a test sees how much of a body the server read before it refused.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from typing import Any

import anyio.from_thread
import httpx
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.handlers.asgi import ASGIHandler
from django.urls import reverse

from lakegate_server.accounts.services import token_create
from lakegate_server.serving import build_app, mount
from lakegate_server.serving.guard import PREDICT_PATH, STREAM_PATH, UPLOAD_PATHS, RequestGuard, body_limit
from lakegate_server.streams.wal import stream_logs_close
from tests.support.fixtures import staged_entries

pytestmark = pytest.mark.django_db(transaction=True)

MIB = 1024**2


class Counted:
    """An async body of ``total`` bytes in ``chunk``-byte pieces, counting what was pulled."""

    def __init__(self, total: int, chunk: int = 64 * 1024) -> None:
        self.total = total
        self.chunk = chunk
        self.sent = 0

    async def __aiter__(self) -> AsyncIterator[bytes]:
        piece = b"x" * self.chunk
        while self.sent < self.total:
            self.sent += self.chunk
            yield piece


@pytest.fixture
def portal() -> Iterator[Any]:
    with anyio.from_thread.start_blocking_portal() as portal:
        yield portal


@pytest.fixture
def app() -> Any:
    return mount(ASGIHandler(), build_app())


def send(portal: Any, app: Any, method: str, path: str, **kwargs: Any) -> httpx.Response:
    async def go() -> httpx.Response:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as client:
            return await client.request(method, path, **kwargs)

    return portal.call(go)


def bearer(role: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token_create(name=f'{role}-limits', role=role).raw}"}


def assert_error(response: httpx.Response, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body["error"]) == {"code", "message", "detail"}
    assert body["error"]["code"] == code
    return body["error"]


def leftovers(settings: Any) -> list[str]:
    """What is left in the staging and temporary folders (Django spools uploads to tmp/)."""
    paths = settings.LAKEGATE.paths
    return sorted(p.name for folder in (paths.uploads, paths.state / "tmp") for p in staged_entries(folder))


def test_a_chunked_stream_push_is_refused_once_it_passes_the_limit(portal, app, settings):
    settings.LAKEGATE = settings.LAKEGATE.model_copy(
        update={"streams": settings.LAKEGATE.streams.model_copy(update={"max_body_bytes": MIB})}
    )
    body = Counted(50 * MIB)
    response = send(
        portal, app, "POST", "/api/v1/streams/events/records", content=body, headers=bearer("editor")
    )
    error = assert_error(response, 413, "payload_too_large")
    assert "streams.max_body_bytes (1048576 bytes)" in error["message"]
    assert response.headers["connection"] == "close"
    assert MIB < body.sent <= MIB + 2 * body.chunk, "read just past the limit, not the whole 50 MiB"
    stream_logs_close()


def test_a_content_length_over_the_limit_is_refused_before_reading(portal, app):
    body = Counted(11 * MIB)
    headers = {**bearer("viewer"), "Content-Length": str(11 * MIB)}
    response = send(portal, app, "POST", "/api/v1/models/churn/predict", content=body, headers=headers)
    assert_error(response, 413, "payload_too_large")
    assert body.sent == 0, "not a byte of the body was read"
    # Django routes too: a JSON body over web.max_request_bytes (10 MiB by default).
    body = Counted(20 * MIB)
    headers = {**bearer("editor"), "Content-Length": str(20 * MIB), "Content-Type": "application/json"}
    response = send(portal, app, "POST", "/api/v1/runs", content=body, headers=headers)
    error = assert_error(response, 413, "payload_too_large")
    assert "web.max_request_bytes" in error["message"]
    assert body.sent == 0


def test_a_body_length_that_is_not_a_number_is_400(portal, app):
    response = send(portal, app, "POST", "/api/v1/runs", content=b"{}", headers={"Content-Length": "12abc"})
    assert_error(response, 400, "bad_request")


def test_an_upload_over_the_limit_is_refused_while_streaming_and_leaves_nothing(portal, app, settings):
    settings.LAKEGATE = settings.LAKEGATE.model_copy(
        update={"web": settings.LAKEGATE.web.model_copy(update={"max_upload_bytes": 2 * MIB})}
    )
    before = leftovers(settings)
    boundary = "lakegate-test"

    class Multipart(Counted):
        async def __aiter__(self) -> AsyncIterator[bytes]:
            head = f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="big.csv"\r\n\r\n'
            yield head.encode()
            async for piece in super().__aiter__():
                yield piece

    body = Multipart(100 * MIB)
    headers = {**bearer("editor"), "Content-Type": f"multipart/form-data; boundary={boundary}"}
    response = send(portal, app, "POST", "/api/v1/datasets/weather/files", content=body, headers=headers)
    error = assert_error(response, 413, "payload_too_large")
    assert "web.max_upload_bytes=2097152" in error["message"]
    assert body.sent <= 2 * MIB + 64 * 1024 + 2 * body.chunk, "refused at the limit, not after 100 MiB"
    assert leftovers(settings) == before, "nothing spooled or staged is left"


def test_an_upload_within_the_limit_still_goes_through_the_guard(portal, app, settings, execute_queued):
    files = {"file": ("w.csv", b"id,temp\n1,2.5\n2,3.5\n", "text/csv")}
    response = send(
        portal, app, "POST", "/api/v1/datasets/weather/files", files=files, headers=bearer("editor")
    )
    assert response.status_code == 202, response.text
    assert execute_queued() == ["succeeded"]


def test_the_django_upload_handler_stops_at_the_first_byte_over(api, settings):
    """Without the guard (Django alone, as the test client drives it), the handler still refuses."""
    settings.LAKEGATE = settings.LAKEGATE.model_copy(
        update={"web": settings.LAKEGATE.web.model_copy(update={"max_upload_bytes": 100_000})}
    )
    before = leftovers(settings)
    client = api("editor")
    # The body's Content-Length is within limit + framing slack, so only counting catches it.
    payload = SimpleUploadedFile("big.csv", b"x" * 150_000)
    response = client.client.post("/api/v1/datasets/weather/files", {"file": payload}, headers=client.headers)
    assert response.status_code == 413, response.content
    assert response.json()["error"]["detail"] == {"limit": 100_000}
    assert leftovers(settings) == before
    way_over = SimpleUploadedFile("huge.csv", b"x" * 400_000)  # refused by its Content-Length
    response = client.client.post(
        "/api/v1/datasets/weather/files", {"file": way_over}, headers=client.headers
    )
    assert response.status_code == 413
    assert leftovers(settings) == before


def test_a_refused_upload_name_leaves_no_staged_file(api, settings):
    before = leftovers(settings)
    client = api("editor")
    payload = SimpleUploadedFile("w.csv", b"id\n1\n")
    response = client.client.post(
        "/api/v1/datasets/Not%20Valid/files", {"file": payload}, headers=client.headers
    )
    assert response.status_code == 422, response.content
    assert leftovers(settings) == before


def test_every_route_kind_has_its_limit(settings):
    lg = settings.LAKEGATE
    assert body_limit("/api/v1/models/churn/predict")[0] == 10 * MIB
    assert body_limit("/api/v1/streams/events/records/")[0] == lg.streams.max_body_bytes
    assert body_limit("/api/v1/datasets/weather/files")[0] == lg.web.max_upload_bytes + 64 * 1024
    assert body_limit("/upload/")[0] == lg.web.max_upload_bytes + 64 * 1024
    assert body_limit("/api/v1/runs")[0] == lg.web.max_request_bytes


def test_the_guard_knows_the_real_routes():
    """The path patterns match the URLconf: a renamed route cannot slip out of its limit."""
    assert UPLOAD_PATHS.match(reverse("dashboard:upload"))
    assert UPLOAD_PATHS.match(reverse("api-v1:datasets_upload", kwargs={"name": "weather"}))
    assert PREDICT_PATH.match(reverse("api-v1:models_predict", kwargs={"name": "churn"}))
    assert STREAM_PATH.match("/api/v1/streams/events/records")


def test_the_guard_passes_other_scopes_through():
    seen = []

    async def inner(scope: Any, receive: Any, send: Any) -> None:
        seen.append(scope["type"])

    asyncio.run(RequestGuard(inner)({"type": "lifespan"}, None, None))
    assert seen == ["lifespan"]
