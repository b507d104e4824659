"""The access matrix, generated from the URL configuration: every route x every caller.

Routes come from Django's URL resolver (the Ninja API's operations, the dashboard's pages and
forms, the health probe, the API's schema) and from the lean ASGI app (online predict and
stream push). Each must have an entry in ``NEEDS`` below, the declared role it needs: a route
added without one fails ``test_every_route_is_declared``, so nothing ships unfenced.

Callers: anonymous, a bad token, viewer, editor, admin (API tokens for the API; logged-in
users of each role for the dashboard, plus a dashboard login sent to the API, which must not
count). Dashboard POSTs are sent three ways: with the CSRF token, without it, and with the
token but a foreign ``Origin``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from django.conf import settings as django_settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.middleware.csrf import get_token
from django.test import Client, RequestFactory
from django.urls import URLPattern, URLResolver, get_resolver

from lakegate_server.accounts.models import ROLE_RANK, FailureCount
from lakegate_server.accounts.services import token_create, user_create
from lakegate_server.serving import build_app
from tests.server.accounts.test_route_roles import _example
from tests.server.serving.test_request_limits import portal, send  # noqa: F401 - fixture

pytestmark = pytest.mark.django_db(transaction=True)

PASSWORD = "correct-horse-battery"
ROLES = ("viewer", "editor", "admin")
PUBLIC = "public"

# What each route needs: "public", or the lowest role it serves. Keys are "METHOD route" as
# the URL configuration spells the route (Django converters kept), "LEAN" for the ASGI routes.
NEEDS: dict[str, str] = {
    # --- the Ninja API (tokens) ---
    "GET api/v1/": "none",  # Ninja's root: a 404 for everyone
    "GET api/v1/datasets": "viewer",
    "GET api/v1/datasets/<name>": "viewer",
    "GET api/v1/datasets/<name>/versions": "viewer",
    "GET api/v1/datasets/<name>/versions/<int:number>": "viewer",
    "GET api/v1/datasets/<name>/versions/<int:number>/stats": "viewer",
    "POST api/v1/datasets/<name>/files": "editor",
    "POST api/v1/datasets/<name>/versions/<int:number>/check": "editor",
    "GET api/v1/datasets/<name>/versions/<int:number>/report": "viewer",
    "POST api/v1/datasets/<name>/versions/<int:number>/approve": "editor",
    "POST api/v1/datasets/<name>/versions/<int:number>/reject": "editor",
    "POST api/v1/datasets/<name>/versions/<int:number>/revoke": "editor",
    "POST api/v1/datasets/<name>/export": "editor",
    "GET api/v1/quarantine": "viewer",
    "POST api/v1/quarantine/<entry_id>/retry": "editor",
    "GET api/v1/stats": "viewer",
    "POST api/v1/runs": "editor",
    "GET api/v1/runs": "viewer",
    "GET api/v1/runs/<int:run_id>": "viewer",
    "GET api/v1/runs/<int:run_id>/logs": "viewer",
    "POST api/v1/runs/<int:run_id>/cancel": "editor",
    "GET api/v1/ledger": "viewer",
    "GET api/v1/lineage/dataset/<name>/<int:number>": "viewer",
    "GET api/v1/lineage/model/<name>/<int:number>": "viewer",
    "GET api/v1/kb": "viewer",
    "POST api/v1/kb": "editor",
    "GET api/v1/kb/builds": "viewer",
    "GET api/v1/kb/search": "viewer",
    "GET api/v1/models/<name>/drift": "viewer",
    "POST api/v1/models/<name>/drift": "editor",
    "GET api/v1/tokens": "admin",
    "POST api/v1/tokens": "admin",
    "DELETE api/v1/tokens/<int:token_id>": "admin",
    "GET api/v1/pipelines": "viewer",
    "POST api/v1/pipelines/<name>/runs": "editor",
    "GET api/v1/models": "viewer",
    "GET api/v1/models/<name>": "viewer",
    "GET api/v1/models/<name>/versions/<int:number>": "viewer",
    "GET api/v1/models/<name>/versions/<int:number>/card": "viewer",
    "POST api/v1/models/<name>/versions/<int:number>/promote": "editor",
    "POST api/v1/models/<name>/versions/<int:number>/rollback": "editor",
    "POST api/v1/models/<name>/predict": "viewer",
    "GET api/v1/models/<name>/audit": "viewer",
    "GET api/v1/sources": "viewer",
    "POST api/v1/sources/<name>/run": "editor",
    "POST api/v1/streams/<dataset>/records": "editor",
    # The API's own description: public, like any OpenAPI document (it holds no data).
    "GET api/v1/openapi.json": PUBLIC,
    "GET api/v1/docs": PUBLIC,
    # --- the lean ASGI routes in front of Django (tokens, from memory) ---
    "LEAN POST /api/v1/models/{name}/predict": "viewer",
    "LEAN POST /api/v1/streams/{dataset}/records": "editor",
    # --- load balancers ---
    "GET healthz": PUBLIC,
    "GET metrics": "viewer",  # a token of any role (Prometheus scrapes with one), never a session
    # --- the dashboard (session logins) ---
    "GET login/": PUBLIC,
    "POST login/": PUBLIC,
    "POST logout/": PUBLIC,
    "GET ": "viewer",
    "GET datasets/": "viewer",
    "GET datasets/<str:name>/": "viewer",
    "GET datasets/<str:name>/diff/": "viewer",
    "POST upload/": "editor",
    "GET runs/": "viewer",
    "POST runs/selfcheck/": "editor",
    "GET runs/<int:run_id>/": "viewer",
    "GET runs/<int:run_id>/log/": "viewer",
    "POST runs/<int:run_id>/cancel/": "editor",
    "GET quarantine/": "viewer",
    "POST quarantine/<str:entry_id>/retry/": "editor",
    "GET models/": "viewer",
    "GET models/<str:name>/": "viewer",
    "GET models/<str:name>/versions/<int:number>/card/": "viewer",
    "POST models/<str:name>/versions/<int:number>/promote/": "editor",
    "POST models/<str:name>/versions/<int:number>/rollback/": "editor",
    "POST pipelines/<str:name>/run/": "editor",
    "GET quality/": "viewer",
    "GET quality/reports/<int:report_id>/": "viewer",
    "GET quality/reports/<int:report_id>/html/": "viewer",
    "POST datasets/<str:name>/versions/<int:number>/check/": "editor",
    "POST datasets/<str:name>/versions/<int:number>/approve/": "editor",
    "POST datasets/<str:name>/versions/<int:number>/reject/": "editor",
    "POST datasets/<str:name>/versions/<int:number>/revoke/": "editor",
    "GET ledger/": "viewer",
    "GET kb/": "viewer",
    "GET kb/<str:name>/": "viewer",
    "POST kb/build/": "editor",
    "GET models/<str:name>/drift/": "viewer",
    "GET tokens/": "admin",
    "POST tokens/": "admin",
    "POST tokens/<int:token_id>/revoke/": "admin",
    # --- Django's admin site: staff users (dashboard admins are staff), others to its login ---
    "GET admin/": "admin",
}

# Dashboard routes that also answer GET (their POST is a form on the same page).
_GET_AND_POST = {"login/", "tokens/"}


@dataclass(frozen=True)
class Route:
    kind: str  # "api", "lean", "page", "public", "admin"
    method: str
    route: str  # as declared
    need: str
    body: Any = None  # a minimal valid JSON body (Ninja validates it before the role check)

    @property
    def key(self) -> str:
        return f"LEAN {self.method} {self.route}" if self.kind == "lean" else f"{self.method} {self.route}"

    @property
    def url(self) -> str:
        """The route with values filled in (the role check comes before any lookup)."""
        path = re.sub(r"\{(?:(int):)?[^}]+\}", lambda m: "1" if m.group(1) else "x", self.route)
        path = re.sub(r"<(?:(int):)?[^>]+>", lambda m: "1" if m.group(1) else "x", path)
        return path if path.startswith("/") else f"/{path}"


def _walk(patterns: list[Any], prefix: str = "") -> Iterator[tuple[str, Any]]:
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            if str(pattern.pattern) == "admin/":  # one entry for the whole admin site
                yield "admin/", None
                continue
            yield from _walk(pattern.url_patterns, prefix + str(pattern.pattern))
        elif isinstance(pattern, URLPattern):
            yield prefix + str(pattern.pattern), pattern.callback


def _ninja_operations(callback: Any) -> list[Any] | None:
    """A Ninja path's operations (its view closes over the PathView), else None."""
    for cell in getattr(callback, "__closure__", None) or ():
        operations = getattr(cell.cell_contents, "operations", None)
        if operations is not None:
            return list(operations)
    return None


