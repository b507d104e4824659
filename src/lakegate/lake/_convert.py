"""``convert``: files -> Parquet (zstd) or Delta tables, written atomically.

Each input file gives one output per table: ``<out>/<stem>.parquet`` for single-table
formats (CSV, JSON, Parquet, and their ``.gz``), ``<out>/<stem>__<table>.parquet`` for
formats that hold several tables (workbooks, PDFs, zips) — always, so that adding a sheet
never renames the other outputs. Names are sanitised to ``[A-Za-z0-9._-]``; an input
whose output name is already taken in the same run is an error, not an overwrite.

Nothing half-written is ever visible: every table of an input is first written into a
hidden scratch folder inside ``out`` (same filesystem), and only when all of them are
complete are they renamed into place. A Delta output that already exists is overwritten
by a new table version (a Delta transaction, atomic by itself).
"""

from __future__ import annotations

import logging
import os
import shutil
import tempfile
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Final, Literal

from lakegate.errors import InputError, LakegateError, ReaderError
from lakegate.formats import (
    ArchiveLimits,
    ReadOptions,
    Reread,
    Table,
    is_multi_table,
    read_tables,
    safe_name,
)
from lakegate.formats._infer import check_overrides, dtype_name
from lakegate.formats._limits import ReaderLimits, check_columns

__all__ = ["FORMATS", "ConvertResult", "OutputFormat", "TableResult", "convert", "output_stem"]

OutputFormat = Literal["parquet", "delta"]
FORMATS: Final = ("parquet", "delta")
_MAX_ATTEMPTS: Final = 60
_SCRATCH_PREFIX: Final = ".lakegate-tmp-"
_log = logging.getLogger(__name__)


@dataclass(frozen=True)
class TableResult:
    """One written table."""

    name: str
    path: str
    rows: int
    columns: int
    schema: Mapping[str, str]
    bytes_out: int
    error_cells: Mapping[str, int] | None = None
    """Per column, spreadsheet error cells (``#DIV/0!``) read as nulls; ``None``: not a spreadsheet."""


@dataclass(frozen=True)
class ConvertResult:
    """What converting one input file produced (the fields of ``lakegate convert --json``).

    ``ratio`` is ``bytes_in / bytes_out``: how many times smaller the output is.
    ``schema`` maps each output table name to ``{column: type}``.
    """

    source: str
    format: str
    outputs: tuple[str, ...]
    rows: int
    columns: int
    schema: Mapping[str, Mapping[str, str]]
    bytes_in: int
    bytes_out: int
    ratio: float
    seconds: float
    warnings: tuple[str, ...]
    tables: tuple[TableResult, ...] = field(default=())

    def to_dict(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "format": self.format,
            "outputs": list(self.outputs),
            "rows": self.rows,
            "columns": self.columns,
            "schema": {name: dict(columns) for name, columns in self.schema.items()},
            "bytes_in": self.bytes_in,
            "bytes_out": self.bytes_out,
            "ratio": self.ratio,
            "seconds": self.seconds,
            "warnings": list(self.warnings),
            "tables": [
                {
                    "name": t.name,
                    "path": t.path,
                    "rows": t.rows,
                    "columns": t.columns,
                    "schema": dict(t.schema),
                    "bytes_out": t.bytes_out,
                    **({"error_cells": dict(t.error_cells)} if t.error_cells is not None else {}),
                }
                for t in self.tables
            ],
        }


def convert(
    sources: Iterable[str | os.PathLike[str]],
    out_dir: str | os.PathLike[str],
    *,
    format: OutputFormat = "parquet",  # noqa: A002 - the CLI option's name
    sheet: str | None = None,
    overrides: Mapping[str, str] | None = None,
    limits: ArchiveLimits | None = None,
    reader_limits: ReaderLimits | None = None,
    delta_types: bool = False,
    on_error: Callable[[Path, LakegateError], None] | None = None,
    on_result: Callable[[ConvertResult], None] | None = None,
) -> list[ConvertResult]:
    """Convert each file of ``sources`` into ``out_dir`` as Parquet (zstd) or Delta tables.

    ``overrides`` force column types (``{"zip": "string"}``, see ``lakegate.formats``).
    ``limits`` bound what archives expand to, ``reader_limits`` what one file may cost
    (columns, line length, JSON depth, a PDF's time and memory). ``delta_types`` gives
    Parquet outputs the types a Delta table can hold (as ``format="delta"`` does).
    A bad input raises its ``ReaderError`` at once, unless ``on_error`` is given: then it
    is called with the input and the error, and the other inputs are still converted.
    """
    if format not in FORMATS:
        raise InputError(f"unknown output format {format!r} (use parquet or delta)")
    out = Path(out_dir)
    if out.exists() and not out.is_dir():
        raise InputError(f"{out}: output must be a folder")
    check_overrides(overrides)  # a bad type name is one error, not one per input
    options = ReadOptions(
        sheet=sheet,
        overrides=dict(overrides or {}),
        limits=limits or ArchiveLimits(),
        reader_limits=reader_limits or ReaderLimits(),
    )
    claimed: dict[Path, Path] = {}
    results: list[ConvertResult] = []
    for raw in sources:
        source = Path(raw)
        try:
            result = _convert_one(source, out, format, options, claimed, delta_types=delta_types)
        except LakegateError as exc:
            if on_error is None:
                raise
            on_error(source, exc)
            continue
        results.append(result)
        if on_result is not None:
            on_result(result)
    return results


