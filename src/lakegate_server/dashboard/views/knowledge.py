"""Knowledge bases in the dashboard: the list with their builds, search with facets, a build."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from lakegate_server.accounts.models import Role
from lakegate_server.conf import project
from lakegate_server.dashboard.access import HtmxHttpRequest, authorize, login_required
from lakegate_server.dashboard.views._common import acting_user, int_param, lakegate_errors, render_page
from lakegate_server.knowledge.selectors import kb_builds, kb_facets, kb_list, kb_search_within
from lakegate_server.knowledge.services import kb_build_queue


@login_required
@require_GET
def kb_index(request: HtmxHttpRequest) -> HttpResponse:
    role = authorize(request, Role.VIEWER)
    context = {"bases": kb_list(config=project()), "builds": kb_builds(limit=20)}
    return render_page(request, "dashboard/kb.html", context, role=role, section="kb")


@login_required
@require_GET
@lakegate_errors()
def kb_detail(request: HtmxHttpRequest, name: str) -> HttpResponse:
    role = authorize(request, Role.VIEWER)
    config = project()
    facets = kb_facets(config=config, name=name)
    query = request.GET.get("q", "").strip()[:2000]
    category = int_param(request, "category")
    folder = request.GET.get("folder", "").strip() or None
    hits = (
        kb_search_within(config=config, q=query, name=name, k=10, category=category, folder=folder)[1]
        if query
        else []
    )
    builds = kb_builds(name=name, limit=10)
    context = {
        "kb": facets,
        "query": query,
        "category": category,
        "folder": folder or "",
        "hits": hits,
        "builds": builds,
        "latest": builds[0] if builds else None,
    }
    return render_page(request, "dashboard/kb_detail.html", context, role=role, section="kb", partial="hits")


@login_required
@require_POST
@lakegate_errors(back="dashboard:kb", prefix="build")
def kb_build_view(request: HtmxHttpRequest) -> HttpResponse:
    authorize(request, Role.EDITOR)
    categories = request.POST.get("categories", "").strip()
    params: dict[str, object] = {
        "name": request.POST.get("name", "").strip(),
        "folder": request.POST.get("folder", "").strip(),
    }
    if categories:
        params["categories"] = categories
    run = kb_build_queue(config=project(), params=params, created_by=acting_user(request))
    messages.success(request, f"Knowledge base build queued as run {run.pk}.")
    return redirect(reverse("dashboard:run", kwargs={"run_id": run.pk}))
