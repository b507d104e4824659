"""Datasets: list, one dataset's versions and statistics, the diff of two versions, uploads."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.middleware.csrf import CsrfViewMiddleware
from django.shortcuts import redirect
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST

from lakegate.errors import LakegateError, NotFoundError, PayloadTooLargeError
from lakegate.formats import EXTENSIONS
from lakegate.storage import open_storage
from lakegate_server.accounts.models import Role
from lakegate_server.conf import project
from lakegate_server.dashboard.access import HtmxHttpRequest, authorize, login_required
from lakegate_server.dashboard.forms import DiffForm, UploadForm
from lakegate_server.dashboard.selectors import column_rows, version_diff
from lakegate_server.dashboard.views._common import (
    acting_user,
    form_errors,
    int_param,
    lakegate_errors,
    render_page,
)
from lakegate_server.dashboard.views.quality import version_gate_context
from lakegate_server.datasets.selectors import dataset_get, dataset_list, dataset_versions, version_get
from lakegate_server.datasets.services import dataset_upload_queue
from lakegate_server.datasets.uploads import receive_upload


@login_required
@require_GET
def dataset_index(request: HtmxHttpRequest) -> HttpResponse:
    role = authorize(request, Role.VIEWER)
    context = {"datasets": dataset_list(), **_upload_context()}
    return render_page(request, "dashboard/datasets.html", context, role=role, section="datasets")


@login_required
@require_GET
@lakegate_errors()
def dataset_detail(request: HtmxHttpRequest, name: str) -> HttpResponse:
    role = authorize(request, Role.VIEWER)
    number = int_param(request, "version")
    dataset = dataset_get(name=name)
    versions = list(dataset_versions(name=name))
    version = version_get(name=name, number=number) if versions else None
    latest = versions[0].number if versions else 0
    context = {
        "dataset": dataset,
        "versions": versions,
        "version": version,
        "columns": column_rows(version) if version else [],
        **_upload_context(),
        "diff_form": DiffForm(initial={"a": max(latest - 1, 1), "b": latest}),
    }
    if version is not None:
        others = [v.number for v in versions if v.number != version.number]
        context |= version_gate_context(version, others=others)
    return render_page(
        request,
        "dashboard/dataset_detail.html",
        context,
        role=role,
        section="datasets",
        partial="version-section",
    )


@login_required
@require_GET
@lakegate_errors()
def dataset_diff(request: HtmxHttpRequest, name: str) -> HttpResponse:
    role = authorize(request, Role.VIEWER)
    dataset = dataset_get(name=name)
    versions = list(dataset_versions(name=name))
    latest = versions[0].number if versions else 0
    form = DiffForm(request.GET or {"a": max(latest - 1, 1), "b": latest})
    diff = None
    if versions and form.is_valid():
        try:
            diff = version_diff(name=name, a=form.cleaned_data["a"], b=form.cleaned_data["b"])
        except NotFoundError as exc:
            form.add_error(None, exc.message)
    context = {"dataset": dataset, "versions": versions, "form": form, "diff": diff}
    status = 400 if versions and diff is None else 200
    return render_page(
        request, "dashboard/dataset_diff.html", context, role=role, section="datasets", status=status
    )


@csrf_exempt  # the size limit must be in place before the body is read; CSRF is checked below
@login_required
@require_POST
def dataset_upload(request: HtmxHttpRequest) -> HttpResponseBase:
    authorize(request, Role.EDITOR)
    config = project()
    try:
        staged, original = receive_upload(request, config=config)
    except LakegateError as exc:
        messages.error(request, f"Upload refused: {exc.message}")
        # An oversized body was never parsed; reading request.POST would start parsing it again.
        return _upload_back("" if isinstance(exc, PayloadTooLargeError) else request.POST.get("dataset", ""))
    rejected = CsrfViewMiddleware(_no_view).process_view(request, _no_view, (), {})
    form = UploadForm(request.POST)
    if rejected is not None or not form.is_valid():
        open_storage(config).delete(staged)
        if rejected is not None:
            return rejected
        messages.error(request, f"Upload refused: {form_errors(form)}")
        return _upload_back(request.POST.get("dataset", ""))
    data = form.cleaned_data
    try:
        run = dataset_upload_queue(
            config=config,
            name=data["dataset"],
            key=staged,
            original_name=original,
            mode=data["mode"],
            evolve=data["evolve"],
            sheet=data["sheet"] or None,
            created_by=acting_user(request),
        )
    except LakegateError as exc:
        open_storage(config).delete(staged)  # no run took the file: nothing left behind
        messages.error(request, f"Upload refused: {exc.message}")
        return _upload_back(data["dataset"])
    messages.success(request, f"{original} uploaded; run {run.pk} ingests it into {data['dataset']}.")
    return redirect("dashboard:run", run_id=run.pk)


def _no_view(request: HttpRequest) -> HttpResponse:  # pragma: no cover - never called
    """Stands in for a view in the manual CSRF check, which only looks at the view's attributes."""
    return HttpResponse()


def _upload_back(name: str) -> HttpResponse:
    """Back to the dataset the form was on, or to the list for a new or unknown name."""
    try:
        dataset_get(name=name)
    except NotFoundError:
        return redirect("dashboard:datasets")
    return redirect("dashboard:dataset", name=name)


def _upload_context() -> dict[str, Any]:
    return {
        "upload_form": UploadForm(),
        "formats": sorted(set(EXTENSIONS.values())),
        "max_upload": project().web.max_upload_bytes,
    }
