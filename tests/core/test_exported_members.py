"""The curated public API: `__all__` lists exactly the public names of each package."""

from __future__ import annotations

import importlib
from types import ModuleType

import pytest

import lakegate
from lakegate import errors


def public_names(module) -> list[str]:
    # Subpackages (lakegate.formats, lakegate.lake, ...) appear as attributes once imported.
    return sorted(
        name
        for name, value in vars(module).items()
        if not name.startswith("_") and name != "annotations" and not isinstance(value, ModuleType)
    )


def test_all_imports_are_exported():
    assert sorted(lakegate.__all__) == sorted([*public_names(lakegate), "__version__"])


@pytest.mark.parametrize("module_name", ["lakegate.errors", "lakegate.config", "lakegate.cli"])
def test_every_name_in_all_exists(module_name):
    module = importlib.import_module(module_name)
    for name in module.__all__:
        assert hasattr(module, name), f"{module_name}.__all__ names missing {name}"


def test_every_error_is_exported_and_derives_from_the_base():
    classes = [getattr(errors, name) for name in errors.__all__]
    error_classes = [c for c in classes if isinstance(c, type) and issubclass(c, Exception)]
    assert all(issubclass(c, errors.LakegateError) for c in error_classes)
    defined = {
        name
        for name, value in vars(errors).items()
        if isinstance(value, type) and value.__module__ == errors.__name__
    }
    assert defined == set(errors.__all__)
