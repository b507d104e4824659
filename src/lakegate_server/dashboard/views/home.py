"""The home page: totals, runs by status, check verdicts, charts over time."""

from __future__ import annotations

from django.http import HttpResponse
from django.views.decorators.http import require_GET

from lakegate_server.accounts.models import Role
from lakegate_server.conf import project
from lakegate_server.dashboard.access import HtmxHttpRequest, authorize, login_required
from lakegate_server.dashboard.charts import per_day_chart
from lakegate_server.dashboard.quality_selectors import checks_overview
from lakegate_server.dashboard.selectors import home_overview
from lakegate_server.dashboard.views._common import format_bytes, render_page
from lakegate_server.jobs.models import RunStatus


@login_required
@require_GET
def home(request: HtmxHttpRequest) -> HttpResponse:
    role = authorize(request, Role.VIEWER)
    overview = home_overview(price_per_gb_month=project().price_per_gb_month)
    saved_chart = per_day_chart(
        overview["saved_per_day"],
        title="Bytes saved per day",
        series=["saved"],
        fmt=format_bytes,
        binary=True,
    )
    runs_chart = per_day_chart(overview["runs_per_day"], title="Runs per day", series=RunStatus.values)
    checks = checks_overview()
    checks_chart = per_day_chart(
        checks["checks_per_day"], title="Checks per day", series=["pass", "warn", "fail"]
    )
    context = {
        **overview,
        **checks,
        "saved_chart": saved_chart,
        "runs_chart": runs_chart,
        "checks_chart": checks_chart,
    }
    return render_page(request, "dashboard/home.html", context, role=role, section="home")
