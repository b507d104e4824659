"""Quarantine: files that could not be ingested, and retrying them."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from lakegate_server.accounts.models import Role
from lakegate_server.conf import project
from lakegate_server.dashboard.access import HtmxHttpRequest, authorize, login_required
from lakegate_server.dashboard.forms import RetryForm
from lakegate_server.dashboard.views._common import acting_user, lakegate_errors, render_page
from lakegate_server.datasets.selectors import quarantine_list
from lakegate_server.flow import quarantine_retry


@login_required
@require_GET
def quarantine_index(request: HtmxHttpRequest) -> HttpResponse:
    role = authorize(request, Role.VIEWER)
    resolved = request.GET.get("resolved") == "1"
    context = {
        "entries": list(quarantine_list(include_resolved=resolved)),
        "resolved": resolved,
        "retry_form": RetryForm(),
    }
    return render_page(request, "dashboard/quarantine.html", context, role=role, section="quarantine")


@login_required
@require_POST
@lakegate_errors(back="dashboard:quarantine", prefix="Retry failed")
def quarantine_retry_view(request: HtmxHttpRequest, entry_id: str) -> HttpResponse:
    authorize(request, Role.EDITOR)
    form = RetryForm(request.POST)
    evolve = bool(form.is_valid() and form.cleaned_data["evolve"])
    outcome = quarantine_retry(config=project(), entry_id=entry_id, evolve=evolve, actor=acting_user(request))
    version = outcome.version
    messages.success(
        request, f"{version.source_name} is now version {version.number} of {version.dataset.name}."
    )
    url = reverse("dashboard:dataset", kwargs={"name": version.dataset.name})
    return redirect(f"{url}?version={version.number}")
