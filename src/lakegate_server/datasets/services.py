"""Dataset writes: commit a file as a new version, keep what cannot be committed in the quarantine.

This app knows the catalog and the lake, nothing after them: :func:`version_commit`
stages a file and commits it to the Delta table and the catalog together (or raises the
reader's error, leaving the file where it was), and the ``quarantine_*`` services keep a
file with its reason. What happens around a commit (quarantine on a reader error, the
quality gate, the runs a verdict starts) is the spine's sequence, in
:mod:`lakegate_server.flow`.
"""

from __future__ import annotations

import io
import logging
import re
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Final

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from lakegate.config import Settings, reader_limits
from lakegate.errors import ConflictError, InputError, LakeError, LakegateError, NotFoundError
from lakegate.lake import (
    StagedBatch,
    disk_problem,
    drop_entry,
    file_sha256,
    quarantine_file,
    read_entry,
    stage_file,
    table_schema,
    write_batch,
)
from lakegate.storage import Area, join_key, open_storage
from lakegate_server.datasets.models import Dataset, DatasetVersion, QuarantinedFile, name_validator
from lakegate_server.jobs.models import Run
from lakegate_server.jobs.services import run_create

if TYPE_CHECKING:
    import polars as pl

__all__ = [
    "Committed",
    "QuarantinedError",
    "dataset_upload_queue",
    "quarantine_add",
    "quarantine_entry",
    "quarantine_resolve",
    "quarantine_retry_failed",
    "sample_key",
    "sample_read",
    "scratch_dir",
    "validate_dataset_name",
    "version_commit",
]

log = logging.getLogger("lakegate.datasets")
SAMPLE_ROWS = 5000

_ENTRY_ID: Final = re.compile(r"[A-Za-z0-9_-]{1,40}")


class QuarantinedError(InputError):
    """The file could not be ingested; it is kept in the quarantine under ``entry_id``."""

    code = "quarantined"

    def __init__(self, message: str, *, entry_id: str, reason_code: str) -> None:
        super().__init__(message, detail={"quarantine_id": entry_id, "reason_code": reason_code})
        self.entry_id = entry_id


@dataclass(frozen=True)
class Committed:
    """A new version, or the existing version holding the same bytes (``duplicate``)."""

    version: DatasetVersion
    duplicate: bool


def validate_dataset_name(name: str) -> None:
    """InputError naming the field when ``name`` is not a valid dataset name."""
    try:
        name_validator(name)
        if "\n" in name:  # NAME_RE's "$" matches before a final newline: "abc\n" is not a name
            raise ValidationError(name_validator.message)
    except ValidationError as exc:
        raise InputError(f"dataset name {name!r}: {exc.messages[0]}", detail={"field": "dataset"}) from exc


def _validate_mode(mode: str) -> None:
    if mode not in {"append", "overwrite"}:
        raise InputError(f"unknown mode {mode!r} (use append or overwrite)", detail={"field": "mode"})


def dataset_upload_queue(
    *,
    config: Settings,
    name: str,
    key: str,
    original_name: str,
    mode: str = "append",
    evolve: bool = False,
    sheet: str | None = None,
    created_by: str = "",
) -> Run:
    """Queue an ``ingest`` run for the file staged at ``key`` (``uploads/<id>/<name>`` in the storage).

    A name or mode that is refused removes the staged file: no run will take it.
    """
    try:
        validate_dataset_name(name)
        _validate_mode(mode)
    except InputError:
        open_storage(config).delete(key)
        raise
    params = {
        "dataset": name,
        "key": key,
        "original_name": original_name,
        "mode": mode,
        "evolve": evolve,
    }
    if sheet:
        params["sheet"] = sheet
    return run_create(kind="ingest", params=params, created_by=created_by)


def _duplicate(name: str, sha256: str) -> DatasetVersion | None:
    return DatasetVersion.objects.filter(dataset__name=name, sha256=sha256).select_related("dataset").first()


def scratch_dir(config: Settings, prefix: str) -> Path:
    """A fresh scratch folder in the project's state folder (same filesystem as the lake's
    local staging), never the system temp folder. The caller removes it."""
    root = config.paths.state / "tmp"
    root.mkdir(parents=True, exist_ok=True)
    return Path(tempfile.mkdtemp(prefix=prefix, dir=root))


