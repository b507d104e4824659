"""lakegate: files -> checked, versioned lake -> models -> predictions.

The core library never imports Django; the service lives in ``lakegate_server``.

The Python API for notebooks, ``lakegate.Project("path")`` (with the records it returns),
lives in the service package (``lakegate_server.project``: it sets Django up inside the
project on first use) and is exposed here by name only: importing ``lakegate`` never imports
the server or Django (for type checkers: ``from lakegate_server.project import Project``).

The public names below are loaded on first use (PEP 562 ``__getattr__``): every
``import lakegate.<anything>`` runs this file, and the command line must not pay for
pydantic-settings when it only prints ``--version`` or ``--help``. The first access to any
of them loads them all, so afterwards the namespace holds exactly ``__all__``.
"""

from __future__ import annotations

# Private aliases: every public name of this namespace is in ``__all__`` (a test checks).
import importlib as _importlib
import typing as _typing

if _typing.TYPE_CHECKING:
    from lakegate._project import init_project
    from lakegate.config import ProjectPaths, Settings, find_project_dir, load_settings
    from lakegate.errors import LakegateError

__version__ = "0.1.0"

__all__ = [
    "Dataset",
    "LakegateError",
    "ModelVersion",
    "Project",
    "ProjectPaths",
    "Report",
    "Settings",
    "Version",
    "__version__",
    "find_project_dir",
    "init_project",
    "load_settings",
]

# Public name -> the module defining it.
_LAZY = {
    "Dataset": "lakegate_server.project",
    "LakegateError": "lakegate.errors",
    "ModelVersion": "lakegate_server.project",
    "Project": "lakegate_server.project",
    "Report": "lakegate_server.project",
    "Version": "lakegate_server.project",
    "ProjectPaths": "lakegate.config",
    "Settings": "lakegate.config",
    "find_project_dir": "lakegate.config",
    "init_project": "lakegate._project",
    "load_settings": "lakegate.config",
}


def __getattr__(name: str) -> _typing.Any:
    if name not in _LAZY:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    namespace = globals()
    for public, module in _LAZY.items():
        namespace[public] = getattr(_importlib.import_module(module), public)
    return namespace[name]


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
