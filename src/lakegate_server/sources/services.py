"""Run declared sources (REST, SQL, S3) into the lake, resumably; fire their cron schedules.

Each fetched batch becomes one dataset version, and the source's new state (cursor, seen
objects) is saved in the same transaction as that version. A run that dies between two
batches resumes after the last committed one; a batch fetched again is the same bytes and
the content hash makes it a duplicate, never a second version.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from lakegate.errors import ConfigError, ConflictError, LakegateError, NotFoundError, Transient
from lakegate_server.datasets.services import IngestOutcome, QuarantinedError, dataset_ingest, scratch_root
from lakegate_server.jobs.models import Run
from lakegate_server.jobs.services import run_create
from lakegate_server.quality.services import version_check
from lakegate_server.sources.models import Source, SourceFetch
from lakegate_server.sources.selectors import source_specs

if TYPE_CHECKING:
    from lakegate.notify import OutboundPolicy
    from lakegate.sources import FetchedBatch, SourceSpec

__all__ = ["SourceRunResult", "outbound_policy", "source_run", "source_run_queue", "sources_cron_fire"]

log = logging.getLogger("lakegate.sources")
LogFn = Callable[..., None]


@dataclass
class SourceRunResult:
    source: str
    dataset: str
    fetches: list[dict[str, Any]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        outcomes = [f["outcome"] for f in self.fetches]
        return {
            "source": self.source,
            "dataset": self.dataset,
            "batches": len(self.fetches),
            "new_versions": outcomes.count("new"),
            "duplicates": outcomes.count("duplicate"),
            "quarantined": outcomes.count("quarantined"),
            "rows": sum(f["rows"] or 0 for f in self.fetches if f["outcome"] == "new"),
            "bytes": sum(f["bytes"] for f in self.fetches),
            "fetches": self.fetches,
        }


def outbound_policy() -> OutboundPolicy:
    from pydantic import ValidationError

    from lakegate.notify import OutboundPolicy

    try:
        return OutboundPolicy(**settings.LAKEGATE.outbound)
    except ValidationError as exc:
        raise ConfigError(f"outbound: {exc.errors()[0]['msg']}", detail={"field": "outbound"}) from exc


def _spec(name: str) -> SourceSpec:
    specs = source_specs()
    if name not in specs:
        known = ", ".join(sorted(specs)) or "none declared in lakegate.yaml"
        raise NotFoundError(f"no source {name!r} (sources: {known})", detail={"source": name})
    return specs[name]


def source_run_queue(*, name: str, created_by: str = "") -> Run:
    """Queue a ``source`` run (the API and cron use this; the CLI runs sources inline)."""
    _spec(name)
    return run_create(kind="source", params={"name": name}, created_by=created_by)


def source_run(
    *, name: str, created_by: str = "", log_fn: LogFn | None = None, run_id: int | None = None
) -> SourceRunResult:
    """Fetch what is new in source ``name`` and ingest it, one version per batch; then gate them."""
    from lakegate.sources import fetch

    spec = _spec(name)
    source, _ = Source.objects.get_or_create(name=name)
    result = SourceRunResult(source=name, dataset=spec.dataset)
    scratch = Path(tempfile.mkdtemp(prefix=f"source-{name}-", dir=scratch_root()))
    new_versions: list[int] = []
    try:
        batches = fetch(spec, dict(source.state), scratch, outbound=outbound_policy(), log=log_fn)
        with contextlib.closing(batches):  # a failed batch closes the fetch (cursors, connections) now
            for batch in batches:
                fetched = _ingest_batch(
                    spec, source, batch, created_by=created_by or f"source:{name}", run_id=run_id
                )
                result.fetches.append(fetched.to_dict())
                if fetched.outcome == "new" and fetched.version is not None:
                    new_versions.append(fetched.version.number)
                if log_fn:
                    log_fn("batch fetched", label=batch.label, outcome=fetched.outcome, rows=batch.rows)
    except LakegateError as exc:
        Source.objects.filter(pk=source.pk).update(
            last_run_at=timezone.now(), last_status="failed", last_error=exc.message
        )
        raise
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    Source.objects.filter(pk=source.pk).update(
        last_run_at=timezone.now(), last_status="succeeded", last_error=""
    )
    for number in new_versions:  # the gate decides after the versions are committed
        version_check(dataset=spec.dataset, number=number, created_by=created_by or f"source:{name}")
    log.info(
        "source run finished", extra={"source": name, **result.to_dict(), "fetches": len(result.fetches)}
    )
    return result


def _ingest_batch(
    spec: SourceSpec, source: Source, batch: FetchedBatch, *, created_by: str, run_id: int | None
) -> SourceFetch:
    common = {
        "source": source,
        "label": batch.label[:500],
        "rows": batch.rows,
        "bytes": batch.bytes,
        "run_id": run_id,
    }
    try:
        # The version and the source's new state commit together (or neither does).
        with transaction.atomic():
            outcome: IngestOutcome = dataset_ingest(
                name=spec.dataset,
                source=batch.path,
                original_name=batch.label,
                mode=spec.mode,
                created_by=created_by,
                quarantine=False,
                check=False,
            )
            Source.objects.filter(pk=source.pk).update(state=batch.state)
            source.state = batch.state
            return SourceFetch.objects.create(
                **common,
                state=batch.state,
                version=outcome.version,
                outcome="duplicate" if outcome.duplicate else "new",
            )
    except ConflictError:
        raise
    except LakegateError as exc:
        if isinstance(exc, Transient):
            raise  # the lake is down, not the batch: the run retries, the cursor stays put
    # Unreadable or conflicting batch: keep it in the quarantine (with its reason) and move on,
    # so one bad object does not block the source; it is never lost.
    try:
        dataset_ingest(
            name=spec.dataset,
            source=batch.path,
            original_name=batch.label,
            created_by=created_by,
            check=False,
        )
    except QuarantinedError as exc:
        with transaction.atomic():
            Source.objects.filter(pk=source.pk).update(state=batch.state)
            source.state = batch.state
            return SourceFetch.objects.create(
                **common, state=batch.state, outcome="quarantined", quarantine_id=exc.entry_id
            )
    raise ConflictError(f"source {spec.name}: batch {batch.label} could not be ingested; try again")


def sources_cron_fire(*, now: dt.datetime | None = None) -> list[Run]:
    """Queue ``source`` runs whose cron slot has come (the scheduler calls this every few seconds).

    The last slot started is kept on the source (claimed with a conditional update, so two
    schedulers never start the same slot); a schedule seen for the first time is armed, and
    slots missed while no scheduler ran start once, for the latest of them.
    """
    from croniter import croniter

    if not settings.LAKEGATE.sources:
        return []
    now = now or timezone.now()
    runs: list[Run] = []
    for spec in source_specs().values():
        if not spec.schedule:
            continue
        source, _ = Source.objects.get_or_create(name=spec.name)
        if source.last_fired_at is None:
            Source.objects.filter(pk=source.pk, last_fired_at__isnull=True).update(last_fired_at=now)
            continue
        due = croniter(spec.schedule, source.last_fired_at).get_next(dt.datetime)
        if due > now:
            continue
        slot = max(due, croniter(spec.schedule, now).get_prev(dt.datetime))
        with transaction.atomic():
            claimed = Source.objects.filter(pk=source.pk, last_fired_at=source.last_fired_at).update(
                last_fired_at=slot
            )
            if claimed:
                runs.append(run_create(kind="source", params={"name": spec.name}, created_by="trigger:cron"))
    return runs
