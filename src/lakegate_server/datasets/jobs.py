"""The ``ingest`` job: ingest an uploaded or inbox file as a run (worker side).

The staged file lives in ``.lakegate/uploads/<id>/`` from the upload (or the inbox claim)
until the lake has its version: it is removed only after the version committed, or moved
into the quarantine when the file is at fault.

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

A worker killed after the commit and before the gate leaves a ``pending`` version and no
staged file: the retry finds the version its run committed and gates it (``ingest_resume``).

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
from lakegate_server.datasets.services import quarantine_add
from lakegate_server.flow import IngestResult, ingest_resume, ingest_staged, quarantine_staged
from lakegate_server.jobs.context import JobContext, json_safe
from lakegate_server.jobs.models import Run
from lakegate_server.jobs.registry import JobSpec

__all__ = ["INGEST", "IngestParams"]

log = logging.getLogger("lakegate.datasets")


class IngestParams(BaseModel):
    model_config = ConfigDict(extra="forbid")

    dataset: str
    path: str = Field(..., description="A file under .lakegate/uploads/ (uploads and claimed inbox files).")
    original_name: str | None = None
    mode: Literal["append", "overwrite"] = "append"
    evolve: bool = False
    sheet: str | None = None


def _staged_path(config: Settings, raw: str) -> Path | None:
    """``raw`` resolved when it is under ``.lakegate/uploads/``, else None."""
    uploads = config.paths.uploads.resolve()
    path = Path(raw).resolve()
    return path if path.is_relative_to(uploads) else None


def _staged_file(config: Settings, raw: str) -> Path:
    """Only files lakegate itself staged may be ingested by a run: no reading of arbitrary paths."""
    path = _staged_path(config, raw)
    if path is None:
        uploads = config.paths.uploads.resolve()
        raise InputError(f"params.path must be a file under {uploads}", detail={"field": "path"})
    return path


def _last_attempt(ctx: JobContext) -> bool:
    """Whether the runner fails the run for good when this attempt fails (no retry after it)."""
    max_attempts = Run.objects.values_list("max_attempts", flat=True).get(pk=ctx.run_id)
    return ctx.attempt >= max_attempts


def ingest(ctx: JobContext, params: IngestParams) -> dict[str, Any]:
    config, actor = ctx.settings, f"run:{ctx.run_id}"
    source = _staged_file(config, params.path)
    label = params.original_name or source.name
    if not source.is_file():
        # Gone: an earlier attempt of this run committed it (and was killed before the end).
        resumed = ingest_resume(config=config, dataset=params.dataset, actor=actor)
        if resumed is None:
            raise InputError(
                f"{label}: the staged file is gone (already ingested?)", detail={"field": "path"}
            )
        ctx.log("ingest resumed", dataset=params.dataset, version=resumed.version.number)
        return _summary(ctx, resumed)
    last = _last_attempt(ctx)
    ctx.log("ingest started", dataset=params.dataset, file=label, last_attempt=last)
    try:
        result = ingest_staged(
            config=config,
            dataset=params.dataset,
            path=source,
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
            path=source,
            original_name=params.original_name,
            error=exc,
            actor=actor,
        ) from exc
    finally:
        # The per-upload folder: empty once the file went into the lake or the quarantine;
        # still holding the file after a transient failure, for the next attempt.
        with contextlib.suppress(OSError):
            source.parent.rmdir()
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
    path = _staged_path(config, params.path)
    if path is None or not path.is_file():
        return  # ingested, quarantined already, or never a staged file
    record = quarantine_add(
        config=config,
        dataset=params.dataset,
        source=path,
        error=JobError(run.last_error or f"run {run.pk} failed"),
        original_name=params.original_name,
        move=True,
        created_by=f"run:{run.pk}",
    )
    with contextlib.suppress(OSError):
        path.parent.rmdir()
    log.warning("failed run's file quarantined", extra={"run": run.pk, "quarantine_id": record.id})


INGEST = JobSpec(
    name="ingest",
    description="Ingest a staged file (upload or inbox drop) into a dataset.",
    params=IngestParams,
    func=ingest,
    on_failed=_keep_staged_file,
)
