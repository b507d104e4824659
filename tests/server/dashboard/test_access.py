"""Who may open every page and send every POST: admin, editor, viewer, a stranger (logged in,
no role) and anonymous. Anonymous users go to the login page; a role below the need gets 403
and nothing changes."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from lakegate_server.accounts.models import ROLE_RANK, ApiToken
from lakegate_server.accounts.services import token_create
from lakegate_server.datasets.models import QuarantinedFile
from lakegate_server.jobs.models import Run
from tests.server.dashboard.conftest import WHO, Lake
from tests.support.fixtures import staged_entries

pytestmark = pytest.mark.django_db(transaction=True)

HTMX = {"HX-Request": "true"}


def outcome(who: str | None, need: str) -> str:
    if who is None:
        return "login"
    if who == "stranger" or ROLE_RANK[who] < ROLE_RANK[need]:
        return "forbidden"
    return "allowed"


PAGES = [
    ("/", "viewer", {}),
    ("/datasets/", "viewer", {}),
    ("/datasets/weather/", "viewer", {}),
    ("/datasets/weather/?version=1", "viewer", HTMX),
    ("/datasets/weather/diff/?a=1&b=2", "viewer", {}),
    ("/runs/", "viewer", {}),
    ("/runs/?status=queued", "viewer", HTMX),
    ("/runs/{run}/", "viewer", {}),
    ("/runs/{run}/log/?after=0", "viewer", HTMX),
    ("/quarantine/", "viewer", {}),
    ("/tokens/", "admin", {}),
]


@pytest.mark.parametrize("who", WHO)
@pytest.mark.parametrize(("url", "need", "headers"), PAGES)
def test_every_page_checks_the_role(browse, lake, queued_run, who, url, need, headers):
    path = url.format(run=queued_run.pk)
    response = browse(who).get(path, headers=headers)
    expected = outcome(who, need)
    if expected == "login" and headers:
        # An htmx request (a poll, a partial) redirects the whole page, not the fragment.
        assert response.status_code == 200
        assert response["HX-Redirect"].startswith("/login/?next=")
    elif expected == "login":
        assert response.status_code == 302
        assert response["Location"] == f"/login/?next={quote(path, safe='/')}"
    elif expected == "forbidden":
        assert response.status_code == 403
        assert b"Not allowed" in response.content
    else:
        assert response.status_code == 200, response.content[:500]
        assert b"Not allowed" not in response.content


@dataclass(frozen=True)
class Action:
    name: str
    need: str
    send: Callable[[Client, dict[str, Any]], Any]
    happened: Callable[[dict[str, Any]], bool]


def _upload(client: Client, ctx: dict[str, Any]) -> Any:
    data = {"file": SimpleUploadedFile("more.csv", b"id,temp,city\n9,1.5,Oslo\n"), "dataset": "weather"}
    data |= {"mode": "append"}
    return client.post("/upload/", data)


ACTIONS = [
    Action(
        "upload",
        "editor",
        _upload,
        lambda ctx: Run.objects.filter(kind="ingest").exists(),
    ),
    Action(
        "cancel",
        "editor",
        lambda client, ctx: client.post(f"/runs/{ctx['run'].pk}/cancel/"),
        lambda ctx: Run.objects.get(pk=ctx["run"].pk).status == "cancelled",
    ),
    Action(
        "selfcheck",
        "editor",
        lambda client, ctx: client.post("/runs/selfcheck/", {"seconds": "1"}),
        lambda ctx: Run.objects.count() == 2,
    ),
    Action(
        "retry",
        "editor",
        lambda client, ctx: client.post(f"/quarantine/{ctx['entry'].pk}/retry/", {"evolve": "on"}),
        lambda ctx: QuarantinedFile.objects.get(pk=ctx["entry"].pk).resolved_at is not None,
    ),
    Action(
        "token-create",
        "admin",
        lambda client, ctx: client.post("/tokens/", {"name": "ci", "role": "viewer"}),
        lambda ctx: ApiToken.objects.filter(name="ci").exists(),
    ),
    Action(
        "token-revoke",
        "admin",
        lambda client, ctx: client.post(f"/tokens/{ctx['token'].pk}/revoke/"),
        lambda ctx: ApiToken.objects.get(pk=ctx["token"].pk).revoked_at is not None,
    ),
]


@pytest.mark.parametrize("who", WHO)
@pytest.mark.parametrize("action", ACTIONS, ids=[a.name for a in ACTIONS])
def test_every_post_checks_the_role_and_changes_nothing_when_refused(
    browse, lake: Lake, queued_run, settings, who, action
):
    ctx = {
        "run": queued_run,
        "entry": lake.quarantined,
        "token": token_create(name="old", role="viewer").token,
    }
    staged_before = staged_entries(settings.LAKEGATE.paths.uploads)
    response = action.send(browse(who), ctx)
    expected = outcome(who, action.need)
    if expected == "login":
        assert response.status_code == 302
        assert response["Location"].startswith("/login/?next=")
    elif expected == "forbidden":
        assert response.status_code == 403
    else:
        assert response.status_code in {200, 302}, response.content[:500]
    assert action.happened(ctx) is (expected == "allowed")
    if expected != "allowed":
        staged_now = staged_entries(settings.LAKEGATE.paths.uploads)
        assert staged_now == staged_before, "a refused upload is not kept"


@pytest.mark.parametrize("who", ["stranger", "viewer", "editor", "admin"])
def test_get_is_refused_where_only_post_is_meant(browse, lake, queued_run, who):
    client = browse(who)
    for url in ["/upload/", f"/runs/{queued_run.pk}/cancel/", "/runs/selfcheck/", "/tokens/1/revoke/"]:
        assert client.get(url).status_code in {403, 405}, url
