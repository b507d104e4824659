"""The lazy registry of feature steps: kind -> dotted path of its implementation.

Configs (``_configs``) are light and always imported; an implementation module is
imported the first time a step of its kind runs.
"""

from __future__ import annotations

from typing import Any, Final

from pydantic import BaseModel

from lakegate._resolve import resolve
from lakegate.features._base import StepImpl

__all__ = ["STEPS", "step_impl"]

STEPS: Final[dict[str, str]] = {
    "select": "lakegate.features.columns:Select",
    "drop": "lakegate.features.columns:Drop",
    "rename": "lakegate.features.columns:Rename",
    "cast": "lakegate.features.columns:Cast",
    "fill_nulls": "lakegate.features.fill:FillNulls",
    "scale": "lakegate.features.fill:Scale",
    "one_hot": "lakegate.features.encode:OneHot",
    "ordinal": "lakegate.features.encode:Ordinal",
    "date_parts": "lakegate.features.dates:DateParts",
    "tfidf": "lakegate.features.text:Tfidf",
    "aggregate": "lakegate.features.aggregate:Aggregate",
    "join": "lakegate.features.join:Join",
    "custom": "lakegate.features.custom:Custom",
}

_classes: dict[str, type[StepImpl[Any]]] = {}


def step_impl(config: BaseModel) -> StepImpl[Any]:
    """The implementation object for a validated step config."""
    kind: str = getattr(config, "kind")  # noqa: B009 - every step config has a literal kind
    cls = _classes.get(kind)
    if cls is None:
        cls = resolve(STEPS[kind])
        _classes[kind] = cls
    return cls(config)
