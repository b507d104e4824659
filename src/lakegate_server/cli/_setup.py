"""Shared start of every server-backed command: Django set up, logging to the project's logs."""

from __future__ import annotations

from pathlib import Path

from lakegate.cli._common import setup_logging
from lakegate.config import Settings

__all__ = ["server_command"]


def server_command(
    component: str, *, verbose: bool, migrate: bool = True, project_dir: Path | None = None
) -> Settings:
    from lakegate_server._django import django_setup

    settings = django_setup(migrate=migrate, project_dir=project_dir)
    setup_logging(component, verbose=verbose, logs_dir=settings.paths.logs, level=settings.log_level)
    return settings
