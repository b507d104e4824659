"""``lakegate up``, ``lakegate worker``, ``lakegate scheduler``."""

from __future__ import annotations

import os
import sys
from typing import Annotated

import typer

from lakegate.cli._common import VerboseOpt, console
from lakegate_server.cli._setup import server_command

__all__ = ["register"]

ParentPid = Annotated[int | None, typer.Option("--parent-pid", hidden=True)]


def register(app: typer.Typer) -> None:
    app.command("up")(up)
    app.command("worker")(worker)
    app.command("scheduler")(scheduler)
    app.command("migrate")(migrate)


def worker(
    concurrency: Annotated[int, typer.Option("--concurrency", "-c", min=1, help="Runs at once.")] = 1,
    parent_pid: ParentPid = None,
    verbose: VerboseOpt = False,
) -> None:
    """Execute queued runs. SIGTERM finishes the current runs, then exits."""
    config = server_command("worker", verbose=verbose)
    from lakegate_server.jobs.worker import watch_parent, worker_run
    from lakegate_server.startup import process_start

    process_start(config, role="worker")
    if parent_pid:
        watch_parent(parent_pid)
    worker_run(concurrency=concurrency)


def scheduler(parent_pid: ParentPid = None, verbose: VerboseOpt = False) -> None:
    """Re-queue runs of dead workers, resend lost queue messages (one per deployment is enough)."""
    config = server_command("scheduler", verbose=verbose)
    from lakegate_server.jobs.worker import watch_parent
    from lakegate_server.scheduler import scheduler_run
    from lakegate_server.startup import process_start

    process_start(config, role="scheduler")
    if parent_pid:
        watch_parent(parent_pid)
    scheduler_run()


def migrate(verbose: VerboseOpt = False) -> None:
    """Apply pending database migrations (safe when several hosts start at once: one migrates)."""
    server_command("cli", verbose=verbose, migrate=False)
    from lakegate_server._django import migrate_pending

    applied = migrate_pending()
    console.print(f"{len(applied)} migration(s) applied" if applied else "the database is up to date")


def up(
    host: Annotated[str | None, typer.Option(help="Address to listen on (default: web.host).")] = None,
    port: Annotated[int | None, typer.Option(help="Port (default: web.port).")] = None,
    workers: Annotated[int, typer.Option(min=0, help="Worker processes to start beside the web server.")] = 1,
    demo: Annotated[bool, typer.Option("--demo", help="Create a demo admin token and a first run.")] = False,
    verbose: VerboseOpt = False,
) -> None:
    """Run the web server, workers and the scheduler together; Ctrl-C stops all of them cleanly."""
    settings = server_command("web", verbose=verbose)
    from lakegate_server.metrics import multiprocess_dir_prepare
    from lakegate_server.startup import process_start
    from lakegate_server.supervisor import Supervisor, serve

    # Before anything counts: this process and its children share one metrics folder.
    multiprocess_dir_prepare(settings.paths.state)

    processes = settings.web.processes
    # With several web processes, each logs its own "web" start line; this one manages them.
    process_start(settings, role="web" if processes == 1 else "web-manager")
    host = host or settings.web.host
    port = port if port is not None else settings.web.port
    module = [sys.executable, "-m", "lakegate_server.cli"]
    extra = ["--parent-pid", str(os.getpid()), *(["--verbose"] if verbose else [])]
    commands = {f"worker-{i + 1}": [*module, "worker", *extra] for i in range(workers)}
    commands["scheduler"] = [*module, "scheduler", *extra]
    env = {**os.environ, "LAKEGATE_PROJECT_DIR": str(settings.project_dir)}
    supervisor = Supervisor(commands, env=env)

    url = f"http://{'127.0.0.1' if host in ('0.0.0.0', '::') else host}:{port}"  # noqa: S104
    console.print(f"[bold green]lakegate is up[/bold green] at [link={url}]{url}[/link]")
    console.print(f"  project:  {settings.project_dir}")
    console.print(f"  health:   {url}/healthz     API docs: {url}/api/v1/docs")
    if demo:
        _demo(console_url=url)
    else:
        console.print(
            "  API token: [bold]lakegate token create --role editor[/bold] (in this project folder)"
        )
    console.print("  Stop with Ctrl-C.")
    supervisor.start()
    try:
        serve(host=host, port=port, processes=processes, verbose=verbose)
    finally:
        supervisor.stop()
        console.print("lakegate stopped.")


def _demo(*, console_url: str) -> None:
    """Print a ready-to-use admin token and queue a selfcheck so the runs list is not empty."""
    from lakegate_server.demo import demo_prepare

    token, password = demo_prepare()
    console.print(f"  dashboard login: [bold]demo[/bold] / [bold]{password}[/bold]   ({console_url}/)")
    console.print(f"  demo admin token: [bold]{token}[/bold]")
    console.print(
        f"  try: curl -H 'Authorization: Bearer {token}' {console_url}/api/v1/runs", highlight=False
    )
