"""One exit for every command (ARCHITECTURE.md "Interfaces users will script against").

A :class:`LakegateError` becomes one red line on stderr and its exit code (1 for a user or
input error, 3 for a failed quality gate); typer's usage errors keep their exit code 2. Any
other exception is a bug: the user still gets one line, the traceback goes to the command's
log file (or a file of its own when the command has none), and ``--verbose`` prints it too.
"""

from __future__ import annotations

import logging
import os
import sys
import tempfile
import traceback
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import typer

from lakegate.errors import LakegateError

__all__ = ["VERBOSE_KEY", "report", "verbose_requested"]

VERBOSE_KEY = "lakegate.verbose"  # in the root context's ``meta``
_VERBOSE_FLAGS = frozenset({"--verbose", "-v"})
_TRUE = frozenset({"1", "true", "t", "yes", "y", "on"})  # what click reads as true from an envvar


def verbose_requested(args: Sequence[str]) -> bool:
    """Whether the command line (or ``LAKEGATE_VERBOSE``) asks for ``--verbose``.

    Read from the raw arguments: an error may come before the command parsed its options.
    """
    if os.environ.get("LAKEGATE_VERBOSE", "").strip().lower() in _TRUE:
        return True
    for arg in args:
        if arg == "--":
            return False
        if arg in _VERBOSE_FLAGS:
            return True
    return False


@contextmanager
def report(*, verbose: bool) -> Iterator[None]:
    """Turn what the body raises into one line on stderr and an exit code (never a traceback)."""
    try:
        yield
    except LakegateError as exc:
        raise _fail(exc.message, code=exc.exit_code) from None
    except (typer.Exit, typer.Abort, typer.TyperException):
        raise  # typer's own exits and usage errors (exit 2) print themselves
    except Exception as exc:  # noqa: BLE001 - the one place a bug becomes a line, not a traceback
        raise _unexpected(exc, verbose=verbose) from None


def _fail(message: str, *, code: int) -> typer.Exit:
    from lakegate.cli._common import fail  # rich: only once there is something to print

    return fail(message, code=code)


def _unexpected(exc: Exception, *, verbose: bool) -> typer.Exit:
    text = "".join(traceback.format_exception(exc))
    lines = str(exc).strip().splitlines()
    summary = f"{type(exc).__name__}: {lines[0]}" if lines else type(exc).__name__
    kept = _keep(exc, text, summary)
    if verbose:
        sys.stderr.write(text)
    where = f"the traceback is in {kept}" if kept else "the traceback could not be saved"
    hint = "" if verbose else "; run again with --verbose to print it"
    return _fail(f"unexpected error, a bug in lakegate ({summary}); {where}{hint}", code=1)


def _keep(exc: Exception, text: str, summary: str) -> str | None:
    """Write the traceback to the command's log files; return where it went (None: nowhere)."""
    files = [
        h
        for h in logging.getLogger().handlers
        if isinstance(h, logging.FileHandler) and getattr(h, "_lakegate", False)
    ]
    if files:
        logger = logging.getLogger("lakegate.cli")
        record = logger.makeRecord(
            logger.name, logging.ERROR, __file__, 0, "unexpected error: %s", (summary,), None
        )
        record.exc_info = (type(exc), exc, exc.__traceback__)
        # Straight to the files: the stderr handler would print the traceback to the user.
        for handler in files:
            handler.handle(record)
        return files[0].baseFilename
    # Commands without a project (convert, kb, init) have no log file: a file of its own.
    try:
        fd, name = tempfile.mkstemp(prefix="lakegate-error-", suffix=".log")
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write(text)
    except OSError:
        return None
    return str(Path(name))
