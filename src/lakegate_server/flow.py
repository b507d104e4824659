"""The spine: file -> version -> verdict -> what follows, in one place.

Every way data enters the lake calls one function here, and each reads top to bottom:

    commit (stage + write; datasets)  --reader error-->  quarantine (datasets)
       |
    gate (check + record the verdict; quality)  --fail-->  notice (a ``notify`` run)
       |
    on_version_decided: accepted -> pipeline runs, batch scoring, exports (runs)

=====================  ==========================================================
caller                 flow function
=====================  ==========================================================
``lakegate ingest``    :func:`ingest_file` (the user's file stays where it is)
``kb register``        :func:`ingest_file`
upload / inbox run     :func:`ingest_staged`, :func:`quarantine_staged`,
                       :func:`ingest_resume`
stream flush           :func:`streams_flush`
source run             :func:`source_pull`
quarantine retry       :func:`quarantine_retry`
batch predictions      :func:`predictions_to_lake`
check / approve        :func:`version_gate`, :func:`version_approve`
reject / revoke        :func:`version_reject`, :func:`version_revoke`
=====================  ==========================================================

The apps below never call back up: ``datasets`` commits a version and does not gate it,
``quality`` records a verdict and starts nothing, ``training`` / ``exports`` queue runs
when asked. Nothing here sends a notification or trains a model in the caller's process:
what follows a decision is a queued run.
"""

from __future__ import annotations

import logging
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from django.utils import timezone

from lakegate.config import Settings
from lakegate.errors import ConflictError, LakegateError, ReaderError, Transient
from lakegate.storage import open_storage
from lakegate_server.datasets.models import DatasetVersion, VersionStatus
from lakegate_server.datasets.services import (
    Committed,
    QuarantinedError,
    quarantine_add,
    quarantine_entry,
    quarantine_resolve,
    quarantine_retry_failed,
    scratch_dir,
    version_commit,
)
from lakegate_server.exports.services import export_runs_for_accepted_version
from lakegate_server.jobs.models import Run
from lakegate_server.metrics import stream_flushed
from lakegate_server.quality.models import CheckReport
from lakegate_server.quality.services import version_approve as gate_approve
from lakegate_server.quality.services import version_check
from lakegate_server.quality.services import version_reject as gate_reject
from lakegate_server.quality.services import version_revoke as gate_revoke
from lakegate_server.sources.services import SourceRunResult, source_run
from lakegate_server.streams.services import (
    stream_batch_key,
    stream_batches,
    stream_compact,
    stream_datasets,
)
from lakegate_server.training.models import PredictionBatch
from lakegate_server.training.predictions import predictions_dataset, predictions_score
from lakegate_server.training.selectors import Impact, dataset_version_impact
from lakegate_server.training.services import (
    pipeline_runs_for_accepted_version,
    pipelines_data_notice_queue,
    prediction_batch_record,
)

__all__ = [
    "IngestResult",
    "Withdrawal",
    "ingest_file",
    "ingest_resume",
    "ingest_staged",
    "on_version_decided",
    "predictions_to_lake",
    "quarantine_retry",
    "quarantine_staged",
    "source_pull",
    "streams_flush",
    "version_approve",
    "version_gate",
    "version_reject",
    "version_revoke",
    "versions_pending_gate",
]

log = logging.getLogger("lakegate.flow")
LogFn = Callable[..., None]


@dataclass(frozen=True)
class IngestResult:
    """A new version with the gate's report, or the existing version holding the same bytes."""

    version: DatasetVersion
    duplicate: bool
    report: CheckReport | None = None

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {**self.version.summary()}
        data["duplicate"] = self.duplicate
        if self.report is not None:
            data["check"] = {"status": self.report.status, "report_id": self.report.pk}
        if self.duplicate:
            data["message"] = f"duplicate of version {self.version.number}"
        return data


# -- Entries: a file becomes a version, or a quarantine entry ----------------------------------


