"""Read the ``pipelines:`` section of ``lakegate.yaml`` with its per-environment overlay.

    pipelines:
      churn: {...}                          # the base definition
    environments:
      prod:
        pipelines:
          churn: {model: {params: {n_estimators: 500}}}   # deep-merged over the base in prod

Mappings merge key by key; lists and scalars in the overlay replace the base value.
Errors are one ``ConfigError`` naming file, line, pipeline and field, with every problem
in ``detail`` as ``{"pipeline", "field", "line", "message"}``.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any, Final

import yaml
from pydantic import ValidationError

from lakegate.errors import ConfigError, NotFoundError
from lakegate.notify import NotifierConfig, parse_notifiers
from lakegate.pipelines._spec import PipelineSpec

__all__ = [
    "ENVIRONMENTS",
    "deep_merge",
    "load_notifiers",
    "load_pipeline",
    "load_pipelines",
    "resolve_environment",
]

ENVIRONMENTS: Final[tuple[str, ...]] = ("dev", "preprod", "prod")
# Sections an environment overlay may change (other top-level settings have env vars).
_OVERLAID: Final = ("pipelines", "notifiers")


def deep_merge(base: Mapping[str, Any], overlay: Mapping[str, Any]) -> dict[str, Any]:
    """``overlay`` over ``base``: mappings merge recursively, anything else replaces."""
    merged = dict(base)
    for key, value in overlay.items():
        current = merged.get(key)
        if isinstance(current, Mapping) and isinstance(value, Mapping):
            merged[key] = deep_merge(current, value)
        else:
            merged[key] = value
    return merged


def _check_env(env: str) -> None:
    if env not in ENVIRONMENTS:
        raise ConfigError(f"unknown environment {env!r} (one of: {', '.join(ENVIRONMENTS)})")


def resolve_environment(document: Mapping[str, Any], env: str) -> dict[str, Any]:
    """The document with ``environments.<env>`` merged into its ``pipelines``/``notifiers``."""
    _check_env(env)
    environments = document.get("environments") or {}
    if not isinstance(environments, Mapping):
        raise ConfigError("environments: must be a mapping of dev/preprod/prod overlays")
    unknown = sorted(set(environments) - set(ENVIRONMENTS))
    if unknown:
        raise ConfigError(f"environments: unknown {', '.join(unknown)} (one of: {', '.join(ENVIRONMENTS)})")
    overlay = environments.get(env) or {}
    if not isinstance(overlay, Mapping):
        raise ConfigError(f"environments.{env}: must be a mapping")
    resolved = dict(document)
    for section in _OVERLAID:
        if section in overlay:
            resolved[section] = deep_merge(document.get(section) or {}, overlay[section] or {})
    return resolved


def _parse(source: str | Path | Mapping[str, Any], filename: str | None) -> tuple[dict[str, Any], Any, str]:
    """(document, YAML node tree or None, name used in messages)."""
    if isinstance(source, Mapping):
        return dict(source), None, filename or "lakegate.yaml"
    if isinstance(source, Path):
        filename = filename or str(source)
        try:
            source = source.read_text(encoding="utf-8")
        except OSError as exc:
            raise ConfigError(f"{filename}: cannot read: {exc.strerror}") from exc
    name = filename or "lakegate.yaml"
    try:
        document = yaml.safe_load(source)
        nodes = yaml.compose(source, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark
        where = f"{name}:{mark.line + 1}:{mark.column + 1}" if mark else name
        raise ConfigError(f"{where}: invalid YAML: {exc.problem}") from exc
    if document is None:
        return {}, None, name
    if not isinstance(document, dict):
        raise ConfigError(f"{name}: the top level must be a mapping")
    return document, nodes, name


def _line(root: Any, path: tuple[Any, ...]) -> int | None:
    """1-based line of the deepest node along ``path`` (segments not in the YAML are skipped)."""
    node, line = root, None
    for segment in path:
        child = None
        mark = None
        if isinstance(node, yaml.MappingNode):
            pair = next(((k, v) for k, v in node.value if k.value == str(segment)), None)
            if pair is not None:
                child, mark = pair[1], pair[0].start_mark  # the key's line: where the field is written
        elif isinstance(node, yaml.SequenceNode) and isinstance(segment, int) and segment < len(node.value):
            child = node.value[segment]
            mark = child.start_mark
        if child is None or mark is None:
            continue  # e.g. the step kind pydantic adds to a long-form step's location
        node, line = child, mark.line + 1
    return line


def load_pipelines(
    source: str | Path | Mapping[str, Any], *, env: str = "dev", filename: str | None = None
) -> dict[str, PipelineSpec]:
    """Every pipeline of a ``lakegate.yaml`` (text, path or parsed mapping) for ``env``."""
    document, nodes, name = _parse(source, filename)
    resolved = resolve_environment(document, env)
    section = resolved.get("pipelines") or {}
    if not isinstance(section, Mapping):
        raise ConfigError(f"{name}: pipelines: must be a mapping of name -> pipeline")
    notifiers = resolved.get("notifiers")
    specs: dict[str, PipelineSpec] = {}
    problems: list[dict[str, Any]] = []
    for pipeline, body in section.items():
        data = {**body, "name": str(pipeline)} if isinstance(body, Mapping) else body  # the key names it
        try:
            spec = PipelineSpec.model_validate(data)
        except ValidationError as exc:
            for error in exc.errors():
                loc = tuple(error["loc"])
                overlay = _line(nodes, ("environments", env, "pipelines", pipeline, *loc)) if nodes else None
                base = _line(nodes, ("pipelines", pipeline, *loc)) if nodes else None
                in_overlay = overlay is not None and _defined_in_overlay(document, env, pipeline, loc)
                problems.append(
                    {
                        "pipeline": str(pipeline),
                        "field": ".".join(str(p) for p in loc) or "(pipeline)",
                        "line": overlay if in_overlay else base,
                        "message": error["msg"].removeprefix("Value error, "),
                    }
                )
            continue
        if isinstance(notifiers, Mapping):
            line = _line(nodes, ("pipelines", pipeline, "notifications")) if nodes else None
            problems.extend(
                {
                    "pipeline": spec.name,
                    "field": "notifications",
                    "line": line,
                    "message": f"no notifier named {channel!r} in notifiers:",
                }
                for channel in spec.notifications
                if channel not in notifiers
            )
        specs[spec.name] = spec
    if problems:
        lines = [f"{name}:{p['line']}: " if p["line"] else f"{name}: " for p in problems]
        text = "\n  ".join(
            f"{where}pipeline {p['pipeline']!r}: {p['field']}: {p['message']}"
            for where, p in zip(lines, problems, strict=True)
        )
        raise ConfigError(f"invalid pipelines in {name}:\n  {text}", detail=problems)
    return specs


def _defined_in_overlay(document: Mapping[str, Any], env: str, pipeline: Any, loc: tuple[Any, ...]) -> bool:
    """Whether the overlay itself sets the first part of ``loc`` (then its line is the one to show)."""
    overlay = ((document.get("environments") or {}).get(env) or {}).get("pipelines") or {}
    body = overlay.get(pipeline)
    return isinstance(body, Mapping) and bool(loc) and loc[0] in body


def load_pipeline(
    source: str | Path | Mapping[str, Any], name: str, *, env: str = "dev", filename: str | None = None
) -> PipelineSpec:
    """One pipeline by name (``NotFoundError`` lists the ones defined)."""
    specs = load_pipelines(source, env=env, filename=filename)
    if name not in specs:
        raise NotFoundError(
            f"no pipeline {name!r} (defined: {', '.join(sorted(specs)) or 'none'})",
            detail={"pipeline": name, "defined": sorted(specs)},
        )
    return specs[name]


def load_notifiers(
    source: str | Path | Mapping[str, Any], *, env: str = "dev", filename: str | None = None
) -> dict[str, NotifierConfig]:
    """The ``notifiers:`` section for ``env`` (name -> Slack/webhook/e-mail channel config)."""
    document, _, name = _parse(source, filename)
    section = resolve_environment(document, env).get("notifiers")
    if section is not None and not isinstance(section, Mapping):
        raise ConfigError(f"{name}: notifiers: must be a mapping of name -> channel")
    try:
        return parse_notifiers(section)
    except ConfigError as exc:
        raise ConfigError(f"{name}: {exc.message}", detail=exc.detail) from exc
