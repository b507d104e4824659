"""Dataset writes: ingest a file as a new version, quarantine what cannot be ingested, retry.

The quarantine is for files at fault (unreadable, conflicting types). A lake that does not
answer (:class:`~lakegate.errors.LakeUnavailableError`, a ``Transient`` error) says nothing
about the file, so what happens to the file then is the caller's choice
(``quarantine_transient``):

- ``lakegate ingest`` (synchronous, the default ``True``): exit 1 naming the lake, the
  user's file untouched, and a copy in the quarantine with the unreachable reason, so
  ``lakegate quarantine retry`` can finish the job once the lake is back.
- an ``ingest`` run (upload or inbox drop, ``datasets.jobs``): ``False`` on every attempt
  but the last; the error goes up to the job runner, which re-queues the run while attempts
  remain, and the staged file stays under ``.lakegate/uploads/`` (it is only removed after
  the version committed) for the next attempt to read again. The last attempt quarantines it
  with the unreachable reason and fails the run, so the file is listed, retryable and never
  lost (see ``datasets.jobs`` for why not back into the inbox).
- a stream flush (``sources.streams``): ``False``; the claimed batch stays claimed and the
  next flush ingests it (its dedupe key makes a late duplicate harmless).
"""

from __future__ import annotations

import logging
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from lakegate.errors import ConflictError, InputError, LakegateError, NotFoundError, Transient
from lakegate.lake import (
    StagedBatch,
    file_sha256,
    quarantine_file,
    read_entry,
    stage_file,
    table_schema,
    write_batch,
)
from lakegate_server.datasets.models import Dataset, DatasetVersion, QuarantinedFile, name_validator
from lakegate_server.jobs.models import Run
from lakegate_server.jobs.services import run_create
from lakegate_server.quality.models import CheckReport
from lakegate_server.quality.services import sample_store, version_check

__all__ = [
    "IngestOutcome",
    "QuarantinedError",
    "dataset_ingest",
    "dataset_upload_queue",
    "quarantine_add",
    "quarantine_retry",
    "scratch_root",
    "validate_dataset_name",
]

log = logging.getLogger("lakegate.datasets")


class QuarantinedError(InputError):
    """The file could not be ingested; it is kept in the quarantine under ``entry_id``."""

    code = "quarantined"

    def __init__(self, message: str, *, entry_id: str, reason_code: str) -> None:
        super().__init__(message, detail={"quarantine_id": entry_id, "reason_code": reason_code})
        self.entry_id = entry_id


@dataclass(frozen=True)
class IngestOutcome:
    """A new version, or the existing version holding the same bytes (``duplicate``).

    ``report`` is the quality gate's report of a new version (when it was checked).
    """

    version: DatasetVersion
    duplicate: bool
    report: CheckReport | None = None

    def to_dict(self) -> dict[str, Any]:
        data = self.version.summary()
        data["duplicate"] = self.duplicate
        if self.report is not None:
            data["check"] = {"status": self.report.status, "report_id": self.report.pk}
        if self.duplicate:
            data["message"] = f"duplicate of version {self.version.number}"
        return data


def validate_dataset_name(name: str) -> None:
    """InputError naming the field when ``name`` is not a valid dataset name."""
    try:
        name_validator(name)
    except ValidationError as exc:
        raise InputError(f"dataset name {name!r}: {exc.messages[0]}", detail={"field": "dataset"}) from exc


def _validate_mode(mode: str) -> None:
    if mode not in {"append", "overwrite"}:
        raise InputError(f"unknown mode {mode!r} (use append or overwrite)", detail={"field": "mode"})


def dataset_upload_queue(
    *,
    name: str,
    staged: Path,
    original_name: str,
    mode: str = "append",
    evolve: bool = False,
    sheet: str | None = None,
    created_by: str = "",
) -> Run:
    """Queue an ``ingest`` run for a file staged under ``.lakegate/uploads/``."""
    try:
        validate_dataset_name(name)
        _validate_mode(mode)
    except InputError:
        shutil.rmtree(staged.parent, ignore_errors=True)
        raise
    params = {
        "dataset": name,
        "path": str(staged),
        "original_name": original_name,
        "mode": mode,
        "evolve": evolve,
    }
    if sheet:
        params["sheet"] = sheet
    return run_create(kind="ingest", params=params, created_by=created_by)


