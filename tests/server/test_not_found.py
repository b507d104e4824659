"""Every URL under /api (and /healthz) that names nothing answers 404 in the API's error shape."""

from __future__ import annotations

import pytest

from tests.server.accounts.test_api_auth import assert_error
from tests.server.serving.test_request_limits import app, bearer, portal, send  # noqa: F401 - fixtures

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", "/api/v1/no-such-route"),  # an unknown route
        ("get", "/api/v1/runs/"),  # a trailing slash the route does not have
        ("get", "/api/v1/runs/abc"),  # a run id that is not a number
        ("get", "/api/v1/datasets/weather/versions/abc/stats"),
        ("post", "/api/v1/models//predict"),  # an empty model name never reaches the lean route
        ("get", "/api/v1/"),
        ("get", "/healthz/"),
    ],
)
def test_unknown_api_paths_are_json_404(api, method, path):
    response = getattr(api("viewer"), method)(path)
    assert response["Content-Type"] == "application/json"
    error = assert_error(response, 404, "not_found")
    assert path in error["message"]
    assert error["detail"] == {"path": path}


def test_dashboard_paths_keep_their_html_404(api):
    response = api(None).get("/no-such-page/")
    assert response.status_code == 404
    assert response["Content-Type"].startswith("text/html")


def test_the_lean_routes_answer_both_spellings_and_unknown_models_in_json(portal, app):  # noqa: F811
    headers = bearer("viewer")
    for path in ("/api/v1/models/nope/predict", "/api/v1/models/nope/predict/"):
        response = send(portal, app, "POST", path, json={"a": 1}, headers=headers)
        error = assert_error(response, 404, "not_found")
        assert error["detail"] == {"model": "nope"}
    weird = send(portal, app, "POST", "/api/v1/models/a%20b/predict", json={"a": 1}, headers=headers)
    assert assert_error(weird, 404, "not_found")["message"] == "no model named 'a b'"
    wrong_method = send(portal, app, "GET", "/api/v1/streams/events/records/", headers=headers)
    assert_error(wrong_method, 405, "method_not_allowed")
    # Through the whole app (Django behind the guard) as well.
    response = send(portal, app, "GET", "/api/v1/runs/", headers=headers)
    assert_error(response, 404, "not_found")
