"""Models pages: who may see the list, a model's detail and card, who may promote, roll back
and start training (admin, editor, viewer, a stranger without a role, anonymous)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import pytest
from django.test import Client

from lakegate_server.accounts.models import ROLE_RANK
from lakegate_server.conf import project
from lakegate_server.jobs.models import Run
from lakegate_server.training.models import ModelVersion, StageChange
from tests.server.dashboard.conftest import WHO
from tests.server.training.conftest import registry  # noqa: F401 - the fixture
from tests.server.training.data import CHURN

pytestmark = pytest.mark.django_db(transaction=True)

HTMX = {"HX-Request": "true"}


def outcome(who: str | None, need: str) -> str:
    if who is None:
        return "login"
    if who == "stranger" or ROLE_RANK[who] < ROLE_RANK[need]:
        return "forbidden"
    return "allowed"


@pytest.fixture
def churn(registry, settings):  # noqa: F811 - the imported fixture
    settings.LAKEGATE = settings.LAKEGATE.model_copy(update={"pipelines": {"churn": CHURN}})
    return registry("churn", ["champion", "candidate"], [{"f1": 0.61}, {"f1": 0.66}])


PAGES = [
    ("/models/", {}),
    ("/models/churn/", {}),
    ("/models/churn/?version=2", HTMX),
    ("/models/churn/versions/1/card/", {}),
]


@pytest.mark.parametrize("who", WHO)
@pytest.mark.parametrize(("url", "headers"), PAGES)
def test_every_models_page_checks_the_role(browse, churn, who, url, headers):
    response = browse(who).get(url, headers=headers)
    expected = outcome(who, "viewer")
    if expected == "login" and headers:
        assert response["HX-Redirect"].startswith("/login/?next=")
    elif expected == "login":
        assert response.status_code == 302
        assert response["Location"] == f"/login/?next={quote(url, safe='/')}"
    elif expected == "forbidden":
        assert response.status_code == 403
    else:
        assert response.status_code == 200, response.content[:500]


@dataclass(frozen=True)
class Action:
    name: str
    send: Callable[[Client], Any]
    happened: Callable[[], bool]


def _stage(number: int) -> str:
    return ModelVersion.objects.get(model__name="churn", number=number).stage


ACTIONS = [
    Action(
        "promote",
        lambda client: client.post("/models/churn/versions/2/promote/", {"reason": "better"}),
        lambda: _stage(2) == "champion",
    ),
    Action(
        "rollback",
        lambda client: client.post("/models/churn/versions/1/rollback/", {"reason": "revert"}),
        lambda: _stage(1) == "champion" and StageChange.objects.filter(action="rolled_back").exists(),
    ),
    Action(
        "train",
        lambda client: client.post("/pipelines/churn/run/"),
        lambda: Run.objects.filter(kind="train").exists(),
    ),
]


@pytest.mark.parametrize("who", WHO)
@pytest.mark.parametrize("action", ACTIONS, ids=[a.name for a in ACTIONS])
def test_every_models_post_needs_an_editor(browse, churn, who, action):
    if action.name == "rollback":
        from lakegate_server.training.promotion import model_promote

        model_promote(config=project(), name="churn", number=2, reason="set up", actor="test")
    response = action.send(browse(who))
    expected = outcome(who, "editor")
    if expected == "login":
        assert response.status_code == 302
        assert response["Location"].startswith("/login/?next=")
    elif expected == "forbidden":
        assert response.status_code == 403
    else:
        assert response.status_code == 302, response.content[:500]
    assert action.happened() is (expected == "allowed")


def test_the_detail_page_shows_metrics_lineage_history_and_buttons(browse, churn):
    ModelVersion.objects.filter(number=1).update(
        lineage=[
            {
                "dataset": "customers",
                "versions": [1, 3],
                "latest": 3,
                "rows": 1500,
                "fingerprint": "f",
                "gate": [
                    {"dataset": "customers", "version": 1, "status": "accepted", "verdict": "pass"},
                    {"dataset": "customers", "version": 3, "status": "accepted", "verdict": "warn"},
                ],
            }
        ],
        robustness={
            "rows": [
                {
                    "perturbation": "noise",
                    "level": 0.5,
                    "metric": "f1",
                    "before": 0.61,
                    "after": 0.5,
                    "drop": 0.11,
                    "note": "",
                }
            ],
            "summary": {"f1_drop": 0.11},
            "notes": [],
        },
    )
    page = browse("viewer").get("/models/churn/").content.decode()
    assert "Version 1" in page
    assert 'href="/datasets/customers/?version=3"' in page
    assert "accepted · warn" in page
    assert "noise" in page
    assert "0.11" in page
    assert "made by the fixture" in page  # the stage history
    assert "Promote to champion" not in page, "viewers get no buttons"
    editor = browse("editor").get("/models/churn/?version=2").content.decode()
    assert "Promote to champion" in editor
    assert "Roll back" not in editor, "v2 was never champion"


def test_a_refused_change_is_explained(browse, churn):
    client = browse("editor")
    response = client.post("/models/churn/versions/1/promote/", {"reason": "again"}, follow=True)
    assert "already the champion" in response.content.decode()
    response = client.post("/models/churn/versions/2/promote/", {"reason": ""}, follow=True)
    assert "reason" in response.content.decode()
    assert _stage(2) == "candidate"


def test_unknown_models_and_versions_are_404(browse, churn):
    client = browse("admin")
    assert client.get("/models/nope/").status_code == 404
    assert client.get("/models/churn/?version=9").status_code == 404
    assert client.get("/models/churn/versions/9/card/").status_code == 404
    assert client.post("/models/nope/versions/1/promote/", {"reason": "x"}).status_code == 404
    assert client.post("/pipelines/nope/run/").status_code == 404


def test_the_models_page_lists_models_and_pipelines(browse, churn):
    page = browse("editor").get("/models/").content.decode()
    assert 'href="/models/churn/"' in page
    assert "f1 &gt;= champion.f1 + 0.01" in page
    assert "Train now" in page
    assert "Train now" not in browse("viewer").get("/models/").content.decode()
