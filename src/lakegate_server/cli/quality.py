"""``lakegate check NAME`` (exit 3 on a failed gate), ``check approve``, ``contract infer``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from lakegate.cli._common import JsonOpt, VerboseOpt, console, fail, print_json
from lakegate.errors import InputError, QualityGateError
from lakegate_server.cli._setup import server_command

__all__ = ["register"]

contract = typer.Typer(help="Data contracts.", no_args_is_help=True)
_STYLE = {"pass": "green", "warn": "yellow", "fail": "red", "skip": "dim"}


def register(app: typer.Typer) -> None:
    app.command("check")(check)
    app.add_typer(contract, name="contract")


def check(
    name: Annotated[str, typer.Argument(help="Dataset name, or `approve` followed by the dataset name.")],
    dataset: Annotated[
        str | None, typer.Argument(help="With `approve`: the dataset name.", show_default=False)
    ] = None,
    version: Annotated[int | None, typer.Option(help="Version (default: latest).")] = None,
    reference: Annotated[int | None, typer.Option(help="Compare with this version instead.")] = None,
    reason: Annotated[str | None, typer.Option(help="With `approve`: why this version is accepted.")] = None,
    html: Annotated[Path | None, typer.Option("--html", help="Also write the HTML report here.")] = None,
    json_output: JsonOpt = False,
    verbose: VerboseOpt = False,
) -> None:
    """Run the quality gate on a dataset version (exit 3 when it fails).

    [bold]lakegate check approve NAME --version N --reason "..."[/bold] accepts a version the
    gate rejected (editors; who, when and why are recorded).
    """
    server_command("cli", verbose=verbose)
    if name == "approve":
        _approve(dataset, version, reason, json_output=json_output)
        return
    if dataset is not None:
        raise InputError(f"unexpected argument {dataset!r}; did you mean `lakegate check approve {dataset}`?")
    from lakegate_server.quality.services import version_check

    row = version_check(dataset=name, number=version, reference=reference, created_by="cli")
    if html is not None:
        html.write_text(Path(row.html_path).read_text(encoding="utf-8"), encoding="utf-8")
    if json_output:
        print_json(row.report)
    else:
        _print_report(row.report, row.version.status)
    if row.status == "fail":
        raise QualityGateError(f"{name} version {row.version.number}: the quality gate failed")


def _approve(dataset: str | None, version: int | None, reason: str | None, *, json_output: bool) -> None:
    from lakegate_server.quality.services import version_approve

    if dataset is None or version is None or not reason:
        raise fail('usage: lakegate check approve NAME --version N --reason "why"', code=2)
    approved = version_approve(dataset=dataset, number=version, reason=reason, by="cli")
    if json_output:
        print_json(approved.summary())
        return
    console.print(f"{dataset} version {version} accepted by approval: {reason}")


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
    server_command("cli", verbose=verbose)
    from lakegate_server.quality.services import contract_infer

    text = contract_infer(dataset=name, number=version)
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
