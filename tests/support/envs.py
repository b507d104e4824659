"""Separate Python environments for tools the project's lock must not hold (Airflow,
Dagster, MLflow): made once with uv under ``~/.cache/lakegate-orchestrators``
(``LAKEGATE_ORCHESTRATOR_CACHE``), then reused. In CI an environment that cannot be made
is a failure; offline elsewhere the test is skipped.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

__all__ = ["REPO", "tool_python"]

REPO = Path(__file__).resolve().parents[2]


def _uv() -> list[str]:
    return [found] if (found := shutil.which("uv")) else [sys.executable, "-m", "uv"]


def tool_python(name: str, requirements: list[str], *, with_lakegate: bool = False) -> Path:
    """The Python of an environment holding ``requirements`` (made once, then reused).

    ``with_lakegate`` also installs this checkout (editable); the environment is then keyed
    by the checkout's path and ``pyproject.toml`` so each worktree gets its own.
    """
    cache = Path(
        os.environ.get("LAKEGATE_ORCHESTRATOR_CACHE", Path.home() / ".cache" / "lakegate-orchestrators")
    )
    key = name
    if with_lakegate:
        digest = hashlib.sha256(str(REPO).encode() + (REPO / "pyproject.toml").read_bytes()).hexdigest()
        key = f"{name}-lakegate-{digest[:10]}"
    home = cache / key
    python = home / "bin" / "python"
    if python.exists():
        return python
    scratch = home.with_name(home.name + ".partial")
    shutil.rmtree(scratch, ignore_errors=True)
    install = [*_uv(), "pip", "install", "-q", "--python", str(scratch / "bin" / "python")]
    steps = [[*_uv(), "venv", "-q", "-p", "3.11", str(scratch)], [*install, *requirements]]
    if with_lakegate:
        steps.append([*install, "-e", str(REPO)])
    try:
        for step in steps:
            subprocess.run(step, check=True, capture_output=True, timeout=900)
    except (subprocess.CalledProcessError, subprocess.TimeoutExpired) as exc:
        if os.environ.get("CI"):
            raise
        pytest.skip(f"cannot make the {name} environment (offline?): {exc}")
    scratch.rename(home)  # whole or not at all: a half-made environment is never reused
    return python
