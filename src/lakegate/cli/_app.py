"""The core typer app. Command modules register themselves; heavy imports stay inside commands."""

from __future__ import annotations

import importlib
import os
from pathlib import Path
from typing import Annotated

import typer

from lakegate import __version__

__all__ = ["app"]

# Each module has ``register(app)``. Keep this list sorted; the server adds its own commands.
COMMAND_MODULES = (
    "lakegate.cli.convert",
    "lakegate.cli.kb",
    "lakegate.cli.project",
)

app = typer.Typer(
    name="lakegate",
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


for _module in COMMAND_MODULES:
    importlib.import_module(_module).register(app)
