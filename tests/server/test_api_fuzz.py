"""schemathesis against /api/v1/openapi.json with a token of each role (viewer, editor, admin).

Every operation of the schema, for each role, gets ``LAKEGATE_FUZZ_EXAMPLES`` generated
requests (5 here; ``make fuzz-api`` runs 100), sent through Django's WSGI app with the
test's database. Each answer must be no server error (5xx), carry a status the route
documents, and match the documented schema (errors included: ``{"error": {...}}``), and a
request the schema calls valid must not be refused as malformed.

Names that URL inputs hold (export targets) are never resolved: DNS answers nothing here and
no connection leaves the process.
"""

from __future__ import annotations

import os
import shutil
import socket
from collections import Counter
from collections.abc import Iterator

import pytest
import schemathesis
from django.core import signals
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import CHECKS

from lakegate_server.accounts.models import ApiToken, FailureCount
from lakegate_server.api import api

pytestmark = pytest.mark.django_db

EXAMPLES = int(os.environ.get("LAKEGATE_FUZZ_EXAMPLES", "5"))

SCHEMA = schemathesis.openapi.from_dict(api.get_openapi_schema(path_prefix="/api/v1/"))
SCHEMA.app = get_wsgi_application()
OPERATIONS = [result.ok() for result in SCHEMA.get_all_operations()]

# Where a schema-valid request may still be refused with 422, because what decides is not a
# shape JSON Schema can state: a run's params are checked by its kind's own model, an export
# target by the outbound policy (which addresses a host resolves to). Every other check runs.
POLICY_CHECKED = {
    "POST /api/v1/runs",
    "POST /api/v1/datasets/{name}/export",
    "POST /api/v1/kb",  # the folder must exist inside the project: judged on the disk, not the shape
}
ACCEPTANCE = CHECKS.get_by_names(["positive_data_acceptance"])

SEEN: Counter[tuple[str, int]] = Counter()


@pytest.fixture(autouse=True)
def _keep_the_test_connection() -> Iterator[None]:
    """As Django's test client does: the WSGI app must not close the test's database connection."""
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


@pytest.fixture(autouse=True)
def _no_staged_leftovers(settings) -> Iterator[None]:
    """Fuzzed uploads are queued, never ingested: their staged files go with the test."""
    uploads = settings.LAKEGATE.paths.uploads
    before = set(uploads.iterdir()) if uploads.is_dir() else set()
    yield
    for path in set(uploads.iterdir()) - before if uploads.is_dir() else ():
        shutil.rmtree(path, ignore_errors=True)


@pytest.fixture(scope="module", autouse=True)
def _figures() -> Iterator[None]:
    """How many requests were sent, and which statuses came back (``pytest -s`` shows it)."""
    yield
    statuses = Counter(status for (_label, status), n in SEEN.items() for _ in range(n))
    print(
        f"\nschemathesis: {sum(SEEN.values())} requests, {len(OPERATIONS)} operations x 3 roles, "
        f"{EXAMPLES} examples each; statuses {dict(sorted(statuses.items()))}"
    )


@pytest.fixture(autouse=True)
def _no_network(monkeypatch: pytest.MonkeyPatch) -> None:
    def no_dns(host: object, *args: object, **kwargs: object) -> list[tuple[object, ...]]:
        if host in ("localhost", "127.0.0.1", "::1", None):
            return _getaddrinfo(host, *args, **kwargs)
        raise socket.gaierror(socket.EAI_NONAME, f"no DNS in this test: {host}")

    def no_connection(address: object, *args: object, **kwargs: object) -> None:
        pytest.fail(f"a connection was attempted to {address}")

    monkeypatch.setattr(socket, "getaddrinfo", no_dns)
    monkeypatch.setattr(socket, "create_connection", no_connection)


_getaddrinfo = socket.getaddrinfo


@pytest.mark.parametrize("role", ["viewer", "editor", "admin"])
@pytest.mark.parametrize("operation", OPERATIONS, ids=[op.label for op in OPERATIONS])
def test_every_operation_answers_as_documented(operation, role, tokens):
    headers = {"Authorization": f"Bearer {tokens[role]}"}
    excluded = ACCEPTANCE if operation.label in POLICY_CHECKED else []

    @given(case=operation.as_strategy())
    @settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck), database=None)
    def run(case):
        # An admin's fuzzed DELETE /tokens/{id} may revoke the token this test sends.
        ApiToken.objects.filter(revoked_at__isnull=False).update(revoked_at=None)
        # schemathesis also sends bad tokens (401 expected); their count must not reach the
        # throttle (429), which tests/server/accounts/test_throttle.py covers.
        FailureCount.objects.all().delete()
        response = case.call_and_validate(headers=headers, excluded_checks=excluded)
        SEEN[(operation.label, response.status_code)] += 1

    run()
    assert SEEN, "no request was sent"