def _body(callback: Any, method: str) -> Any:
    for operation in _ninja_operations(callback) or ():
        if method in operation.methods:
            for model in operation.models:
                if getattr(model, "__ninja_param_source__", "") == "body":
                    schema = model.model_json_schema()
                    return _example(schema, schema.get("$defs", {})).get("payload", {})
    return None


def _methods(route: str, callback: Any) -> list[str]:
    operations = _ninja_operations(callback)
    if operations is not None:  # a Ninja path: its operations' methods
        return sorted({m for op in operations for m in op.methods})
    if route in _GET_AND_POST:
        return ["GET", "POST"]
    return ["POST"] if _is_post_only_page(route, callback) else ["GET"]


def _routes() -> list[Route]:
    found: list[Route] = []
    for route, callback in _walk(get_resolver().url_patterns):
        ninja = _ninja_operations(callback) is not None
        for method in _methods(route, callback):
            need = NEEDS.get(f"{method} {route}", "")
            # /metrics answers tokens like the API (Prometheus sends one), not sessions.
            kind = "api" if ninja or route == "metrics" else "admin" if route == "admin/" else "page"
            route_ = Route(PUBLIC if need == PUBLIC else kind, method, route, need, _body(callback, method))
            if route_.key not in {r.key for r in found}:  # Ninja answers "x" and "x/" alike
                found.append(route_)
    for starlette_route in build_app().routes:
        path = starlette_route.path.rstrip("/")
        for method in sorted(starlette_route.methods - {"HEAD"}):
            if not any(r.kind == "lean" and r.route == path and r.method == method for r in found):
                found.append(Route("lean", method, path, NEEDS.get(f"LEAN {method} {path}", "")))
    return sorted(found, key=lambda r: r.key)


