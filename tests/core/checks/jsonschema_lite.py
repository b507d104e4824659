"""A small JSON Schema validator for the report schema (``jsonschema`` is not a dependency).

Supports what pydantic emits for the report models: ``$ref``/``$defs``, ``type``,
``properties``, ``required``, ``additionalProperties``, ``propertyNames``, ``items``,
``enum``, ``const``, ``anyOf``, ``oneOf`` and ``format: date-time``; other keywords
(titles, defaults, descriptions, OpenAPI's ``discriminator``) are annotations.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

_TYPES = {
    "object": dict,
    "array": list,
    "string": str,
    "boolean": bool,
    "null": type(None),
}


def _is_type(value: Any, name: str) -> bool:
    if name == "integer":
        return isinstance(value, int) and not isinstance(value, bool)
    if name == "number":
        return isinstance(value, int | float) and not isinstance(value, bool)
    return isinstance(value, _TYPES[name])


def errors(value: Any, schema: dict[str, Any], root: dict[str, Any], path: str = "$") -> list[str]:
    """Every violation of ``schema`` by ``value`` (empty: valid)."""
    if "$ref" in schema:
        name = schema["$ref"].removeprefix("#/$defs/")
        return errors(value, root["$defs"][name], root, path)
    if "type" in schema:
        names = schema["type"] if isinstance(schema["type"], list) else [schema["type"]]
        if not any(_is_type(value, n) for n in names):
            return [f"{path}: {value!r} is not of type {schema['type']}"]
    found = _scalar(value, schema, path)
    for key in ("anyOf", "oneOf"):
        if key in schema:
            matches = sum(1 for option in schema[key] if not errors(value, option, root, path))
            if matches == 0 or (key == "oneOf" and matches > 1):
                found.append(f"{path}: {matches} of the {key} options match")
    if isinstance(value, dict):
        found += _object(value, schema, root, path)
    if isinstance(value, list) and "items" in schema:
        for i, item in enumerate(value):
            found += errors(item, schema["items"], root, f"{path}[{i}]")
    return found


def _scalar(value: Any, schema: dict[str, Any], path: str) -> list[str]:
    found = []
    if "const" in schema and value != schema["const"]:
        found.append(f"{path}: {value!r} != {schema['const']!r}")
    if "enum" in schema and value not in schema["enum"]:
        found.append(f"{path}: {value!r} not in {schema['enum']}")
    if schema.get("format") == "date-time" and isinstance(value, str):
        try:
            datetime.fromisoformat(value)
        except ValueError:
            found.append(f"{path}: {value!r} is not a date-time")
    return found


def _object(value: dict[str, Any], schema: dict[str, Any], root: dict[str, Any], path: str) -> list[str]:
    properties = schema.get("properties", {})
    extra = schema.get("additionalProperties")
    found = [f"{path}: missing {name!r}" for name in schema.get("required", []) if name not in value]
    for name, item in value.items():
        if name in properties:
            found += errors(item, properties[name], root, f"{path}.{name}")
        elif extra is False:
            found.append(f"{path}: unexpected {name!r}")
        elif isinstance(extra, dict):
            found += errors(item, extra, root, f"{path}.{name}")
        if "propertyNames" in schema:
            found += errors(name, schema["propertyNames"], root, f"{path}.<{name}>")
    return found
