"""``lakegate run``, ``lakegate pipelines list``, ``lakegate models ...``, ``lakegate predict``."""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markup import escape
from rich.table import Table

from lakegate.cli._common import JsonOpt, VerboseOpt, console, fail, print_json
from lakegate_server.cli._setup import server_command
from lakegate_server.cli.mlflow import models_export, models_import
from lakegate_server.cli.runs import _show, _wait

__all__ = ["register"]

pipelines = typer.Typer(help="Pipelines declared in lakegate.yaml.", no_args_is_help=True)
models = typer.Typer(
    help="Registered models: versions, champions, promotion, rollback, audit, report.", no_args_is_help=True
)

ModelName = Annotated[str, typer.Argument(help="Model name (= its pipeline's name).")]
Reason = Annotated[str, typer.Option("--reason", "-r", help="Why (kept in the audit log).")]
_STAGE_STYLE = {"champion": "green", "candidate": "cyan", "archived": "dim"}


def register(app: typer.Typer) -> None:
    app.command("run")(run)
    app.command("predict")(predict)
    app.add_typer(pipelines, name="pipelines")
    app.add_typer(models, name="models")


def _metrics(metrics: dict[str, Any]) -> str:
    return ", ".join(f"{k} {v:.4g}" if isinstance(v, int | float) else f"{k} -" for k, v in metrics.items())


def run(
    pipeline: Annotated[str, typer.Argument(help="Pipeline name (see `lakegate pipelines list`).")],
    wait: Annotated[bool, typer.Option("--wait", help="Wait until the run finishes.")] = False,
    timeout: Annotated[float, typer.Option(help="Seconds to wait with --wait.")] = 1800.0,
    json_output: JsonOpt = False,
    verbose: VerboseOpt = False,
) -> None:
    """Train PIPELINE on its accepted data now (a worker runs it; --wait follows it)."""
    config = server_command("cli", verbose=verbose)
    from lakegate_server.training.services import pipeline_run_create

    queued = pipeline_run_create(config=config, name=pipeline, created_by="cli")
    finished = _wait(queued.pk, timeout) if wait else queued
    _show(finished, json_output=json_output)
    if wait and finished.status != "succeeded":
        raise typer.Exit(code=1)


@pipelines.command("list")
def pipelines_list(json_output: JsonOpt = False, verbose: VerboseOpt = False) -> None:
    """Pipelines of this environment with their champion and last run."""
    settings = server_command("cli", verbose=verbose)
    from lakegate_server.training.selectors import pipeline_list

    rows = pipeline_list(config=settings)
    if json_output:
        print_json({"env": settings.env, "items": [asdict(row) for row in rows]})
        return
    if not rows:
        console.print(f"no pipelines in {settings.paths.config_file} (env {settings.env})")
        return
    table = Table("pipeline", "inputs", "model", "triggers", "champion", "last run")
    for row in rows:
        triggers = ", ".join(next(iter(t)) if len(t) == 1 else "cron" for t in row.triggers)
        last = f"{row.last_run} {row.last_run_status}" if row.last_run else ""
        champion = f"v{row.champion_version}" if row.champion_version else ""
        table.add_row(
            row.name,
            ", ".join(row.inputs),
            f"{row.task} {row.algorithm.rpartition('.')[2]}",
            triggers,
            champion,
            last,
        )
    console.print(table)


@pipelines.command("notify")
def pipelines_notify(
    pipeline: Annotated[str, typer.Argument(help="A pipeline with `notifications:` channels.")],
    json_output: JsonOpt = False,
    verbose: VerboseOpt = False,
) -> None:
    """Send a test notification to PIPELINE's channels (exit 1 when one is not delivered)."""
    settings = server_command("cli", verbose=verbose)
    from lakegate.notify import Notification
    from lakegate_server.training.notifications import pipeline_notify
    from lakegate_server.training.selectors import pipeline_get

    spec = pipeline_get(config=settings, name=pipeline)
    if not spec.notifications:
        raise fail(f"pipeline {pipeline!r} has no notifications: channels in {settings.paths.config_file}")
    outcome = pipeline_notify(
        settings,
        spec,
        Notification(
            event="test",
            title=f"{spec.name}: test notification",
            text=f"Sent by `lakegate pipelines notify {spec.name}` (env {settings.env}).",
            pipeline=spec.name,
        ),
    )
    if json_output:
        print_json({"pipeline": spec.name, "channels": outcome})
    else:
        for name, error in outcome.items():
            status = "delivered" if error is None else f"[red]not delivered[/red]: {escape(error)}"
            console.print(f"{escape(name)}: {status}")
    if any(error is not None for error in outcome.values()):
        raise typer.Exit(code=1)


