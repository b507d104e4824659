"""The ``ingest`` job: ingest an uploaded or inbox file as a run (worker side).

The staged file lives in the storage at ``uploads/<id>/<name>`` (the run's ``key``; the
project's ``.lakegate/uploads/`` by default, an object store with ``storage: s3://...``) from
the upload (or the inbox claim) until the lake has its version, so the worker may run on any
host: it is removed only after the version committed, or moved into the quarantine when the
file is at fault.

A lake that does not answer (:class:`~lakegate.errors.LakeUnavailableError`) is an outage,
not a bad file. An attempt then fails with that transient error and leaves the staged file
in place; the job runner re-queues the run while attempts remain (``runs.max_attempts``), and
the next attempt reads the same file again. A version the lake took just before the outage is
not written twice: the catalog's expected Delta version rolls back any commit it never
recorded, and same bytes are a duplicate.

When the last attempt meets the outage too, the file goes to the quarantine with the
unreachable reason (code ``lake_unavailable``) and the run fails, naming the entry:
``lakegate quarantine retry`` (or the API, or the dashboard) ingests it once the lake is
back. Not back into the inbox: an upload never came from one, and a file put back there is
claimed again within seconds, a new run against the same outage with no end; the quarantine
lists the file with its reason and keeps it until someone retries it.

Whatever else ends an ingest run failed while its file is still staged (its worker died on
the last attempt, an unexpected error), :func:`_keep_staged_file` moves the file into the
quarantine with the run's error, so no failed run leaves a file behind unlisted.

A worker killed after the commit and before the gate (or before deleting the staged file)
leaves a ``pending`` version: the retry finds the version its run committed and gates it
(``ingest_resume``) instead of reading the file again.

The sequence itself (commit, quarantine, gate, what follows) is the spine's,
:mod:`lakegate_server.flow`; this module adapts it to a run.
"""

from __future__ import annotations

import contextlib
import logging
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from lakegate.config import Settings
from lakegate.errors import InputError, JobError, LakegateError, Transient
from lakegate.storage import Area, join_key, open_storage
from lakegate_server.datasets.inbox import is_upload_key
from lakegate_server.flow import IngestResult, ingest_resume, ingest_staged, quarantine_staged
from lakegate_server.jobs.context import JobContext, json_safe
from lakegate_server.jobs.models import Run
from lakegate_server.jobs.registry import JobSpec

__all__ = ["INGEST", "IngestParams"]

log = logging.getLogger("lakegate.datasets")


class IngestParams(BaseModel):
    model_config = ConfigDict(extra="forbid")

    dataset: str
    key: str | None = Field(
        None, description="The staged file's storage key, uploads/<id>/<name> (uploads and inbox drops)."
    )
    path: str | None = Field(
        None, description="Before staging went through the storage: a file under .lakegate/uploads/."
    )
    original_name: str | None = None
    mode: Literal["append", "overwrite"] = "append"
    evolve: bool = False
    sheet: str | None = None


def _staged_key(config: Settings, params: IngestParams) -> str | None:
    """The storage key of the run's staged file, or None when the params name none lakegate staged."""
    if params.key is not None:
        return join_key(params.key) if is_upload_key(params.key) else None
    if params.path is None:
        return None
    # A run queued before staging went through the storage names a local path; it is the
    # same file when the storage is the project's own folder.
    uploads = config.paths.uploads.resolve()
    path = Path(params.path).resolve()
    local = open_storage(config).local_path(Area.UPLOADS)
    if local is None or local.resolve() != uploads or not path.is_relative_to(uploads):
        return None
    key = join_key(Area.UPLOADS, path.relative_to(uploads).as_posix())
    return key if is_upload_key(key) else None


def _require_key(config: Settings, params: IngestParams) -> str:
    """Only files lakegate itself staged may be ingested by a run: no reading of arbitrary paths."""
    key = _staged_key(config, params)
    if key is None:
        if params.key is not None:
            raise InputError(
                "params.key must be a staged file's key, uploads/<id>/<name>", detail={"field": "key"}
            )
        uploads = config.paths.uploads.resolve()
        raise InputError(f"params.path must be a file under {uploads}", detail={"field": "path"})
    return key


def _tidy(config: Settings, key: str) -> None:
    """Remove the staged file's folder on a local storage once it is empty."""
    local = open_storage(config).local_path(key)
    if local is not None:
        with contextlib.suppress(OSError):
            local.parent.rmdir()


def _last_attempt(ctx: JobContext) -> bool:
    """Whether the runner fails the run for good when this attempt fails (no retry after it)."""
    max_attempts = Run.objects.values_list("max_attempts", flat=True).get(pk=ctx.run_id)
    return ctx.attempt >= max_attempts


def ingest(ctx: JobContext, params: IngestParams) -> dict[str, Any]:
    config, actor = ctx.settings, f"run:{ctx.run_id}"
    key = _require_key(config, params)
    label = params.original_name or key.rsplit("/", 1)[-1]
    storage = open_storage(config)
    if ctx.attempt > 1 and (resumed := ingest_resume(config=config, dataset=params.dataset, actor=actor)):
        # An earlier attempt of this run committed the file (and was killed before the end):
        # finish that version instead of reading the file again.
        storage.delete(key)
        _tidy(config, key)
        ctx.log("ingest resumed", dataset=params.dataset, version=resumed.version.number)
        return _summary(ctx, resumed)
    if not storage.exists(key):
        raise InputError(f"{label}: the staged file is gone (already ingested?)", detail={"field": "key"})
    last = _last_attempt(ctx)
    ctx.log("ingest started", dataset=params.dataset, file=label, last_attempt=last)
    try:
        result = ingest_staged(
            config=config,
            dataset=params.dataset,
            key=key,
            original_name=params.original_name,
            mode=params.mode,
            evolve=params.evolve,
            sheet=params.sheet,
            actor=actor,
        )
    except LakegateError as exc:
        # An outage is retried with the file left staged; only the last attempt keeps it in
        # the quarantine instead (the run ends then, naming the entry).
        if not isinstance(exc, Transient) or not last:
            raise
        raise quarantine_staged(
            config=config,
            dataset=params.dataset,
            key=key,
            original_name=params.original_name,
            error=exc,
            actor=actor,
        ) from exc
    finally:
        # The per-upload folder (local storage): empty once the file went into the lake or
        # the quarantine; still holding the file after a transient failure, for the next attempt.
        _tidy(config, key)
    return _summary(ctx, result)


def _summary(ctx: JobContext, result: IngestResult) -> dict[str, Any]:
    summary = result.to_dict()
    ctx.log("ingest finished", version=summary["version"], duplicate=result.duplicate, rows=summary["rows"])
    return json_safe(summary)


def _keep_staged_file(run: Run, config: Settings) -> None:
    """A failed ingest run whose file is still staged: keep the file in the quarantine."""
    try:
        params = IngestParams.model_validate(run.params)
    except ValidationError:
        return
    key = _staged_key(config, params)
    if key is None or not open_storage(config).exists(key):
        return  # ingested, quarantined already, or never a staged file
    error = quarantine_staged(
        config=config,
        dataset=params.dataset,
        key=key,
        original_name=params.original_name,
        error=JobError(run.last_error or f"run {run.pk} failed"),
        actor=f"run:{run.pk}",
    )
    _tidy(config, key)
    log.warning("failed run's file quarantined", extra={"run": run.pk, "quarantine_id": error.entry_id})


INGEST = JobSpec(
    name="ingest",
    description="Ingest a staged file (upload or inbox drop) into a dataset.",
    params=IngestParams,
    func=ingest,
    on_failed=_keep_staged_file,
)
