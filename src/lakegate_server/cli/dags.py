"""``lakegate export-dag``: a pipeline as an Airflow DAG or Dagster definitions module."""

from __future__ import annotations

import shlex
from pathlib import Path
from typing import Annotated

import typer

from lakegate.cli._common import JsonOpt, VerboseOpt, console, print_json
from lakegate_server.cli._setup import server_command

__all__ = ["register"]


def register(app: typer.Typer) -> None:
    app.command("export-dag")(export_dag)


def export_dag(
    pipeline: Annotated[str, typer.Argument(help="Pipeline name (see `lakegate pipelines list`).")],
    to: Annotated[str, typer.Option("--to", help="airflow or dagster.")],
    output: Annotated[Path, typer.Option("--output", "-o", help="Folder to write the module into.")] = Path(),
    command: Annotated[
        str,
        typer.Option(
            "--lakegate",
            help="How the orchestrator's workers call lakegate (default: `lakegate` on their PATH).",
        ),
    ] = "lakegate",
    json_output: JsonOpt = False,
    verbose: VerboseOpt = False,
) -> None:
    """Write PIPELINE as an Airflow DAG or Dagster assets that run it through lakegate."""
    config = server_command("cli", verbose=verbose)
    from lakegate._atomic import write_bytes_atomic
    from lakegate.pipelines._dags import dag_module, dag_module_name
    from lakegate_server.training.selectors import pipeline_get

    spec = pipeline_get(config=config, name=pipeline)
    source = dag_module(spec, to=to, project_dir=config.project_dir, lakegate_command=shlex.split(command))
    output.mkdir(parents=True, exist_ok=True)
    target = output / dag_module_name(pipeline, to)
    write_bytes_atomic(target, source.encode("utf-8"))
    if json_output:
        print_json({"pipeline": pipeline, "to": to, "path": str(target)})
        return
    console.print(f"{pipeline}: {to} module written to {target}", highlight=False)
