"""``lakegate check NAME`` (exit 3 on a failed gate), ``check approve|reject|revoke``, ``ledger``,
``contract infer``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from lakegate.cli._common import JsonOpt, VerboseOpt, console, fail, print_json
from lakegate.config import Settings
from lakegate.errors import InputError, QualityGateError
from lakegate_server.cli._setup import server_command

__all__ = ["register"]

contract = typer.Typer(help="Data contracts.", no_args_is_help=True)
_STYLE = {"pass": "green", "warn": "yellow", "fail": "red", "skip": "dim"}


_DECISIONS = ("approve", "reject", "revoke")


def register(app: typer.Typer) -> None:
    app.command("check")(check)
    app.command("ledger")(ledger)
    app.add_typer(contract, name="contract")


def check(
    name: Annotated[
        str, typer.Argument(help="Dataset name, or approve / reject / revoke followed by the dataset name.")
    ],
    dataset: Annotated[
        str | None,
        typer.Argument(help="With approve / reject / revoke: the dataset name.", show_default=False),
    ] = None,
    version: Annotated[int | None, typer.Option(help="Version (default: latest).")] = None,
    reference: Annotated[int | None, typer.Option(help="Compare with this version instead.")] = None,
    reason: Annotated[
        str | None, typer.Option(help="With approve / reject / revoke: why (kept in the ledger).")
    ] = None,
    html: Annotated[Path | None, typer.Option("--html", help="Also write the HTML report here.")] = None,
    json_output: JsonOpt = False,
    verbose: VerboseOpt = False,
) -> None:
    """Run the quality gate on a dataset version (exit 3 when it fails).

    [bold]lakegate check approve NAME --version N --reason "..."[/bold] accepts a version the
    gate rejected; [bold]reject[/bold] blocks an accepted one; [bold]revoke[/bold] withdraws an
    approval. Who, when and why go into the ledger (`lakegate ledger`); reject and revoke list
    the models and prediction tables the version fed.
    """
    config = server_command("cli", verbose=verbose)
    if name in _DECISIONS:
        _decide(config, name, dataset, version, reason, json_output=json_output)
        return
    if dataset is not None:
        raise InputError(f"unexpected argument {dataset!r}; did you mean `lakegate check approve {dataset}`?")
    from lakegate_server.flow import version_gate

    row = version_gate(config=config, dataset=name, number=version, reference=reference, actor="cli")
    if html is not None:
        from lakegate_server.quality.selectors import report_html

        html.write_text(report_html(config=config, report=row), encoding="utf-8")
    if json_output:
        print_json(row.report)
    else:
        _print_report(row.report, row.version.status)
    if row.status == "fail":
        raise QualityGateError(f"{name} version {row.version.number}: the quality gate failed")


def _decide(
    config: Settings,
    action: str,
    dataset: str | None,
    version: int | None,
    reason: str | None,
    *,
    json_output: bool,
) -> None:
    from lakegate_server.flow import version_approve, version_reject, version_revoke

    if dataset is None or version is None or not reason:
        raise fail(f'usage: lakegate check {action} NAME --version N --reason "why"', code=2)
    if action == "approve":
        approved = version_approve(config=config, dataset=dataset, number=version, reason=reason, actor="cli")
        if json_output:
            print_json(approved.summary())
            return
        console.print(f"{dataset} version {version} accepted by approval: {reason}")
        return
    withdraw = version_reject if action == "reject" else version_revoke
    result = withdraw(config=config, dataset=dataset, number=version, reason=reason, actor="cli")
    if json_output:
        print_json(result.to_dict())
        return
    verb = "rejected" if action == "reject" else "approval revoked"
    console.print(f"{dataset} version {version} {verb}; it is {result.version.status} now: {reason}")
    impact = result.impact.to_dict()
    for model in impact["models"]:
        console.print(f"  fed model {model['model']} v{model['version']} ({model['stage']})", highlight=False)
    for table in impact["prediction_tables"]:
        console.print(f"  fed predictions {table['output']} (by {table['model']} v{table['model_version']})")
    if not impact["models"] and not impact["prediction_tables"]:
        console.print("  it fed no model and no prediction table")


def ledger(
    dataset: Annotated[
        str | None, typer.Option("--dataset", "-d", help="Only this dataset's versions.")
    ] = None,
    model: Annotated[str | None, typer.Option("--model", "-m", help="Only this model's versions.")] = None,
    version: Annotated[int | None, typer.Option(help="With --dataset or --model: one version.")] = None,
    limit: Annotated[int, typer.Option(help="At most this many, newest first.")] = 200,
    json_output: JsonOpt = False,
    verbose: VerboseOpt = False,
) -> None:
    """Every decision about data and models, newest first: who, when, why, what it replaced."""
    server_command("cli", verbose=verbose)
    from lakegate_server.ledger.selectors import decisions_list

    items = [d.to_dict() for d in decisions_list(dataset=dataset, model=model, version=version, limit=limit)]
    if json_output:
        print_json({"items": items})
        return
    table = Table("#", "when", "subject", "decision", "outcome", "by", "why")
    for item in items:
        subject = item["subject"]
        table.add_row(
            str(item["id"]),
            item["created_at"].strftime("%Y-%m-%d %H:%M:%S"),
            f"{subject['kind']} {subject['name']} v{subject['version']}",
            item["action"] + (f" ({item['verdict']})" if item["verdict"] else ""),
            item["outcome"],
            item["actor"],
            item["reason"],
        )
    console.print(table)


def _print_report(report: dict[str, Any], status: str) -> None:
    verdict = report["status"]
    style = _STYLE.get(verdict, "white")
    reference = report.get("reference") or {}
    console.print(
        f"{report['dataset']} version {report['version']}: [{style}]{verdict}[/{style}] "
        f"(version {status}; reference {', '.join(reference.get('versions', [])) or 'none'})",
        highlight=False,
    )
    table = Table("check", "status", "findings")
    for result in report["checks"]:
        reasons = [f"{r.get('code')}: {r.get('message')}" for r in result.get("reasons", [])][:4]
        s = _STYLE.get(result["status"], "white")
        table.add_row(result["kind"], f"[{s}]{result['status']}[/{s}]", "\n".join(reasons))
    console.print(table)


@contract.command("infer")
def contract_infer_(
    name: Annotated[str, typer.Argument(help="Dataset name.")],
    version: Annotated[int | None, typer.Option(help="Version (default: the latest accepted).")] = None,
    out: Annotated[
        Path | None, typer.Option("--out", "-o", help="Write the YAML here (default: stdout).")
    ] = None,
    json_output: JsonOpt = False,
    verbose: VerboseOpt = False,
) -> None:
    """Write a starting contract (types, nullability, ranges, allowed values) from accepted data."""
    config = server_command("cli", verbose=verbose)
    from lakegate_server.quality.services import contract_infer

    text = contract_infer(config=config, dataset=name, number=version)
    if out is not None:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(text, encoding="utf-8")
    if json_output:
        import yaml

        print_json({"dataset": name, "path": str(out) if out else None, "contract": yaml.safe_load(text)})
    elif out is None:
        typer.echo(text, nl=False)
    else:
        console.print(f"Wrote the contract to {out}; set datasets.{name}.contract: {out} in lakegate.yaml")
