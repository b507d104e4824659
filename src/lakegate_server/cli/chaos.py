"""``lakegate chaos``: kill the real service at step boundaries and random moments, check what survives."""

from __future__ import annotations

import os
from typing import Annotated, Literal

import typer
from rich.table import Table

from lakegate.cli._common import JsonOpt, console, err_console, print_json

__all__ = ["register"]


def register(app: typer.Typer) -> None:
    app.command("chaos")(chaos)


def chaos(
    trials: Annotated[
        int, typer.Option("--trials", min=1, help="Trials (one kill each; a poison run: several).")
    ] = 14,
    seed: Annotated[int, typer.Option("--seed", help="Seed of the kill points and moments.")] = 0,
    backend: Annotated[
        Literal["embedded", "postgres"],
        typer.Option("--backend", help="SQLite + SQLite queue, or PostgreSQL."),
    ] = "embedded",
    database_url: Annotated[
        str | None,
        typer.Option(
            "--database-url",
            help="PostgreSQL server for --backend postgres (a fresh database is created there and dropped); "
            "default: LAKEGATE_CHAOS_DATABASE_URL or postgresql://postgres@127.0.0.1:5432/postgres.",
        ),
    ] = None,
    point: Annotated[
        list[str] | None,
        typer.Option("--point", help="Only this kill point (repeatable), e.g. worker@ingest; default: all."),
    ] = None,
    keep: Annotated[
        bool, typer.Option("--keep", help="Keep the scratch project folder (to read its logs).")
    ] = False,
    json_output: JsonOpt = False,
) -> None:
    """Kill the service's processes at step boundaries and random moments in a scratch project; check nothing is lost or duplicated (exit 1 on any violation).

    The worker, the web process mid-upload and mid-stream-push, the scheduler mid-reap and the
    whole `lakegate up`, each SIGKILLed; then the records are checked. Exits 1 when any
    invariant is violated, or when the session itself could not run.
    """  # noqa: E501 - the first line is the command's help line, as the CLI table declares it
    import signal

    from lakegate.errors import InputError
    from lakegate_server.chaos.engine import KILL_POINTS, chaos_run

    unknown = sorted(set(point or []) - set(KILL_POINTS))
    if unknown:
        raise InputError(f"--point {unknown[0]!r}: not a kill point (one of {', '.join(KILL_POINTS)})")

    def _stop(signum: int, _frame: object) -> None:
        raise SystemExit(128 + signum)  # unwinds: the scratch service is stopped, its folder removed

    signal.signal(signal.SIGTERM, _stop)

    url = (
        database_url
        or os.environ.get("LAKEGATE_CHAOS_DATABASE_URL")
        or "postgresql://postgres@127.0.0.1:5432/postgres"
    )
    say = (
        (lambda _line: None)
        if json_output
        else (lambda line: err_console.print(line, highlight=False, markup=False))
    )
    report = chaos_run(
        trials=trials,
        seed=seed,
        backend=backend,
        database_url=url,
        redis_url=os.environ.get("LAKEGATE_REDIS_URL") if backend == "postgres" else None,
        keep=keep,
        points=point,
        say=say,
    )
    if json_output:
        print_json(report.to_dict())
    else:
        table = Table(
            title=f"lakegate chaos: {len(report.trials)} trials, {report.backend}, seed {report.seed}"
        )
        table.add_column("kill point")
        table.add_column("trials", justify="right")
        table.add_column("kills", justify="right")
        table.add_column("violations", justify="right")
        for where, kills in report.kills_by_point().items():
            count = sum(1 for t in report.trials if t.point == where)
            bad = sum(len(t.violations) for t in report.trials if t.point == where)
            table.add_row(where, str(count), str(kills), f"[red]{bad}[/red]" if bad else "0")
        console.print(table)
        console.print(
            f"{report.files} files, {report.stream_records} acknowledged stream records, "
            f"{report.predict_answers} predict answers during worker kills, {report.seconds:.0f} s"
        )
        for trial in report.trials:
            for violation in trial.violations:
                console.print(
                    f"[red]trial {trial.number} {trial.point}[/red] {violation.invariant}: {violation.detail}"
                )
        if report.setup_error:
            console.print(f"[red]the chaos session stopped:[/red] {report.setup_error}")
    if not report.ok:
        raise typer.Exit(code=1)
