"""``/healthz``: database, queue, disk and storage status, no auth; 503 when one of them is down."""

from __future__ import annotations

import shutil
import time
from collections.abc import Callable
from typing import Any

from django.db import connection
from django.http import HttpRequest, JsonResponse
from django.views.decorators.http import require_GET

from lakegate import __version__
from lakegate.storage import open_storage
from lakegate_server.conf import project
from lakegate_server.jobs.queue import backend_name, huey

__all__ = ["healthz"]


def _database() -> dict[str, Any]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()
    return {"backend": connection.vendor}


def _queue() -> dict[str, Any]:
    return {"backend": backend_name(), "pending": huey.pending_count()}


def _disk() -> dict[str, Any]:
    usage = shutil.disk_usage(project().paths.state)
    minimum = project().web.min_free_disk_bytes
    if usage.free < minimum:
        raise OSError(f"only {usage.free} bytes free, below web.min_free_disk_bytes={minimum}")
    return {"free_bytes": usage.free, "total_bytes": usage.total}


def _storage() -> dict[str, Any]:
    """The shared storage answers a listing (cheap; the start check also writes and deletes)."""
    storage = open_storage(project())
    storage.list_objects(".lakegate-check")
    return {"backend": "s3" if storage.local_root is None else "local"}


def _probe(check: Callable[[], dict[str, Any]]) -> dict[str, Any]:
    started = time.perf_counter()
    try:
        detail = check()
    except Exception as exc:  # noqa: BLE001 - a health probe reports every failure, never raises
        return {"ok": False, "error": f"{type(exc).__name__}: {exc}"}
    return {"ok": True, "ms": round((time.perf_counter() - started) * 1000, 2), **detail}


@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    checks = {
        "database": _probe(_database),
        "queue": _probe(_queue),
        "disk": _probe(_disk),
        "storage": _probe(_storage),
    }
    ok = all(check["ok"] for check in checks.values())
    body = {"status": "ok" if ok else "down", "version": __version__, "checks": checks}
    return JsonResponse(body, status=200 if ok else 503)