def _duplicate(name: str, sha256: str) -> DatasetVersion | None:
    return DatasetVersion.objects.filter(dataset__name=name, sha256=sha256).select_related("dataset").first()


def dataset_ingest(
    *,
    name: str,
    source: Path,
    original_name: str | None = None,
    mode: str = "append",
    evolve: bool = False,
    sheet: str | None = None,
    created_by: str = "",
    move_source: bool = False,
    quarantine: bool = True,
    quarantine_transient: bool = True,
    check: bool = True,
    dedupe_key: str | None = None,
) -> IngestOutcome:
    """Ingest ``source`` into dataset ``name`` as a new version (created on first use).

    Same bytes as an existing version: no new version (``duplicate``). A file that cannot be
    read or whose types conflict is kept in the quarantine (moved when ``move_source``,
    else copied) and :class:`QuarantinedError` says why. A transient failure (the lake is
    unreachable) is quarantined the same way unless ``quarantine_transient`` is false: then
    it is raised as it is and ``source`` stays where it was, for a caller that tries again
    (a run, a stream flush). Nothing half-written becomes visible:
    the batch is staged first, then committed to the Delta table and the catalog together.
    With ``check``, the new version then goes through the quality gate, which accepts or
    rejects it; without, it stays ``pending`` until ``version_check`` runs.

    ``dedupe_key`` replaces the content hash as what makes two ingests "the same" (a
    SHA-256 hex of the caller's identity for the batch): stream batches are the same when
    they are the same claimed batch, not when two batches happen to hold equal records.
    """
    validate_dataset_name(name)
    _validate_mode(mode)
    label = original_name or source.name
    sha256 = dedupe_key or file_sha256(source)
    if existing := _duplicate(name, sha256):
        _discard(source, move_source)
        return IngestOutcome(version=existing, duplicate=True)

    scratch = Path(tempfile.mkdtemp(prefix="ingest-", dir=scratch_root()))
    try:
        try:
            config = settings.LAKEGATE.dataset(name)
            batch = stage_file(
                source,
                scratch,
                sheet=sheet or config.sheet,
                overrides=config.types,
                sha256=sha256,
                label=label,
            )
            outcome = _commit(name, batch, mode=mode, evolve=evolve, created_by=created_by)
            if not outcome.duplicate:
                sample_store(outcome.version, batch.parquet)
        except LakegateError as exc:
            if (
                not quarantine
                or isinstance(exc, ConflictError)
                or (isinstance(exc, Transient) and not quarantine_transient)
            ):
                raise
            record = _quarantine(
                source,
                dataset=name,
                label=label,
                error=exc,
                sha256=sha256,
                move=move_source,
                created_by=created_by,
            )
            raise QuarantinedError(
                f"{label}: {_without_label(exc.message, label)} (kept in quarantine as {record.id})",
                entry_id=record.id,
                reason_code=exc.code,
            ) from exc
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    _discard(source, move_source)
    if check and not outcome.duplicate:
        report = version_check(dataset=name, number=outcome.version.number, created_by=created_by)
        outcome.version.refresh_from_db()
        outcome = IngestOutcome(version=outcome.version, duplicate=False, report=report)
    return outcome


def _quarantine(
    source: Path,
    *,
    dataset: str,
    label: str,
    error: LakegateError,
    sha256: str,
    move: bool,
    created_by: str,
) -> QuarantinedFile:
    entry = quarantine_file(
        source,
        root=settings.LAKEGATE.paths.quarantine,
        dataset=dataset,
        code=error.code,
        reason=error.message,
        sha256=sha256,
        move=move,
        original_name=label,
    )
    record = QuarantinedFile.objects.create(
        id=entry.id,
        dataset=dataset,
        source_name=label,
        code=error.code,
        reason=error.message,
        sha256=sha256,
        size=entry.size,
        created_by=created_by,
    )
    log.warning("file quarantined", extra={"dataset": dataset, "file": label, "reason": error.message})
    return record