def ingest_file(
    *,
    config: Settings,
    dataset: str,
    path: Path,
    mode: str = "append",
    evolve: bool = False,
    sheet: str | None = None,
    actor: str,
) -> IngestResult:
    """Ingest a user's file (``lakegate ingest``): the file itself is never moved or changed.

    A file that cannot be read, or a lake that does not answer, leaves a *copy* in the
    quarantine and :class:`QuarantinedError` names it, so ``lakegate quarantine retry``
    can finish the job later.
    """
    try:
        committed = version_commit(
            config=config, name=dataset, source=path, mode=mode, evolve=evolve, sheet=sheet, created_by=actor
        )
    except ConflictError:
        raise
    except LakegateError as exc:
        raise _quarantined(
            config, exc, dataset=dataset, path=path, label=path.name, move=False, actor=actor
        ) from exc
    except Exception as exc:
        # A failure no seam translated (a library's own exception on a hostile file): the
        # file still gets its quarantine entry, and a batch goes on with the next file.
        log.warning("ingesting %s failed unexpectedly: %r", path.name, exc)
        log.debug("the failure of %s", path.name, exc_info=True)
        first = (str(exc).strip().splitlines() or [""])[0][:300]
        error = ReaderError(path.name, f"could not be ingested ({type(exc).__name__}: {first})")
        raise _quarantined(
            config, error, dataset=dataset, path=path, label=path.name, move=False, actor=actor
        ) from exc
    return _gated(config, committed, actor=actor)


def ingest_staged(
    *,
    config: Settings,
    dataset: str,
    key: str,
    original_name: str | None = None,
    mode: str = "append",
    evolve: bool = False,
    sheet: str | None = None,
    actor: str,
) -> IngestResult:
    """Ingest a file lakegate staged at ``key`` in the storage (``uploads/<id>/<name>``: an upload
    or inbox drop), from whichever host runs this.

    The file is read where it is on a local storage, else downloaded into a scratch folder.
    It moves into the lake (the staged object is deleted once the version committed) or into
    the quarantine when it is at fault. A lake that does not answer is raised as it is (a
    ``Transient`` error) with the file left staged, for the run to try again;
    :func:`quarantine_staged` keeps it when no attempt is left.
    """
    storage = open_storage(config)
    label = original_name or key.rsplit("/", 1)[-1]
    scratch = scratch_dir(config, "staged-")
    try:
        path = storage.local_copy(key, scratch)
        try:
            committed = version_commit(
                config=config,
                name=dataset,
                source=path,
                original_name=original_name or label,
                mode=mode,
                evolve=evolve,
                sheet=sheet,
                created_by=actor,
            )
        except ConflictError:
            raise
        except LakegateError as exc:
            if isinstance(exc, Transient):
                raise
            error = _quarantined(config, exc, dataset=dataset, path=path, label=label, move=True, actor=actor)
            storage.delete(key)
            raise error from exc
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    storage.delete(key)
    return _gated(config, committed, actor=actor)


def quarantine_staged(
    *, config: Settings, dataset: str, key: str, original_name: str | None, error: LakegateError, actor: str
) -> QuarantinedError:
    """Move the file staged at ``key`` into the quarantine with ``error`` (an outage on the run's
    last attempt, or a run that ended without taking it)."""
    storage = open_storage(config)
    label = original_name or key.rsplit("/", 1)[-1]
    scratch = scratch_dir(config, "staged-")
    try:
        path = storage.local_copy(key, scratch)
        kept = _quarantined(config, error, dataset=dataset, path=path, label=label, move=True, actor=actor)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    storage.delete(key)
    return kept


def ingest_resume(*, config: Settings, dataset: str, actor: str) -> IngestResult | None:
    """Finish what an earlier attempt of ``actor`` (``run:<id>``) committed; None if it committed nothing.

    A worker killed after the commit and before the gate leaves a ``pending`` version and
    no staged file: the retry gates that version instead of failing for the missing file.
    """
    version = (
        DatasetVersion.objects.filter(dataset__name=dataset, created_by=actor)
        .select_related("dataset")
        .order_by("-number")
        .first()
    )
    if version is None:
        return None
    if version.status != VersionStatus.PENDING:
        return IngestResult(version=version, duplicate=False, report=version.reports.order_by("-id").first())
    log.info("resuming a committed version", extra={"dataset": dataset, "version": version.number})
    return _gated(config, Committed(version=version, duplicate=False), actor=actor)


