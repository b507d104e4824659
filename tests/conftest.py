"""Test session set-up: every pytest process gets its own project folder and queue name.

``make test`` runs the suite twice: on the embedded defaults (SQLite + SQLite queue),
and with ``LAKEGATE_DATABASE_URL`` / ``LAKEGATE_REDIS_URL`` pointing at the real local
PostgreSQL and Redis servers.

This runs at import, before any test module or nested conftest imports Django models:
settings are read once per process, so the project folder must exist first.
"""

from __future__ import annotations

import atexit
import os
import re
import shutil
import tempfile
import uuid
from pathlib import Path

import django

from lakegate import init_project

pytest_plugins = ["tests.support.fixtures"]

_WORKER = os.environ.get("PYTEST_XDIST_WORKER", "main")
PROJECT_DIR = Path(tempfile.mkdtemp(prefix=f"lakegate-test-{_WORKER}-"))
init_project(PROJECT_DIR)
atexit.register(shutil.rmtree, PROJECT_DIR, ignore_errors=True)
# Tests that retry a run drain the queue in-process right away: retry transient failures at
# once, as before back-off existed. The back-off has its own tests (tests/server/jobs/test_retry_backoff.py).
_config = PROJECT_DIR / "lakegate.yaml"
_text, _found = re.subn(r"(?m)^  retry_delay_seconds: .*$", "  retry_delay_seconds: 0", _config.read_text())
assert _found == 1, "the lakegate init template lost runs.retry_delay_seconds"
_config.write_text(_text)

os.environ["LAKEGATE_PROJECT_DIR"] = str(PROJECT_DIR)
os.environ["LAKEGATE_QUEUE_NAME"] = f"test-{uuid.uuid4().hex[:8]}-{_WORKER}"
os.environ["DJANGO_SETTINGS_MODULE"] = "lakegate_server.settings"
django.setup()
# Settings are loaded now. Drop the variable so pytest-xdist workers started from this
# process do not inherit it: pytest-django would set Django up in them from it before
# their own conftest gives them their own project folder and queue.
del os.environ["DJANGO_SETTINGS_MODULE"]