def quarantine_add(
    *,
    dataset: str,
    source: Path,
    error: LakegateError,
    original_name: str | None = None,
    created_by: str = "",
) -> QuarantinedFile:
    """Move ``source`` into the quarantine with ``error`` as its reason, without trying to ingest it.

    For a file a run still holds when the run failed for good (its worker died on the last
    attempt, an unexpected error): kept and retryable rather than left behind unlisted.
    """
    return _quarantine(
        source,
        dataset=dataset,
        label=original_name or source.name,
        error=error,
        sha256=file_sha256(source),
        move=True,
        created_by=created_by,
    )


def _without_label(message: str, label: str) -> str:
    return message.split(": ", 1)[1] if message.startswith(f"{label}: ") else message


def scratch_root() -> Path:
    """Scratch space in the project's state folder (same filesystem), never the system temp folder."""
    root = settings.LAKEGATE.paths.state / "tmp"
    root.mkdir(parents=True, exist_ok=True)
    return root


def _discard(source: Path, move_source: bool) -> None:
    if move_source:
        source.unlink(missing_ok=True)


def _commit(name: str, batch: StagedBatch, *, mode: str, evolve: bool, created_by: str) -> IngestOutcome:
    table = settings.LAKEGATE.lake_table(name)
    try:
        with transaction.atomic():
            dataset, _ = Dataset.objects.get_or_create(name=name)
            # One writer per dataset at a time: the row lock orders versions and Delta commits.
            Dataset.objects.select_for_update().filter(pk=dataset.pk).first()
            if existing := _duplicate(name, batch.sha256):
                return IngestOutcome(version=existing, duplicate=True)
            latest = dataset.versions.order_by("-number").first()
            write = write_batch(
                table,
                batch.parquet,
                mode="overwrite" if mode == "overwrite" else "append",
                evolve=evolve,
                expected_version=latest.head_delta_version if latest else None,
            )
            total_rows = (
                batch.rows if mode == "overwrite" or latest is None else latest.total_rows + batch.rows
            )
            version = DatasetVersion.objects.create(
                dataset=dataset,
                number=(latest.number + 1) if latest else 1,
                delta_version=write.delta_version,
                mode=mode,
                source_name=batch.source,
                sha256=batch.sha256,
                rows=batch.rows,
                total_rows=total_rows,
                bytes_in=batch.bytes_in,
                bytes_out=batch.bytes_out,
                schema=dict(batch.schema),
                table_schema=table_schema(table) or {},
                stats=dict(batch.profile),
                added_columns=list(write.added_columns) if latest else [],
                widened_columns=dict(write.widened_columns),
                warnings=list(batch.warnings),
                seconds=batch.seconds,
                created_by=created_by,
            )
    except IntegrityError as exc:  # a concurrent ingest of the same bytes won the race
        if existing := _duplicate(name, batch.sha256):
            return IngestOutcome(version=existing, duplicate=True)
        raise ConflictError(f"dataset {name}: concurrent write, try again") from exc
    log.info("version created", extra={"dataset": name, "version": version.number, "rows": batch.rows})
    return IngestOutcome(version=version, duplicate=False)


def quarantine_retry(*, entry_id: str, created_by: str = "", evolve: bool = False) -> IngestOutcome:
    """Ingest a quarantined file again (after fixing the dataset, or with ``evolve``)."""
    record = QuarantinedFile.objects.filter(id=entry_id).first()
    if record is None:
        raise NotFoundError(f"no quarantined file {entry_id!r}")
    if record.resolved_at is not None:
        raise ConflictError(f"quarantined file {entry_id} was already ingested")
    root = settings.LAKEGATE.paths.quarantine
    entry, kept = read_entry(root, entry_id)
    record.retries += 1
    try:
        outcome = dataset_ingest(
            name=record.dataset,
            source=kept,
            original_name=record.source_name,
            evolve=evolve,
            created_by=created_by,
            quarantine=False,
        )
    except LakegateError as exc:
        record.reason = exc.message
        record.code = exc.code
        record.save(update_fields=["retries", "reason", "code"])
        raise
    record.resolved_version = outcome.version
    record.resolved_at = timezone.now()
    record.save(update_fields=["retries", "resolved_version", "resolved_at"])
    shutil.rmtree(root / entry.id, ignore_errors=True)
    return outcome
