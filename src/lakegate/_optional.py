"""One guard for optional extras: ``require("pdf", "pdfplumber")``."""

from __future__ import annotations

import importlib
from types import ModuleType

from lakegate.errors import MissingExtraError

__all__ = ["require"]


def require(module: str, *, extra: str, feature: str, package: str | None = None) -> ModuleType:
    """Import ``module`` or raise one clear :class:`MissingExtraError` naming the pip line."""
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        raise MissingExtraError(feature, extra=extra, package=package or module) from exc
