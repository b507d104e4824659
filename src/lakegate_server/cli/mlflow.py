"""``lakegate models export --to mlflow`` and ``lakegate models import --from mlflow`` (registered
on the ``models`` group in :mod:`lakegate_server.cli.training`)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markup import escape

from lakegate.cli._common import JsonOpt, VerboseOpt, console, print_json
from lakegate_server.cli._setup import server_command

__all__ = ["models_export", "models_import"]

ModelName = Annotated[str, typer.Argument(help="Model name (= its pipeline's name).")]


def models_export(
    name: ModelName,
    version: Annotated[int, typer.Option(help="Version to export.")],
    to: Annotated[str, typer.Option("--to", help="Format: mlflow (an MLflow pyfunc model).")],
    out: Annotated[Path, typer.Option("--out", "-o", help="Folder to write (must not exist).")],
    tracking_uri: Annotated[
        str | None, typer.Option("--tracking-uri", help="Also register it with this MLflow tracking server.")
    ] = None,
    registered_name: Annotated[
        str | None, typer.Option("--registered-name", help="MLflow model name (default: NAME).")
    ] = None,
    json_output: JsonOpt = False,
    verbose: VerboseOpt = False,
) -> None:
    """Write a version as an MLflow model (pyfunc, signature, example); --tracking-uri registers it."""
    config = server_command("cli", verbose=verbose)
    from lakegate.errors import InputError
    from lakegate.models._mlflow import export_mlflow, register_mlflow, require_mlflow
    from lakegate_server.training.selectors import model_version_get, version_artifact_dir

    if to != "mlflow":
        raise InputError(f"--to {to!r}: only mlflow is written")
    if tracking_uri:
        require_mlflow()  # before writing anything
    found = model_version_get(name=name, number=version)
    meta = found.to_dict()
    written = export_mlflow(version_artifact_dir(config, found), found.sha256, out, meta=meta)
    result: dict[str, Any] = {"name": name, "version": version, **written}
    if tracking_uri:
        result["mlflow"] = register_mlflow(out, tracking_uri, meta=meta, name=registered_name)
    if json_output:
        print_json(result)
        return
    console.print(f"Wrote {escape(str(out))} (MLflow pyfunc model of {name} v{version})", highlight=False)
    if "mlflow" in result:
        reg = result["mlflow"]
        console.print(
            f"Registered as {reg['name']} version {reg['version']} at {tracking_uri}", highlight=False
        )


def models_import(
    source: Annotated[
        str, typer.Argument(help="An MLflow model directory, or models:/NAME/VERSION with --tracking-uri.")
    ],
    from_: Annotated[str, typer.Option("--from", help="Format: mlflow.")] = "mlflow",
    name: Annotated[str | None, typer.Option(help="lakegate model name (default: the model's own).")] = None,
    tracking_uri: Annotated[
        str | None, typer.Option("--tracking-uri", help="MLflow tracking server to download SOURCE from.")
    ] = None,
    json_output: JsonOpt = False,
    verbose: VerboseOpt = False,
) -> None:
    """Register an MLflow model holding a lakegate model (verified, never unpickled) as a candidate."""
    import tempfile

    config = server_command("cli", verbose=verbose)
    from lakegate.errors import InputError
    from lakegate.models._mlflow import download_mlflow, read_mlflow_model
    from lakegate_server.training.registry import model_version_import

    if from_ != "mlflow":
        raise InputError(f"--from {from_!r}: only mlflow is read")
    with tempfile.TemporaryDirectory(prefix="lakegate-mlflow-") as scratch:
        path = download_mlflow(source, tracking_uri, Path(scratch)) if tracking_uri else Path(source)
        imported = read_mlflow_model(path)
        target = name or imported.manifest.pipeline
        done = model_version_import(
            config=config, name=target, imported=imported, source=source, created_by="cli"
        )
    version = done.version
    if json_output:
        print_json({**version.to_dict(), "created": done.created})
        return
    verb = "Imported" if done.created else "Already registered:"
    console.print(
        f"{verb} {escape(source)} as {target} v{version.number} (candidate; sha256 {version.sha256[:12]})",
        highlight=False,
    )
