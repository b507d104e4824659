"""``lakegate kb register``: put a built knowledge base into the lake as a dataset."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from lakegate.cli._common import JsonOpt, VerboseOpt, console, print_json
from lakegate_server.cli._setup import server_command

__all__ = ["register"]


def register(app: typer.Typer) -> None:
    from lakegate.cli.kb import kb_app

    kb_app.command("register")(register_kb)


def register_kb(
    kb: Annotated[Path, typer.Argument(help="The knowledge base JSONL (from `lakegate kb build`).")],
    dataset: Annotated[str, typer.Option("--dataset", "-d", help="Dataset name in the lake.")],
    json_output: JsonOpt = False,
    verbose: VerboseOpt = False,
) -> None:
    """Ingest a knowledge base's chunks as a dataset version (catalog, stats, dashboard)."""
    config = server_command("cli", verbose=verbose)
    from lakegate_server.flow import ingest_file

    outcome = ingest_file(config=config, dataset=dataset, path=kb, mode="overwrite", actor="cli")
    if json_output:
        print_json(outcome.to_dict())
        return
    version = outcome.version
    state = (
        f"already registered as version {version.number}"
        if outcome.duplicate
        else f"version {version.number}"
    )
    console.print(f"{kb}: dataset [bold]{dataset}[/bold] {state} ({version.rows:,} chunks)")
    console.print(f"Serve it over the API: add `knowledge_bases: {{{dataset}: {kb}}}` to lakegate.yaml")
