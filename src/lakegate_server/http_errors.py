"""The API's one error shape, built in one place for every HTTP surface.

Every error body is ``{"error": {"code": str, "message": str, "detail": any}}``: the Ninja API
(``lakegate_server.api``), the lean predict and stream routes (``lakegate_server.serving``) and
the ASGI guards in front of both (body limits, timeouts) build it here. This module imports
neither Django's URL stack nor Ninja, so the lean routes can use it and stay lean.
"""

from __future__ import annotations

from typing import Any, Final

import orjson

from lakegate.errors import LakegateError, Transient

__all__ = [
    "RETRY_AFTER_SECONDS",
    "STATUS_CODES",
    "error_body",
    "error_headers",
    "error_json",
    "status_code",
]

# Retry-After on a 503 for an outage: the S3 client gives up on a lake in ~10 s, so half a
# minute is a fair first wait.
RETRY_AFTER_SECONDS: Final = 30

STATUS_CODES: Final = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    408: "request_timeout",
    409: "conflict",
    413: "payload_too_large",
    422: "validation_error",
    429: "throttled",
    431: "headers_too_large",
    500: "internal_error",
}


def status_code(status: int) -> str:
    """The error code used for a bare HTTP status (no domain error behind it)."""
    return STATUS_CODES.get(status, "error")


def error_body(code: str, message: str, detail: Any = None) -> dict[str, Any]:
    return {"error": {"code": code, "message": message, "detail": detail}}


def error_json(code: str, message: str, detail: Any = None) -> bytes:
    return orjson.dumps(error_body(code, message, detail))


def error_headers(exc: LakegateError) -> dict[str, str]:
    """Headers a domain error adds to its response: when to come back, for an outage (503) or
    an error that knows (``retry_after``, e.g. a throttled login: 429)."""
    retry_after = getattr(exc, "retry_after", None)
    if isinstance(retry_after, int):
        return {"Retry-After": str(retry_after)}
    if isinstance(exc, Transient) and exc.http_status == 503:
        return {"Retry-After": str(RETRY_AFTER_SECONDS)}
    return {}