def output_stem(source: Path) -> str:
    """``data.csv.gz`` -> ``data``: the sanitised base name of an input's outputs."""
    name = source.name
    if name.lower().endswith(".gz"):
        name = name[:-3]
    return safe_name(Path(name).stem or name)


@dataclass
class _Staged:
    name: str
    scratch: Path
    final: Path
    table: Table
    schema: dict[str, str]
    rows: int


def _convert_one(
    source: Path,
    out: Path,
    fmt: str,
    options: ReadOptions,
    claimed: dict[Path, Path],
    *,
    delta_types: bool = False,
) -> ConvertResult:
    started = time.perf_counter()
    try:
        bytes_in = source.stat().st_size
    except OSError as exc:
        raise ReaderError(str(source), "no such file" if not source.exists() else str(exc.strerror)) from exc
    stem = output_stem(source)
    multi = is_multi_table(source)
    try:
        out.mkdir(parents=True, exist_ok=True)
        scratch = Path(tempfile.mkdtemp(prefix=_SCRATCH_PREFIX, dir=out))
    except OSError as exc:
        raise LakegateError(f"{out}: cannot create the output folder ({exc.strerror})") from exc
    try:
        staged = _staged_or_refused(source, out, fmt, scratch, stem, multi, options, claimed, delta_types)
        warnings: list[str] = []
        results: list[TableResult] = []
        for item in staged:
            warnings.extend(w if item.name == stem else f"{item.name}: {w}" for w in item.table.warnings)
            bytes_out = _commit(item, fmt, scratch)
            error_cells = item.table.error_cells
            results.append(
                TableResult(
                    item.name,
                    str(item.final),
                    item.rows,
                    len(item.schema),
                    item.schema,
                    bytes_out,
                    dict(error_cells) if error_cells is not None else None,
                )
            )
            claimed[item.final] = source
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    bytes_out = sum(r.bytes_out for r in results)
    return ConvertResult(
        source=str(source),
        format=fmt,
        outputs=tuple(r.path for r in results),
        rows=sum(r.rows for r in results),
        columns=sum(r.columns for r in results),
        schema={r.name: r.schema for r in results},
        bytes_in=bytes_in,
        bytes_out=bytes_out,
        ratio=round(bytes_in / bytes_out, 3) if bytes_out else 0.0,
        seconds=round(time.perf_counter() - started, 3),
        warnings=tuple(warnings),
        tables=tuple(results),
    )


def _staged_or_refused(
    source: Path,
    out: Path,
    fmt: str,
    scratch: Path,
    stem: str,
    multi: bool,
    options: ReadOptions,
    claimed: dict[Path, Path],
    delta_types: bool,
) -> list[_Staged]:
    """:func:`_stage`, with any failure of a reader's parser turned into a ``ReaderError``.

    Parsers are third-party code fed hostile bytes: whatever they raise (a ``RecursionError``,
    a ``KeyError`` from a broken PDF, a Rust ``PanicException`` from a corrupt workbook) is a
    file that cannot be read, so the caller quarantines it and goes on with the next file
    instead of aborting the batch. The traceback goes to the log for a bug report.
    """
    try:
        return _stage(source, out, fmt, scratch, stem, multi, options, claimed, delta_types)
    except (LakegateError, KeyboardInterrupt, SystemExit, GeneratorExit):
        raise
    except MemoryError as exc:
        raise ReaderError(str(source), "ran out of memory while reading") from exc
    except BaseException as exc:  # a Rust PanicException is not an Exception
        _log.warning("reading %s failed in its parser", source, exc_info=True)
        raise ReaderError(str(source), f"cannot be read ({type(exc).__name__}: {_first_line(exc)})") from exc


