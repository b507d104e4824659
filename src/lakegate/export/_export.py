"""``export_table``: one entry point for the CLI command, the pipeline step and the server job."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Final, get_args

from lakegate.errors import ExportError
from lakegate.export._policy import TargetPolicy
from lakegate.export._postgres import ExportMode
from lakegate.export._source import ExportSource, open_source
from lakegate.export._target import parse_target

__all__ = ["MODES", "ExportResult", "export_table"]

MODES: Final[tuple[str, ...]] = get_args(ExportMode)
logger = logging.getLogger("lakegate.export")


@dataclass(frozen=True)
class ExportResult:
    """What an export did. ``destination`` never shows a password; ``table`` is ``schema.table``."""

    rows: int
    seconds: float
    table: str
    mode: ExportMode
    destination: str
    created: bool

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict (for ``--json`` and job results)."""
        return asdict(self)


def export_table(
    source: ExportSource,
    *,
    to: str,
    table: str,
    mode: ExportMode = "append",
    key: list[str] | None = None,
    schema: str | None = None,
    version: int | None = None,
    batch_rows: int = 200_000,
    progress: Callable[[int], None] | None = None,
    log: Callable[[str], None] | None = None,
    pipelines_dir: Path | None = None,
    policy: TargetPolicy | None = None,
) -> ExportResult:
    """Export ``source`` into ``table`` at ``to``, streaming ``batch_rows`` rows at a time.

    ``source``: a Delta table folder (at ``version``, default the latest), a Parquet file or
    folder, a ``pyarrow.dataset.Dataset`` or a polars ``LazyFrame``/``DataFrame``. ``to``: a
    PostgreSQL URL, ``env:VAR`` or ``dlt:<destination>``. ``table`` may be ``schema.table``
    when ``schema`` is not given. ``merge`` needs ``key``; several source rows with the same
    key: the last one wins. ``progress`` gets the number of rows sent so far after each batch,
    ``log`` one line when the export starts and ends. Each mode runs in one transaction: a
    failed export changes nothing. Raises :class:`ExportError` (or :class:`InputError` for an
    unreadable source or a refused target).

    ``policy``: ``to`` was given by a user (an API request, a command line), so it must pass
    the :class:`TargetPolicy` (outbound addresses, allowed ``env:`` variables); ``None`` for
    a target the caller vouches for (the operator's lakegate.yaml, a script's own).
    """
    started = time.perf_counter()
    if mode not in MODES:
        raise ExportError(f"--mode {mode!r}: use one of {', '.join(MODES)}")
    keys = _keys(key)
    if mode == "merge" and not keys:
        raise ExportError(f"--mode merge into {table!r} needs --key: the column(s) that identify a row")
    schema, table = _split(table, schema)
    target = parse_target(to, policy)
    stream = open_source(source, version=version, batch_rows=batch_rows)
    where = f"{schema}.{table}" if schema else table
    _say(log, f"exporting {stream.label} to {where} at {target.destination} ({mode})")
    if target.kind == "dlt":
        from lakegate.export._dlt import export_dlt

        rows, created, used_schema, table = export_dlt(
            target.dlt_destination or "",
            stream,
            table=table,
            schema=schema,
            mode=mode,
            key=keys,
            progress=progress,
            pipelines_dir=pipelines_dir,
        )
    else:
        from lakegate.export._postgres import export_postgres

        rows, created, used_schema, table = export_postgres(
            target,
            stream,
            table=table,
            schema=schema,
            mode=mode,
            key=keys,
            progress=progress,
        )
    result = ExportResult(
        rows=rows,
        seconds=round(time.perf_counter() - started, 3),
        table=f"{used_schema}.{table}",
        mode=mode,
        destination=target.destination,
        created=created,
    )
    _say(log, f"exported {rows} rows to {result.table} at {result.destination} in {result.seconds} s")
    return result


def _keys(key: list[str] | str | None) -> list[str]:
    if key is None:
        return []
    names = [key] if isinstance(key, str) else list(key)
    # "--key a,b" and "--key a --key b" both work.
    keys = [part.strip() for name in names for part in name.split(",") if part.strip()]
    if len(set(keys)) != len(keys):
        raise ExportError(f"--key {', '.join(keys)}: a column is named twice")
    return keys


def _split(table: str, schema: str | None) -> tuple[str | None, str]:
    name = table.strip()
    if not name:
        raise ExportError("--table: give the name of the table to export into")
    if schema is None and name.count(".") == 1:
        left, right = name.split(".")
        if left and right:
            return left, right
    return schema, name


def _say(log: Callable[[str], None] | None, message: str) -> None:
    logger.info(message)
    if log is not None:
        log(message)
