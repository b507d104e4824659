"""Pipelines and models over HTTP: viewer reads, editor trains/promotes/rolls back, nobody
without a token; every error in the one error schema."""

from __future__ import annotations

import pytest

from lakegate_server.jobs.models import Run
from tests.server.training.data import CHURN

pytestmark = pytest.mark.django_db

ROLES = ("admin", "editor", "viewer")


@pytest.fixture
def two_versions(registry, pipelines):
    pipelines(churn=CHURN)
    return registry("churn", ["champion", "candidate"], [{"f1": 0.61}, {"f1": 0.66}])


READS = [
    "/api/v1/pipelines",
    "/api/v1/models",
    "/api/v1/models/churn",
    "/api/v1/models/churn/versions/1",
    "/api/v1/models/churn/versions/1/card",
    "/api/v1/models/churn/audit",
]


@pytest.mark.parametrize("path", READS)
@pytest.mark.parametrize("role", [*ROLES, None])
def test_every_read_needs_a_token_and_any_role(api, two_versions, path, role):
    response = api(role).get(path)
    if role is None:
        assert response.status_code == 401
        assert response.json()["error"]["code"] == "unauthorized"
    else:
        assert response.status_code == 200, response.content[:300]


WRITES = [
    ("/api/v1/pipelines/churn/runs", None, 201),
    ("/api/v1/models/churn/versions/2/promote", {"reason": "looks better"}, 200),
    ("/api/v1/models/churn/versions/1/rollback", {"reason": "restore"}, 200),
]


@pytest.mark.parametrize(("path", "body", "ok"), WRITES)
@pytest.mark.parametrize("role", [*ROLES, None])
def test_writes_need_the_editor_role(api, two_versions, path, body, ok, role):
    if path.endswith("rollback"):
        api("editor").post("/api/v1/models/churn/versions/2/promote", {"reason": "first"})
    response = api(role).post(path, body)
    expected = {None: 401, "viewer": 403}.get(role, ok)
    assert response.status_code == expected, response.content[:300]
    if expected == 403:
        assert response.json()["error"]["code"] == "forbidden"


def test_pipelines_list(api, two_versions):
    (item,) = api("viewer").get("/api/v1/pipelines").json()["items"]
    assert item["name"] == "churn"
    assert item["inputs"] == ["customers"]
    assert item["algorithm"] == "lightgbm.LGBMClassifier"
    assert item["champion_version"] == 1
    assert item["promotion"]["rule"] == "f1 >= champion.f1 + 0.01"
    assert {"on_new_version": "customers"} in item["triggers"]
    assert len(item["config_hash"]) == 64


def test_a_pipeline_run_is_a_train_run(api, two_versions):
    response = api("editor").post("/api/v1/pipelines/churn/runs")
    assert response.status_code == 201
    body = response.json()
    assert (body["kind"], body["status"], body["params"]["pipeline"]) == ("train", "queued", "churn")
    assert Run.objects.get(pk=body["id"]).created_by == "token:editor-user"


def test_an_unknown_pipeline_is_404(api, two_versions):
    response = api("editor").post("/api/v1/pipelines/nope/runs")
    assert response.status_code == 404
    assert "no pipeline 'nope'" in response.json()["error"]["message"]


def test_models_and_versions(api, two_versions):
    models = api("viewer").get("/api/v1/models").json()["items"]
    assert [(m["name"], m["champion_version"], m["versions"]) for m in models] == [("churn", 1, 2)]
    detail = api("viewer").get("/api/v1/models/churn").json()
    assert [(v["version"], v["stage"]) for v in detail["items"]] == [(2, "candidate"), (1, "champion")]
    version = api("viewer").get("/api/v1/models/churn/versions/2").json()
    assert version["metrics"] == {"f1": 0.66}
    assert version["robustness"]["summary"] == {"f1_drop": 0.01}
    card = api("viewer").get("/api/v1/models/churn/versions/2/card")
    assert card["Content-Type"].startswith("text/html")
    assert "default-src 'none'" in card["Content-Security-Policy"]


def test_promote_then_rollback_over_http(api, two_versions):
    promoted = api("editor").post("/api/v1/models/churn/versions/2/promote", {"reason": "f1 up"})
    assert promoted.json()["stage"] == "champion"
    back = api("editor").post("/api/v1/models/churn/versions/1/rollback", {"reason": "complaints"})
    assert back.json()["stage"] == "champion"
    audit = api("viewer").get("/api/v1/models/churn/audit").json()["items"]
    assert [(a["action"], a["version"], a["actor"]) for a in audit[:4]] == [
        ("rolled_back", 1, "token:editor-user"),
        ("archived", 2, "token:editor-user"),
        ("promoted", 2, "token:editor-user"),
        ("archived", 1, "token:editor-user"),
    ]
    assert audit[0]["reason"] == "complaints"


@pytest.mark.parametrize(
    ("path", "body", "status", "code"),
    [
        ("/api/v1/models/churn/versions/2/promote", {}, 422, "validation_error"),
        ("/api/v1/models/churn/versions/2/promote", {"reason": "  "}, 422, "validation_error"),
        ("/api/v1/models/churn/versions/1/promote", {"reason": "x"}, 409, "conflict"),
        ("/api/v1/models/churn/versions/2/rollback", {"reason": "x"}, 409, "conflict"),
        ("/api/v1/models/churn/versions/9/promote", {"reason": "x"}, 404, "not_found"),
        ("/api/v1/models/nope/versions/1/promote", {"reason": "x"}, 404, "not_found"),
    ],
)
def test_stage_change_errors_use_the_error_schema(api, two_versions, path, body, status, code):
    response = api("editor").post(path, body)
    assert response.status_code == status, response.content
    error = response.json()["error"]
    assert error["code"] == code
    assert error["message"]


def test_an_unknown_model_is_404(api, two_versions):
    for path in ("/api/v1/models/nope", "/api/v1/models/churn/versions/7", "/api/v1/models/nope/audit"):
        assert api("viewer").get(path).status_code == 404
