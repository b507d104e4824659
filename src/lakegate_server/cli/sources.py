"""``lakegate source list|run``, ``lakegate stream consume|flush|compact``, ``lakegate export``."""

from __future__ import annotations

import os
import signal
import socket
import threading
from dataclasses import asdict
from typing import Annotated, Any
from urllib.parse import urlsplit

import typer
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from lakegate.cli._common import JsonOpt, VerboseOpt, console, err_console, fail, print_json
from lakegate_server.cli._setup import server_command

__all__ = ["register"]

source = typer.Typer(help="REST/SQL/S3 sources declared in lakegate.yaml.", no_args_is_help=True)
stream = typer.Typer(
    help="Pushed records: consume brokers, flush batches, compact tables.", no_args_is_help=True
)


def register(app: typer.Typer) -> None:
    app.add_typer(source, name="source")
    app.add_typer(stream, name="stream")
    app.command("export")(export)


@source.command("list")
def source_list_cmd(json_output: JsonOpt = False, verbose: VerboseOpt = False) -> None:
    """List declared sources, their schedule and where each one stands."""
    config = server_command("cli", verbose=verbose)
    from lakegate_server.sources.selectors import source_list

    rows = source_list(config=config)
    if json_output:
        print_json({"items": [asdict(row) for row in rows]})
        return
    table = Table("source", "kind", "dataset", "schedule", "last run", "status", "state")
    for row in rows:
        last = row.last_run_at.isoformat(timespec="seconds") if row.last_run_at else "never"
        table.add_row(
            row.name,
            row.kind,
            row.dataset,
            row.schedule or "-",
            last,
            row.last_status or "-",
            ", ".join(f"{k}={v}" for k, v in row.state.items() if isinstance(v, str | int | float))[:60]
            or "-",
        )
    console.print(table)


@source.command("run")
def source_run_cmd(
    name: Annotated[str, typer.Argument(help="Source name (under `sources:` in lakegate.yaml).")],
    json_output: JsonOpt = False,
    verbose: VerboseOpt = False,
) -> None:
    """Fetch what is new in a source now: one dataset version per batch, resumable, then gated."""
    config = server_command("cli", verbose=verbose)
    from lakegate_server.flow import source_pull

    with Progress(
        TextColumn("{task.description}"),
        TimeElapsedColumn(),
        console=err_console,
        transient=True,
        disable=json_output,
    ) as progress:
        task = progress.add_task(f"fetching {name}")

        def log_fn(message: str, **fields: Any) -> None:
            label = fields.get("label") or fields.get("url") or ""
            progress.update(task, description=f"{name}: {message} {label}".strip())

        result = source_pull(config=config, name=name, actor="cli", log_fn=log_fn).to_dict()
    if json_output:
        print_json(result)
        return
    console.print(
        f"[bold]{name}[/bold] -> {result['dataset']}: {result['batches']} batch(es), "
        f"{result['new_versions']} new version(s), {result['duplicates']} duplicate(s), "
        f"{result['quarantined']} quarantined, {result['rows']} rows",
        highlight=False,
    )


@stream.command("consume")
def stream_consume(
    url: Annotated[str, typer.Argument(help="redis://host:6379/0 or mqtt://host:1883")],
    dataset: Annotated[str, typer.Option("--dataset", "-d", help="Dataset the records go to.")],
    key: Annotated[
        str, typer.Option("--stream", "--topic", help="Redis stream key, or MQTT topic (wildcards allowed).")
    ],
    group: Annotated[str, typer.Option(help="Redis consumer group / MQTT client id prefix.")] = "lakegate",
    max_messages: Annotated[int | None, typer.Option(help="Stop after this many messages.")] = None,
    verbose: VerboseOpt = False,
) -> None:
    """Consume a Redis stream or an MQTT topic into a dataset (acked only once on disk)."""
    settings = server_command("stream", verbose=verbose)
    from lakegate.streams import consume_mqtt, consume_redis
    from lakegate_server.streams.wal import stream_log_for

    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())
    log = stream_log_for(dataset)
    consumer = f"{socket.gethostname()}-{os.getpid()}"
    parts = urlsplit(url)
    err_console.print(f"consuming {url} {key} -> {dataset} (Ctrl-C stops)", highlight=False)
    try:
        if parts.scheme in {"redis", "rediss"}:
            stats = consume_redis(
                url, key, log, group=group, consumer=consumer, stop=stop, max_messages=max_messages
            )
        elif parts.scheme in {"mqtt", "tcp"}:
            stats = consume_mqtt(
                parts.hostname or "127.0.0.1",
                parts.port or 1883,
                key,
                log,
                client_id=f"{group}-{dataset}",
                username=parts.username,
                password=parts.password,
                stop=stop,
                max_messages=max_messages,
            )
        else:
            raise fail(f"{url}: use a redis:// or mqtt:// URL")
    finally:
        log.close()
    console.print(
        f"{stats.messages} messages, {stats.records} records, {stats.rejected} rejected "
        f"({settings.paths.streams / dataset}); the scheduler flushes them into versions",
        highlight=False,
    )


