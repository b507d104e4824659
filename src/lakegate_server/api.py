"""The single NinjaAPI at /api/v1: token auth on every route, one error schema for all errors.

Every error body is ``{"error": {"code": str, "message": str, "detail": any}}``.
"""

from __future__ import annotations

import logging
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db import DataError
from django.http import Http404, HttpRequest, HttpResponse
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, AuthorizationError, HttpError, ValidationError

from lakegate import __version__
from lakegate.errors import LakegateError
from lakegate_server.accounts.api import router as tokens_router
from lakegate_server.accounts.auth import TokenAuth
from lakegate_server.api_errors import document_common_errors
from lakegate_server.datasets.api import quarantine_router, stats_router
from lakegate_server.datasets.api import router as datasets_router
from lakegate_server.exports.api import export_router
from lakegate_server.http_errors import error_body, error_headers, status_code
from lakegate_server.jobs.api import router as runs_router
from lakegate_server.knowledge.api import router as kb_router
from lakegate_server.ledger.api import router as ledger_router
from lakegate_server.lineage.api import router as lineage_router
from lakegate_server.quality.api import router as quality_router
from lakegate_server.sources.api import sources_router
from lakegate_server.streams.api import streams_router
from lakegate_server.training.api import models_router, pipelines_router

__all__ = ["api"]

log = logging.getLogger("lakegate.api")

api = NinjaAPI(
    title="lakegate API",
    version=__version__,
    description=(
        "Send `Authorization: Bearer <token>`; create one with `lakegate token create --role editor`."
    ),
    auth=TokenAuth(),
    urls_namespace="api-v1",
)

api.add_router("/datasets", datasets_router, tags=["datasets"])
api.add_router("/datasets", quality_router, tags=["quality"])
api.add_router("/quarantine", quarantine_router, tags=["datasets"])
api.add_router("/stats", stats_router, tags=["datasets"])
api.add_router("/runs", runs_router, tags=["runs"])
api.add_router("/ledger", ledger_router, tags=["ledger"])
api.add_router("/lineage", lineage_router, tags=["lineage"])
api.add_router("/kb", kb_router, tags=["knowledge"])
api.add_router("/tokens", tokens_router, tags=["tokens"])
api.add_router("/pipelines", pipelines_router, tags=["training"])
api.add_router("/models", models_router, tags=["training"])
api.add_router("/sources", sources_router, tags=["sources"])
api.add_router("/streams", streams_router, tags=["streams"])
api.add_router("/datasets", export_router, tags=["export"])
document_common_errors(api)


def _respond(request: HttpRequest, status: int, code: str, message: str, detail: Any = None) -> HttpResponse:
    return api.create_response(request, error_body(code, message, detail), status=status)


@api.exception_handler(LakegateError)
def _lakegate_error(request: HttpRequest, exc: LakegateError) -> HttpResponse:
    response = _respond(request, exc.http_status, exc.code, exc.message, exc.detail)
    for name, value in error_headers(exc).items():  # Retry-After on an outage (the lake is down)
        response[name] = value
    return response


@api.exception_handler(ValidationError)
def _validation_error(request: HttpRequest, exc: ValidationError) -> HttpResponse:
    problems = [
        {
            "field": ".".join(str(part) for part in err.get("loc", ())),
            "message": err.get("msg", ""),
            "type": err.get("type", ""),
        }
        for err in exc.errors
    ]
    summary = "; ".join(f"{p['field']}: {p['message']}" for p in problems) or "invalid request"
    return _respond(request, 422, "validation_error", summary, problems)


@api.exception_handler(AuthenticationError)
def _unauthenticated(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
    response = _respond(
        request,
        401,
        "unauthorized",
        "missing or invalid API token; send `Authorization: Bearer <token>` "
        "(create one with `lakegate token create`)",
    )
    response["WWW-Authenticate"] = "Bearer"
    return response


@api.exception_handler(AuthorizationError)
def _forbidden(request: HttpRequest, exc: AuthorizationError) -> HttpResponse:
    return _respond(request, 403, "forbidden", exc.message)


@api.exception_handler(PermissionDenied)
def _permission_denied(request: HttpRequest, exc: PermissionDenied) -> HttpResponse:
    return _respond(request, 403, "forbidden", str(exc) or "not allowed")


@api.exception_handler(Http404)
def _not_found(request: HttpRequest, exc: Http404) -> HttpResponse:
    return _respond(request, 404, "not_found", str(exc) or "not found")


@api.exception_handler(HttpError)
def _http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
    if exc.status_code == 400 and isinstance(exc.__cause__, ValueError):
        # Ninja wraps a body its parser rejects (bad JSON) in a bare 400; say what is wrong.
        return _respond(
            request, 422, "invalid_json", f"request body is not valid JSON: {exc.__cause__}", None
        )
    return _respond(request, exc.status_code, status_code(exc.status_code), str(exc))


@api.exception_handler(DataError)
def _unstorable(request: HttpRequest, exc: DataError) -> HttpResponse:
    # A value the database cannot hold or compare: PostgreSQL refuses a NUL character in text.
    log.warning("request value refused by the database", extra={"path": request.path, "error": str(exc)})
    return _respond(
        request,
        422,
        "invalid_input",
        "a value in the request cannot be stored or looked up (a NUL character, or out of range)",
    )


@api.exception_handler(Exception)
def _unexpected(request: HttpRequest, exc: Exception) -> HttpResponse:
    log.error("unhandled API error", extra={"path": request.path}, exc_info=exc)
    return _respond(request, 500, "internal_error", "internal server error; see the web log for details")
