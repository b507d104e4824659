"""Models: pipelines and registered models, one model's versions (metrics, robustness,
lineage, stage history), promote and rollback, the model card, "train now"."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.http import Http404, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from lakegate.errors import ConfigError
from lakegate_server.accounts.models import Role
from lakegate_server.conf import project
from lakegate_server.dashboard.access import HtmxHttpRequest, authorize, login_required
from lakegate_server.dashboard.views._common import (
    acting_user,
    form_errors,
    int_param,
    lakegate_errors,
    render_page,
)
from lakegate_server.dashboard.views.lineage import lineage_context
from lakegate_server.ledger.selectors import decisions_list
from lakegate_server.training.models import ModelVersion, Stage
from lakegate_server.training.promotion import model_promote, model_rollback
from lakegate_server.training.selectors import (
    model_audit,
    model_get,
    model_list,
    model_version_get,
    model_versions,
    pipeline_list,
    prediction_batches,
    version_card_html,
)
from lakegate_server.training.services import pipeline_run_create


class StageChangeForm(forms.Form):
    reason = forms.CharField(max_length=2000, help_text="Kept in the audit log with your name.")


@login_required
@require_GET
def model_index(request: HtmxHttpRequest) -> HttpResponse:
    role = authorize(request, Role.VIEWER)
    try:
        pipelines, problem = pipeline_list(config=project()), ""
    except ConfigError as exc:
        pipelines, problem = [], exc.message
    context = {"models": model_list(), "pipelines": pipelines, "pipelines_problem": problem}
    return render_page(request, "dashboard/models.html", context, role=role, section="models")


def _selected(versions: list[ModelVersion], number: int | None) -> ModelVersion | None:
    if number is not None:
        found = next((v for v in versions if v.number == number), None)
        if found is None:
            raise Http404(f"no version {number}")
        return found
    return next((v for v in versions if v.stage == Stage.CHAMPION), versions[0] if versions else None)


def _former_champions(audit: list[Any]) -> set[int]:
    return {change.version.number for change in audit if change.to_stage == Stage.CHAMPION}


@login_required
@require_GET
@lakegate_errors()
def model_detail(request: HtmxHttpRequest, name: str) -> HttpResponse:
    from lakegate_server.dashboard.performance_chart import performance_chart
    from lakegate_server.training.monitoring import performance_last, scoring_drift_last

    role = authorize(request, Role.VIEWER)
    model = model_get(name=name)
    versions = list(model_versions(name=name).select_related("run"))
    version = _selected(versions, int_param(request, "version"))
    audit = model_audit(name=name)
    context = {
        "model": model,
        "versions": versions,
        "version": version,
        "audit": audit,
        "was_champion": _former_champions(audit),
        "decisions": list(decisions_list(model=name, limit=100)),
        **(lineage_context(model=name, number=version.number) if version else {}),
        "batches": prediction_batches(name=name, limit=20),
        "robustness_rows": (version.robustness.get("rows") or []) if version else [],
        "performance": performance_chart(performance_last(name=name)),
        "drift": scoring_drift_last(name=name),
        "form": StageChangeForm(),
    }
    return render_page(
        request,
        "dashboard/model_detail.html",
        context,
        role=role,
        section="models",
        partial="version-section",
    )


@login_required
@require_GET
@lakegate_errors()
def model_card(request: HtmxHttpRequest, name: str, number: int) -> HttpResponse:
    authorize(request, Role.VIEWER)
    version = model_version_get(name=name, number=number)
    card = version_card_html(project(), version)
    if card is None:
        raise Http404("no model card")
    response = HttpResponse(card, content_type="text/html; charset=utf-8")
    response["Content-Security-Policy"] = "default-src 'none'; style-src 'unsafe-inline'"
    return response


@login_required
@require_GET
@lakegate_errors()
def model_drift_report(request: HtmxHttpRequest, name: str) -> HttpResponse:
    """The latest scoring-drift report (the gate's HTML report) of a model's champion."""
    from lakegate.errors import NotFoundError
    from lakegate_server.training.monitoring import scoring_drift_report

    authorize(request, Role.VIEWER)
    try:
        page = scoring_drift_report(config=project(), name=name, page="html")
    except NotFoundError as exc:
        raise Http404(exc.message) from exc
    response = HttpResponse(page, content_type="text/html; charset=utf-8")
    response["Content-Security-Policy"] = "default-src 'none'; style-src 'unsafe-inline'"
    return response


def _version_url(name: str, number: int) -> str:
    return f"{reverse('dashboard:model', kwargs={'name': name})}?version={number}"


def _stage_change(request: HtmxHttpRequest, name: str, number: int, *, rollback: bool) -> HttpResponse:
    authorize(request, Role.EDITOR)
    model_get(name=name)
    form = StageChangeForm(request.POST)
    if not form.is_valid():
        messages.error(request, f"Not changed: {form_errors(form)}")
        return redirect(_version_url(name, number))
    change = model_rollback if rollback else model_promote
    change(
        config=project(),
        name=name,
        number=number,
        reason=form.cleaned_data["reason"],
        actor=acting_user(request),
    )
    verb = "restored as" if rollback else "promoted to"
    messages.success(request, f"{name} v{number} {verb} champion; serving picks it up within a second.")
    return redirect(_version_url(name, number))


@login_required
@require_POST
@lakegate_errors(back=_version_url, prefix="Not changed")
def model_promote_view(request: HtmxHttpRequest, name: str, number: int) -> HttpResponse:
    return _stage_change(request, name, number, rollback=False)


@login_required
@require_POST
@lakegate_errors(back=_version_url, prefix="Not changed")
def model_rollback_view(request: HtmxHttpRequest, name: str, number: int) -> HttpResponse:
    return _stage_change(request, name, number, rollback=True)


@login_required
@require_POST
@lakegate_errors(back="dashboard:models", prefix="Not started")
def pipeline_run_view(request: HtmxHttpRequest, name: str) -> HttpResponse:
    authorize(request, Role.EDITOR)
    run = pipeline_run_create(config=project(), name=name, created_by=acting_user(request))
    messages.success(request, f"Training {name}: run {run.pk}.")
    return redirect("dashboard:run", run_id=run.pk)
