"""The quality gate in the service: check a dataset version, record the verdict, approve.

A version is checked against its reference's stored profiles (and samples), never the
reference data. The verdict decides ``DatasetVersion.status``: pass and warn accept it;
fail rejects it (policy ``fail``, the default) or accepts it with a warning (policy
``warn``). An editor's approval accepts a version whatever the verdict, and is kept.
The gate records; it starts nothing. What a decision starts (pipelines, exports,
notices) is the spine's next step, :func:`lakegate_server.flow.on_version_decided`.
"""

from __future__ import annotations

import logging
import uuid
from pathlib import Path
from typing import Any

from django.db import transaction

from lakegate.config import Settings
from lakegate.errors import ConflictError, InputError, NotFoundError
from lakegate.storage import Area, join_key, open_storage
from lakegate_server.datasets.models import DatasetVersion, VersionStatus
from lakegate_server.datasets.selectors import version_accepted, version_get
from lakegate_server.datasets.services import sample_read
from lakegate_server.ledger.models import Action, Decision
from lakegate_server.ledger.selectors import derived_status, standing_approval
from lakegate_server.ledger.services import decision_record, reason_required
from lakegate_server.quality.models import CheckReport

__all__ = ["contract_infer", "version_approve", "version_check", "version_reject", "version_revoke"]

log = logging.getLogger("lakegate.quality")


def _references(config: Settings, version: DatasetVersion, pinned: int | None) -> list[DatasetVersion]:
    name = version.dataset.name
    reference = config.dataset(name).reference
    if pinned is None and reference.isdigit():
        pinned = int(reference)
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
    window = int(reference.split(":", 1)[1]) if reference.startswith("window:") else 1
    return list(reversed(version_accepted(name=name, before=version.number, limit=window)))


def _checks(config: Settings, name: str) -> Any:
    from lakegate.checks import default_checks, load_checks

    dataset = config.dataset(name)
    if dataset.checks is not None:
        return load_checks(dataset.checks, filename=f"lakegate.yaml datasets.{name}.checks")
    contract: Any = dataset.contract
    if isinstance(contract, str):
        path = Path(contract)
        contract = path if path.is_absolute() else config.project_dir / path
    return default_checks(contract=contract, target=dataset.target)


def version_check(
    *,
    config: Settings,
    dataset: str,
    number: int | None = None,
    reference: int | None = None,
    created_by: str = "",
) -> CheckReport:
    """Check version ``number`` (latest when None) of ``dataset``; store the report and verdict."""

    from lakegate.checks import Reference, Status, render_html, run_checks
    from lakegate.lake import batch_frame

    version = version_get(name=dataset, number=number)
    references = _references(config, version, reference)
    ref = None
    if references:
        samples = [sample for v in references if (sample := sample_read(config, v)) is not None]
        ref = Reference.from_profiles(
            [v.stats for v in references], samples=samples, versions=[str(v.number) for v in references]
        )
    report = run_checks(
        batch_frame(config.lake_table(dataset), version.delta_version),
        checks=_checks(config, dataset),
        reference=ref,
        current_profile=version.stats,
        dataset=dataset,
        version=str(version.number),
    )
    # One file per report (a re-check never overwrites an earlier report's page), in the
    # storage every host reads; the row is what makes it visible.
    html = join_key(Area.REPORTS, dataset, f"v{version.number}-{uuid.uuid4().hex[:12]}.html")
    open_storage(config).put_bytes(html, render_html(report).encode("utf-8"))
    verdict = report.status.value
    with transaction.atomic():
        version = DatasetVersion.objects.select_for_update().get(pk=version.pk)
        row = CheckReport.objects.create(
            version=version,
            status=verdict,
            reference_versions=[v.number for v in references],
            report=report.to_dict(),
            html_path=html,
            seconds=report.seconds,
            created_by=created_by,
        )
        failed = report.status == Status.FAIL and config.dataset(dataset).policy == "fail"
        decision_record(
            action=Action.VERDICT,
            dataset_version=version,
            outcome=VersionStatus.REJECTED if failed else VersionStatus.ACCEPTED,
            verdict=verdict,
            actor=created_by,
            reason=_verdict_reason(report),
            detail={"report_id": row.pk},
        )
        version.verdict = verdict
        version.status = derived_status(version)  # a standing approval or rejection outlives a re-check
        version.save(update_fields=["verdict", "status"])
    log.info("version checked", extra={"dataset": dataset, "version": version.number, "verdict": verdict})
    return row


