"""``lakegate ingest``, ``lakegate datasets list|show|history|export``, ``quarantine``, ``stats``."""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.progress import Progress
from rich.table import Table

from lakegate.cli._common import JsonOpt, VerboseOpt, console, err_console, fail, print_json
from lakegate.errors import LakegateError
from lakegate_server.cli._setup import server_command

__all__ = ["register"]

datasets = typer.Typer(help="Datasets in the lake: list, show, history, export.", no_args_is_help=True)
quarantine = typer.Typer(
    help="Files that could not be ingested, kept with their reason.", no_args_is_help=True
)

DatasetName = Annotated[str, typer.Argument(help="Dataset name.")]


def register(app: typer.Typer) -> None:
    app.command("ingest")(ingest)
    app.command("stats")(stats)
    app.add_typer(datasets, name="datasets")
    app.add_typer(quarantine, name="quarantine")


def _size(n: float) -> str:
    for unit in ("B", "KB", "MB", "GB", "TB"):
        if abs(n) < 1024 or unit == "TB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n:.1f} TB"  # pragma: no cover


def ingest(
    sources: Annotated[list[Path], typer.Argument(help="Files to ingest, each a new version.")],
    dataset: Annotated[str, typer.Option("--dataset", "-d", help="Dataset name (created on first ingest).")],
    mode: Annotated[str, typer.Option(help="append or overwrite.")] = "append",
    evolve: Annotated[bool, typer.Option("--evolve", help="Widen column types on a conflict.")] = False,
    sheet: Annotated[str | None, typer.Option(help="Sheet or table to take from a workbook/PDF.")] = None,
    json_output: JsonOpt = False,
    verbose: VerboseOpt = False,
) -> None:
    """Ingest files into a dataset: one new version each, duplicates skipped, bad files quarantined."""
    config = server_command("cli", verbose=verbose)
    from lakegate_server.flow import ingest_file

    results: list[dict[str, Any]] = []
    failures = rejected = 0
    with Progress(console=err_console, transient=True, disable=json_output or len(sources) < 2) as progress:
        task = progress.add_task("ingesting", total=len(sources))
        for source in sources:
            progress.update(task, description=f"ingesting {source.name}")
            try:
                outcome = ingest_file(
                    config=config,
                    dataset=dataset,
                    path=source,
                    mode=mode,
                    evolve=evolve,
                    sheet=sheet,
                    actor="cli",
                )
            except LakegateError as exc:
                failures += 1
                results.append({"source": str(source), "error": exc.to_dict()})
                if not json_output:
                    err_console.print(f"[bold red]error:[/bold red] {exc.message}", highlight=False)
            else:
                results.append({**outcome.to_dict(), "source": str(source)})
                rejected += outcome.version.status == "rejected" and not outcome.duplicate
                if not json_output:
                    _print_outcome(outcome.to_dict(), outcome.duplicate)
            progress.advance(task)
    if json_output:
        print_json({"dataset": dataset, "results": results})
    if failures:
        raise typer.Exit(code=1)
    if rejected:
        raise fail(
            f"the quality gate rejected {rejected} of the new versions (`lakegate check {dataset}`)", code=3
        )


_GATE = {"accepted": "green", "rejected": "red", "pending": "yellow"}


def _print_outcome(data: dict[str, Any], duplicate: bool) -> None:
    if duplicate:
        console.print(
            f"{data['source']}: [yellow]duplicate of version {data['version']}[/yellow]; nothing written"
        )
        return
    saved = data["bytes_in"] - data["bytes_out"]
    console.print(
        f"{data['source']}: [green]{data['dataset']} version {data['version']}[/green], "
        f"{data['rows']:,} rows, {_size(data['bytes_in'])} -> {_size(data['bytes_out'])} "
        f"(saved {_size(saved)}, {data['ratio']}x)",
        highlight=False,
    )
    if "check" in data:
        style = _GATE.get(data["status"], "white")
        console.print(f"  quality gate: {data['check']['status']} -> [{style}]{data['status']}[/{style}]")
    for column in data["added_columns"]:
        console.print(f"  new column: {column}")
    for column, family in data["widened_columns"].items():
        console.print(f"  widened: {column} -> {family}")
    for warning in data["warnings"]:
        err_console.print(f"  [yellow]warning:[/yellow] {warning}", highlight=False)


@datasets.command("list")
def list_(json_output: JsonOpt = False, verbose: VerboseOpt = False) -> None:
    """List datasets with their latest version."""
    server_command("cli", verbose=verbose)
    from lakegate_server.datasets.selectors import dataset_list

    rows = dataset_list()
    if json_output:
        print_json({"items": [asdict(row) for row in rows]})
        return
    table = Table("dataset", "versions", "rows", "columns", "updated")
    for row in rows:
        table.add_row(
            row.name,
            str(row.versions),
            f"{row.rows:,}",
            str(row.columns),
            row.updated_at.strftime("%Y-%m-%d %H:%M"),
        )
    console.print(table)


