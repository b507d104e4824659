"""``POST /streams/{dataset}/records``: a JSON array or NDJSON body, answered 202 once the
records are on disk (they become a dataset version at the next flush).

The lean route in front of Django (:mod:`lakegate_server.serving`) answers this path in
production; this Ninja route documents it in the OpenAPI schema and serves it when the
Django app is mounted alone (tests, ``runserver``).
"""

from __future__ import annotations

from django.http import HttpRequest
from ninja import Router, Status

from lakegate.errors import PayloadTooLargeError
from lakegate_server.accounts.auth import authorize
from lakegate_server.accounts.models import Role
from lakegate_server.api_errors import errors
from lakegate_server.conf import project
from lakegate_server.datasets.schemas import DatasetName
from lakegate_server.streams.schemas import StreamAcceptedOut
from lakegate_server.streams.wal import stream_append

__all__ = ["streams_router"]

streams_router = Router()

_RECORDS_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {"schema": {"type": "array", "items": {"type": "object"}, "minItems": 1}},
            "application/x-ndjson": {
                "schema": {"type": "string", "description": "One JSON object per line."}
            },
        },
    }
}


@streams_router.post(
    "/{dataset}/records",
    response={202: StreamAcceptedOut, **errors(413)},
    summary="Append records (JSON array or NDJSON) to a stream dataset",
    openapi_extra=_RECORDS_BODY,
)
def streams_records(request: HttpRequest, dataset: DatasetName) -> Status[StreamAcceptedOut]:
    authorize(request, Role.EDITOR)
    limit = project().streams.max_body_bytes
    body = request.read(limit + 1)  # the stream, not request.body: no 2.5 MB form-data cap, no copy
    if len(body) > limit:
        raise PayloadTooLargeError(
            f"the body is over streams.max_body_bytes ({limit} bytes)", detail={"limit": limit}
        )
    accepted = stream_append(dataset=dataset, body=body, content_type=request.content_type)
    return Status(202, StreamAcceptedOut(dataset=dataset, accepted=accepted))
