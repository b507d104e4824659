"""Quality: the check reports, one report (its HTML embedded), re-check and approve a version."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.views.decorators.clickjacking import xframe_options_sameorigin
from django.views.decorators.http import require_GET, require_POST

from lakegate_server.accounts.models import Role
from lakegate_server.conf import project
from lakegate_server.dashboard.access import HtmxHttpRequest, authorize, login_required
from lakegate_server.dashboard.forms import ApproveForm, CheckForm, DecisionForm, VerdictFilterForm
from lakegate_server.dashboard.quality_selectors import (
    VERDICTS,
    report_get,
    report_html,
    report_list,
    report_of,
    report_summary,
)
from lakegate_server.dashboard.views._common import acting_user, form_errors, lakegate_errors, render_page
from lakegate_server.dashboard.views.lineage import lineage_context
from lakegate_server.datasets.models import DatasetVersion
from lakegate_server.datasets.selectors import dataset_versions, version_get
from lakegate_server.flow import version_approve
from lakegate_server.jobs.services import run_create
from lakegate_server.ledger.selectors import decisions_list

# The report page is lakegate's own HTML (inline CSS and SVG, no scripts, no URLs); the policy
# makes that a guarantee: nothing may load or run, and only dashboard pages may frame it.
REPORT_CSP = (
    "default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; "
    "form-action 'none'; frame-ancestors 'self'; sandbox"
)


def _version_url(name: str, number: int) -> str:
    return f"{reverse('dashboard:dataset', kwargs={'name': name})}?version={number}"


def version_gate_context(version: DatasetVersion, *, others: list[int]) -> dict[str, Any]:
    """What the dataset page shows of a version's gate: the latest report and the two forms."""
    report = report_of(version)
    return {
        "gate": report_summary(report) if report else None,
        "check_form": CheckForm(others=others),
        "approve_form": ApproveForm(),
        "decision_form": DecisionForm(),
        "decisions": list(decisions_list(dataset=version.dataset.name, version=version.number)),
        **lineage_context(dataset=version.dataset.name, number=version.number),
    }


@login_required
@require_GET
def quality_index(request: HtmxHttpRequest) -> HttpResponse:
    role = authorize(request, Role.VIEWER)
    form = VerdictFilterForm(request.GET)
    verdict = form.cleaned_data["verdict"] if form.is_valid() else ""
    context = {
        "reports": list(report_list(verdict=verdict or None)),
        "verdict": verdict,
        "verdicts": VERDICTS,
        "filter_form": form,
    }
    return render_page(
        request, "dashboard/quality.html", context, role=role, section="quality", partial="reports-section"
    )


@login_required
@require_GET
@lakegate_errors()
def report_detail(request: HtmxHttpRequest, report_id: int) -> HttpResponse:
    role = authorize(request, Role.VIEWER)
    report = report_get(report_id=report_id)
    context = {"gate": report_summary(report), "version": report.version, "dataset": report.version.dataset}
    return render_page(request, "dashboard/quality_report.html", context, role=role, section="quality")


@xframe_options_sameorigin
@login_required
@require_GET
@lakegate_errors()
def report_html_view(request: HtmxHttpRequest, report_id: int) -> HttpResponse:
    """The report's own HTML page, for the dashboard's iframe or a tab of its own."""
    authorize(request, Role.VIEWER)
    report = report_get(report_id=report_id)
    response = HttpResponse(report_html(report), content_type="text/html; charset=utf-8")
    response["Content-Security-Policy"] = REPORT_CSP
    response["Referrer-Policy"] = "no-referrer"
    return response


@login_required
@require_POST
@lakegate_errors(back=_version_url, prefix="Re-check refused")
def version_check_view(request: HtmxHttpRequest, name: str, number: int) -> HttpResponse:
    authorize(request, Role.EDITOR)
    version_get(name=name, number=number)
    others = [v.number for v in dataset_versions(name=name) if v.number != number]
    form = CheckForm(request.POST, others=others)
    if not form.is_valid():
        messages.error(request, f"Re-check refused: {form_errors(form)}")
        return redirect(_version_url(name, number))
    params: dict[str, Any] = {"dataset": name, "version": number}
    if form.cleaned_data["reference"] is not None:
        params["reference"] = form.cleaned_data["reference"]
    run = run_create(kind="check", params=params, created_by=acting_user(request))
    messages.success(request, f"Run {run.pk} checks {name} version {number}.")
    return redirect("dashboard:run", run_id=run.pk)


@login_required
@require_POST
@lakegate_errors(back=_version_url, prefix="Not approved")
def version_approve_view(request: HtmxHttpRequest, name: str, number: int) -> HttpResponse:
    authorize(request, Role.EDITOR)
    version_get(name=name, number=number)
    form = ApproveForm(request.POST)
    if not form.is_valid():
        messages.error(request, f"Not approved: {form_errors(form)}")
        return redirect(_version_url(name, number))
    version = version_approve(
        config=project(),
        dataset=name,
        number=number,
        reason=form.cleaned_data["reason"],
        actor=acting_user(request),
    )
    messages.success(request, f"{name} version {number} approved: it is {version.status} now.")
    return redirect(_version_url(name, number))
