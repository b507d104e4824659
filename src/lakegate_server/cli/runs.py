"""``lakegate runs start|list|show|logs|cancel``."""

from __future__ import annotations

import json
import time
from typing import Annotated, Any

import typer
from rich.table import Table

from lakegate.cli._common import JsonOpt, VerboseOpt, console, err_console, fail, print_json
from lakegate.errors import InputError
from lakegate_server.cli._setup import server_command

__all__ = ["register"]

runs = typer.Typer(help="Runs: start jobs, follow them, read their logs.", no_args_is_help=True)

RunId = Annotated[int, typer.Argument(help="Run id (see `lakegate runs list`).")]
_STATUS_STYLE = {"succeeded": "green", "failed": "red", "cancelled": "yellow", "running": "cyan"}


def register(app: typer.Typer) -> None:
    app.add_typer(runs, name="runs")


def _parse_params(pairs: list[str]) -> dict[str, Any]:
    params: dict[str, Any] = {}
    for pair in pairs:
        key, sep, raw = pair.partition("=")
        if not sep or not key:
            raise InputError(f"--param {pair!r}: expected KEY=VALUE")
        try:
            params[key] = json.loads(raw)
        except json.JSONDecodeError:
            params[key] = raw  # plain strings need no JSON quoting
    return params


def _wait(run_id: int, timeout: float) -> Any:
    from lakegate_server.jobs.selectors import run_get

    deadline = time.monotonic() + timeout
    with err_console.status(f"run {run_id}: waiting") as status:
        while True:
            run = run_get(run_id=run_id)
            status.update(f"run {run_id}: {run.status} (attempt {run.attempts})")
            if run.is_finished:
                return run
            if time.monotonic() > deadline:
                raise fail(
                    f"run {run_id} still {run.status} after {timeout:g} s; is `lakegate worker` running?"
                )
            time.sleep(0.5)


def _show(run: Any, *, json_output: bool) -> None:
    data = run.to_dict()
    if json_output:
        print_json(data)
        return
    style = _STATUS_STYLE.get(run.status, "white")
    console.print(f"run [bold]{run.pk}[/bold] {run.kind}: [{style}]{run.status}[/{style}]")
    for key in ("attempts", "created_by", "created_at", "started_at", "finished_at", "worker", "last_error"):
        if data[key] not in (None, ""):
            console.print(f"  {key}: {data[key]}", highlight=False)
    if run.result is not None:
        console.print(f"  result: {json.dumps(run.result, default=str)}", highlight=False)


@runs.command("start")
def start(
    kind: Annotated[str, typer.Argument(help="Job kind, e.g. selfcheck.")],
    param: Annotated[
        list[str] | None,
        typer.Option("--param", "-p", help="KEY=VALUE (VALUE parsed as JSON when it can be)."),
    ] = None,
    wait: Annotated[bool, typer.Option("--wait", help="Wait until the run finishes.")] = False,
    timeout: Annotated[float, typer.Option(help="Seconds to wait with --wait.")] = 600.0,
    json_output: JsonOpt = False,
    verbose: VerboseOpt = False,
) -> None:
    """Queue a run of KIND; a running worker (`lakegate worker` or `lakegate up`) executes it."""
    server_command("cli", verbose=verbose)
    from lakegate_server.jobs.services import run_create

    run = run_create(kind=kind, params=_parse_params(param or []), created_by="cli")
    if wait:
        run = _wait(run.pk, timeout)
    _show(run, json_output=json_output)
    if wait and run.status != "succeeded":
        raise typer.Exit(code=1)


@runs.command("list")
def list_(
    status: Annotated[str | None, typer.Option(help="Only runs with this status.")] = None,
    kind: Annotated[str | None, typer.Option(help="Only runs of this kind.")] = None,
    limit: Annotated[int, typer.Option(min=1, max=1000)] = 20,
    json_output: JsonOpt = False,
    verbose: VerboseOpt = False,
) -> None:
    """List runs, newest first."""
    server_command("cli", verbose=verbose)
    from lakegate_server.jobs.selectors import run_list

    items = list(run_list(status=status, kind=kind, limit=limit))
    if json_output:
        print_json({"items": [run.to_dict() for run in items]})
        return
    table = Table("id", "kind", "status", "attempts", "created", "finished", "error")
    for run in items:
        style = _STATUS_STYLE.get(run.status, "white")
        table.add_row(
            str(run.pk),
            run.kind,
            f"[{style}]{run.status}[/{style}]",
            f"{run.attempts}/{run.max_attempts}",
            run.created_at.strftime("%Y-%m-%d %H:%M:%S"),
            run.finished_at.strftime("%H:%M:%S") if run.finished_at else "",
            (run.last_error or "")[:60],
        )
    console.print(table)


@runs.command("show")
def show(run_id: RunId, json_output: JsonOpt = False, verbose: VerboseOpt = False) -> None:
    """Show one run: status, attempts, worker, result or error."""
    server_command("cli", verbose=verbose)
    from lakegate_server.jobs.selectors import run_get

    _show(run_get(run_id=run_id), json_output=json_output)


@runs.command("logs")
def logs(
    run_id: RunId,
    follow: Annotated[bool, typer.Option("--follow", "-f", help="Keep printing until the run ends.")] = False,
    json_output: JsonOpt = False,
    verbose: VerboseOpt = False,
) -> None:
    """Print a run's log (JSON lines with --json)."""
    server_command("cli", verbose=verbose)
    from lakegate_server.jobs.selectors import run_get, run_log_read

    cursor = 0
    collected: list[dict[str, Any]] = []
    while True:
        # Look at the status before reading, so the last read happens after the run ended.
        finished = not follow or run_get(run_id=run_id).is_finished
        entries, cursor = run_log_read(run_id=run_id, after=cursor)
        if json_output:
            collected.extend(entries)
        for entry in [] if json_output else entries:
            extra = {
                k: v for k, v in entry.items() if k not in {"ts", "level", "logger", "msg", "run", "trace"}
            }
            tail = " ".join(f"{k}={v}" for k, v in extra.items())
            console.print(
                f"{entry['ts']} {entry['level']:<7} {entry['msg']} {tail}".rstrip(), highlight=False
            )
        if finished:
            break
        time.sleep(0.5)
    if json_output:
        print_json({"run": run_id, "entries": collected})


@runs.command("cancel")
def cancel(run_id: RunId, json_output: JsonOpt = False, verbose: VerboseOpt = False) -> None:
    """Cancel a queued or running run (a running job stops at its next checkpoint)."""
    server_command("cli", verbose=verbose)
    from lakegate_server.jobs.services import run_cancel

    _show(run_cancel(run_id=run_id, by="cli"), json_output=json_output)
