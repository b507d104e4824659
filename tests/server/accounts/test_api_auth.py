"""Every /api/v1 route needs a token (401), roles are enforced (403), errors share one schema."""

from __future__ import annotations

import pytest

from lakegate_server.accounts.selectors import token_list
from lakegate_server.accounts.services import token_revoke


def assert_error(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.content
    body = response.json()
    assert set(body) == {"error"}
    assert set(body["error"]) == {"code", "message", "detail"}
    assert body["error"]["code"] == code
    assert body["error"]["message"]
    return body["error"]


@pytest.mark.parametrize(
    ("method", "path"),
    [("get", "/api/v1/runs"), ("get", "/api/v1/runs/1"), ("post", "/api/v1/runs"), ("get", "/api/v1/tokens")],
)
def test_it_requires_a_token(api, method, path):
    response = getattr(api(None), method)(path)
    error = assert_error(response, 401, "unauthorized")
    assert "Bearer" in error["message"]
    assert response["WWW-Authenticate"] == "Bearer"


def test_it_rejects_an_unknown_token(api):
    client = api(None)
    client.headers = {"Authorization": "Bearer lg_000000000000_not-a-real-secret"}
    assert_error(client.get("/api/v1/runs"), 401, "unauthorized")


def test_it_rejects_a_revoked_token(api, tokens):
    viewer = next(t for t in token_list() if t.role == "viewer")
    assert api("viewer").get("/api/v1/runs").status_code == 200
    token_revoke(token_id=viewer.id)
    assert_error(api("viewer").get("/api/v1/runs"), 401, "unauthorized")


def test_a_viewer_may_read_but_not_start_runs(api):
    assert api("viewer").get("/api/v1/runs").status_code == 200
    error = assert_error(api("viewer").post("/api/v1/runs", {"kind": "selfcheck"}), 403, "forbidden")
    assert "editor" in error["message"]


def test_an_editor_may_start_runs_but_not_manage_tokens(api):
    assert api("editor").post("/api/v1/runs", {"kind": "selfcheck"}).status_code == 201
    assert_error(api("editor").get("/api/v1/tokens"), 403, "forbidden")


def test_an_admin_manages_tokens(api):
    created = api("admin").post("/api/v1/tokens", {"name": "ci", "role": "viewer"})
    assert created.status_code == 201
    secret = created.json()["token"]
    listed = api("admin").get("/api/v1/tokens").json()["items"]
    assert "ci" in [t["name"] for t in listed]
    assert all("token" not in t and "secret_hash" not in t for t in listed)

    client = api(None)
    client.headers = {"Authorization": f"Bearer {secret}"}
    assert client.get("/api/v1/runs").status_code == 200
    assert api("admin").delete(f"/api/v1/tokens/{created.json()['id']}").status_code == 200
    assert_error(client.get("/api/v1/runs"), 401, "unauthorized")


def test_bad_json_is_422_with_the_error_schema(api):
    error = assert_error(api("editor").post("/api/v1/runs", raw="{bad json"), 422, "invalid_json")
    assert "not valid JSON" in error["message"]


def test_a_missing_field_is_422_naming_it(api):
    error = assert_error(api("editor").post("/api/v1/runs", {"params": {}}), 422, "validation_error")
    assert "kind" in error["message"]
    assert error["detail"][0]["field"].endswith("kind")


def test_an_unknown_run_is_404_with_the_error_schema(api):
    assert_error(api("viewer").get("/api/v1/runs/999999"), 404, "not_found")


def test_openapi_and_docs_are_served(client, db):
    spec = client.get("/api/v1/openapi.json")
    assert spec.status_code == 200
    paths = spec.json()["paths"]
    assert "/api/v1/runs" in paths
    assert spec.json()["components"]["securitySchemes"]["TokenAuth"]["scheme"] == "bearer"
    docs = client.get("/api/v1/docs")
    assert docs.status_code == 200
    assert b"swagger" in docs.content.lower()