def quarantine_retry(*, config: Settings, entry_id: str, evolve: bool = False, actor: str) -> IngestResult:
    """Ingest a quarantined file again (after fixing the dataset's settings, or with ``evolve``)."""
    scratch = scratch_dir(config, "retry-")
    try:
        record, kept = quarantine_entry(config=config, entry_id=entry_id, scratch=scratch)
        if record.code == "symlink_refused":
            # The entry keeps a note naming the link, never what it pointed to: nothing to ingest.
            raise ConflictError(
                f"{record.source_name}: stands for a symbolic link lakegate never follows; "
                "copy the file itself into the inbox instead",
                detail={"quarantine_id": record.id, "reason_code": record.code},
            )
        try:
            committed = version_commit(
                config=config,
                name=record.dataset,
                source=kept,
                original_name=record.source_name,
                evolve=evolve,
                created_by=actor,
            )
        except LakegateError as exc:
            quarantine_retry_failed(record=record, error=exc)
            raise
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    quarantine_resolve(config=config, record=record, version=committed.version)
    return _gated(config, committed, actor=actor)


def streams_flush(
    *, config: Settings, dataset: str | None = None, actor: str = "stream"
) -> list[dict[str, Any]]:
    """Commit every claimed stream batch as a version (then gate it); compact tables that need it.

    A batch the lake refuses goes to the quarantine, never away. A lake that does not answer
    is raised (a ``Transient`` error) and the batch stays claimed on disk: the next flush
    commits it, and its key makes a late duplicate harmless.
    """
    flushed: list[dict[str, Any]] = []
    for name in stream_datasets(config=config, dataset=dataset):
        batches = stream_batches(config=config, dataset=name)
        flushed.extend(_flush_batch(config, batch, actor=actor) for batch in batches)
        compacted = stream_compact(
            config=config, dataset=name, min_files=config.streams.compact_min_files, created_by=actor
        )
        if compacted is not None:
            flushed.append({"dataset": name, "compacted": compacted.to_dict()})
    return flushed


def _flush_batch(config: Settings, batch: Any, *, actor: str) -> dict[str, Any]:
    summary = {"dataset": batch.dataset, "batch": batch.id, "records": batch.records}
    scratch = scratch_dir(config, "stream-")
    try:
        parquet = batch.write_parquet(scratch / f"{batch.dataset}-{batch.id}.parquet")
        label = f"stream:{batch.id}"
        try:
            committed = version_commit(
                config=config,
                name=batch.dataset,
                source=parquet,
                original_name=label,
                created_by=actor,
                dedupe_key=stream_batch_key(batch.dataset, batch.id),
            )
        except ConflictError:
            raise
        except LakegateError as exc:
            if isinstance(exc, Transient):
                raise  # an outage: the batch stays claimed
            error = _quarantined(
                config, exc, dataset=batch.dataset, path=parquet, label=label, move=True, actor=actor
            )
            batch.done()
            stream_flushed(batch.dataset, batch.records)
            log.warning("stream batch quarantined", extra={"dataset": batch.dataset, "batch": batch.id})
            return {**summary, "error": error.to_dict()}
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    batch.done()
    stream_flushed(batch.dataset, batch.records)
    version = committed.version
    if config.streams.check and not committed.duplicate:
        version = _gated(config, committed, actor=actor).version
    log.info("stream batch flushed", extra={**summary, "version": version.number})
    return {**summary, "version": version.number, "duplicate": committed.duplicate, "status": version.status}


