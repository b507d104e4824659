"""The ``lakegate`` command line (core commands; the server package adds its own)."""

from lakegate.cli._app import app

__all__ = ["app"]
