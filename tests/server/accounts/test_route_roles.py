"""Every Ninja route, by construction: 401 without a token, 403 with the role just below its need.

The routes are read from the API object itself and each endpoint's role from the
``authorize(request, Role.X)`` call it must start with, so a new route is covered the day it
is added, and a route that forgets its role check fails here.
"""

from __future__ import annotations

import ast
import inspect
import re
import textwrap
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from lakegate_server.accounts.models import Role
from lakegate_server.api import api

pytestmark = pytest.mark.django_db

BELOW = {Role.VIEWER: None, Role.EDITOR: "viewer", Role.ADMIN: "editor"}


@dataclass(frozen=True)
class Route:
    method: str
    path: str
    view: Any
    body_model: Any

    @property
    def id(self) -> str:
        return f"{self.method} {self.path}"


def _routes() -> Iterator[Route]:
    for prefix, router in api._routers:
        for path, view in router.path_operations.items():
            for operation in view.operations:
                body = next(
                    (m for m in operation.models if getattr(m, "__ninja_param_source__", "") == "body"), None
                )
                for method in operation.methods:
                    yield Route(method, f"/api/v1{prefix}{path}", operation.view_func, body)


ROUTES = sorted(_routes(), key=lambda r: r.id)


def _needed_role(view: Any) -> Role:
    """The role of the ``authorize(request, Role.X)`` call that must open the endpoint."""
    tree = ast.parse(textwrap.dedent(inspect.getsource(view)))
    function = tree.body[0]
    assert isinstance(function, ast.FunctionDef)
    first = function.body[0]
    if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant):  # a docstring
        first = function.body[1]
    call = first.value if isinstance(first, ast.Assign | ast.Expr) else None
    assert isinstance(call, ast.Call), f"{view.__name__} must start with authorize(request, Role.X)"
    assert isinstance(call.func, ast.Name), f"{view.__name__} must start with authorize(request, Role.X)"
    assert call.func.id == "authorize", f"{view.__name__} must start with authorize(request, Role.X)"
    role = call.args[1]
    assert isinstance(role, ast.Attribute), f"{view.__name__}: the role must be a Role member"
    return Role[role.attr]


def _url(path: str) -> str:
    """Fill path parameters with values that route (the role check comes before any lookup)."""
    return re.sub(r"\{(?:(int):)?[^}]+\}", lambda m: "1" if m.group(1) else "x", path)


def _example(schema: dict[str, Any], defs: dict[str, Any]) -> Any:
    """A minimal instance of a JSON schema: the required properties with plain values."""
    if "$ref" in schema:
        return _example(defs[schema["$ref"].rsplit("/", 1)[1]], defs)
    if "anyOf" in schema:
        return _example(schema["anyOf"][0], defs)
    if schema.get("examples"):
        return schema["examples"][0]
    kind = schema.get("type")
    if kind == "object":
        return {key: _example(schema["properties"][key], defs) for key in schema.get("required", [])}
    return {"string": "reason", "integer": 1, "number": 1.0, "boolean": False, "array": []}.get(kind)


def _body(route: Route) -> Any:
    if route.body_model is None:
        return None
    schema = route.body_model.model_json_schema()
    return _example(schema, schema.get("$defs", {})).get("payload", {})


def _send(client: Any, route: Route) -> Any:
    url, body = _url(route.path), _body(route)
    if route.method == "GET":
        return client.client.get(url, headers=client.headers)
    if route.method == "DELETE":
        return client.client.delete(url, headers=client.headers)
    send = getattr(client.client, route.method.lower())
    return send(
        url, body if body is not None else {}, content_type="application/json", headers=client.headers
    )


def test_every_route_is_listed_and_opens_with_its_role_check():
    assert len(ROUTES) >= 30
    ids = {r.id for r in ROUTES}
    assert {"POST /api/v1/datasets/{name}/files", "DELETE /api/v1/tokens/{int:token_id}"} <= ids
    needs = {route.id: _needed_role(route.view) for route in ROUTES}
    assert needs["POST /api/v1/tokens"] == Role.ADMIN
    assert needs["GET /api/v1/runs"] == Role.VIEWER


GUARDED = [r for r in ROUTES if BELOW[_needed_role(r.view)] is not None]


@pytest.mark.parametrize("route", ROUTES, ids=[r.id for r in ROUTES])
def test_a_route_without_a_token_is_401(api, route):
    response = _send(api(None), route)
    assert response.status_code == 401, response.content
    assert response.json()["error"]["code"] == "unauthorized"


@pytest.mark.parametrize("route", GUARDED, ids=[r.id for r in GUARDED])
def test_a_route_refuses_the_role_just_below_its_need(api, route):
    """Editor routes refuse a viewer, admin routes an editor (a viewer route's "below" is no
    token at all: the 401 test)."""
    needed = _needed_role(route.view)
    response = _send(api(BELOW[needed]), route)
    assert response.status_code == 403, (needed, response.content)
    assert response.json()["error"]["code"] == "forbidden"
    assert needed.value in response.json()["error"]["message"]
