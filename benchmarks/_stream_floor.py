"""The floor for ``benchmarks/stream.py``: the least a durable HTTP append can do.

A bare Starlette endpoint that parses the JSON body (orjson), appends the raw bytes to one
file and fsyncs before answering 202: no auth, no validation of each record, no segments,
no lake. Same server options as lakegate's web process.

    FLOOR_FILE=/tmp/floor.ndjson uvicorn _stream_floor:app --app-dir benchmarks
"""

from __future__ import annotations

import os
import threading
from pathlib import Path

import orjson
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

_file = Path(os.environ["FLOOR_FILE"]).open("ab")  # noqa: SIM115 - kept open for the process
_lock = threading.Lock()


def _append(body: bytes) -> None:
    with _lock:
        _file.write(body)
        _file.write(b"\n")
        _file.flush()
        os.fsync(_file.fileno())


async def records(request: Request) -> Response:
    body = await request.body()
    count = len(orjson.loads(body))
    await run_in_threadpool(_append, body)
    return Response(orjson.dumps({"accepted": count}), status_code=202, media_type="application/json")


app = Starlette(routes=[Route("/api/v1/streams/{dataset}/records", records, methods=["POST"])])
