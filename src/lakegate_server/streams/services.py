"""Pushed records -> write-ahead segments -> one dataset version per flushed batch -> compaction.

- ``stream_append`` (``sources.wal``; the POST .../records routes): parse, append to this process's segment
  and fsync, *then* answer 202. An acknowledged record is on disk.
- ``streams_flush`` (the scheduler, every second; ``lakegate stream flush``): seal idle
  segments, claim sealed ones as a batch whose set of files never changes, ingest the batch
  as a version (same bytes on a retry: the content hash makes a re-flush a duplicate), then
  delete it. A batch the lake refuses goes to the quarantine, never away. A lake that does
  not answer (``LakeUnavailableError``) is no fault of the batch: the flush stops with that
  error and the batch stays claimed, so the next flush ingests it once the lake is back.
- ``stream_compact``: merge the table's small files once it has ``compact_min_files``.
"""

from __future__ import annotations

import hashlib
import logging
import shutil
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.db import transaction

from lakegate.errors import NotFoundError
from lakegate_server.datasets.models import Dataset, DatasetVersion
from lakegate_server.datasets.services import (
    IngestOutcome,
    QuarantinedError,
    dataset_ingest,
    scratch_root,
)
from lakegate_server.sources.models import Compaction

if TYPE_CHECKING:
    from lakegate.streams import ClaimedBatch

__all__ = ["stream_batch_key", "stream_compact", "streams_flush"]

log = logging.getLogger("lakegate.streams")


def streams_flush(*, dataset: str | None = None, created_by: str = "stream") -> list[dict[str, Any]]:
    """Ingest every sealed batch (and idle segments) as versions; compact tables that need it."""
    from lakegate.streams import claim_batch, pending_batches, seal_stale, stream_datasets

    root, cfg = settings.LAKEGATE.paths.streams, settings.LAKEGATE.streams
    if not root.is_dir():
        return []
    seal_stale(root, max_age_seconds=cfg.flush_seconds)
    flushed: list[dict[str, Any]] = []
    for name in [dataset] if dataset else stream_datasets(root):
        # Batches claimed before a crash first (the same files again), then new ones.
        flushed += [_flush(batch, created_by=created_by) for batch in pending_batches(root, name)]
        while (batch := claim_batch(root, name, max_records=cfg.batch_records)) is not None:
            flushed.append(_flush(batch, created_by=created_by))
        compacted = stream_compact(dataset=name, min_files=cfg.compact_min_files, created_by=created_by)
        if compacted is not None:
            flushed.append({"dataset": name, "compacted": compacted.to_dict()})
    return flushed


def _flush(batch: ClaimedBatch, *, created_by: str) -> dict[str, Any]:
    scratch = Path(tempfile.mkdtemp(prefix="stream-", dir=scratch_root()))
    try:
        parquet = batch.write_parquet(scratch / f"{batch.dataset}-{batch.id}.parquet")
        try:
            outcome: IngestOutcome = dataset_ingest(
                name=batch.dataset,
                source=parquet,
                original_name=f"stream:{batch.id}",
                created_by=created_by,
                check=settings.LAKEGATE.streams.check,
                dedupe_key=stream_batch_key(batch.dataset, batch.id),
                quarantine_transient=False,  # an outage: raised, the batch stays claimed
            )
        except QuarantinedError as exc:  # kept in the quarantine with its reason
            batch.done()
            log.warning("stream batch quarantined", extra={"dataset": batch.dataset, "batch": batch.id})
            return {
                "dataset": batch.dataset,
                "batch": batch.id,
                "records": batch.records,
                "error": exc.to_dict(),
            }
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    batch.done()
    log.info(
        "stream batch flushed",
        extra={
            "dataset": batch.dataset,
            "batch": batch.id,
            "records": batch.records,
            "version": outcome.version.number,
        },
    )
    return {
        "dataset": batch.dataset,
        "batch": batch.id,
        "records": batch.records,
        "version": outcome.version.number,
        "duplicate": outcome.duplicate,
        "status": outcome.version.status,
    }


def stream_batch_key(dataset: str, batch_id: str) -> str:
    """What makes a flush "the same" as an earlier one: the claimed batch, not equal records.

    A batch re-flushed after a crash is a duplicate of its first flush; two batches that
    hold the same records (a sensor repeating itself) are two versions.
    """
    return hashlib.sha256(f"stream:{dataset}:{batch_id}".encode()).hexdigest()


def stream_compact(*, dataset: str, min_files: int = 2, created_by: str = "") -> Compaction | None:
    """Merge the latest version's small files when there are at least ``min_files``; None if not."""
    from lakegate.lake import compact_table, table_file_count

    table = settings.LAKEGATE.lake_table(dataset)
    if table_file_count(table) < min_files:
        return None
    with transaction.atomic():
        ds = Dataset.objects.select_for_update().filter(name=dataset).first()
        if ds is None:
            raise NotFoundError(f"no dataset {dataset!r}")
        latest: DatasetVersion | None = ds.versions.order_by("-number").first()
        if latest is None:
            return None
        cfg = settings.LAKEGATE.streams
        done = compact_table(
            table, expected_version=latest.head_delta_version, target_bytes=cfg.compact_target_bytes
        )
        if done is None:
            return None
        latest.compacted_delta_version = done.delta_after
        latest.save(update_fields=["compacted_delta_version"])
        record = Compaction.objects.create(
            dataset=dataset,
            number=latest.number,
            delta_before=done.delta_before,
            delta_after=done.delta_after,
            files_before=done.files_before,
            files_after=done.files_after,
            seconds=done.seconds,
            created_by=created_by,
        )
    log.info("table compacted", extra=record.to_dict() | {"created_at": None})
    return record
