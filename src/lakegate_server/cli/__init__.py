"""The full ``lakegate`` command: the core commands plus the service's (up, worker, runs, token).

The commands are declared by name (see ``lakegate.cli._lazy``): a module below is imported,
and Django with it, only when one of its commands runs. This module is the ``lakegate``
entry point, so it imports neither typer nor rich until it has a command to parse.
"""

from __future__ import annotations

import sys
import typing as _typing

from lakegate import __version__
from lakegate.cli._registry import add_commands, extend_command

if _typing.TYPE_CHECKING:
    from lakegate.cli._app import app

__all__ = ["app", "main"]

# Module -> the commands and sub-apps its ``register(app)`` adds, with their help lines.
add_commands(
    "lakegate_server.cli.chaos",
    commands={
        "chaos": "Kill the service's processes at step boundaries and random moments in a scratch "
        "project; check nothing is lost or duplicated (exit 1 on any violation).",
    },
)
add_commands(
    "lakegate_server.cli.dags",
    commands={
        "export-dag": "Write PIPELINE as an Airflow DAG or Dagster assets that run it through lakegate."
    },
)
add_commands(
    "lakegate_server.cli.datasets",
    commands={
        "ingest": "Ingest files into a dataset: one new version each, duplicates skipped, "
        "bad files quarantined.",
        "stats": "Savings: files ingested, rows, bytes in / out / saved, per dataset, "
        "per format and per day.",
    },
    groups={
        "datasets": "Datasets in the lake: list, show, history, export.",
        "quarantine": "Files that could not be ingested, kept with their reason.",
    },
)
extend_command("kb", "lakegate_server.cli.knowledge")  # kb register
add_commands(
    "lakegate_server.cli.quality",
    commands={
        "check": "Run the quality gate on a dataset version (exit 3 when it fails).",
        "ledger": "Every decision about data and models, newest first: who, when, why, what it replaced.",
    },
    groups={"contract": "Data contracts."},
)
add_commands("lakegate_server.cli.runs", groups={"runs": "Runs: start jobs, follow them, read their logs."})
add_commands(
    "lakegate_server.cli.service",
    commands={
        "up": "Run the web server, workers and the scheduler together; Ctrl-C stops all of them cleanly.",
        "worker": "Execute queued runs. SIGTERM finishes the current runs, then exits.",
        "scheduler": "Re-queue runs of dead workers, resend lost queue messages "
        "(one per deployment is enough).",
        "migrate": "Apply pending database migrations (safe when several hosts start at once: one migrates).",
    },
)
add_commands(
    "lakegate_server.cli.sources",
    commands={
        "export": "Export a checked dataset version to a warehouse table "
        "(PostgreSQL COPY, or a dlt destination)."
    },
    groups={
        "source": "REST/SQL/S3 sources declared in lakegate.yaml.",
        "stream": "Pushed records: consume brokers, flush batches, compact tables.",
    },
)
add_commands(
    "lakegate_server.cli.tokens",
    groups={
        "token": "API tokens (roles: viewer, editor, admin).",
        "user": "Dashboard logins (roles: viewer, editor, admin).",
    },
)
add_commands(
    "lakegate_server.cli.training",
    commands={
        "run": "Train PIPELINE on its accepted data now (a worker runs it; --wait follows it).",
        "predict": "Score FILE with MODEL's champion into a Parquet file (written atomically, recorded).",
    },
    groups={
        "pipelines": "Pipelines declared in lakegate.yaml.",
        "models": "Registered models: versions, champions, promotion, rollback, audit, report.",
    },
)


def main() -> None:
    if sys.argv[1:] == ["--version"]:
        # Nothing to parse: answer before importing typer (0.12 s, most of the 0.2 s budget).
        # Any other command line, ``--version`` among other options included, goes to typer.
        sys.stdout.write(f"lakegate {__version__}\n")
        return
    from lakegate.cli import app

    app()


def __getattr__(name: str) -> _typing.Any:
    if name == "app":  # ``from lakegate_server.cli import app``: the full app (tests, embedding)
        from lakegate.cli import app

        return app
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
