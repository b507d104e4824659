"""The shapes of the knowledge app's JSON fields (``models.JSONField[Shape, Shape]`` in models.py).

Plain types only (models import this module); ``JSON_FIELDS`` lists every JSON field of the
app with the type a stored value must validate as (``tests/server/test_json_shapes.py``).
"""

from __future__ import annotations

from typing import Any, Final

# typing_extensions' TypedDict: pydantic reads these on Python 3.11.
from typing_extensions import TypedDict

__all__ = ["JSON_FIELDS", "BuildReportDict", "CorpusDrift", "DriftCategory"]


class DriftCategory(TypedDict):
    """One category of a rebuilt base: its share of the last build's chunks and of this one's."""

    id: int
    label: str
    before: float
    after: float


class CorpusDrift(TypedDict):
    """How a build differs from the last one (``lakegate.knowledge._drift.corpus_drift``)."""

    previous_chunks: int
    sampled: int
    centroid_shift: float
    new_category_share: float
    new_categories: list[str]
    categories: list[DriftCategory]


class BuildReportDict(TypedDict):
    """``lakegate.knowledge.BuildReport.to_dict()``: what a build read, embedded and wrote."""

    folder: str
    output: str
    embedder: str
    dims: int
    files_seen: int
    files_read: int
    files_reused: int
    files_removed: int
    files_indexed: int
    files_skipped: int
    chunks: int
    chunks_embedded: int
    vectors_reused: int
    up_to_date: bool
    seconds: float
    skipped: list[dict[str, Any]]  # SkippedFile.to_dict(): path, reason, detail
    categories: list[dict[str, Any]]  # Category.to_dict(): id, label, terms, size
    timings: dict[str, float]
    outputs: dict[str, str]
    drift: CorpusDrift | None


JSON_FIELDS: Final[dict[str, object]] = {
    "knowledge.KnowledgeBuild.report": BuildReportDict,
}