@models.command("list")
def models_list(json_output: JsonOpt = False, verbose: VerboseOpt = False) -> None:
    """Registered models with their champion."""
    server_command("cli", verbose=verbose)
    from lakegate_server.training.selectors import model_list

    rows = model_list()
    if json_output:
        print_json({"items": [asdict(row) for row in rows]})
        return
    table = Table("model", "versions", "champion", "champion metrics", "algorithm", "updated")
    for row in rows:
        table.add_row(
            row.name,
            str(row.versions),
            f"v{row.champion_version}" if row.champion_version else "-",
            _metrics(row.champion_metrics),
            row.algorithm.rpartition(".")[2],
            row.updated_at.strftime("%Y-%m-%d %H:%M"),
        )
    console.print(table)


@models.command("show")
def models_show(
    name: ModelName,
    version: Annotated[int | None, typer.Option(help="One version in full (default: all versions).")] = None,
    json_output: JsonOpt = False,
    verbose: VerboseOpt = False,
) -> None:
    """A model's versions, or one version: metrics, robustness, lineage, decision."""
    server_command("cli", verbose=verbose)
    from lakegate_server.training.selectors import model_version_get, model_versions

    if version is not None:
        found = model_version_get(name=name, number=version)
        data = found.to_dict()
        if json_output:
            print_json(data)
            return
        _print_version(data)
        return
    items = [v.summary() for v in model_versions(name=name)]
    if json_output:
        print_json({"name": name, "items": items})
        return
    table = Table("version", "stage", "metrics", "robustness", "run", "created")
    for item in items:
        style = _STAGE_STYLE.get(item["stage"], "white")
        table.add_row(
            f"v{item['version']}",
            f"[{style}]{item['stage']}[/{style}]",
            _metrics(item["metrics"]),
            _metrics(item["robustness"]),
            str(item["run"] or ""),
            item["created_at"].strftime("%Y-%m-%d %H:%M:%S"),
        )
    console.print(table)


def _print_version(data: dict[str, Any]) -> None:
    style = _STAGE_STYLE.get(data["stage"], "white")
    console.print(
        f"[bold]{data['name']}[/bold] v{data['version']}: [{style}]{data['stage']}[/{style}] "
        f"{data['algorithm']} ({data['task']}), sha256 {data['sha256'][:12]}",
        highlight=False,
    )
    console.print(f"  metrics: {_metrics(data['metrics'])}", highlight=False)
    console.print(f"  robustness: {_metrics(data['robustness'].get('summary', {}))}", highlight=False)
    for item in data["lineage"]:
        versions = ", ".join(f"v{n}" for n in item["versions"])
        console.print(f"  trained on {item['dataset']} {versions} ({item['rows']:,} rows)", highlight=False)
    if data["decision"]:
        console.print(f"  decision: {data['decision'].get('reason', '')}", highlight=False)
    console.print(f"  card: {data['card_path']}", highlight=False)


@models.command("report")
def models_report(
    name: ModelName,
    version: Annotated[int | None, typer.Option(help="Version to report (default: the latest).")] = None,
    format_: Annotated[str, typer.Option("--format", help="markdown (a pull-request comment).")] = "markdown",
    out: Annotated[Path, typer.Option("--out", "-o", help="Folder for report.md and its SVG charts.")] = Path(
        "model-report"
    ),
    json_output: JsonOpt = False,
    verbose: VerboseOpt = False,
) -> None:
    """A version against the champion, as a pull-request comment: metrics, robustness, data, charts."""
    server_command("cli", verbose=verbose)
    from lakegate.errors import InputError
    from lakegate.models._pr_report import write_pr_report
    from lakegate_server.training.selectors import model_champion, model_version_get, model_versions

    if format_ != "markdown":
        raise InputError(f"--format {format_!r}: only markdown is written")
    if version is None:
        latest = model_versions(name=name).order_by("-number").first()
        if latest is None:
            raise fail(f"model {name!r} has no versions yet")
        version = latest.number
    found = model_version_get(name=name, number=version)
    champion = model_champion(name=name)
    report = write_pr_report(found.to_dict(), champion.to_dict() if champion else None, out)
    if json_output:
        print_json({"name": name, "version": version, **report.to_dict()})
        return
    console.print(f"Wrote {report.markdown} and {len(report.charts)} charts", highlight=False)


