"""The shapes of the run table's JSON fields (``models.JSONField[Shape, Shape]`` in models.py).

Plain types only (models import this module). ``JSON_FIELDS`` lists every JSON field of the
app with the type a stored value must validate as (``tests/server/test_json_shapes.py``).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Final

# typing_extensions' TypedDict: pydantic reads these on Python 3.11.
from typing_extensions import TypedDict

__all__ = ["JSON_FIELDS", "LogEntry", "RunDict", "RunParams", "RunResult"]

# A run's parameters: a JSON object whose keys depend on the run kind. Each kind declares a
# pydantic model for them (``jobs.registry.JobSpec.params``: ``TrainParams``, ``IngestParams``,
# ...), checked by ``validate_params`` when the run is created and read back by the job.
RunParams = dict[str, Any]

# What a finished job returned (its summary: rows, version, model, ...); null until it ends.
RunResult = dict[str, Any]

# One log line of a run (``lakegate._logging.JsonFormatter.entry``): ``ts``, ``level``,
# ``logger``, ``msg``, ``exc`` when there was one, and the record's own extra fields (any keys).
LogEntry = dict[str, Any]


class RunDict(TypedDict):
    """A run as the API and the CLI show it (``Run.to_dict``)."""

    id: int
    kind: str
    params: RunParams
    status: str
    attempts: int
    max_attempts: int
    created_by: str
    created_at: datetime
    queued_at: datetime | None
    started_at: datetime | None
    finished_at: datetime | None
    worker: str
    heartbeat_at: datetime | None
    lease_expires_at: datetime | None
    result: RunResult | None
    last_error: str


JSON_FIELDS: Final[dict[str, object]] = {
    "jobs.Run.params": RunParams,
    "jobs.Run.result": RunResult | None,
    "jobs.RunLogLine.entry": LogEntry,
}
