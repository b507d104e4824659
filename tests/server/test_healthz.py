"""/healthz: no auth, database + queue + disk, 503 when one is down."""

from __future__ import annotations

import pytest
from huey import RedisHuey

from lakegate_server import health

pytestmark = pytest.mark.django_db


def test_it_reports_every_component(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert set(body["checks"]) == {"database", "queue", "disk", "storage"}
    assert body["checks"]["storage"]["backend"] == "local"
    assert all(check["ok"] for check in body["checks"].values())
    assert body["checks"]["queue"]["pending"] == 0
    assert body["checks"]["disk"]["free_bytes"] > 0


def test_it_is_503_when_the_disk_is_short(client, settings):
    web = settings.LAKEGATE.web.model_copy(update={"min_free_disk_bytes": 10**18})
    settings.LAKEGATE = settings.LAKEGATE.model_copy(update={"web": web})
    response = client.get("/healthz")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "down"
    assert not body["checks"]["disk"]["ok"]
    assert "below web.min_free_disk_bytes" in body["checks"]["disk"]["error"]
    assert body["checks"]["database"]["ok"]


def test_it_is_503_when_the_queue_is_unreachable(client, monkeypatch):
    # A real Redis client pointed at a port where nothing listens: a real connection failure.
    monkeypatch.setattr(health, "huey", RedisHuey(name="down", url="redis://127.0.0.1:1/0", blocking=False))
    response = client.get("/healthz")
    assert response.status_code == 503
    assert not response.json()["checks"]["queue"]["ok"]
    assert "Connection" in response.json()["checks"]["queue"]["error"]
