"""Dashboard reads for the quality gate: reports listed, summarised, their HTML, home counts.

Kept beside ``selectors.py`` rather than in it so each section's reads stay a short module.
Nothing here writes; the quality app's services check and approve.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from django.db.models import Count, QuerySet

from lakegate.errors import NotFoundError
from lakegate_server.conf import project
from lakegate_server.dashboard.selectors import status_per_day
from lakegate_server.datasets.models import DatasetVersion, VersionStatus
from lakegate_server.quality.models import CheckReport
from lakegate_server.quality.selectors import report_html as stored_report_html

__all__ = [
    "VERDICTS",
    "CheckLine",
    "ReportSummary",
    "checks_overview",
    "report_get",
    "report_html",
    "report_list",
    "report_of",
    "report_summary",
]

# Report verdicts, worst first (a report's verdict is never ``skip``; a check's can be).
VERDICTS = ("fail", "warn", "pass")
_SEVERITY = {"fail": 0, "warn": 1, "pass": 2, "skip": 3}
TOP_REASONS = 3


def report_list(*, verdict: str | None = None, limit: int = 100) -> QuerySet[CheckReport]:
    """The newest reports (with their version and dataset), optionally of one verdict."""
    reports = CheckReport.objects.select_related("version__dataset").order_by("-id")
    if verdict:
        reports = reports.filter(status=verdict)
    return reports[:limit]


def report_get(*, report_id: int) -> CheckReport:
    report = CheckReport.objects.select_related("version__dataset").filter(pk=report_id).first()
    if report is None:
        raise NotFoundError(f"no check report {report_id}")
    return report


def report_of(version: DatasetVersion) -> CheckReport | None:
    """The version's latest report; None before its first check."""
    return version.reports.select_related("version__dataset").order_by("-id").first()


def _is_latest(report: CheckReport) -> bool:
    return not CheckReport.objects.filter(version_id=report.version_id, pk__gt=report.pk).exists()


def report_html(report: CheckReport) -> str:
    """The report as lakegate's self-contained HTML page (its stored page, or rendered again)."""
    return stored_report_html(config=project(), report=report)


@dataclass(frozen=True)
class CheckLine:
    """One check of a report: its verdict and its most severe reasons."""

    name: str
    kind: str
    status: str
    reasons: list[dict[str, Any]]
    more: int


@dataclass(frozen=True)
class ReportSummary:
    report: CheckReport
    checks: list[CheckLine]
    counts: list[tuple[str, int]]
    latest: bool

    @property
    def version(self) -> DatasetVersion:
        return self.report.version

    @property
    def reference(self) -> str:
        numbers = self.report.reference_versions
        return ", ".join(f"v{n}" for n in numbers)


def report_summary(report: CheckReport) -> ReportSummary:
    """What the version page shows of a report: per check its status and top reasons."""
    data = report.report
    checks = []
    for check in data.get("checks", []):
        reasons = sorted(check.get("reasons", []), key=lambda r: _SEVERITY.get(r.get("status", ""), 9))
        checks.append(
            CheckLine(
                name=str(check.get("name", "")),
                kind=str(check.get("kind", "")),
                status=str(check.get("status", "")),
                reasons=reasons[:TOP_REASONS],
                more=max(len(reasons) - TOP_REASONS, 0),
            )
        )
    checks.sort(key=lambda c: _SEVERITY.get(c.status, 9))
    counts = data.get("counts", {})
    order = [*VERDICTS, "skip"]
    return ReportSummary(
        report=report,
        checks=checks,
        counts=[(status, int(counts.get(status, 0))) for status in order if counts.get(status)],
        latest=_is_latest(report),
    )


def checks_per_day(*, days: int, today: date | None = None) -> list[tuple[date, dict[str, float]]]:
    return status_per_day(CheckReport.objects.all(), days=days, today=today)


def checks_overview(*, days: int = 14) -> dict[str, Any]:
    """Home page: reports by verdict, versions rejected and not approved, checks per day."""
    counts = dict(CheckReport.objects.values_list("status").annotate(n=Count("id")).order_by())
    return {
        "checks_by_verdict": [(verdict, counts.get(verdict, 0)) for verdict in reversed(VERDICTS)],
        "checks_total": sum(counts.values()),
        "versions_rejected": DatasetVersion.objects.filter(status=VersionStatus.REJECTED).count(),
        "checks_per_day": checks_per_day(days=days),
    }
