"""Runs over HTTP: start, list, show, logs, cancel."""

from __future__ import annotations

import pytest


def test_it_starts_a_run_and_shows_it(api):
    created = api("editor").post("/api/v1/runs", {"kind": "selfcheck", "params": {"seconds": 0}})
    assert created.status_code == 201
    run = created.json()
    assert run["status"] == "queued"
    assert run["created_by"] == "token:editor-user"
    shown = api("viewer").get(f"/api/v1/runs/{run['id']}").json()
    assert shown["id"] == run["id"]
    assert shown["params"] == {"seconds": 0.0, "fail": False}


def test_it_lists_runs_newest_first_and_filters(api):
    first = api("editor").post("/api/v1/runs", {"kind": "selfcheck"}).json()
    second = api("editor").post("/api/v1/runs", {"kind": "selfcheck"}).json()
    api("editor").post(f"/api/v1/runs/{first['id']}/cancel")
    items = api("viewer").get("/api/v1/runs").json()["items"]
    assert [r["id"] for r in items] == [second["id"], first["id"]]
    cancelled = api("viewer").get("/api/v1/runs", status="cancelled").json()["items"]
    assert [r["id"] for r in cancelled] == [first["id"]]


def test_an_unknown_status_filter_is_422(api):
    response = api("viewer").get("/api/v1/runs", status="done")
    assert response.status_code == 422
    message = response.json()["error"]["message"]
    assert "query.status" in message
    assert "'queued', 'running', 'succeeded', 'failed' or 'cancelled'" in message


def test_an_unknown_kind_is_422_naming_the_known_ones(api):
    response = api("editor").post("/api/v1/runs", {"kind": "nope"})
    assert response.status_code == 422
    assert response.json()["error"]["detail"]["known"] == [
        "check",
        "export",
        "ingest",
        "kb_build",
        "notify",
        "performance",
        "predict",
        "scoring_drift",
        "selfcheck",
        "source",
        "train",
    ]


@pytest.mark.django_db(transaction=True)
def test_it_serves_a_finished_runs_logs_in_pages(api, execute_queued):
    run = api("editor").post("/api/v1/runs", {"kind": "selfcheck", "params": {"seconds": 0}}).json()
    execute_queued()
    assert api("viewer").get(f"/api/v1/runs/{run['id']}").json()["status"] == "succeeded"
    page = api("viewer").get(f"/api/v1/runs/{run['id']}/logs").json()
    assert page["entries"][0]["msg"] == "attempt started"
    assert page["next"] == len(page["entries"])
    rest = api("viewer").get(f"/api/v1/runs/{run['id']}/logs", after=page["next"]).json()
    assert rest == {"entries": [], "next": page["next"]}


def test_cancelling_twice_is_a_409(api):
    run = api("editor").post("/api/v1/runs", {"kind": "selfcheck"}).json()
    assert api("editor").post(f"/api/v1/runs/{run['id']}/cancel").json()["status"] == "cancelled"
    again = api("editor").post(f"/api/v1/runs/{run['id']}/cancel")
    assert again.status_code == 409
    assert again.json()["error"]["code"] == "conflict"
    assert api("viewer").post(f"/api/v1/runs/{run['id']}/cancel").status_code == 403
