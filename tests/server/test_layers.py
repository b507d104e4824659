"""Layer rules import-linter cannot express (it cannot name a submodule of an external package)."""

from __future__ import annotations

import ast
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CONTRACT = "Services read settings as an argument, never through Django's settings module"


def _settings_free_modules() -> list[str]:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    contract = next(c for c in config["tool"]["importlinter"]["contracts"] if c["name"] == CONTRACT)
    return list(contract["source_modules"])


def _imports(module: str) -> set[str]:
    path = ROOT / "src" / Path(*module.split("."))
    source = path.with_suffix(".py") if path.with_suffix(".py").is_file() else path / "__init__.py"
    return _imports_of(source.read_text(encoding="utf-8"))


def _imports_of(source: str) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.ImportFrom) and node.module:
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
            found.add(node.module)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
    return found


def test_services_never_read_djangos_settings_module():
    modules = _settings_free_modules()
    assert "lakegate_server.flow" in modules
    offenders = {m: sorted(i for i in _imports(m) if i.startswith("django.conf")) for m in modules}
    assert {m: found for m, found in offenders.items() if found} == {}


def test_the_scan_sees_every_form_of_the_import():
    assert "django.conf.settings" in _imports_of("from django.conf import settings\n")
    assert "django.conf" in _imports_of("def f():\n    import django.conf\n")
    assert not any(i.startswith("django.conf") for i in _imports_of("from django.db import models\n"))
