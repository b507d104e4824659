"""One translation of domain errors for every dashboard view: NotFound -> 404, others -> a message."""

from __future__ import annotations

import pytest
from django.contrib.messages import get_messages
from django.contrib.messages.storage.fallback import FallbackStorage
from django.contrib.sessions.backends.signed_cookies import SessionStore
from django.http import Http404, HttpResponse
from django.test import RequestFactory

from lakegate.errors import ConflictError, LakegateError, NotFoundError
from lakegate_server.dashboard.views._common import lakegate_errors

pytestmark = pytest.mark.django_db


def _request():
    request = RequestFactory().post("/anything/")
    request.session = SessionStore()
    request._messages = FallbackStorage(request)
    return request


def _raising(exc: Exception):
    def view(request, **kwargs) -> HttpResponse:
        raise exc

    return view


def test_not_found_is_404():
    view = lakegate_errors(back="dashboard:runs")(_raising(NotFoundError("no run with id 7")))
    with pytest.raises(Http404, match="no run with id 7"):
        view(_request(), run_id=7)


def test_another_domain_error_is_a_message_and_a_redirect_back():
    request = _request()
    back = lakegate_errors(back=lambda run_id: f"/runs/{run_id}/", prefix="Not cancelled")
    response = back(_raising(ConflictError("run 7 already succeeded")))(request, run_id=7)
    assert (response.status_code, response["Location"]) == (302, "/runs/7/")
    assert [m.message for m in get_messages(request)] == ["Not cancelled: run 7 already succeeded"]
    named = lakegate_errors(back="dashboard:quarantine")(_raising(LakegateError("no")))(_request())
    assert named["Location"] == "/quarantine/"


def test_without_a_way_back_other_errors_propagate():
    with pytest.raises(ConflictError):
        lakegate_errors()(_raising(ConflictError("nope")))(_request())


def test_permission_refusals_are_not_domain_errors():
    from django.core.exceptions import PermissionDenied

    with pytest.raises(PermissionDenied):
        lakegate_errors(back="dashboard:runs")(_raising(PermissionDenied("no")))(_request())


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", "/datasets/nope/"),
        ("get", "/datasets/nope/diff/"),
        ("get", "/runs/999999/"),
        ("get", "/quality/reports/999999/"),
        ("get", "/quality/reports/999999/html/"),
        ("get", "/models/nope/"),
        ("get", "/models/nope/versions/1/card/"),
        ("post", "/runs/999999/cancel/"),
        ("post", "/quarantine/nope/retry/"),
        ("post", "/models/nope/versions/1/promote/"),
        ("post", "/pipelines/nope/run/"),
        ("post", "/datasets/nope/versions/1/approve/"),
        ("post", "/tokens/999999/revoke/"),
    ],
)
def test_pages_and_actions_on_things_that_do_not_exist_are_404(browse, method, path):
    response = getattr(browse("admin"), method)(path, {"reason": "because"})
    assert response.status_code == 404, response.content[:300]


def test_a_refused_action_comes_back_with_the_reason(browse, queued_run):
    from lakegate_server.jobs.services import run_cancel

    run_cancel(run_id=queued_run.pk, by="test")
    client = browse("editor")
    response = client.post(f"/runs/{queued_run.pk}/cancel/", follow=True)
    assert response.redirect_chain[-1][0] == f"/runs/{queued_run.pk}/"
    assert "already cancelled; nothing to cancel" in response.content.decode()
