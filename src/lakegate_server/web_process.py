"""One web process of ``lakegate up`` when ``web.processes`` is more than 1.

uvicorn's process manager starts each web process fresh (``spawn``) and imports
``application`` from here: the process sets up Django and its logging as ``lakegate up``
did, takes the request limits from ``web:``, logs its own start line, then serves the same
ASGI app as a single-process server. Token revocations reach every process at once (the
shared counter of :mod:`lakegate_server.accounts.revocation`); each process keeps its own
champion cache, refreshed from the registry once a second. A web process whose ``lakegate up``
is gone (killed) stops by itself.
"""

from __future__ import annotations

import os

from lakegate_server.cli._setup import server_command
from lakegate_server.jobs.worker import watch_parent
from lakegate_server.serving.server import configure_protocol
from lakegate_server.startup import process_start

__all__ = ["application"]

_config = server_command("web", verbose=bool(os.environ.get("LAKEGATE_WEB_VERBOSE")), migrate=False)
configure_protocol(_config.web)
process_start(_config, role="web")
watch_parent(os.getppid())  # `lakegate up` killed (SIGKILL): stop too, as its workers do

from lakegate_server.asgi import application  # noqa: E402 - after Django and logging are set up
