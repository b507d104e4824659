"""The ``lakegate`` command line (core commands; the server package adds its own).

``app`` is built on first use: the entry point imports this package to declare commands,
and ``lakegate --version`` answers without importing typer at all.
"""

from __future__ import annotations

import typing as _typing

if _typing.TYPE_CHECKING:
    from lakegate.cli._app import app

__all__ = ["app"]


def __getattr__(name: str) -> _typing.Any:
    if name == "app":
        from lakegate.cli._app import app

        globals()["app"] = app
        return app
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
