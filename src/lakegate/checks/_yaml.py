"""YAML with line numbers: validation errors name the field and the ``file:line`` it came from."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from pydantic import ValidationError

from lakegate.errors import ConfigError

__all__ = ["parse_yaml", "validate_with_lines"]

T = TypeVar("T")


def parse_yaml(text: str, filename: str) -> tuple[Any, Any]:
    """(data, node tree) of YAML ``text``; syntax errors -> ConfigError at ``file:line``."""
    import yaml

    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{filename}:{mark.line + 1}" if mark is not None else filename
        problem = getattr(exc, "problem", None) or str(exc)
        raise ConfigError(f"{where}: invalid YAML: {problem}") from exc
    return data, node


def validate_with_lines(
    validate: Callable[[Any], T],
    data: Any,
    *,
    what: str,
    filename: str | None = None,
    node: Any = None,
    tags: frozenset[str] = frozenset(),
) -> T:
    """``validate(data)``, turning a pydantic error into one ConfigError naming field and line.

    ``tags`` are discriminator values (check kinds) pydantic puts after a list index: skipped.
    """
    try:
        return validate(data)
    except ValidationError as exc:
        problems = []
        for error in exc.errors():
            raw = tuple(error["loc"])
            loc = tuple(
                p
                for i, p in enumerate(raw)
                if not _is_union_tag(p) and not (p in tags and i > 0 and isinstance(raw[i - 1], int))
            )
            field = ".".join(_part(p) for p in loc).replace(".[", "[") or "(top level)"
            message = str(error["msg"]).removeprefix("Value error, ")
            problems.append({"field": field, "line": _line_of(node, loc), "message": message})
        first = problems[0]
        where = filename or what
        if first["line"] is not None:
            where = f"{where}:{first['line']}"
        more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
        raise ConfigError(f"{where}: {first['field']}: {first['message']}{more}", detail=problems) from exc


def _part(part: Any) -> str:
    return f"[{part}]" if isinstance(part, int) else str(part)


def _is_union_tag(part: Any) -> bool:
    # pydantic names the union member it tried ("int", "str", "tuple[...]", a tagged kind) in loc
    return isinstance(part, str) and (part in {"int", "float", "str", "bool"} or "[" in part)


def _line_of(node: Any, loc: tuple[Any, ...]) -> int | None:
    """1-based line of the deepest YAML node along ``loc`` (None without YAML)."""
    if node is None:
        return None
    import yaml

    for part in loc:
        child = None
        if isinstance(node, yaml.MappingNode):
            for key, value in node.value:
                if key.value == str(part):
                    child = key if isinstance(value, yaml.ScalarNode) else value
                    break
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int) and part < len(node.value):
            child = node.value[part]
        if child is None:
            if isinstance(node, yaml.MappingNode) and not isinstance(part, int):
                continue  # a union tag or discriminator value pydantic put in the path
            break
        node = child
    return int(node.start_mark.line) + 1
