"""The decision ledger in the dashboard: the ledger page, and rejecting or revoking a version."""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from lakegate.errors import LakegateError, NotFoundError
from lakegate_server.accounts.models import Role
from lakegate_server.conf import project
from lakegate_server.dashboard.access import HtmxHttpRequest, authorize, login_required
from lakegate_server.dashboard.forms import DecisionForm, LedgerFilterForm
from lakegate_server.dashboard.views._common import acting_user, form_errors, render_page
from lakegate_server.datasets.selectors import version_get
from lakegate_server.flow import version_reject, version_revoke
from lakegate_server.ledger.selectors import decisions_list


@login_required
@require_GET
def ledger_index(request: HtmxHttpRequest) -> HttpResponse:
    role = authorize(request, Role.VIEWER)
    form = LedgerFilterForm(request.GET)
    dataset = form.cleaned_data["dataset"] if form.is_valid() else ""
    model = form.cleaned_data["model"] if form.is_valid() else ""
    context = {
        "decisions": list(decisions_list(dataset=dataset or None, model=model or None, limit=500)),
        "filter_form": form,
        "dataset": dataset,
        "model": model,
    }
    return render_page(request, "dashboard/ledger.html", context, role=role, section="ledger")


def _version_url(name: str, number: int) -> str:
    return f"{reverse('dashboard:dataset', kwargs={'name': name})}?version={number}"


def _withdraw(request: HtmxHttpRequest, name: str, number: int, *, revoke: bool) -> HttpResponse:
    authorize(request, Role.EDITOR)
    try:
        version_get(name=name, number=number)
    except NotFoundError as exc:
        raise Http404(exc.message) from exc
    form = DecisionForm(request.POST)
    verb = "revoked" if revoke else "rejected"
    if not form.is_valid():
        messages.error(request, f"Not {verb}: {form_errors(form)}")
        return redirect(_version_url(name, number))
    withdraw = version_revoke if revoke else version_reject
    try:
        result = withdraw(
            config=project(),
            dataset=name,
            number=number,
            reason=form.cleaned_data["reason"],
            actor=acting_user(request),
        )
    except LakegateError as exc:
        messages.error(request, f"Not {verb}: {exc.message}")
        return redirect(_version_url(name, number))
    impact = result.impact.to_dict()
    fed = [f"{m['model']} v{m['version']}" for m in impact["models"]]
    fed += sorted({t["output"] for t in impact["prediction_tables"]})
    messages.success(
        request,
        f"{name} version {number} {'approval revoked' if revoke else 'rejected'}: it is "
        f"{result.version.status} now. It fed: {', '.join(fed) or 'no model and no prediction table'}.",
    )
    return redirect(_version_url(name, number))


@login_required
@require_POST
def version_reject_view(request: HtmxHttpRequest, name: str, number: int) -> HttpResponse:
    return _withdraw(request, name, number, revoke=False)


@login_required
@require_POST
def version_revoke_view(request: HtmxHttpRequest, name: str, number: int) -> HttpResponse:
    return _withdraw(request, name, number, revoke=True)
