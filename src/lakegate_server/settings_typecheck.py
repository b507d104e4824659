"""Django settings for the type checker only (``[tool.django-stubs]`` in pyproject.toml).

mypy's django-stubs plugin imports a settings module to learn the installed apps and their
models. The real one (``lakegate_server.settings``) needs a project folder; this module makes
a throwaway one in a temporary folder, points ``LAKEGATE_PROJECT_DIR`` at it (in mypy's own
process) and loads the real settings from it, so ``uv run mypy`` works from any folder.
Nothing else imports it.
"""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile
from pathlib import Path

from lakegate import init_project

_PROJECT = Path(tempfile.mkdtemp(prefix="lakegate-mypy-"))
atexit.register(shutil.rmtree, _PROJECT, ignore_errors=True)
init_project(_PROJECT)
os.environ["LAKEGATE_PROJECT_DIR"] = str(_PROJECT)

from lakegate_server.settings import *  # noqa: E402, F403
