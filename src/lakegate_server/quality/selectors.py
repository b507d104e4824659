"""Quality reads: the latest report of a version."""

from __future__ import annotations

from pathlib import Path

from lakegate.config import Settings
from lakegate.errors import NotFoundError
from lakegate.storage import open_storage
from lakegate_server.datasets.selectors import version_get
from lakegate_server.quality.models import CheckReport

__all__ = ["report_html", "report_latest"]


def report_html(*, config: Settings, report: CheckReport) -> str:
    """The report as lakegate's self-contained HTML page.

    Read from the storage (``html_path`` holds its key; older rows hold a local path); when
    the page is not there, it is rendered again from the report's stored JSON, which gives
    the same page.
    """
    try:
        legacy = Path(report.html_path)
        if legacy.is_absolute():
            return legacy.read_text(encoding="utf-8")
        if report.html_path:
            return open_storage(config).get_bytes(report.html_path).decode("utf-8")
    except (OSError, NotFoundError):
        pass
    from lakegate.checks import CheckReport as StoredReport
    from lakegate.checks import render_html

    return render_html(StoredReport.from_dict(report.report))


def report_latest(*, dataset: str, number: int) -> CheckReport:
    version = version_get(name=dataset, number=number)
    report = version.reports.order_by("-id").first()
    if report is None:
        raise NotFoundError(
            f"{dataset} version {number} has not been checked yet; "
            f"run `lakegate check {dataset} --version {number}`"
        )
    return report
