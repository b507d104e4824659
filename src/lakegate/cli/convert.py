"""``lakegate convert SRC... -o OUT``: files -> Parquet (zstd) or Delta tables."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.markup import escape

from lakegate.cli._common import (
    JsonOpt,
    VerboseOpt,
    console,
    err_console,
    print_json,
    setup_logging,
)
from lakegate.errors import InputError, LakegateError
from lakegate.formats._archive import ArchiveLimits, parse_size, size_text

if TYPE_CHECKING:
    from lakegate.lake import ConvertResult

__all__ = ["register"]


_LIMITS = ArchiveLimits()


def _check_size(value: str) -> str:
    try:
        size = parse_size(value)
    except InputError as exc:
        raise typer.BadParameter(exc.message) from None
    if size <= 0:
        raise typer.BadParameter(f"size {value!r}: must be more than 0 bytes")
    return value


class OutputFormat(StrEnum):
    parquet = "parquet"
    delta = "delta"


def register(app: typer.Typer) -> None:
    app.command("convert")(convert)


def convert(
    sources: Annotated[
        list[Path],
        typer.Argument(metavar="SRC", help="Files to convert (csv, tsv, xlsx, ods, json, jsonl, ...)."),
    ],
    out: Annotated[Path, typer.Option("--out", "-o", help="Output folder (created when missing).")],
    output_format: Annotated[
        OutputFormat, typer.Option("--format", "-f", help="Write Parquet files or Delta tables.")
    ] = OutputFormat.parquet,
    sheet: Annotated[str | None, typer.Option("--sheet", help="Only this sheet of each workbook.")] = None,
    types: Annotated[
        list[str] | None,
        typer.Option(
            "--type",
            "-t",
            help="Force a column type: COLUMN=int|float|bool|date|datetime|string|categorical.",
        ),
    ] = None,
    max_archive_bytes: Annotated[
        str,
        typer.Option(
            "--max-archive-bytes",
            metavar="SIZE",
            callback=_check_size,
            help="Refuse a .gz/.zip/xlsx/ods input that expands past this size (e.g. 512MiB, 2GB).",
        ),
    ] = size_text(_LIMITS.max_bytes),
    max_archive_ratio: Annotated[
        float,
        typer.Option(
            "--max-archive-ratio",
            min=1.0,
            help="Refuse an archive expanding more than this many times its size "
            f"(checked past {size_text(_LIMITS.ratio_floor_bytes)} expanded).",
        ),
    ] = _LIMITS.max_ratio,
    max_archive_entries: Annotated[
        int,
        typer.Option("--max-archive-entries", min=1, help="Refuse a zip (xlsx, ods) with more entries."),
    ] = _LIMITS.max_entries,
    json_output: JsonOpt = False,
    verbose: VerboseOpt = False,
) -> None:
    """Convert files into Parquet (zstd) or Delta tables, one per table found.

    Bad inputs are reported one line each; the others are still converted (exit 1 then).
    """
    from lakegate.lake import convert as convert_files

    setup_logging("cli", verbose=verbose)
    overrides = _parse_types(types or [])
    limits = ArchiveLimits(
        max_bytes=parse_size(max_archive_bytes), max_ratio=max_archive_ratio, max_entries=max_archive_entries
    )
    failures: list[tuple[Path, LakegateError]] = []

    def on_error(source: Path, error: LakegateError) -> None:
        failures.append((source, error))
        message = error.message if error.message.startswith(str(source)) else f"{source}: {error.message}"
        err_console.print(f"[bold red]error:[/bold red] {escape(message)}", highlight=False)

    show_progress = not json_output and len(sources) > 1
    with _progress(len(sources), enabled=show_progress) as advance:

        def on_result(result: ConvertResult) -> None:
            if not json_output:
                _print_result(result)
            advance()

        def on_error_advance(source: Path, error: LakegateError) -> None:
            on_error(source, error)
            advance()

        results = convert_files(
            sources,
            out,
            format=output_format.value,
            sheet=sheet,
            overrides=overrides,
            limits=limits,
            on_error=on_error_advance,
            on_result=on_result,
        )
    if json_output:
        print_json(
            {
                "results": [result.to_dict() for result in results],
                "errors": [
                    {"file": str(source), "code": error.code, "message": error.message}
                    for source, error in failures
                ],
            }
        )
    if failures:
        raise typer.Exit(code=1)


def _parse_types(specs: list[str]) -> dict[str, str]:
    overrides: dict[str, str] = {}
    for spec in specs:
        column, sep, kind = spec.partition("=")
        if not sep or not column.strip() or not kind.strip():
            raise InputError(f"--type {spec!r}: expected COLUMN=TYPE, e.g. zip=string")
        overrides[column.strip()] = kind.strip()
    return overrides


def _size(n: int) -> str:
    value = float(n)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if value < 1024 or unit == "GiB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{n} B"


def _print_result(result: ConvertResult) -> None:
    outputs = ", ".join(escape(path) for path in result.outputs)
    console.print(
        f"[green]✓[/green] {escape(result.source)} -> {outputs}  "
        f"{result.rows:,} rows x {result.columns} columns  "
        f"{_size(result.bytes_in)} -> {_size(result.bytes_out)} ({result.ratio:.1f}x)  "
        f"{result.seconds:.2f} s",
        highlight=False,
    )
    for warning in result.warnings:
        err_console.print(
            f"[yellow]warning:[/yellow] {escape(result.source)}: {escape(warning)}", highlight=False
        )


@contextmanager
def _progress(total: int, *, enabled: bool) -> Iterator[Callable[[], None]]:
    """A transient progress bar on stderr (or nothing); yields the function advancing it."""
    if not enabled:
        yield lambda: None
        return
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    columns = (TextColumn("converting"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, console=err_console, transient=True) as progress:
        task = progress.add_task("convert", total=total)
        yield lambda: progress.advance(task)
