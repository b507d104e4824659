"""The quality gate in the service: check a dataset version, record the verdict, approve.

A version is checked against its reference's stored profiles (and samples), never the
reference data. The verdict decides ``DatasetVersion.status``: pass and warn accept it;
fail rejects it (policy ``fail``, the default) or accepts it with a warning (policy
``warn``). An editor's approval accepts a version whatever the verdict, and is kept.
An accepted version starts the pipelines it triggers; a failed gate notifies their channels.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from lakegate.errors import ConflictError, InputError, NotFoundError
from lakegate_server.datasets.models import DatasetVersion, VersionStatus
from lakegate_server.datasets.selectors import version_accepted, version_get
from lakegate_server.quality.models import CheckReport
from lakegate_server.sources.exports import export_runs_for_accepted_version
from lakegate_server.training.services import (
    pipeline_runs_for_accepted_version,
    pipelines_gate_failed_notify,
)

__all__ = ["contract_infer", "sample_path", "sample_store", "version_approve", "version_check"]

log = logging.getLogger("lakegate.quality")
SAMPLE_ROWS = 5000


def sample_path(version: DatasetVersion) -> Path:
    """Where the bounded row sample of a version lives (for anomaly and text-drift checks)."""
    return (
        settings.LAKEGATE.paths.artifacts
        / "datasets"
        / version.dataset.name
        / f"v{version.number}-sample.parquet"
    )


def sample_store(version: DatasetVersion, parquet: Path) -> Path:
    """Keep a deterministic sample of the batch in ``parquet`` beside the version's profile."""
    import polars as pl

    from lakegate.checks import reference_sample

    target = sample_path(version)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_suffix(".tmp")
    reference_sample(pl.scan_parquet(parquet), SAMPLE_ROWS, seed=0).write_parquet(tmp)
    tmp.replace(target)
    return target


def _references(version: DatasetVersion, pinned: int | None) -> list[DatasetVersion]:
    name = version.dataset.name
    config = settings.LAKEGATE.dataset(name).reference
    if pinned is None and config.isdigit():
        pinned = int(config)
    if pinned is not None:
        if pinned == version.number:
            raise InputError(f"version {pinned} cannot be its own reference; pick an earlier one")
        try:
            return [version_get(name=name, number=pinned)]
        except NotFoundError as exc:
            raise NotFoundError(
                f"dataset {name!r} has no version {pinned} to compare with; pick one from "
                f"`lakegate datasets history {name}` or set datasets.{name}.reference in lakegate.yaml"
            ) from exc
    window = int(config.split(":", 1)[1]) if config.startswith("window:") else 1
    return list(reversed(version_accepted(name=name, before=version.number, limit=window)))


def _checks(name: str) -> Any:
    from lakegate.checks import default_checks, load_checks

    config = settings.LAKEGATE.dataset(name)
    if config.checks is not None:
        return load_checks(config.checks, filename=f"lakegate.yaml datasets.{name}.checks")
    contract: Any = config.contract
    if isinstance(contract, str):
        path = Path(contract)
        contract = path if path.is_absolute() else settings.LAKEGATE.project_dir / path
    return default_checks(contract=contract, target=config.target)


def version_check(
    *, dataset: str, number: int | None = None, reference: int | None = None, created_by: str = ""
) -> CheckReport:
    """Check version ``number`` (latest when None) of ``dataset``; store the report and verdict."""
    import polars as pl

    from lakegate.checks import Reference, Status, render_html, run_checks
    from lakegate.lake import batch_frame

    version = version_get(name=dataset, number=number)
    references = _references(version, reference)
    ref = None
    if references:
        samples = [pl.read_parquet(p) for v in references if (p := sample_path(v)).is_file()]
        ref = Reference.from_profiles(
            [v.stats for v in references], samples=samples, versions=[str(v.number) for v in references]
        )
    table = settings.LAKEGATE.lake_table(dataset)
    report = run_checks(
        batch_frame(table, version.delta_version),
        checks=_checks(dataset),
        reference=ref,
        current_profile=version.stats,
        dataset=dataset,
        version=str(version.number),
    )
    html = settings.LAKEGATE.paths.artifacts / "reports" / dataset / f"v{version.number}.html"
    html.parent.mkdir(parents=True, exist_ok=True)
    tmp = html.with_suffix(".tmp")
    tmp.write_text(render_html(report), encoding="utf-8")
    tmp.replace(html)
    verdict = report.status.value
    with transaction.atomic():
        version = DatasetVersion.objects.select_for_update().get(pk=version.pk)
        row = CheckReport.objects.create(
            version=version,
            status=verdict,
            reference_versions=[v.number for v in references],
            report=report.to_dict(),
            html_path=str(html),
            seconds=report.seconds,
            created_by=created_by,
        )
        version.verdict = verdict
        policy = settings.LAKEGATE.dataset(dataset).policy
        if version.approved_at is None:
            failed = report.status == Status.FAIL and policy == "fail"
            version.status = VersionStatus.REJECTED if failed else VersionStatus.ACCEPTED
        version.save(update_fields=["verdict", "status"])
    log.info("version checked", extra={"dataset": dataset, "version": version.number, "verdict": verdict})
    _after_verdict(version)
    return row


def _after_verdict(version: DatasetVersion) -> None:
    """What follows a decision: pipelines for an accepted version, notices for a failed gate."""
    name = version.dataset.name
    if version.verdict == "fail":
        pipelines_gate_failed_notify(dataset=name, number=version.number)
    if version.status == VersionStatus.ACCEPTED:
        pipeline_runs_for_accepted_version(dataset=name, number=version.number)
        export_runs_for_accepted_version(dataset=name, number=version.number)


@transaction.atomic
def version_approve(*, dataset: str, number: int, reason: str, by: str) -> DatasetVersion:
    """Accept a version whatever its verdict; who, when and why are kept."""
    if not reason.strip():
        raise InputError("an approval needs a reason", detail={"field": "reason"})
    version = (
        DatasetVersion.objects.select_for_update()
        .filter(pk=version_get(name=dataset, number=number).pk)
        .get()
    )
    if version.approved_at is not None:
        raise ConflictError(f"{dataset} version {number} was already approved by {version.approved_by}")
    version.status = VersionStatus.ACCEPTED
    version.approved_by = by
    version.approved_reason = reason.strip()
    version.approved_at = timezone.now()
    version.save(update_fields=["status", "approved_by", "approved_reason", "approved_at"])
    transaction.on_commit(lambda: pipeline_runs_for_accepted_version(dataset=dataset, number=number))
    transaction.on_commit(lambda: export_runs_for_accepted_version(dataset=dataset, number=number))
    return version


def contract_infer(*, dataset: str, number: int | None = None) -> str:
    """A starting contract (YAML) from an accepted version's data."""
    import yaml

    from lakegate.checks import infer_contract
    from lakegate.lake import batch_frame

    if number is None:
        accepted = version_accepted(name=dataset)
        if not accepted:
            raise NotFoundError(f"dataset {dataset!r} has no accepted version to learn a contract from")
        version = accepted[0]
    else:
        version = version_get(name=dataset, number=number)
    frame = batch_frame(settings.LAKEGATE.lake_table(dataset), version.delta_version)
    contract = infer_contract(frame)
    header = f"# Contract for {dataset}, inferred from version {version.number}. Edit, then point\n"
    header += f"# datasets.{dataset}.contract in lakegate.yaml at this file.\n"
    return header + yaml.safe_dump(contract, sort_keys=False)
