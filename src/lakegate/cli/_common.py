"""What every CLI command shares: options declared once, output helpers, the error line.

Conventions (ARCHITECTURE.md "Interfaces users will script against"):
``--json`` prints exactly one JSON document on stdout; human output goes through rich;
exit codes are 0 ok, 1 user/input error (one line on stderr), 2 usage error,
3 quality gate failed. A command raises its :class:`~lakegate.errors.LakegateError`;
the root group turns it into that line and exit code for every command (``_errors``).
"""

from __future__ import annotations

import json
import sys
from datetime import date, datetime
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape

from lakegate._logging import configure_logging

__all__ = [
    "JsonOpt",
    "VerboseOpt",
    "console",
    "err_console",
    "fail",
    "print_json",
    "setup_logging",
]

JsonOpt = Annotated[bool, typer.Option("--json", help="Print one JSON document on stdout.")]
VerboseOpt = Annotated[
    bool, typer.Option("--verbose", "-v", help="Show debug logs on stderr.", envvar="LAKEGATE_VERBOSE")
]

console = Console(soft_wrap=True)
err_console = Console(stderr=True, soft_wrap=True)


def _json_default(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    return str(value)


def print_json(document: Any) -> None:
    """Write ``document`` as one JSON document on stdout (no rich formatting)."""
    sys.stdout.write(json.dumps(document, default=_json_default, ensure_ascii=False) + "\n")
    sys.stdout.flush()


def fail(message: str, *, code: int = 1) -> typer.Exit:
    """Print one red line on stderr and return the ``typer.Exit`` to raise."""
    err_console.print(f"[bold red]error:[/bold red] {escape(message)}", highlight=False)
    return typer.Exit(code=code)


def setup_logging(
    component: str, *, verbose: bool, logs_dir: Path | None = None, level: str = "INFO"
) -> None:
    configure_logging(component, logs_dir=logs_dir, level=level, verbose=verbose)
