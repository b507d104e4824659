"""A pipeline's inputs: the accepted data of each input dataset, and its lineage.

A dataset's training frame is every *accepted* batch up to its latest accepted version
(from the last overwrite on). When no version in that range was rejected or is still
pending, that is simply the Delta table as of the latest accepted version; otherwise
the accepted batches are read one by one, so rows the quality gate rejected never reach
a model even though they stay stored in the table.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from dataclasses import dataclass
from typing import TYPE_CHECKING

from lakegate.config import Settings
from lakegate.errors import PipelineError
from lakegate.lake import as_location, batch_frame
from lakegate.pipelines import PipelineInput, PipelineSpec
from lakegate_server.datasets.models import DatasetVersion, VersionStatus
from lakegate_server.training.shapes import GateVerdict, LineageEntry

if TYPE_CHECKING:
    import polars as pl

__all__ = ["InputLineage", "accepted_frame", "pipeline_inputs"]


@dataclass(frozen=True)
class InputLineage:
    """Which versions of one dataset a run read, and what the gate said about them."""

    dataset: str
    versions: list[DatasetVersion]
    fingerprint: str

    @property
    def latest(self) -> DatasetVersion:
        return self.versions[-1]

    def gate(self) -> list[GateVerdict]:
        return [
            {"dataset": self.dataset, "version": v.number, "status": v.status, "verdict": v.verdict}
            for v in self.versions
        ]

    def to_dict(self) -> LineageEntry:
        return {
            "dataset": self.dataset,
            "versions": [v.number for v in self.versions],
            "latest": self.latest.number,
            "rows": sum(v.rows for v in self.versions),
            "fingerprint": self.fingerprint,
            "gate": self.gate(),
        }


def _no_accepted(pipeline: str, dataset: str, versions: list[DatasetVersion]) -> PipelineError:
    if not versions:
        reason = "has no versions yet; ingest a file first"
    else:
        counts = Counter(v.status for v in versions)
        seen = ", ".join(f"{n} {status}" for status, n in sorted(counts.items()))
        reason = f"has no accepted version yet ({seen}); only data the quality gate accepted is used"
    return PipelineError(
        f"pipeline {pipeline}: input dataset {dataset!r} {reason}",
        detail={"pipeline": pipeline, "dataset": dataset, "reason": "no_accepted_version"},
    )


def accepted_frame(config: Settings, pipeline: str, dataset: str) -> tuple[pl.LazyFrame, InputLineage]:
    """The accepted data of ``dataset`` as one LazyFrame, with its lineage."""
    import polars as pl

    versions = list(DatasetVersion.objects.filter(dataset__name=dataset).order_by("number"))
    accepted = [v for v in versions if v.status == VersionStatus.ACCEPTED]
    if not accepted:
        raise _no_accepted(pipeline, dataset, versions)
    latest = accepted[-1]
    upto = [v for v in versions if v.number <= latest.number]
    start = max((i for i, v in enumerate(upto) if v.mode == "overwrite"), default=0)
    chain = upto[start:]
    used = [v for v in chain if v.status == VersionStatus.ACCEPTED]
    table = as_location(config.lake_table(dataset))
    if len(used) == len(chain):
        options = table.polars_options
        frame = pl.scan_delta(table.target, version=latest.delta_version, storage_options=options)
    else:
        frame = pl.concat([batch_frame(table, v.delta_version) for v in used], how="diagonal_relaxed")
    digest = hashlib.sha256(dataset.encode())
    for version in used:
        digest.update(f"\n{version.number}:{version.sha256}".encode())
    return frame, InputLineage(dataset=dataset, versions=used, fingerprint=digest.hexdigest())


def pipeline_inputs(
    config: Settings, spec: PipelineSpec
) -> tuple[dict[str, PipelineInput], list[InputLineage]]:
    """Every input of ``spec`` (``PipelineError`` names the first without accepted data)."""
    inputs: dict[str, PipelineInput] = {}
    lineage: list[InputLineage] = []
    for dataset in spec.inputs:
        frame, used = accepted_frame(config, spec.name, dataset)
        inputs[dataset] = PipelineInput(frame, fingerprint=used.fingerprint)
        lineage.append(used)
    return inputs, lineage
