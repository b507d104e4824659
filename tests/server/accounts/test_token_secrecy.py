"""API tokens are stored hashed and never logged.

Every record logged while tokens are created, used, refused and revoked (through the API, the
lean routes and the dashboard) is formatted as the web log writes it (JSON lines with every
``extra`` field) and searched for the secrets: none may appear, nor in the database rows.
"""

from __future__ import annotations

import logging
import re

import pytest
from django.test import Client

from lakegate._logging import JsonFormatter
from lakegate_server.accounts.models import ApiToken
from lakegate_server.accounts.services import token_create, user_create
from lakegate_server.serving import build_app
from tests.server.serving.test_request_limits import portal, send  # noqa: F401 - fixture

pytestmark = pytest.mark.django_db(transaction=True)


def _secret(raw: str) -> str:
    return raw.rsplit("_", 1)[1]


def test_tokens_never_reach_the_logs_or_the_database(caplog, portal, settings):  # noqa: F811
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    caplog.set_level(logging.DEBUG)
    admin = token_create(name="root", role="admin").raw
    viewer = token_create(name="reader", role="viewer").raw
    api = Client()

    def call(method: str, path: str, token: str, **kwargs: object) -> int:
        headers = {"Authorization": f"Bearer {token}"}
        return api.generic(method, path, headers=headers, **kwargs).status_code  # type: ignore[arg-type]

    created = api.post(
        "/api/v1/tokens",
        {"name": "ci", "role": "editor"},
        content_type="application/json",
        headers={"Authorization": f"Bearer {admin}"},
    )
    assert created.status_code == 201
    issued = created.json()["token"]
    assert call("GET", "/api/v1/runs", issued) == 200
    assert call("GET", "/api/v1/runs/987654", viewer) == 404
    assert call("GET", "/api/v1/nowhere", viewer) == 404
    wrong = viewer[: -len(_secret(viewer))] + "x" * len(_secret(viewer))  # right prefix, wrong secret
    assert call("GET", "/api/v1/runs", wrong) == 401
    app = build_app()
    lean = send(
        portal,
        app,
        "POST",
        "/api/v1/models/churn/predict",
        json={},
        headers={"Authorization": f"Bearer {viewer}"},
    )
    assert lean.status_code == 404
    lean = send(
        portal,
        app,
        "POST",
        "/api/v1/models/churn/predict",
        json={},
        headers={"Authorization": f"Bearer {wrong}"},
    )
    assert lean.status_code == 401
    token_id = ApiToken.objects.get(name="ci").pk
    assert call("DELETE", f"/api/v1/tokens/{token_id}", admin) == 200
    assert call("GET", "/api/v1/runs", issued) == 401  # revoked
    # The dashboard shows a new token once, on its page; the log must not have it.
    browser = Client()
    browser.force_login(user_create(username="boss", password="correct-horse-battery", role="admin"))
    page = browser.post("/tokens/", {"name": "from-the-page", "role": "viewer"})
    assert page.status_code in {200, 302}
    shown = re.search(rb"lg_[0-9a-f]{12}_[A-Za-z0-9_-]{20,}", browser.get("/tokens/").content + page.content)

    secrets = [admin, viewer, issued, _secret(admin), _secret(viewer), _secret(issued)]
    assert shown is not None, "the dashboard shows the new token once"
    secrets += [shown.group().decode(), _secret(shown.group().decode())]
    formatter = JsonFormatter()
    logged = "\n".join(formatter.format(record) for record in caplog.records)
    assert len(caplog.records) >= 5, "the requests above were logged"
    for secret in secrets:
        assert secret not in logged
    stored = [
        " ".join(str(v) for v in row)
        for row in ApiToken.objects.values_list("name", "prefix", "secret_hash", "role")
    ]
    for secret in secrets:
        assert not any(secret in row for row in stored)
    for row in ApiToken.objects.all():
        assert re.fullmatch(r"[0-9a-f]{64}", row.secret_hash), "a SHA-256 digest, not the secret"