def version_commit(
    *,
    config: Settings,
    name: str,
    source: Path,
    original_name: str | None = None,
    mode: str = "append",
    evolve: bool = False,
    sheet: str | None = None,
    created_by: str = "",
    dedupe_key: str | None = None,
) -> Committed:
    """Commit ``source`` to dataset ``name`` (created on first use) as a new ``pending`` version.

    Same bytes as an existing version: no new version (``duplicate``). The batch is
    staged first, then written to the Delta table and the catalog together, so nothing
    half-written becomes visible. A file that cannot be read or whose types conflict
    raises the reader's :class:`~lakegate.errors.LakegateError` and ``source`` is left
    as it was; keeping it is the caller's decision (:func:`quarantine_add`).

    ``dedupe_key`` replaces the content hash as what makes two commits "the same" (a
    SHA-256 hex of the caller's identity for the batch): stream batches are the same when
    they are the same claimed batch, not when two batches happen to hold equal records.
    """
    validate_dataset_name(name)
    _validate_mode(mode)
    label = original_name or source.name
    sha256 = dedupe_key or file_sha256(source)
    if existing := _duplicate(name, sha256):
        return Committed(version=existing, duplicate=True)
    scratch = scratch_dir(config, "ingest-")
    try:
        dataset_config = config.dataset(name)
        archive_limits, file_limits = reader_limits(config)
        batch = stage_file(
            source,
            scratch,
            sheet=sheet or dataset_config.sheet,
            overrides=dataset_config.types,
            sha256=sha256,
            label=label,
            limits=archive_limits,
            reader_limits=file_limits,
        )
        committed = _commit(config, name, batch, mode=mode, evolve=evolve, created_by=created_by)
        if not committed.duplicate:
            _sample_store(config, committed.version, batch.parquet, scratch)
    except LakegateError:
        raise
    except Exception as exc:
        # A full or read-only disk under the scratch folder or the lake: the operator's to fix,
        # named as such; the transaction rolled back and the source is left as it was.
        if (disk := disk_problem(exc)) is None:
            raise
        raise LakeError(
            f"{label}: cannot ingest into {name}: {disk}; nothing was committed",
            detail={"location": str(config.paths.state), "reason": disk},
        ) from exc
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return committed


def _commit(
    config: Settings, name: str, batch: StagedBatch, *, mode: str, evolve: bool, created_by: str
) -> Committed:
    table = config.lake_table(name)
    try:
        with transaction.atomic():
            dataset, _ = Dataset.objects.get_or_create(name=name)
            # One writer per dataset at a time: the row lock orders versions and Delta commits.
            Dataset.objects.select_for_update().filter(pk=dataset.pk).first()
            if existing := _duplicate(name, batch.sha256):
                return Committed(version=existing, duplicate=True)
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
            return Committed(version=existing, duplicate=True)
        raise ConflictError(f"dataset {name}: concurrent write, try again") from exc
    log.info("version created", extra={"dataset": name, "version": version.number, "rows": batch.rows})
    return Committed(version=version, duplicate=False)


def sample_key(version: DatasetVersion) -> str:
    """Where the bounded row sample of a version lives in the storage (anomaly and text checks)."""
    return join_key(Area.SAMPLES, version.dataset.name, f"v{version.number}-sample.parquet")


def sample_read(config: Settings, version: DatasetVersion) -> pl.DataFrame | None:
    """The version's stored sample, or None when it has none (ingested before samples existed)."""
    import polars as pl

    try:
        data = open_storage(config).get_bytes(sample_key(version))
    except NotFoundError:
        return None
    return pl.read_parquet(io.BytesIO(data))


def _sample_store(config: Settings, version: DatasetVersion, parquet: Path, scratch: Path) -> None:
    """Keep a deterministic sample of the batch beside the version's profile (the gate's reference)."""
    import polars as pl

    from lakegate.checks import reference_sample

    local = scratch / "sample.parquet"
    reference_sample(pl.scan_parquet(parquet), SAMPLE_ROWS, seed=0).write_parquet(local)
    open_storage(config).move_file(sample_key(version), local)


def quarantine_add(
    *,
    config: Settings,
    dataset: str,
    source: Path,
    error: LakegateError,
    original_name: str | None = None,
    move: bool,
    created_by: str = "",
) -> QuarantinedFile:
    """Keep ``source`` in the quarantine (moved, or copied when the file is the user's) with ``error``."""
    label = original_name or source.name
    sha256 = file_sha256(source)
    entry = quarantine_file(
        source,
        storage=open_storage(config),
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


def quarantine_entry(*, config: Settings, entry_id: str, scratch: Path) -> tuple[QuarantinedFile, Path]:
    """An unresolved quarantine entry and a local file holding its kept bytes.

    On a local storage that is the kept file itself (read it, do not change it); on an
    object store, a download into ``scratch``.
    """
    # An id is letters, digits, '-' and '_' (``20261208T004403-1a2b3c4d``): anything else names
    # no entry, and never reaches the database (PostgreSQL refuses a NUL in text with a 500).
    known = _ENTRY_ID.fullmatch(entry_id) is not None
    record = QuarantinedFile.objects.filter(id=entry_id).first() if known else None
    if record is None:
        raise NotFoundError(f"no quarantined file {entry_id!r}")
    if record.resolved_at is not None:
        raise ConflictError(f"quarantined file {entry_id} was already ingested")
    storage = open_storage(config)
    _, key = read_entry(storage, entry_id)
    return record, storage.local_copy(key, scratch)


def quarantine_resolve(*, config: Settings, record: QuarantinedFile, version: DatasetVersion) -> None:
    """The kept file is in the lake now (``version``): mark the entry resolved, drop the copy."""
    record.retries += 1
    record.resolved_version = version
    record.resolved_at = timezone.now()
    record.save(update_fields=["retries", "resolved_version", "resolved_at"])
    drop_entry(open_storage(config), record.id)


def quarantine_retry_failed(*, record: QuarantinedFile, error: LakegateError) -> None:
    """A retry failed: count it and keep the newest reason."""
    record.retries += 1
    record.reason = error.message
    record.code = error.code
    record.save(update_fields=["retries", "reason", "code"])
