"""What every CLI command shares: options declared once, output helpers, one error exit.

Conventions (ARCHITECTURE.md "Interfaces users will script against"):
``--json`` prints exactly one JSON document on stdout; human output goes through rich;
exit codes are 0 ok, 1 user/input error (one line on stderr), 2 usage error,
3 quality gate failed.
"""

from __future__ import annotations

import functools
import json
import sys
from collections.abc import Callable
from datetime import date, datetime
from pathlib import Path
from typing import Annotated, Any, ParamSpec, TypeVar

import typer
from rich.console import Console
from rich.markup import escape

from lakegate._logging import configure_logging
from lakegate.errors import LakegateError

__all__ = [
    "JsonOpt",
    "VerboseOpt",
    "console",
    "err_console",
    "fail",
    "handle_errors",
    "print_json",
    "setup_logging",
]

P = ParamSpec("P")
R = TypeVar("R")

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


def handle_errors(func: Callable[P, R]) -> Callable[P, R]:
    """Turn a :class:`LakegateError` into one line on stderr and its exit code (no traceback)."""

    @functools.wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return func(*args, **kwargs)
        except LakegateError as exc:
            raise fail(exc.message, code=exc.exit_code) from None

    return wrapper


def setup_logging(
    component: str, *, verbose: bool, logs_dir: Path | None = None, level: str = "INFO"
) -> None:
    configure_logging(component, logs_dir=logs_dir, level=level, verbose=verbose)