@stream.command("flush")
def stream_flush(
    dataset: Annotated[str | None, typer.Option("--dataset", "-d", help="Only this dataset.")] = None,
    json_output: JsonOpt = False,
    verbose: VerboseOpt = False,
) -> None:
    """Flush written-ahead records into dataset versions now (the scheduler does this every second)."""
    config = server_command("cli", verbose=verbose)
    from lakegate_server.flow import streams_flush

    flushed = streams_flush(config=config, dataset=dataset, actor="cli")
    if json_output:
        print_json({"flushed": flushed})
        return
    for item in flushed:
        if "compacted" in item:
            c = item["compacted"]
            console.print(f"{item['dataset']}: compacted {c['files_before']} -> {c['files_after']} files")
        elif "error" in item:
            err_console.print(
                f"{item['dataset']}: batch {item['batch']} quarantined: {item['error']['message']}"
            )
        else:
            console.print(
                f"{item['dataset']}: {item['records']} records -> v{item['version']} ({item['status']})"
            )
    if not flushed:
        console.print("nothing to flush")


@stream.command("compact")
def stream_compact_cmd(
    dataset: Annotated[str, typer.Argument(help="Dataset whose small files to merge.")],
    json_output: JsonOpt = False,
    verbose: VerboseOpt = False,
) -> None:
    """Merge a dataset table's small files (same rows, fewer files; older versions keep theirs)."""
    config = server_command("cli", verbose=verbose)
    from lakegate_server.streams.services import stream_compact

    record = stream_compact(config=config, dataset=dataset, created_by="cli")
    result = record.to_dict() if record else {"dataset": dataset, "compacted": False}
    if json_output:
        print_json(result)
    elif record is None:
        console.print(f"{dataset}: nothing to compact")
    else:
        console.print(
            f"{dataset}: {record.files_before} -> {record.files_after} files in {record.seconds:.2f} s"
        )


def export(
    dataset: Annotated[str, typer.Argument(help="Dataset to export (its latest accepted version).")],
    to: Annotated[
        str,
        typer.Option(
            "--to",
            help="postgresql://... (its host must pass outbound: in lakegate.yaml), env:VAR listed in "
            "exports.allowed_env, or dlt:<destination>.",
        ),
    ],
    table: Annotated[str, typer.Option("--table", help="Target table.")],
    mode: Annotated[str, typer.Option(help="append, replace or merge.")] = "append",
    key: Annotated[
        list[str] | None, typer.Option("--key", help="Merge key column (repeat for several).")
    ] = None,
    schema: Annotated[str | None, typer.Option("--schema", help="Target schema.")] = None,
    version: Annotated[int | None, typer.Option("--version", help="An accepted version number.")] = None,
    batch: Annotated[bool, typer.Option("--batch", help="Only the rows that version added.")] = False,
    json_output: JsonOpt = False,
    verbose: VerboseOpt = False,
) -> None:
    """Export a checked dataset version to a warehouse table (PostgreSQL COPY, or a dlt destination)."""
    config = server_command("cli", verbose=verbose)
    from lakegate_server.exports.services import Mode, dataset_export

    modes: dict[str, Mode] = {"append": "append", "replace": "replace", "merge": "merge"}
    if mode not in modes:
        raise fail(f"--mode {mode!r}: use append, replace or merge")
    with Progress(
        TextColumn("exporting {task.fields[dataset]}"),
        BarColumn(),
        TextColumn("{task.completed:,} rows"),
        TimeElapsedColumn(),
        console=err_console,
        transient=True,
        disable=json_output,
    ) as progress:
        task = progress.add_task("export", total=None, dataset=dataset)
        record = dataset_export(
            config=config,
            dataset=dataset,
            to=to,
            table=table,
            mode=modes[mode],
            key=key or None,
            schema=schema,
            number=version,
            scope="batch" if batch else "table",
            created_by="cli",
            progress=lambda rows: progress.update(task, completed=rows),
        )
    if json_output:
        print_json(record.to_dict())
        return
    console.print(
        f"{dataset} v{record.number} -> {record.destination} {record.table} ({record.mode}): "
        f"{record.rows:,} rows in {record.seconds:.2f} s",
        highlight=False,
    )