def _is_post_only_page(route: str, callback: Any) -> bool:
    """Does the view refuse GET? (``require_POST``'s wrapper closes over ``["POST"]``.)"""
    if route == "logout/":  # Django's LogoutView: POST only since Django 5
        return True
    cells = [c.cell_contents for c in (getattr(callback, "__closure__", None) or ())]
    inner = [c for c in cells if callable(c)]
    while inner:
        function = inner.pop()
        for cell in getattr(function, "__closure__", None) or ():
            value = cell.cell_contents
            if value == ["POST"]:
                return True
            if callable(value):
                inner.append(value)
    return False


ROUTES = _routes()


def test_every_route_is_declared():
    """A route in the URL configuration (or the lean app) without a declared need fails here."""
    undeclared = [r.key for r in ROUTES if not r.need]
    assert not undeclared, f"declare these routes' needs in NEEDS: {undeclared}"
    stale = set(NEEDS) - {r.key for r in ROUTES}
    assert not stale, f"NEEDS names routes that no longer exist: {sorted(stale)}"
    assert len([r for r in ROUTES if r.kind == "api"]) >= 40
    assert len([r for r in ROUTES if r.kind == "page"]) >= 25


@pytest.fixture
def people(db: None, settings: Any) -> dict[str, Any]:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    users = {role: user_create(username=f"{role}-m", password=PASSWORD, role=role) for role in ROLES}
    tokens = {role: token_create(name=f"{role}-m", role=role).raw for role in ROLES}
    return {"users": users, "tokens": tokens}


def _allowed(who: str, need: str) -> bool:
    if need == "none":
        return False
    return need == PUBLIC or (who in ROLES and ROLE_RANK[who] >= ROLE_RANK[need])


def _api_send(client: Client, route: Route, headers: dict[str, str]) -> Any:
    if route.method == "GET":
        return client.get(route.url, headers=headers)
    body = json.dumps(route.body if route.body is not None else {})
    return client.generic(route.method, route.url, body, content_type="application/json", headers=headers)


API_ROUTES = [r for r in ROUTES if r.kind == "api"]


@pytest.mark.parametrize("route", API_ROUTES, ids=[r.key for r in API_ROUTES])
def test_api_route_x_caller(route, people):
    callers: dict[str, tuple[Client, dict[str, str]]] = {
        "anonymous": (Client(), {}),
        "bad token": (Client(), {"Authorization": "Bearer lg_000000000000_not-a-token"}),
        **{role: (Client(), {"Authorization": f"Bearer {people['tokens'][role]}"}) for role in ROLES},
    }
    session = Client()
    session.force_login(people["users"]["admin"])
    callers["admin's dashboard login, no token"] = (session, {})
    for who, (client, headers) in callers.items():
        FailureCount.objects.all().delete()  # bad tokens are throttled; test_throttle covers that
        response = _api_send(client, route, headers)
        if who in ROLES and _allowed(who, route.need):
            assert response.status_code not in {401, 403}, (who, response.content[:300])
            assert response.status_code < 500, (who, response.content[:300])
        elif who in ROLES:
            assert response.status_code == 403, (who, response.content[:300])
            assert response.json()["error"]["code"] == "forbidden"
        else:
            assert response.status_code == 401, (who, response.content[:300])
            assert response["WWW-Authenticate"] == "Bearer"


LEAN_ROUTES = [r for r in ROUTES if r.kind == "lean"]


