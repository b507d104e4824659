"""Run declared sources (REST, SQL, S3) into the lake, resumably; fire their cron schedules.

Each fetched batch becomes one dataset version, and the source's new state (cursor, seen
objects) is saved in the same transaction as that version. A run that dies between two
batches resumes after the last committed one; a batch fetched again is the same bytes and
the content hash makes it a duplicate, never a second version. The new versions are
``pending``: the spine (:func:`lakegate_server.flow.source_pull`) gates them afterwards.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from django.db import transaction
from django.utils import timezone

from lakegate.config import Settings
from lakegate.errors import ConfigError, ConflictError, LakegateError, NotFoundError, Transient
from lakegate_server.datasets.models import DatasetVersion
from lakegate_server.datasets.services import quarantine_add, scratch_dir, version_commit
from lakegate_server.jobs.cron import cron_fire
from lakegate_server.jobs.models import Run
from lakegate_server.jobs.services import run_create
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
    new_versions: list[DatasetVersion] = field(default_factory=list)

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


def outbound_policy(config: Settings) -> OutboundPolicy:
    """The ``outbound:`` policy for user-configured URLs (ConfigError naming the field)."""
    from pydantic import ValidationError

    from lakegate.notify import OutboundPolicy

    try:
        return OutboundPolicy(**config.outbound)
    except ValidationError as exc:
        raise ConfigError(f"outbound: {exc.errors()[0]['msg']}", detail={"field": "outbound"}) from exc


def _spec(config: Settings, name: str) -> SourceSpec:
    specs = source_specs(config=config)
    if name not in specs:
        known = ", ".join(sorted(specs)) or "none declared in lakegate.yaml"
        raise NotFoundError(f"no source {name!r} (sources: {known})", detail={"source": name})
    return specs[name]


def source_run_queue(*, config: Settings, name: str, created_by: str = "") -> Run:
    """Queue a ``source`` run (the API and cron use this; the CLI runs sources inline)."""
    _spec(config, name)
    return run_create(kind="source", params={"name": name}, created_by=created_by)


def source_run(
    *,
    config: Settings,
    name: str,
    created_by: str = "",
    log_fn: LogFn | None = None,
    run_id: int | None = None,
) -> SourceRunResult:
    """Fetch what is new in source ``name`` and commit it, one ``pending`` version per batch."""
    from lakegate.sources import fetch

    spec = _spec(config, name)
    source, _ = Source.objects.get_or_create(name=name)
    result = SourceRunResult(source=name, dataset=spec.dataset)
    scratch = scratch_dir(config, f"source-{name}-")
    actor = created_by or f"source:{name}"
    try:
        batches = fetch(spec, dict(source.state), scratch, outbound=outbound_policy(config), log=log_fn)
        with contextlib.closing(batches):  # a failed batch closes the fetch (cursors, connections) now
            for batch in batches:
                fetched = _commit_batch(config, spec, source, batch, created_by=actor, run_id=run_id)
                result.fetches.append(fetched.to_dict())
                if fetched.outcome == "new" and fetched.version is not None:
                    result.new_versions.append(fetched.version)
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
    log.info(
        "source run finished", extra={"source": name, **result.to_dict(), "fetches": len(result.fetches)}
    )
    return result


def _commit_batch(
    config: Settings,
    spec: SourceSpec,
    source: Source,
    batch: FetchedBatch,
    *,
    created_by: str,
    run_id: int | None,
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
            committed = version_commit(
                config=config,
                name=spec.dataset,
                source=batch.path,
                original_name=batch.label,
                mode=spec.mode,
                created_by=created_by,
            )
            return _advance(
                source,
                batch,
                common,
                version=committed.version,
                outcome="duplicate" if committed.duplicate else "new",
            )
    except ConflictError:
        raise
    except LakegateError as exc:
        if isinstance(exc, Transient):
            raise  # the lake is down, not the batch: the run retries, the cursor stays put
        error = exc
    # Unreadable or conflicting batch: keep it in the quarantine (with its reason) and move on,
    # so one bad object does not block the source; it is never lost.
    with transaction.atomic():
        record = quarantine_add(
            config=config,
            dataset=spec.dataset,
            source=batch.path,
            error=error,
            original_name=batch.label,
            move=True,
            created_by=created_by,
        )
        return _advance(source, batch, common, outcome="quarantined", quarantine_id=record.id)


def _advance(
    source: Source, batch: FetchedBatch, common: dict[str, Any], *, outcome: str, **fields: Any
) -> SourceFetch:
    """Save the source's state after ``batch`` and record what became of the batch."""
    Source.objects.filter(pk=source.pk).update(state=batch.state)
    source.state = batch.state
    return SourceFetch.objects.create(**common, state=batch.state, outcome=outcome, **fields)


def sources_cron_fire(*, config: Settings, now: dt.datetime | None = None) -> list[Run]:
    """Queue ``source`` runs whose cron slot has come (the scheduler calls this every few seconds).

    The last slot started is kept on the source (claimed with a conditional update, so two
    schedulers never start the same slot); see :func:`~lakegate_server.jobs.cron.cron_fire`
    for arming and catching up.
    """
    if not config.sources:
        return []
    now = now or timezone.now()
    runs: list[Run] = []
    for spec in source_specs(config=config).values():
        if not spec.schedule:
            continue
        source, _ = Source.objects.get_or_create(name=spec.name)
        last = source.last_fired_at

        def arm(at: dt.datetime, source: Source = source) -> None:
            Source.objects.filter(pk=source.pk, last_fired_at__isnull=True).update(last_fired_at=at)

        def claim(slot: dt.datetime, source: Source = source, name: str = spec.name) -> Run | None:
            with transaction.atomic():
                claimed = Source.objects.filter(pk=source.pk, last_fired_at=source.last_fired_at).update(
                    last_fired_at=slot
                )
                if not claimed:
                    return None
                return run_create(kind="source", params={"name": name}, created_by="trigger:cron")

        run = cron_fire(spec.schedule, last=last, now=now, arm=arm, claim=claim, label=f"source {spec.name}")
        if run is not None:
            runs.append(run)
    return runs
