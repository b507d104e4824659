"""Online predictions: a Starlette app mounted in front of Django on the same port.

``lakegate_server.asgi`` sends ``POST /api/v1/models/{name}/predict`` here and everything
else to Django. Tokens and champions are cached in memory (see :mod:`.cache` for how long a
revoked token may keep working and how fast a promotion is picked up).
"""

from lakegate_server.serving.app import PREDICT_PATH, build_app, mount

__all__ = ["PREDICT_PATH", "build_app", "mount"]