@pytest.mark.parametrize("route", LEAN_ROUTES, ids=[r.key for r in LEAN_ROUTES])
def test_lean_route_x_caller(route, people, portal):  # noqa: F811
    app = build_app()
    callers = {
        "anonymous": {},
        "bad token": {"Authorization": "Bearer lg_000000000000_not-a-token"},
        **{role: {"Authorization": f"Bearer {people['tokens'][role]}"} for role in ROLES},
    }
    for who, headers in callers.items():
        FailureCount.objects.all().delete()
        response = send(portal, app, route.method, route.url, json=[{"a": 1}], headers=headers)
        if who in ROLES and _allowed(who, route.need):
            assert response.status_code not in {401, 403}, (who, response.text[:300])
            assert response.status_code < 500, (who, response.text[:300])
        elif who in ROLES:
            assert response.status_code == 403, (who, response.text[:300])
        else:
            assert response.status_code == 401, (who, response.text[:300])


PAGE_ROUTES = [r for r in ROUTES if r.kind in {"page", "public", "admin"}]


def _browser(who: str, people: dict[str, Any]) -> Client:
    client = Client(enforce_csrf_checks=True)
    if who in ROLES:
        client.force_login(people["users"][who])
    elif who == "bad token":
        client.defaults["HTTP_AUTHORIZATION"] = "Bearer lg_000000000000_not-a-token"
    return client


def _csrf(client: Client) -> str:
    """A CSRF cookie for ``client`` and the form token that matches it (as a page would set)."""
    request = RequestFactory().get("/")
    token = get_token(request)
    client.cookies[django_settings.CSRF_COOKIE_NAME] = request.META["CSRF_COOKIE"]
    return token


def _form(route: Route) -> dict[str, Any]:
    """What the form sends; an upload carries a file, so its CSRF check (after the body) is reached."""
    if route.route == "upload/":
        return {"file": SimpleUploadedFile("m.csv", b"id\n1\n"), "dataset": "matrix", "mode": "append"}
    return {}


def _is_login_redirect(response: Any, url: str) -> bool:
    location = response.get("Location", "")
    return (response.status_code == 302 and location.startswith("/login/?next=")) or (
        url.startswith("/admin/") and location.startswith("/admin/login/")
    )


@pytest.mark.parametrize("route", PAGE_ROUTES, ids=[r.key for r in PAGE_ROUTES])
def test_dashboard_route_x_caller(route, people, settings):
    settings.LAKEGATE.paths.uploads.mkdir(parents=True, exist_ok=True)
    for who in ("anonymous", "bad token", *ROLES):
        client = _browser(who, people)
        if route.method == "GET":
            response = client.get(route.url)
            _expect(route, who, response)
            continue
        token = _csrf(client)
        # Without the CSRF token, and with it but from another site: refused, whoever asks
        # (a view that checks the login first may send an anonymous caller to it instead).
        bare = client.post(route.url, _form(route))
        _refused(route, who, bare, "no CSRF token")
        foreign = client.post(
            route.url,
            {"csrfmiddlewaretoken": token, **_form(route)},
            headers={"Origin": "https://evil.example"},
        )
        _refused(route, who, foreign, "foreign Origin")
        client = _browser(who, people)  # a fresh login: logout must not end the next check early
        token = _csrf(client)
        response = client.post(route.url, {"csrfmiddlewaretoken": token, **_form(route)})
        _expect(route, who, response)


def _refused(route: Route, who: str, response: Any, how: str) -> None:
    if response.status_code == 403:
        return
    assert who not in ROLES, (who, how, response.status_code)
    assert _is_login_redirect(response, route.url), (who, how, response.status_code)


def _expect(route: Route, who: str, response: Any) -> None:
    status, body = response.status_code, response.content[:200]
    if route.need == "none":
        assert status == 404, (who, status, body)
    elif route.kind == "admin" and not _allowed(who, route.need):  # the admin site's own login
        assert _is_login_redirect(response, route.url), (who, status, body)
    elif route.need == PUBLIC:  # /healthz is 503 while something it probes is down
        assert status in {200, 302} or (route.route == "healthz" and status == 503), (who, status, body)
    elif who not in ROLES:
        assert _is_login_redirect(response, route.url), (who, status, body)
    elif not _allowed(who, route.need):
        assert status == 403, (who, status, body)
    else:
        assert status < 500, (who, status, body)
        assert status != 403, (who, status, body)
        assert not _is_login_redirect(response, route.url), (who, status, body)


def test_the_matrix_covers_every_route_and_caller():
    """The figures of the matrix (printed with ``pytest -s``)."""
    api = len(API_ROUTES) * 6
    lean = len(LEAN_ROUTES) * 5
    pages = sum(5 if r.method == "GET" else 15 for r in PAGE_ROUTES)
    print(f"\naccess matrix: {len(ROUTES)} routes; {api + lean + pages} route x caller cases")
    assert {r.kind for r in ROUTES} == {"api", "lean", "page", "public", "admin"}
