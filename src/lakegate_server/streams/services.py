"""Pushed records -> write-ahead segments -> claimed batches -> compaction.

- ``stream_append`` (:mod:`lakegate_server.streams.wal`; the POST .../records routes):
  parse, append to this process's segment and fsync, *then* answer 202. An acknowledged
  record is on disk.
- :func:`stream_batches` (called by the spine's ``streams_flush`` every second): seal idle
  segments, then yield batches claimed before a crash (the same files again) and newly
  claimed ones. A claimed batch's set of files never changes; the spine commits it as a
  version (same claim: same :func:`stream_batch_key`, so a re-flush is a duplicate), then
  calls ``batch.done()``. A batch the spine could not commit stays claimed on disk.
- :func:`stream_compact`: merge the table's small files once it has ``compact_min_files``.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Iterator
from typing import TYPE_CHECKING

from django.db import transaction

from lakegate.config import Settings
from lakegate.errors import NotFoundError
from lakegate_server.datasets.models import Dataset, DatasetVersion
from lakegate_server.streams.models import Compaction

if TYPE_CHECKING:
    from lakegate.streams import ClaimedBatch

__all__ = ["stream_batch_key", "stream_batches", "stream_compact", "stream_datasets"]

log = logging.getLogger("lakegate.streams")


def stream_datasets(*, config: Settings, dataset: str | None = None) -> list[str]:
    """The datasets with write-ahead segments to flush (``dataset`` alone when given)."""
    from lakegate.streams import seal_stale
    from lakegate.streams import stream_datasets as on_disk

    root = config.paths.streams
    if not root.is_dir():
        return []
    seal_stale(root, max_age_seconds=config.streams.flush_seconds)
    return [dataset] if dataset else on_disk(root)


def stream_batches(*, config: Settings, dataset: str) -> Iterator[ClaimedBatch]:
    """The dataset's batches to commit: those claimed before a crash first, then new claims."""
    from lakegate.streams import claim_batch, pending_batches

    root = config.paths.streams
    yield from pending_batches(root, dataset)
    while (batch := claim_batch(root, dataset, max_records=config.streams.batch_records)) is not None:
        yield batch


def stream_batch_key(dataset: str, batch_id: str) -> str:
    """What makes a flush "the same" as an earlier one: the claimed batch, not equal records.

    A batch re-flushed after a crash is a duplicate of its first flush; two batches that
    hold the same records (a sensor repeating itself) are two versions.
    """
    return hashlib.sha256(f"stream:{dataset}:{batch_id}".encode()).hexdigest()


def stream_compact(
    *, config: Settings, dataset: str, min_files: int = 2, created_by: str = ""
) -> Compaction | None:
    """Merge the latest version's small files when there are at least ``min_files``; None if not."""
    from lakegate.lake import compact_table, table_file_count

    table = config.lake_table(dataset)
    if table_file_count(table) < min_files:
        return None
    with transaction.atomic():
        ds = Dataset.objects.select_for_update().filter(name=dataset).first()
        if ds is None:
            raise NotFoundError(f"no dataset {dataset!r}")
        latest: DatasetVersion | None = ds.versions.order_by("-number").first()
        if latest is None:
            return None
        done = compact_table(
            table,
            expected_version=latest.head_delta_version,
            target_bytes=config.streams.compact_target_bytes,
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
