"""Quality reads: the latest report of a version."""

from __future__ import annotations

from lakegate.errors import NotFoundError
from lakegate_server.datasets.selectors import version_get
from lakegate_server.quality.models import CheckReport

__all__ = ["report_latest"]


def report_latest(*, dataset: str, number: int) -> CheckReport:
    version = version_get(name=dataset, number=number)
    report = version.reports.order_by("-id").first()
    if report is None:
        raise NotFoundError(
            f"{dataset} version {number} has not been checked yet; "
            f"run `lakegate check {dataset} --version {number}`"
        )
    return report
