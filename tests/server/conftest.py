"""Server fixtures: an admin / editor / viewer token trio plus a stranger, and API clients."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
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


@pytest.fixture
def execute_queued() -> Callable[[], list[str]]:
    """Run every message waiting in the real queue storage, as a worker would."""

    def run_all() -> list[str]:
        outcomes = []
        while (task := huey.dequeue()) is not None:
            outcomes.append(huey.execute(task))
        return outcomes

    return run_all
