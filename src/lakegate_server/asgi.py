"""ASGI entry point (``lakegate up`` serves it with uvicorn, uvloop and httptools)."""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "lakegate_server.settings")

application = get_asgi_application()
