"""The declared shapes of the server's JSON fields, and a check of stored rows against them.

Each app lists its JSON fields in ``<app>/shapes.py`` (``JSON_FIELDS``: ``"app.Model.field"``
-> the type a stored value must validate as, or a ``"module:attr"`` path to it).
"""

from __future__ import annotations

import importlib
import json
from typing import Any

from django.apps import apps
from django.db import models
from pydantic import TypeAdapter

from lakegate._resolve import resolve

__all__ = ["declared_shapes", "json_fields", "misfits", "shape_adapter", "stored_misfits"]


def declared_shapes() -> dict[str, Any]:
    """Every ``JSON_FIELDS`` entry of every lakegate_server app that has a shapes module."""
    shapes: dict[str, Any] = {}
    for app in apps.get_app_configs():
        if not app.name.startswith("lakegate_server."):
            continue
        try:
            module = importlib.import_module(f"{app.name}.shapes")
        except ModuleNotFoundError as exc:
            if exc.name != f"{app.name}.shapes":
                raise
            continue
        shapes.update(module.JSON_FIELDS)
    return shapes


def json_fields() -> dict[str, tuple[type[models.Model], models.JSONField[Any, Any]]]:
    """``"app.Model.field"`` -> (model, field) for every JSON field of the server's models."""
    found: dict[str, tuple[type[models.Model], models.JSONField[Any, Any]]] = {}
    for model in apps.get_models():
        if not model.__module__.startswith("lakegate_server."):
            continue
        for field in model._meta.get_fields():
            if isinstance(field, models.JSONField):
                found[f"{model._meta.app_label}.{model.__name__}.{field.name}"] = (model, field)
    return found


def shape_adapter(shape: Any) -> TypeAdapter[Any]:
    return TypeAdapter(resolve(shape) if isinstance(shape, str) else shape)


def misfits(value: Any, shape: Any) -> str | None:
    """Why ``value`` (as stored: through JSON) does not fit ``shape``, or None when it does."""
    try:
        shape_adapter(shape).validate_json(json.dumps(value), strict=True)
    except ValueError as exc:
        return str(exc)
    return None


def stored_misfits() -> tuple[int, list[str]]:
    """(values checked, one line per stored value that does not fit its declared shape)."""
    shapes = declared_shapes()
    checked, problems = 0, []
    for key, (model, field) in json_fields().items():
        for pk, value in model._base_manager.values_list("pk", field.name):
            checked += 1
            if (why := misfits(value, shapes[key])) is not None:
                problems.append(f"{key} of row {pk}: {why}")
    return checked, problems
