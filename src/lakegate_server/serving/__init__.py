"""Online predictions and stream pushes: a Starlette app mounted in front of Django on one port.

``lakegate_server.asgi`` sends ``POST /api/v1/models/{name}/predict`` and
``POST /api/v1/streams/{dataset}/records`` here and everything else to Django. Tokens and
champions are cached in memory (see :mod:`.cache`: a revoked token is refused at once, a
promotion is served within about a second).

``build_app`` and ``mount`` are imported on first use: importing :mod:`.app` pins model
threads for the process, and the Django side imports :mod:`.predict` without wanting that.
"""

from __future__ import annotations

from typing import Any

__all__ = ["PREDICT_PATH", "build_app", "mount"]


def __getattr__(name: str) -> Any:
    if name in __all__:
        from lakegate_server.serving import app

        return getattr(app, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