def source_pull(
    *,
    config: Settings,
    name: str,
    actor: str = "",
    log_fn: LogFn | None = None,
    run_id: int | None = None,
) -> SourceRunResult:
    """Fetch what is new in source ``name`` (one version per batch, resumable), then gate each."""
    result = source_run(config=config, name=name, created_by=actor, log_fn=log_fn, run_id=run_id)
    for version in result.new_versions:  # the gate decides after the versions are committed
        version_gate(
            config=config,
            dataset=result.dataset,
            number=version.number,
            actor=actor or f"source:{name}",
        )
    return result


def predictions_to_lake(
    *,
    config: Settings,
    model: str,
    dataset: str,
    number: int,
    run_id: int | None = None,
    actor: str = "",
) -> PredictionBatch:
    """Score an accepted dataset version with ``model``'s champion into ``<model>_predictions``.

    The scored batch is a new version of that dataset (columns may widen as the model
    changes) and goes through the gate like any other.
    """
    actor = actor or f"model:{model}"
    target = predictions_dataset(model)
    scratch = scratch_dir(config, "predict-")
    try:
        scored = predictions_score(config=config, name=model, dataset=dataset, number=number, out_dir=scratch)
        try:
            committed = version_commit(
                config=config, name=target, source=scored.path, evolve=True, created_by=actor
            )
        except ConflictError:
            raise
        except LakegateError as exc:
            raise _quarantined(
                config, exc, dataset=target, path=scored.path, label=scored.path.name, move=True, actor=actor
            ) from exc
        result = _gated(config, committed, actor=actor)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return prediction_batch_record(
        version=scored.model_version,
        source=f"{dataset}@{number}",
        output=f"{target}@{result.version.number}",
        rows=scored.rows,
        seconds=_since(scored.started),
        source_version=scored.scored_version,
        output_version=result.version,
        run_id=run_id,
        created_by=actor,
    )


# -- The gate and what follows its decision ----------------------------------------------------


def version_gate(
    *, config: Settings, dataset: str, number: int | None = None, reference: int | None = None, actor: str
) -> CheckReport:
    """Check a version, record the verdict, then start what the decision calls for.

    A failed verdict queues a notice to the pipelines that read the dataset (whether the
    policy rejected the version or only warned).
    """
    report = version_check(
        config=config, dataset=dataset, number=number, reference=reference, created_by=actor
    )
    version = report.version
    if report.status == "fail":
        pipelines_data_notice_queue(
            config=config, event="gate.failed", dataset=dataset, number=version.number
        )
    on_version_decided(config=config, version=version)
    return report


def version_approve(
    *, config: Settings, dataset: str, number: int, reason: str, actor: str
) -> DatasetVersion:
    """An editor accepts a version whatever its verdict (who, when and why are kept); its runs start."""
    version = gate_approve(dataset=dataset, number=number, reason=reason, by=actor)
    on_version_decided(config=config, version=version)
    return version


@dataclass(frozen=True)
class Withdrawal:
    """A version taken out of use, and what it had already fed."""

    version: DatasetVersion
    impact: Impact

    def to_dict(self) -> dict[str, Any]:
        return {**self.version.summary(), "impact": self.impact.to_dict()}


def version_reject(*, config: Settings, dataset: str, number: int, reason: str, actor: str) -> Withdrawal:
    """An editor blocks a version: training and scoring stop using it; its readers are told what it fed.

    Models already trained on it keep their stage, but may not be promoted (or rolled back
    to) without an admin's override; the result lists them and the prediction tables it fed.
    """
    version = gate_reject(dataset=dataset, number=number, reason=reason, by=actor)
    pipelines_data_notice_queue(config=config, event="data.rejected", dataset=dataset, number=number)
    return Withdrawal(version=version, impact=dataset_version_impact(version=version))


def version_revoke(*, config: Settings, dataset: str, number: int, reason: str, actor: str) -> Withdrawal:
    """An editor withdraws an approval: the version is what the gate said again (as ``version_reject``)."""
    version = gate_revoke(dataset=dataset, number=number, reason=reason, by=actor)
    pipelines_data_notice_queue(config=config, event="data.revoked", dataset=dataset, number=number)
    on_version_decided(config=config, version=version)  # the gate had accepted it: its runs, once
    return Withdrawal(version=version, impact=dataset_version_impact(version=version))