def _stage(
    source: Path,
    out: Path,
    fmt: str,
    scratch: Path,
    stem: str,
    multi: bool,
    options: ReadOptions,
    claimed: dict[Path, Path],
    delta_types: bool = False,
) -> list[_Staged]:
    """Write every table of ``source`` into ``scratch``; nothing is visible in ``out`` yet."""
    import polars as pl

    staged: list[_Staged] = []
    names: set[str] = set()
    tables = read_tables(source, replace(options, work_dir=scratch))
    try:
        for table in tables:
            name = stem if not multi or table.name is None else f"{stem}__{safe_name(table.name)}"
            name = _unique(name, names)
            final = out / (f"{name}.parquet" if fmt == "parquet" else name)
            if final in claimed:
                raise InputError(f"{source}: output {final} is also the output of {claimed[final]}")
            check_columns(source, len(table.frame.collect_schema()), options.reader_limits, table=table.name)
            delta = fmt == "delta" or delta_types
            written, target = _write(table, scratch / name, source, delta=delta)
            frame = _delta_frame(written) if delta else written.frame
            schema = {column: dtype_name(dtype) for column, dtype in frame.collect_schema().items()}
            rows = int(pl.scan_parquet(target).select(pl.len()).collect().item())  # footer only
            staged.append(_Staged(name, target, final, written, schema, rows))
    finally:
        tables.close()
    if not staged:
        raise ReaderError(str(source), "no table found")
    return staged


def _delta_frame(table: Table) -> Any:
    """``table``'s frame with the types Delta tables cannot hold made ones they can (a warning each).

    A duration (a spreadsheet's ``[h]:mm:ss`` cell) becomes seconds (``float``); a time of
    day becomes ``HH:MM:SS[.ffffff]`` text. Delta has neither type, and its writer refuses them.
    """
    import polars as pl

    changed: list[pl.Expr] = []
    warnings: list[str] = []
    for column, dtype in table.frame.collect_schema().items():
        if isinstance(dtype, pl.Duration):
            changed.append((pl.col(column).dt.total_microseconds() / 1_000_000).alias(column))
            warnings.append(f"column {column!r}: durations stored as seconds (Delta has no duration type)")
        elif isinstance(dtype, pl.Time):
            changed.append(pl.col(column).dt.to_string("%H:%M:%S%.f").alias(column))
            warnings.append(f"column {column!r}: times of day stored as text (Delta has no time type)")
    table.warnings.extend(w for w in warnings if w not in table.warnings)
    return table.frame.with_columns(changed) if changed else table.frame


def _unique(name: str, taken: set[str]) -> str:
    candidate, index = name, 2
    while candidate in taken:
        candidate, index = f"{name}_{index}", index + 1
    taken.add(candidate)
    return candidate


def _write(table: Table, base: Path, source: Path, *, delta: bool = False) -> tuple[Table, Path]:
    """Stream ``table`` into ``<base>.<attempt>.parquet``; retry through ``table.recover``.

    Each attempt gets its own file: a failed polars sink may still be closing its file
    when the error surfaces, and must not clobber the retry.
    """
    import polars as pl

    for attempt in range(_MAX_ATTEMPTS):
        target = base.with_name(f"{base.name}.{attempt}.parquet")
        try:
            frame = _delta_frame(table) if delta else table.frame
            frame.sink_parquet(target, compression="zstd")
        except (pl.exceptions.PolarsError, pl.exceptions.PanicException) as exc:
            if table.recover is None:
                raise ReaderError(str(source), _first_line(exc)) from exc
            table = table.recover(exc)
            continue
        except OSError as exc:
            raise LakegateError(f"{target.parent}: cannot write ({exc.strerror or exc})") from exc
        if table.finish is not None:
            try:
                table.warnings.extend(table.finish(target))
            except Reread as again:  # the full pass found what only another pass fixes
                table = again.table
                continue
        return table, target
    raise ReaderError(str(source), "too many columns did not fit their inferred types")


def _commit(item: _Staged, fmt: str, scratch: Path) -> int:
    """Move a staged table into place; return its size in bytes."""
    try:
        if fmt == "parquet":
            item.scratch.replace(item.final)
            return item.final.stat().st_size
        from lakegate.lake._delta import write_delta

        return write_delta(item.scratch, item.final, scratch=scratch)
    except OSError as exc:
        raise LakegateError(f"{item.final}: cannot write ({exc.strerror or exc})") from exc


def _first_line(exc: BaseException) -> str:
    lines = str(exc).strip().splitlines()
    return lines[0] if lines else type(exc).__name__
