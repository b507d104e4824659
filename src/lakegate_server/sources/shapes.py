"""The shapes of the sources app's JSON fields (``models.JSONField[Shape, Shape]`` in models.py)
and of the rows its selectors return (frozen dataclasses, read by attribute).

Plain types only (models import this module). ``JSON_FIELDS`` lists every JSON field of the
app with the type a stored value must validate as (``tests/server/test_json_shapes.py``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

__all__ = ["JSON_FIELDS", "SourceRow", "SourceState"]

# A source's resume state: opaque to the server, owned by the core source kind that wrote it
# (``lakegate.sources``: a REST cursor, the S3 objects already read, a SQL high-water mark).
SourceState = dict[str, Any]


@dataclass(frozen=True)
class SourceRow:
    """A declared source and where it stands (``selectors.source_list``)."""

    name: str
    kind: str
    dataset: str
    schedule: str | None
    state: SourceState
    last_run_at: datetime | None
    last_status: str
    last_error: str
    fetches: list[dict[str, Any]]  # the latest fetches, newest first (``SourceFetch.to_dict``)


JSON_FIELDS: Final[dict[str, object]] = {
    "sources.Source.state": SourceState,
    "sources.SourceFetch.state": SourceState,
}
