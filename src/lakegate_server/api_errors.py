"""The API's error responses, as OpenAPI documents them.

Every error body is ``{"error": {"code": str, "message": str, "detail": any}}``
(:mod:`lakegate_server.http_errors` builds it). Each endpoint names in its ``response={...}``
the error statuses that come from what it does (``**errors(404, 409)``); the statuses every
route can answer whatever it does are added to all of them by :func:`document_common_errors`:

- 401: no token, or not a valid one;
- 403: the token's role is below the route's need;
- 422: the path, query or body does not validate (``detail`` lists each field);
- 429: too many bad tokens from this address (``Retry-After``);
- 503: the lake or the database is unreachable for now (``Retry-After``).

``tests/server/test_api_fuzz.py`` (schemathesis) fails on any status a route answers that its
schema does not list.
"""

from __future__ import annotations

from typing import Annotated, Any, Final

from ninja import NinjaAPI, Path, Schema

__all__ = ["COMMON_ERRORS", "ErrorOut", "PositiveInt", "document_common_errors", "errors"]


class ErrorBody(Schema):
    code: str
    message: str
    detail: Any = None


class ErrorOut(Schema):
    """``{"error": {"code", "message", "detail"}}``: what every error answer holds."""

    error: ErrorBody


COMMON_ERRORS: Final = (401, 403, 422, 429, 503)


def errors(*codes: int) -> dict[int, type[ErrorOut]]:
    """``response={200: ItemOut, **errors(404)}``: the statuses this endpoint's work can answer."""
    return dict.fromkeys(codes, ErrorOut)


def document_common_errors(api: NinjaAPI) -> None:
    """Add :data:`COMMON_ERRORS` to every operation's responses (what OpenAPI shows)."""
    for _prefix, router in api._routers:
        for path_view in router.path_operations.values():
            for operation in path_view.operations:
                for code in COMMON_ERRORS:
                    if code not in operation.response_models:
                        operation.response_models[code] = operation._create_response_model(ErrorOut)


# Path parameters as OpenAPI states them: what the route accepts, so a request the schema
# calls valid is one the route does not refuse as malformed (an unknown name is a 404).
PositiveInt = Annotated[int, Path(ge=1, le=2**63 - 1)]