@datasets.command("show")
def show(
    name: DatasetName,
    version: Annotated[int | None, typer.Option(help="Version (default: latest).")] = None,
    json_output: JsonOpt = False,
    verbose: VerboseOpt = False,
) -> None:
    """Show a version: schema and column statistics."""
    server_command("cli", verbose=verbose)
    from lakegate_server.datasets.selectors import version_get

    found = version_get(name=name, number=version)
    summary = found.summary()
    if json_output:
        print_json({**summary, "table_schema": found.table_schema, "stats": found.stats})
        return
    console.print(
        f"[bold]{name}[/bold] version {found.number}: {found.total_rows:,} rows (this batch {found.rows:,})"
    )
    table = Table("column", "type", "null %", "distinct", "min", "max", "mean")
    for column, family in found.table_schema.items():
        stats = found.stats.get(column, {})
        table.add_row(
            column,
            family,
            str(stats.get("null_pct", "")),
            str(stats.get("distinct", "")),
            str(stats.get("min", ""))[:20],
            str(stats.get("max", ""))[:20],
            f"{stats['mean']:.4g}" if isinstance(stats.get("mean"), float) else "",
        )
    console.print(table)


@datasets.command("history")
def history(name: DatasetName, json_output: JsonOpt = False, verbose: VerboseOpt = False) -> None:
    """A dataset's versions, newest first."""
    server_command("cli", verbose=verbose)
    from lakegate_server.datasets.selectors import dataset_versions

    items = [v.summary() for v in dataset_versions(name=name)]
    if json_output:
        print_json({"dataset": name, "items": items})
        return
    table = Table("version", "created", "source", "mode", "rows", "total", "in", "out")
    for v in items:
        table.add_row(
            str(v["version"]),
            v["created_at"].strftime("%Y-%m-%d %H:%M:%S"),
            v["source"],
            v["mode"],
            f"{v['rows']:,}",
            f"{v['total_rows']:,}",
            _size(v["bytes_in"]),
            _size(v["bytes_out"]),
        )
    console.print(table)


@datasets.command("export")
def export(
    name: DatasetName,
    out: Annotated[Path, typer.Option("--out", "-o", help="Parquet file to write.")],
    version: Annotated[int | None, typer.Option(help="Version to export (default: latest).")] = None,
    json_output: JsonOpt = False,
    verbose: VerboseOpt = False,
) -> None:
    """Export a dataset as of a version to Parquet (time travel)."""
    config = server_command("cli", verbose=verbose)
    from lakegate_server.datasets.selectors import dataset_export

    found, rows = dataset_export(config=config, name=name, number=version, out=out)
    if json_output:
        print_json({"dataset": name, "version": found.number, "rows": rows, "path": str(out)})
        return
    console.print(f"Wrote {name} version {found.number} ({rows:,} rows) to {out}")


@quarantine.command("list")
def quarantine_list_(
    all_: Annotated[bool, typer.Option("--all", help="Include files ingested since.")] = False,
    json_output: JsonOpt = False,
    verbose: VerboseOpt = False,
) -> None:
    """Quarantined files with their reasons."""
    server_command("cli", verbose=verbose)
    from lakegate_server.datasets.selectors import quarantine_list

    items = [entry.to_dict() for entry in quarantine_list(include_resolved=all_)]
    if json_output:
        print_json({"items": items})
        return
    table = Table("id", "dataset", "file", "reason")
    for item in items:
        table.add_row(item["id"], item["dataset"], item["source"], item["reason"])
    console.print(table)


@quarantine.command("retry")
def quarantine_retry_(
    entry_id: Annotated[str, typer.Argument(help="Quarantine id (see `lakegate quarantine list`).")],
    evolve: Annotated[bool, typer.Option("--evolve", help="Widen column types on a conflict.")] = False,
    json_output: JsonOpt = False,
    verbose: VerboseOpt = False,
) -> None:
    """Ingest a quarantined file again."""
    config = server_command("cli", verbose=verbose)
    from lakegate_server.flow import quarantine_retry

    outcome = quarantine_retry(config=config, entry_id=entry_id, evolve=evolve, actor="cli")
    if json_output:
        print_json(outcome.to_dict())
        return
    _print_outcome(outcome.to_dict(), outcome.duplicate)


def stats(json_output: JsonOpt = False, verbose: VerboseOpt = False) -> None:
    """Savings: files ingested, rows, bytes in / out / saved, per dataset, per format and per day."""
    config = server_command("cli", verbose=verbose)
    from lakegate_server.datasets.selectors import savings_stats

    data = savings_stats(price_per_gb_month=config.price_per_gb_month)
    if json_output:
        print_json(data)
        return
    total = data["total"]
    console.print(
        f"{total['files']} files, {total['rows']:,} rows in {total['datasets']} datasets; "
        f"{_size(total['bytes_in'])} in -> {_size(total['bytes_out'])} stored "
        f"(saved {_size(total['bytes_saved'])}, {total['ratio']}x); {total['quarantined']} quarantined",
        highlight=False,
    )
    if not data["datasets"]:
        raise fail("no datasets yet; try `lakegate ingest FILE --dataset NAME`", code=0)
    for key, title in (("datasets", "dataset"), ("formats", "format")):
        table = Table(title=f"per {title}", title_justify="left")
        for column in (title, "files", "rows", "in", "stored", "saved", "ratio"):
            table.add_column(column, justify="left" if column == title else "right")
        for row in data[key]:
            table.add_row(
                row["dataset" if key == "datasets" else "format"],
                f"{row['files']:,}",
                f"{row['rows']:,}",
                _size(row["bytes_in"]),
                _size(row["bytes_out"]),
                _size(row["bytes_saved"]),
                f"{row['ratio']}x",
            )
        console.print(table)
    cost = data["cost"]
    console.print(
        f"at {cost['price_per_gb_month']} per GB-month: raw files {cost['raw_per_month']:.2f}, "
        f"lake {cost['stored_per_month']:.2f}, saved {cost['saved_per_month']:.2f} a month "
        "(set price_per_gb_month in lakegate.yaml)",
        highlight=False,
    )