def _stage_change(verb: str, version: Any, json_output: bool) -> None:
    if json_output:
        print_json(version.to_dict())
        return
    console.print(f"[green]{version.model.name} v{version.number} {verb}[/green]; it is now the champion")


models.command("export")(models_export)  # MLflow: cli/mlflow.py
models.command("import")(models_import)


@models.command("promote")
def models_promote(
    name: ModelName,
    version: Annotated[int, typer.Argument(help="Version to make champion.")],
    reason: Reason,
    override: Annotated[
        bool,
        typer.Option(
            "--override", help="Promote although its training data was rejected or revoked since (recorded)."
        ),
    ] = False,
    json_output: JsonOpt = False,
    verbose: VerboseOpt = False,
) -> None:
    """Make VERSION the champion by hand (the old champion is archived)."""
    config = server_command("cli", verbose=verbose)
    from lakegate_server.training.promotion import model_promote

    promoted = model_promote(
        config=config, name=name, number=version, reason=reason, actor="cli", override=override
    )
    _stage_change("promoted", promoted, json_output)


@models.command("rollback")
def models_rollback(
    name: ModelName,
    reason: Reason,
    version: Annotated[
        int | None, typer.Option(help="Former champion to restore (default: the one before the current).")
    ] = None,
    json_output: JsonOpt = False,
    verbose: VerboseOpt = False,
) -> None:
    """Restore a former champion."""
    config = server_command("cli", verbose=verbose)
    from lakegate_server.training.promotion import model_rollback

    restored = model_rollback(config=config, name=name, number=version, reason=reason, actor="cli")
    _stage_change("restored", restored, json_output)


@models.command("audit")
def models_audit(name: ModelName, json_output: JsonOpt = False, verbose: VerboseOpt = False) -> None:
    """Every stage change of a model, newest first: who, when, why, what was compared."""
    server_command("cli", verbose=verbose)
    from lakegate_server.training.selectors import model_audit

    items = [change.to_dict() for change in model_audit(name=name)]
    if json_output:
        print_json({"name": name, "items": items})
        return
    table = Table("when", "version", "change", "by", "why")
    for item in items:
        table.add_row(
            item["created_at"].strftime("%Y-%m-%d %H:%M:%S"),
            f"v{item['version']}",
            f"{item['from_stage'] or '-'} -> {item['to_stage']}",
            item["actor"],
            item["reason"],
        )
    console.print(table)


@models.command("drift")
def models_drift(
    name: ModelName,
    all_versions: Annotated[
        bool, typer.Option("--all", help="Compare every recorded batch, not only the new ones.")
    ] = False,
    wait: Annotated[
        bool, typer.Option("--wait/--no-wait", help="Wait for the run (a worker runs it).")
    ] = True,
    last: Annotated[bool, typer.Option("--last", help="Show the latest report; start nothing.")] = False,
    timeout: Annotated[float, typer.Option(help="Seconds to wait.")] = 600.0,
    html: Annotated[Path | None, typer.Option("--html", help="Also write the HTML report here.")] = None,
    json_output: JsonOpt = False,
    verbose: VerboseOpt = False,
) -> None:
    """Compare the champion's recent online predictions with its training data (exit 3 on fail).

    Reads only the batches recorded since the last check, and the training data's stored
    profiles (never the training table). The report is the quality gate's (JSON, HTML).
    """
    import json

    from lakegate.errors import QualityGateError

    config = server_command("cli", verbose=verbose)
    from lakegate_server.training.monitoring import (
        scoring_drift_last,
        scoring_drift_queue,
        scoring_drift_report,
    )

    if not last:
        queued = scoring_drift_queue(name=name, all_versions=all_versions, created_by="cli")
        if not wait:
            _show(queued, json_output=json_output)
            return
        finished = _wait(queued.pk, timeout)
        if finished.status != "succeeded":
            _show(finished, json_output=json_output)
            raise typer.Exit(code=1)
        result = finished.result or {}
    else:
        run = scoring_drift_last(name=name)
        result = (run.result or {}) if run is not None else {}
    report = (
        json.loads(scoring_drift_report(config=config, name=name))
        if result.get("report_json") or last
        else None
    )
    if html is not None and report is not None:
        html.write_bytes(scoring_drift_report(config=config, name=name, page="html"))
    if json_output:
        print_json(report if report is not None else result)
    elif report is None:
        console.print(f"{name}: no new online predictions since the last check", highlight=False)
    else:
        drifted = ", ".join(result.get("drifted") or []) or "none"
        console.print(
            f"{name} v{result.get('model_version')}: scoring drift [bold]{report['status']}[/bold] over "
            f"{result.get('rows', 0):,} predictions (batches {result.get('versions')}); drifted: {drifted}",
            highlight=False,
        )
    if report is not None and report["status"] == "fail":
        raise QualityGateError(f"{name}: scoring drift failed")


