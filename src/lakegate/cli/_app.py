"""The core typer app. Its commands are declared in ``_registry`` and imported when they run.

``lakegate --version`` and ``lakegate --help`` import typer and this package's shell, nothing
more (tests/core/cli/test_startup.py checks it): see ``_lazy`` for how commands load.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

import typer

from lakegate import __version__
from lakegate.cli._lazy import LazyGroup

__all__ = ["app"]

app = typer.Typer(
    name="lakegate",
    cls=LazyGroup,
    help="lakegate: files -> checked, versioned lake -> models -> predictions.",
    rich_markup_mode="rich",
    no_args_is_help=True,
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _version_callback(value: bool) -> None:
    if value:
        typer.echo(f"lakegate {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_version_callback, is_eager=True, help="Show the version and exit."
        ),
    ] = False,
    project: Annotated[
        Path | None,
        typer.Option(
            "--project",
            "-C",
            envvar="LAKEGATE_PROJECT_DIR",
            help="Project folder (default: the nearest one holding lakegate.yaml).",
        ),
    ] = None,
) -> None:
    """lakegate: files -> checked, versioned lake -> models -> predictions."""
    if project is not None:
        os.environ["LAKEGATE_PROJECT_DIR"] = str(project.expanduser().resolve())
