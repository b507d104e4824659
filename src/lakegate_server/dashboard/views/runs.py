"""Runs: the list, one run with its live log, cancel, start a selfcheck."""

from __future__ import annotations

from datetime import timedelta

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST
from django_htmx.http import HttpResponseStopPolling

from lakegate_server.accounts.models import Role
from lakegate_server.dashboard.access import HtmxHttpRequest, authorize, login_required
from lakegate_server.dashboard.forms import RunFilterForm, SelfcheckForm
from lakegate_server.dashboard.selectors import run_log_tail
from lakegate_server.dashboard.views._common import (
    acting_user,
    form_errors,
    int_param,
    lakegate_errors,
    render_page,
)
from lakegate_server.jobs.models import Run, RunStatus
from lakegate_server.jobs.selectors import run_get, run_list
from lakegate_server.jobs.services import run_cancel, run_create

# The worker writes a run's last log line ("attempt succeeded") just after it records the
# outcome, so the live log keeps polling this long after a run finished before it stops.
LOG_GRACE = timedelta(seconds=3)


@login_required
@require_GET
def run_index(request: HtmxHttpRequest) -> HttpResponse:
    role = authorize(request, Role.VIEWER)
    form = RunFilterForm(request.GET)
    status = form.cleaned_data["status"] if form.is_valid() else ""
    items = list(run_list(status=status or None, limit=100))
    context = {
        "runs": items,
        "status": status,
        "statuses": RunStatus.values,
        "active": any(not run.is_finished for run in items),
        "filter_form": form,
        "selfcheck_form": SelfcheckForm(),
    }
    return render_page(
        request, "dashboard/runs.html", context, role=role, section="runs", partial="runs-section"
    )


@login_required
@require_GET
@lakegate_errors()
def run_detail(request: HtmxHttpRequest, run_id: int) -> HttpResponse:
    role = authorize(request, Role.VIEWER)
    run = run_get(run_id=run_id)
    context = {"run": run, "tail": run_log_tail(run_id=run.pk), "polling": _still_tailing(run)}
    return render_page(request, "dashboard/run_detail.html", context, role=role, section="runs")


@login_required
@require_GET
@lakegate_errors()
def run_log(request: HtmxHttpRequest, run_id: int) -> HttpResponse:
    """The live log: new lines after ``after`` plus the run's facts; stops polling once finished."""
    role = authorize(request, Role.VIEWER)
    if not request.htmx:
        return redirect("dashboard:run", run_id=run_id)
    run = run_get(run_id=run_id)  # read before the log: a finished run's lines are all written
    tail = run_log_tail(run_id=run.pk, after=int_param(request, "after", 0) or 0)
    polling = _still_tailing(run)
    context = {"run": run, "tail": tail, "polling": polling, "oob": True}
    response = render_page(
        request, "dashboard/run_detail.html", context, role=role, section="runs", partial="log-update"
    )
    return response if polling else HttpResponseStopPolling(response.render().content)


def _still_tailing(run: Run) -> bool:
    if not run.is_finished:
        return True
    return run.finished_at is not None and timezone.now() - run.finished_at < LOG_GRACE


def _run_url(run_id: int) -> str:
    return reverse("dashboard:run", kwargs={"run_id": run_id})


@login_required
@require_POST
@lakegate_errors(back=_run_url)
def run_cancel_view(request: HtmxHttpRequest, run_id: int) -> HttpResponse:
    authorize(request, Role.EDITOR)
    run_cancel(run_id=run_id, by=acting_user(request))
    messages.success(request, f"Run {run_id} cancelled.")
    return redirect(_run_url(run_id))


@login_required
@require_POST
def selfcheck_start(request: HtmxHttpRequest) -> HttpResponse:
    authorize(request, Role.EDITOR)
    form = SelfcheckForm(request.POST)
    if not form.is_valid():
        messages.error(request, form_errors(form))
        return redirect("dashboard:runs")
    run = run_create(
        kind="selfcheck", params={"seconds": form.cleaned_data["seconds"]}, created_by=acting_user(request)
    )
    return redirect("dashboard:run", run_id=run.pk)