@models.command("performance")
def models_performance(
    name: ModelName,
    wait: Annotated[
        bool, typer.Option("--wait/--no-wait", help="Wait for the run (a worker runs it).")
    ] = True,
    last: Annotated[bool, typer.Option("--last", help="Show the latest result; start nothing.")] = False,
    timeout: Annotated[float, typer.Option(help="Seconds to wait.")] = 600.0,
    json_output: JsonOpt = False,
    verbose: VerboseOpt = False,
) -> None:
    """The champion's rolling metrics over its labelled online predictions (pipeline `performance:`)."""
    config = server_command("cli", verbose=verbose)
    from lakegate_server.jobs.services import run_create
    from lakegate_server.training.monitoring import performance_last
    from lakegate_server.training.selectors import pipeline_get

    if pipeline_get(config=config, name=name).performance is None:
        raise fail(f"pipeline {name!r} has no performance: section in lakegate.yaml")
    if last:
        result = performance_last(name=name)
        if result is None:
            raise fail(
                f"model {name!r} has no performance result yet; run `lakegate models performance {name}`"
            )
    else:
        queued = run_create(kind="performance", params={"model": name}, created_by="cli")
        if not wait:
            _show(queued, json_output=json_output)
            return
        finished = _wait(queued.pk, timeout)
        if finished.status != "succeeded":
            _show(finished, json_output=json_output)
            raise typer.Exit(code=1)
        result = finished.result or {}
    if json_output:
        print_json(result)
        return
    latest = _metrics(result.get("latest") or {}) or "no labelled predictions yet"
    console.print(
        f"{name} v{result.get('model_version')}: last {result.get('window'):,} of "
        f"{result.get('labelled', 0):,} labelled predictions: {latest}",
        highlight=False,
    )
    if result.get("rule"):
        console.print(
            f"  rule {result['rule']}: {'holds' if result.get('fired') else 'does not hold'} "
            f"{', '.join(result.get('actions') or [])}",
            highlight=False,
        )


def predict(
    model: Annotated[str, typer.Argument(help="Model name; its champion scores the file.")],
    source: Annotated[Path, typer.Argument(help="File to score (any format lakegate reads).")],
    out: Annotated[Path, typer.Option("--out", "-o", help="Parquet file to write.")],
    version: Annotated[int | None, typer.Option(help="Score with this version, not the champion.")] = None,
    sheet: Annotated[str | None, typer.Option(help="Sheet or table to take from a workbook/PDF.")] = None,
    json_output: JsonOpt = False,
    verbose: VerboseOpt = False,
) -> None:
    """Score FILE with MODEL's champion into a Parquet file (written atomically, recorded)."""
    config = server_command("cli", verbose=verbose)
    from lakegate_server.training.predictions import predictions_to_file

    batch = predictions_to_file(
        config=config, name=model, source=source, out=out, number=version, sheet=sheet, created_by="cli"
    )
    if json_output:
        print_json(batch.to_dict())
        return
    console.print(
        f"Wrote {batch.rows:,} predictions of {model} v{batch.version.number} to {out} "
        f"({batch.seconds:.2f} s)",
        highlight=False,
    )
