"""ASGI entry point (``lakegate up`` serves it with uvicorn, uvloop and httptools).

``POST /api/v1/models/{name}/predict`` goes to the lean Starlette app of
``lakegate_server.serving``; every other request goes to Django.
"""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "lakegate_server.settings")

django_application = get_asgi_application()

# Imported once Django is set up: the serving app reads tokens and models through the ORM.
from lakegate_server.serving import mount  # noqa: E402

application = mount(django_application)
