"""Job kinds: a lazy registry of name -> dotted path of a :class:`JobSpec`.

Adding a kind is one line here plus a module; nothing is imported until a run of
that kind is created or executed.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ValidationError

from lakegate._resolve import resolve
from lakegate.config import Settings
from lakegate.errors import InputError
from lakegate_server.jobs.context import JobContext

if TYPE_CHECKING:
    from lakegate_server.jobs.models import Run

__all__ = ["JOBS", "JobSpec", "job_kinds", "job_spec", "validate_params"]

JOBS: dict[str, str] = {
    "check": "lakegate_server.quality.jobs:CHECK",
    "export": "lakegate_server.exports.jobs:EXPORT",
    "ingest": "lakegate_server.datasets.jobs:INGEST",
    "kb_build": "lakegate_server.knowledge.jobs:KB_BUILD",
    "notify": "lakegate_server.training.jobs:NOTIFY",
    "performance": "lakegate_server.training.jobs:PERFORMANCE",
    "predict": "lakegate_server.training.jobs:PREDICT",
    "scoring_drift": "lakegate_server.training.jobs:SCORING_DRIFT",
    "selfcheck": "lakegate_server.jobs.builtin:SELFCHECK",
    "source": "lakegate_server.sources.jobs:SOURCE",
    "train": "lakegate_server.training.jobs:TRAIN",
}


@dataclass(frozen=True)
class JobSpec:
    name: str
    description: str
    params: type[BaseModel]
    func: Callable[[JobContext, Any], dict[str, Any]]
    # Called once when a run of this kind ends FAILED, whoever failed it (the job raising, or
    # the reaper giving up on a dead worker or a run never picked up), after the write committed,
    # with the project's settings. ``run.last_error`` says why. Its errors are logged, never raised.
    on_failed: Callable[[Run, Settings], None] | None = None


def job_kinds() -> list[str]:
    return sorted(JOBS)


def job_spec(kind: str) -> JobSpec:
    if kind not in JOBS:
        raise InputError(
            f"unknown run kind {kind!r}; known kinds: {', '.join(job_kinds())}",
            detail={"field": "kind", "known": job_kinds()},
        )
    spec = resolve(JOBS[kind])
    if not isinstance(spec, JobSpec):
        raise TypeError(f"{JOBS[kind]} is not a JobSpec")
    return spec


def validate_params(spec: JobSpec, params: dict[str, Any]) -> dict[str, Any]:
    """Validate run parameters against the job's model; return them normalised (JSON-safe)."""
    try:
        return spec.params.model_validate(params).model_dump(mode="json")
    except ValidationError as exc:
        problems = [
            {"field": ".".join(str(p) for p in err["loc"]), "message": err["msg"]} for err in exc.errors()
        ]
        text = "; ".join(f"params.{p['field']}: {p['message']}" for p in problems)
        raise InputError(f"invalid parameters for {spec.name}: {text}", detail=problems) from exc