def _verdict_reason(report: Any) -> str:
    """One line for the ledger: the verdict and the reasons of the checks that did not pass."""
    failing = [
        f"{check.kind}: {check.reasons[0].message}"
        for check in report.checks
        if check.status.value != "pass" and check.reasons
    ]
    return f"{report.status.value}" + (f" ({'; '.join(failing)[:900]})" if failing else "")


def _locked_version(dataset: str, number: int) -> DatasetVersion:
    return (
        DatasetVersion.objects.select_for_update()
        .select_related("dataset")
        .filter(pk=version_get(name=dataset, number=number).pk)
        .get()
    )


def _project(version: DatasetVersion, approval: Decision | None) -> None:
    """Write the ledger's word into the version's row (status and the approval in force)."""
    version.status = derived_status(version)
    version.approved_by = approval.actor if approval else ""
    version.approved_reason = approval.reason if approval else ""
    version.approved_at = approval.created_at if approval else None
    version.save(update_fields=["status", "approved_by", "approved_reason", "approved_at"])


@transaction.atomic
def version_approve(*, dataset: str, number: int, reason: str, by: str) -> DatasetVersion:
    """Accept a version whatever its verdict (or an editor's earlier rejection); who, when, why kept."""
    reason = reason_required(reason, "an approval")
    version = _locked_version(dataset, number)
    if (standing := standing_approval(version)) is not None:
        raise ConflictError(f"{dataset} version {number} was already approved by {standing.actor}")
    approval = decision_record(
        action=Action.APPROVE,
        dataset_version=version,
        outcome=VersionStatus.ACCEPTED,
        actor=by,
        reason=reason,
    )
    _project(version, approval)
    return version


@transaction.atomic
def version_reject(*, dataset: str, number: int, reason: str, by: str) -> DatasetVersion:
    """Block a version the gate (or an approval) accepted: pipelines stop using it from now on."""
    reason = reason_required(reason, "a rejection")
    version = _locked_version(dataset, number)
    if version.status == VersionStatus.REJECTED:
        raise ConflictError(f"{dataset} version {number} is already rejected")
    decision_record(
        action=Action.REJECT, dataset_version=version, outcome=VersionStatus.REJECTED, actor=by, reason=reason
    )
    _project(version, None)
    return version


@transaction.atomic
def version_revoke(*, dataset: str, number: int, reason: str, by: str) -> DatasetVersion:
    """Withdraw the approval in force: the version goes back to what the gate decided."""
    reason = reason_required(reason, "a revocation")
    version = _locked_version(dataset, number)
    approval = standing_approval(version)
    if approval is None:
        raise ConflictError(
            f"{dataset} version {number} has no approval to revoke; reject it to block it",
            detail={"dataset": dataset, "version": number, "status": version.status},
        )
    decision_record(
        action=Action.REVOKE,
        dataset_version=version,
        outcome=_gate_outcome(version),
        actor=by,
        reason=reason,
        detail={"revoked": approval.pk},
    )
    _project(version, None)
    return version


def _gate_outcome(version: DatasetVersion) -> str:
    verdict = version.decisions.filter(action=Action.VERDICT).order_by("-id").first()
    return verdict.outcome if verdict else VersionStatus.PENDING


def contract_infer(*, config: Settings, dataset: str, number: int | None = None) -> str:
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
    frame = batch_frame(config.lake_table(dataset), version.delta_version)
    contract = infer_contract(frame)
    header = f"# Contract for {dataset}, inferred from version {version.number}. Edit, then point\n"
    header += f"# datasets.{dataset}.contract in lakegate.yaml at this file.\n"
    return header + yaml.safe_dump(contract, sort_keys=False)