def versions_pending_gate(
    *, config: Settings, now: datetime | None = None, actor: str = "scheduler"
) -> list[int]:
    """Gate versions left ``pending`` by a commit whose gate never ran; the ids of those gated.

    The lake dropped between commit and check (``lakegate ingest``, a stream flush), or a
    process died there: nothing else would ever decide such a version. A version waits
    3 x ``runs.lease_seconds`` first (its own caller may still be checking it), and one an
    ingest run committed is left to that run while it is queued or running (its retry resumes
    it, :func:`ingest_resume`). A gate that fails (the lake still down) leaves the version
    pending for the next pass. The scheduler calls this every pass.
    """
    now = now or timezone.now()
    before = now - timedelta(seconds=3 * config.runs.lease_seconds)
    stale = DatasetVersion.objects.filter(status=VersionStatus.PENDING, created_at__lt=before).select_related(
        "dataset"
    )
    live = {
        f"run:{pk}"
        for pk in Run.objects.filter(status__in=["queued", "running"]).values_list("pk", flat=True)
    }
    gated: list[int] = []
    for version in stale.order_by("id"):
        if version.created_by in live:
            continue
        try:
            version_gate(config=config, dataset=version.dataset.name, number=version.number, actor=actor)
        except LakegateError as exc:
            log.warning(
                "pending version not gated yet",
                extra={"dataset": version.dataset.name, "version": version.number, "error": exc.message},
            )
            continue
        log.info(
            "gated a version left pending", extra={"dataset": version.dataset.name, "version": version.number}
        )
        gated.append(version.pk)
    return gated


def on_version_decided(*, config: Settings, version: DatasetVersion) -> list[Run]:
    """What a decision starts: for an accepted version, its pipeline runs, batch scoring and exports.

    A rejected (or still pending) version starts nothing. Each run is queued once per
    version however often this is called (the triggers record their firing).
    """
    if version.status != VersionStatus.ACCEPTED:
        return []
    name, number = version.dataset.name, version.number
    runs = pipeline_runs_for_accepted_version(config=config, dataset=name, number=number)
    return runs + export_runs_for_accepted_version(config=config, dataset=name, number=number)


# -- Helpers -------------------------------------------------------------------------------------


def _gated(config: Settings, committed: Committed, *, actor: str) -> IngestResult:
    """A new version goes through the gate; a duplicate was decided when it first came.

    Except a duplicate of ``actor``'s own version still ``pending``: an earlier attempt of the
    same run committed it and was killed before the gate (and before the staged file was
    removed), so this attempt finishes what that one started.
    """
    version = committed.version
    if committed.duplicate:
        if not (version.status == VersionStatus.PENDING and actor and version.created_by == actor):
            return IngestResult(version=version, duplicate=True)
        log.info("gating a version an earlier attempt committed", extra={"version": version.number})
    report = version_gate(config=config, dataset=version.dataset.name, number=version.number, actor=actor)
    version.refresh_from_db()
    return IngestResult(version=version, duplicate=False, report=report)


def _quarantined(
    config: Settings,
    error: LakegateError,
    *,
    dataset: str,
    path: Path,
    label: str,
    move: bool,
    actor: str,
) -> QuarantinedError:
    """Keep ``path`` in the quarantine with ``error`` as its reason; the error that says so."""
    record = quarantine_add(
        config=config,
        dataset=dataset,
        source=path,
        error=error,
        original_name=label,
        move=move,
        created_by=actor,
    )
    message = error.message.split(": ", 1)[1] if error.message.startswith(f"{label}: ") else error.message
    return QuarantinedError(
        f"{label}: {message} (kept in quarantine as {record.id})", entry_id=record.id, reason_code=error.code
    )


def _since(started: float) -> float:
    import time

    return time.perf_counter() - started
