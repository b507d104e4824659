"""The project's settings as the service's interfaces see them: one typed accessor.

Services never read Django's settings module: they take ``config: Settings`` as an
argument, and the interfaces pass it in. A job has it on its context (``ctx.settings``),
a CLI command from :func:`~lakegate_server.cli._setup.server_command`; an API endpoint,
dashboard view or the scheduler asks :func:`project` once, here. Tests override
``settings.LAKEGATE`` (pytest-django's ``settings`` fixture) and every interface sees it.
"""

from __future__ import annotations

from django.conf import settings

from lakegate.config import Settings

__all__ = ["project"]


def project() -> Settings:
    """This process's lakegate settings (loaded once by ``lakegate_server.settings``)."""
    return settings.LAKEGATE  # typed through django-stubs: settings.py declares it a Settings
