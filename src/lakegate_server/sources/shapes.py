"""The shapes of the sources app's JSON fields (``models.JSONField[Shape, Shape]`` in models.py).

Plain types only (models import this module). ``JSON_FIELDS`` lists every JSON field of the
app with the type a stored value must validate as (``tests/server/test_json_shapes.py``).
"""

from __future__ import annotations

from typing import Any, Final

__all__ = ["JSON_FIELDS", "SourceState"]

# A source's resume state: opaque to the server, owned by the core source kind that wrote it
# (``lakegate.sources``: a REST cursor, the S3 objects already read, a SQL high-water mark).
SourceState = dict[str, Any]

JSON_FIELDS: Final[dict[str, object]] = {
    "sources.Source.state": SourceState,
    "sources.SourceFetch.state": SourceState,
}
