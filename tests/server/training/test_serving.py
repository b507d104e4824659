"""The online route: a Starlette app in front of Django, sharing tokens and the registry."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from typing import Any

import anyio.from_thread
import httpx
import pytest
from django.core.handlers.asgi import ASGIHandler
from django.utils import timezone

from lakegate_server.accounts.models import ApiToken
from lakegate_server.accounts.revocation import RevocationWatch
from lakegate_server.accounts.services import token_create, token_revoke
from lakegate_server.conf import project
from lakegate_server.serving import build_app, mount
from lakegate_server.serving.cache import ChampionCache, TokenCache
from lakegate_server.training.promotion import model_promote
from lakegate_server.training.services import pipeline_run_create
from tests.server.training.data import CHURN, customer_frame

pytestmark = pytest.mark.django_db(transaction=True)

RECORD = {
    "customer_id": 9,
    "age": 41,
    "income": 52000.0,
    "city": "nice",
    "plan": "basic",
    "tenure_months": 3,
    "tickets": 4,
    "signup_date": "2022-05-01",
}


@pytest.fixture
def trained(ingest, pipelines, execute_queued):
    ingest("customers", customer_frame(1200, seed=1))
    pipelines(churn=CHURN)
    pipeline_run_create(config=project(), name="churn", created_by="test")
    assert execute_queued() == ["succeeded"]


class PortalClient:
    """Requests into the ASGI app on one long-lived event loop (like a server's)."""

    def __init__(self, app: Any, portal: Any) -> None:
        self.app = app
        self.portal = portal

    def request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        async def send() -> httpx.Response:
            transport = httpx.ASGITransport(app=self.app)
            async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as http:
                return await http.request(method, path, **kwargs)

        return self.portal.call(send)

    def post(self, path: str, **kwargs: Any) -> httpx.Response:
        return self.request("POST", path, **kwargs)

    def get(self, path: str, **kwargs: Any) -> httpx.Response:
        return self.request("GET", path, **kwargs)


@pytest.fixture
def serving() -> Any:
    return build_app(champions=ChampionCache(refresh_seconds=0.05))


@pytest.fixture
def client(serving) -> Iterator[PortalClient]:
    with anyio.from_thread.start_blocking_portal() as portal:
        yield PortalClient(mount(ASGIHandler(), serving), portal)


def bearer(role: str = "viewer") -> dict[str, str]:
    return {"Authorization": f"Bearer {token_create(name=f'{role}-x', role=role).raw}"}


def test_it_predicts_with_the_champion(trained, client):
    response = client.post("/api/v1/models/churn/predict", json=RECORD, headers=bearer())
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/json"
    body = response.json()
    assert (body["model"], body["version"]) == ("churn", 1)
    assert body["predictions"][0] in (True, False)
    (probabilities,) = body["probabilities"]
    assert set(probabilities) == {"False", "True"}
    assert abs(sum(probabilities.values()) - 1) < 1e-9


def test_the_lean_route_and_the_django_route_answer_alike(trained, client):
    """Both call predict_json: the same answers, the same refusals."""
    from django.test import Client as DjangoClient

    headers = bearer()
    for body in ([RECORD, {**RECORD, "age": 70}], {**RECORD, "age": "forty"}, {"records": "no"}):
        lean = client.post("/api/v1/models/churn/predict", json=body, headers=headers)
        django = DjangoClient().post(
            "/api/v1/models/churn/predict", body, content_type="application/json", headers=headers
        )
        assert (lean.status_code, lean.json()) == (django.status_code, django.json())


def test_lists_of_records_and_big_batches(trained, client):
    headers = bearer()
    listed = client.post("/api/v1/models/churn/predict", json=[RECORD, RECORD], headers=headers)
    assert len(listed.json()["predictions"]) == 2
    many = [{**RECORD, "customer_id": i, "tenure_months": i % 60} for i in range(200)]
    wrapped = client.post("/api/v1/models/churn/predict", json={"records": many}, headers=headers)
    assert wrapped.status_code == 200
    assert len(wrapped.json()["predictions"]) == 200  # predicted in a worker thread


def test_a_bad_field_is_a_422_naming_it(trained, client):
    bad = {**RECORD, "age": "forty", "plan": 3}
    response = client.post("/api/v1/models/churn/predict", json=bad, headers=bearer())
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "invalid_input"
    assert {item["field"] for item in error["detail"]} == {"age", "plan"}
    assert "age" in error["message"]
    missing = {k: v for k, v in RECORD.items() if k != "tenure_months"}
    response = client.post("/api/v1/models/churn/predict", json=[RECORD, missing], headers=bearer())
    assert response.json()["error"]["detail"] == [{"field": "tenure_months", "reason": "missing", "row": 1}]


@pytest.mark.parametrize(
    ("body", "code"),
    [(b"{not json", "invalid_json"), (b"42", "invalid_input"), (b'"text"', "invalid_input")],
)
def test_bodies_that_are_not_records(trained, client, body, code):
    response = client.post(
        "/api/v1/models/churn/predict", content=body, headers={**bearer(), "Content-Type": "application/json"}
    )
    assert response.status_code == 422
    assert response.json()["error"]["code"] == code


def test_tokens_are_checked_like_the_api(trained, client):
    for headers in ({}, {"Authorization": "Bearer lg_nope_nope"}, {"Authorization": "Basic abc"}):
        response = client.post("/api/v1/models/churn/predict", json=RECORD, headers=headers)
        assert response.status_code == 401
        assert response.headers["www-authenticate"] == "Bearer"
        assert response.json()["error"]["code"] == "unauthorized"


def test_a_revoked_token_is_refused_at_once(trained):
    app = mount(ASGIHandler(), build_app(tokens=TokenCache(ttl=600)))
    issued = token_create(name="short-lived", role="viewer")
    other = token_create(name="deleted", role="viewer")
    url = "/api/v1/models/churn/predict"
    with anyio.from_thread.start_blocking_portal() as portal:
        client = PortalClient(app, portal)
        for token in (issued, other):
            headers = {"Authorization": f"Bearer {token.raw}"}
            assert client.post(url, json=RECORD, headers=headers).status_code == 200
        token_revoke(token_id=issued.token.pk)
        refused = client.post(url, json=RECORD, headers={"Authorization": f"Bearer {issued.raw}"})
        assert refused.status_code == 401, "the very next request, not after a cache expiry"
        ApiToken.objects.filter(pk=other.token.pk).delete()  # as the Django admin does
        gone = client.post(url, json=RECORD, headers={"Authorization": f"Bearer {other.raw}"})
        assert gone.status_code == 401
    assert ApiToken.objects.get(pk=issued.token.pk).last_used_at is not None


def test_a_revocation_made_by_another_process_is_seen_at_once(trained):
    """The row changes without this process knowing; another process announces it."""
    app = mount(ASGIHandler(), build_app(tokens=TokenCache(ttl=600)))
    issued = token_create(name="elsewhere", role="viewer")
    headers = {"Authorization": f"Bearer {issued.raw}"}
    url = "/api/v1/models/churn/predict"
    with anyio.from_thread.start_blocking_portal() as portal:
        client = PortalClient(app, portal)
        assert client.post(url, json=RECORD, headers=headers).status_code == 200
        ApiToken.objects.filter(pk=issued.token.pk).update(revoked_at=timezone.now())  # no signal here
        assert client.post(url, json=RECORD, headers=headers).status_code == 200, "cached: the test is real"
        script = (
            "import django; django.setup(); "
            "from lakegate_server.accounts.revocation import tokens_changed; tokens_changed()"
        )
        env = {**os.environ, "DJANGO_SETTINGS_MODULE": "lakegate_server.settings"}
        subprocess.run([sys.executable, "-c", script], env=env, check=True, timeout=120)
        assert client.post(url, json=RECORD, headers=headers).status_code == 401


def test_while_redis_cannot_be_heard_no_cached_token_is_trusted(trained, tmp_path):
    """A web process whose revocation listener is cut off checks every request in the database."""
    watch = RevocationWatch(marker=tmp_path / "another-host", redis_url="redis://127.0.0.1:1/0")
    app = mount(ASGIHandler(), build_app(tokens=TokenCache(ttl=600, revocations=watch)))
    issued = token_create(name="unheard", role="viewer")
    headers = {"Authorization": f"Bearer {issued.raw}"}
    url = "/api/v1/models/churn/predict"
    with anyio.from_thread.start_blocking_portal() as portal:
        client = PortalClient(app, portal)
        assert client.post(url, json=RECORD, headers=headers).status_code == 200
        ApiToken.objects.filter(pk=issued.token.pk).update(revoked_at=timezone.now())
        assert client.post(url, json=RECORD, headers=headers).status_code == 401


@pytest.mark.skipif(not os.environ.get("LAKEGATE_REDIS_URL"), reason="needs LAKEGATE_REDIS_URL")
def test_a_revocation_reaches_another_host_through_redis(trained, tmp_path, settings):
    """No shared file (another host): the Redis message alone drops the cached token."""
    watch = RevocationWatch(marker=tmp_path / "another-host", redis_url=settings.LAKEGATE.redis_url)
    app = mount(ASGIHandler(), build_app(tokens=TokenCache(ttl=600, revocations=watch)))
    issued = token_create(name="remote", role="viewer")
    headers = {"Authorization": f"Bearer {issued.raw}"}
    url = "/api/v1/models/churn/predict"
    with anyio.from_thread.start_blocking_portal() as portal:
        client = PortalClient(app, portal)
        assert client.post(url, json=RECORD, headers=headers).status_code == 200
        deadline = time.monotonic() + 10
        while not watch.listening and time.monotonic() < deadline:
            time.sleep(0.01)
        assert watch.listening
        assert client.post(url, json=RECORD, headers=headers).status_code == 200
        token_revoke(token_id=issued.token.pk)
        revoked_at = time.monotonic()
        status = 200
        while status == 200 and time.monotonic() < revoked_at + 5:
            status = client.post(url, json=RECORD, headers=headers).status_code
    assert status == 401
    assert time.monotonic() - revoked_at < 1.0, "within the time a message takes, not a cache expiry"


def test_unknown_models_and_models_without_a_champion(trained, client, registry):
    assert client.post("/api/v1/models/nope/predict", json=RECORD, headers=bearer()).status_code == 404
    weird = client.post("/api/v1/models/a%20b/predict", json=RECORD, headers=bearer())
    assert weird.status_code == 404
    registry("empty", ["candidate"])
    response = client.post("/api/v1/models/empty/predict", json=RECORD, headers=bearer())
    assert response.status_code == 404
    assert response.json()["error"] == {
        "code": "not_found",
        "message": "model 'empty' has no champion to serve",
        "detail": {"model": "empty"},
    }


def test_a_promotion_is_served_without_a_restart(trained, client, ingest, train):
    headers = bearer()
    assert client.post("/api/v1/models/churn/predict", json=RECORD, headers=headers).json()["version"] == 1
    ingest("customers", customer_frame(1500, seed=3, noise=0.9, start_id=10_000))
    train()  # a worse model: a candidate
    assert client.post("/api/v1/models/churn/predict", json=RECORD, headers=headers).json()["version"] == 1
    model_promote(config=project(), name="churn", number=2, reason="try it", actor="test")
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        served = client.post("/api/v1/models/churn/predict", json=RECORD, headers=headers).json()["version"]
        if served == 2:
            break
        time.sleep(0.05)
    assert served == 2


def test_a_tampered_champion_is_not_loaded(trained, client):

    from lakegate_server.conf import project
    from lakegate_server.training.models import ModelVersion
    from lakegate_server.training.selectors import version_artifact_dir

    artifact = version_artifact_dir(project(), ModelVersion.objects.get())
    with (artifact / "model.json").open("a") as handle:
        handle.write(" ")
    response = client.post("/api/v1/models/churn/predict", json=RECORD, headers=bearer())
    assert response.status_code == 503
    assert "sha256 mismatch" in response.json()["error"]["message"]


def test_other_paths_and_methods(trained, client):
    wrong_method = client.get("/api/v1/models/churn/predict", headers=bearer())
    assert wrong_method.status_code == 405
    assert wrong_method.json()["error"]["code"] == "method_not_allowed"
    assert client.get("/healthz").status_code in (200, 503)  # Django answers it
    django_route = client.get("/api/v1/models/churn", headers=bearer())
    assert django_route.json()["name"] == "churn"


def test_a_foreign_host_is_refused(trained, client):
    response = client.post(
        "/api/v1/models/churn/predict", json=RECORD, headers={**bearer(), "Host": "evil.example"}
    )
    assert response.status_code == 400


def test_openapi_documents_the_predict_route(client):
    spec = client.get("/api/v1/openapi.json").json()  # Django serves the document
    operation = spec["paths"]["/api/v1/models/{name}/predict"]["post"]
    assert operation["security"] == [{"TokenAuth": []}]
    assert spec["components"]["securitySchemes"]["TokenAuth"]["scheme"] == "bearer"
    assert [(p["name"], p["in"]) for p in operation["parameters"]] == [("name", "path")]
    body = operation["requestBody"]
    assert body["required"] is True
    one, listed, wrapped = body["content"]["application/json"]["schema"]["anyOf"]
    assert one["type"] == "object"
    assert (listed["type"], listed["items"]["type"], listed["maxItems"]) == ("array", "object", 10_000)
    assert wrapped["required"] == ["records"]
    assert wrapped["properties"]["records"] == listed
    ref = operation["responses"]["200"]["content"]["application/json"]["schema"]["$ref"]
    out = spec["components"]["schemas"][ref.rpartition("/")[2]]
    assert set(out["properties"]) == {"model", "version", "predictions", "probabilities"}
    assert set(out["required"]) == {"model", "version", "predictions"}


def test_django_answers_predict_like_the_online_route(trained, client, api):
    """Reached without the Starlette app in front (the Ninja route that documents it)."""
    online = bearer()
    django = api("viewer")
    for body in (RECORD, [RECORD, {**RECORD, "age": 70}], {"records": [RECORD]}):
        served = client.post("/api/v1/models/churn/predict", json=body, headers=online)
        answered = django.post("/api/v1/models/churn/predict", body)
        assert served.status_code == answered.status_code == 200, answered.content[:300]
        assert answered.json() == served.json()
    for raw, status, code in (
        ("{not json", 422, "invalid_json"),
        ("42", 422, "invalid_input"),
        ('{"age": "forty"}', 422, "invalid_input"),
    ):
        served = client.post(
            "/api/v1/models/churn/predict",
            content=raw,
            headers={**online, "Content-Type": "application/json"},
        )
        answered = django.post("/api/v1/models/churn/predict", raw=raw)
        assert served.status_code == answered.status_code == status
        assert served.json()["error"]["code"] == answered.json()["error"]["code"] == code
    assert api(None).post("/api/v1/models/churn/predict", RECORD).status_code == 401
    assert django.post("/api/v1/models/nobody/predict", RECORD).status_code == 404
