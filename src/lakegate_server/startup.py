"""What every long-running process (web, worker, scheduler) does first: prove its backends
answer, then say in one log line what it is and what it talks to.

A wrong credential or an unreachable store is one clear error at start naming the setting
(``storage``, ``lake``), not a failure at the first job an hour later.
"""

from __future__ import annotations

import logging
import os
import socket
from urllib.parse import urlsplit, urlunsplit

from lakegate import __version__
from lakegate.config import Settings
from lakegate.storage import open_storage

__all__ = ["process_start", "scrub_url"]

log = logging.getLogger("lakegate.start")


def scrub_url(url: str | None) -> str | None:
    """``url`` without the password of its user part (``postgresql://u:***@h/db``)."""
    if not url:
        return url
    parts = urlsplit(url)
    if parts.password is None:
        return url
    host = parts.netloc.rpartition("@")[2]
    user = parts.username or ""
    return urlunsplit((parts.scheme, f"{user}:***@{host}", parts.path, parts.query, parts.fragment))


def process_start(config: Settings, *, role: str) -> dict[str, object]:
    """Check the shared storage (``ConfigError`` / ``StorageUnavailableError``), log the start line."""
    from django.db import connection

    from lakegate_server.jobs.queue import backend_name

    storage = open_storage(config)
    storage.check()
    line: dict[str, object] = {
        "role": role,
        "version": __version__,
        "host": socket.gethostname(),
        "pid": os.getpid(),
        "database": connection.vendor,
        "database_url": scrub_url(config.database_url) or str(config.paths.database),
        "queue": backend_name(),
        "queue_url": scrub_url(config.redis_url),
        "storage": storage.describe(),
        "lake": config.lake or str(config.paths.lake),
    }
    # Where this process's Prometheus counters go (None: kept to itself, see lakegate_server.metrics).
    line["metrics_dir"] = os.environ.get("PROMETHEUS_MULTIPROC_DIR") or None
    if role.startswith("web"):
        line["web_processes"] = config.web.processes
        line["access_log"] = config.web.access_log
    log.info("process started", extra=line)
    return line
