"""Server fixtures: an admin / editor / viewer token trio plus a stranger, and API clients."""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from django.conf import settings
from django.test import Client

from lakegate_server.accounts.models import Role
from lakegate_server.accounts.services import token_create
from lakegate_server.jobs.queue import huey


class ApiClient:
    """A Django test client that sends a bearer token and speaks JSON."""

    def __init__(self, token: str | None) -> None:
        self.client = Client()
        self.headers = {"Authorization": f"Bearer {token}"} if token else {}

    def get(self, path: str, **params: Any) -> Any:
        return self.client.get(path, params, headers=self.headers)

    def post(self, path: str, data: Any = None, *, raw: str | None = None) -> Any:
        body = raw if raw is not None else data
        return self.client.post(path, body, content_type="application/json", headers=self.headers)

    def delete(self, path: str) -> Any:
        return self.client.delete(path, headers=self.headers)


@pytest.fixture
def tokens(db: None) -> dict[str, str]:
    return {role.value: token_create(name=f"{role.value}-user", role=role).raw for role in Role}


@pytest.fixture
def api(tokens: dict[str, str]) -> Callable[[str | None], ApiClient]:
    """``api("editor")`` -> a client with that role's token; ``api(None)`` sends no token."""

    def make(role: str | None) -> ApiClient:
        return ApiClient(tokens[role] if role else None)

    return make


@pytest.fixture(autouse=True)
def _empty_queue() -> Iterator[None]:
    huey.flush()
    yield
    huey.flush()


@pytest.fixture(autouse=True)
def _no_staged_leftovers() -> Iterator[None]:
    """Uploads a test queued but never ingested (the queue is flushed after each test) leave
    staged files in this worker's project; the tests after it expect none."""
    uploads = settings.LAKEGATE.paths.uploads
    before = set(uploads.iterdir()) if uploads.is_dir() else set()
    yield
    for path in set(uploads.iterdir()) - before if uploads.is_dir() else ():
        shutil.rmtree(path, ignore_errors=True)


@pytest.fixture(autouse=True)
def _no_stream_leftovers() -> Iterator[None]:
    """Records a test pushed and never flushed stay in this worker's stream logs, and the next
    test's flush would take them: each test's stream logs go with it."""
    from lakegate_server.streams import wal

    yield
    wal.stream_logs_close()
    shutil.rmtree(settings.LAKEGATE.paths.streams, ignore_errors=True)


@pytest.fixture
def execute_queued() -> Callable[[], list[str]]:
    """Run every message waiting in the real queue storage, as a worker would."""

    def run_all() -> list[str]:
        outcomes = []
        while (task := huey.dequeue()) is not None:
            outcomes.append(huey.execute(task))
        return outcomes

    return run_all
