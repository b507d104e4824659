"""``resolve("package.module:attribute")``: the one way lakegate turns a dotted path into an object.

Every lazy registry (readers, checks, steps, trainers, notifiers, sources, run kinds) names
its built-ins as dotted paths so nothing heavy is imported until it is used; user code
(custom feature steps, bring-your-own trainers) is named the same way in lakegate.yaml.
"""

from __future__ import annotations

import importlib
from typing import Any

__all__ = ["resolve"]


def resolve(dotted: str) -> Any:
    """The object at ``package.module:attribute`` (``package.module.Attribute`` works too).

    Raises ``ImportError`` when the module cannot be imported and ``AttributeError`` when it
    has no such attribute: callers that take the path from a user translate these into a
    ``ConfigError`` naming the setting.
    """
    if ":" in dotted:
        module_name, _, attribute = dotted.partition(":")
    else:
        module_name, _, attribute = dotted.rpartition(".")
    if not module_name or not attribute:
        raise ImportError(f"{dotted!r} is not a dotted path (use package.module:attribute)")
    module = importlib.import_module(module_name)
    try:
        return getattr(module, attribute)
    except AttributeError:
        raise AttributeError(f"module {module_name!r} has no attribute {attribute!r}") from None
