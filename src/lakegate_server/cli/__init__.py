"""The full ``lakegate`` command: the core commands plus the service's (up, worker, runs, token)."""

from __future__ import annotations

import importlib

from lakegate.cli import app

__all__ = ["app", "main"]

SERVER_COMMAND_MODULES = (
    "lakegate_server.cli.datasets",
    "lakegate_server.cli.knowledge",
    "lakegate_server.cli.quality",
    "lakegate_server.cli.runs",
    "lakegate_server.cli.service",
    "lakegate_server.cli.sources",
    "lakegate_server.cli.tokens",
    "lakegate_server.cli.training",
)

for _module in SERVER_COMMAND_MODULES:
    importlib.import_module(_module).register(app)


def main() -> None:
    app()
