"""``lakegate init``: create a project folder."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from lakegate.cli._common import JsonOpt, VerboseOpt, console, print_json, setup_logging

__all__ = ["register"]


def register(app: typer.Typer) -> None:
    app.command("init")(init)


def init(
    directory: Annotated[Path, typer.Argument(help="Folder to create the project in.")] = Path(),
    force: Annotated[
        bool, typer.Option("--force", help="Re-create missing state folders in an existing project.")
    ] = False,
    demo: Annotated[
        bool, typer.Option("--demo", help="Also write sample data and demo pipelines (what `make up` runs).")
    ] = False,
    json_output: JsonOpt = False,
    verbose: VerboseOpt = False,
) -> None:
    """Create a project: [bold]lakegate.yaml[/bold] (commented defaults) and [bold].lakegate/[/bold]."""
    from lakegate._project import init_project

    setup_logging("cli", verbose=verbose)
    paths = init_project(directory, force=force)
    if demo:
        from lakegate._demo import write_demo

        write_demo(paths.root)
    if json_output:
        print_json(
            {"project_dir": str(paths.root), "config": str(paths.config_file), "state": str(paths.state)}
        )
        return
    console.print(f"Created lakegate project in [bold]{paths.root}[/bold]")
    console.print(f"  settings: {paths.config_file}")
    console.print(f"  state:    {paths.state}/ (db, lake, artifacts, inbox, quarantine, logs)")
    console.print("Next: [bold]lakegate up[/bold] to start the service.")
