"""API tokens (admin): list, create (the secret is shown once), revoke."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from lakegate.errors import LakegateError
from lakegate_server.accounts.models import Role
from lakegate_server.accounts.selectors import token_list
from lakegate_server.accounts.services import token_create, token_revoke
from lakegate_server.dashboard.access import HtmxHttpRequest, authorize, login_required
from lakegate_server.dashboard.forms import TokenCreateForm
from lakegate_server.dashboard.views._common import lakegate_errors, render_page


@never_cache  # the response that shows a new secret must not be kept anywhere
@login_required
@require_http_methods(["GET", "POST"])
def token_index(request: HtmxHttpRequest) -> HttpResponse:
    role = authorize(request, Role.ADMIN)
    form = TokenCreateForm(request.POST or None)
    issued = None
    if request.method == "POST" and form.is_valid():
        try:
            issued = token_create(name=form.cleaned_data["name"], role=form.cleaned_data["role"])
        except LakegateError as exc:
            form.add_error(None, exc.message)
        else:
            form = TokenCreateForm()
    revoked = request.GET.get("revoked") == "1"
    context = {
        "tokens": list(token_list(include_revoked=revoked)),
        "revoked": revoked,
        "form": form,
        "issued": issued,
    }
    failed = request.method == "POST" and issued is None
    return render_page(
        request, "dashboard/tokens.html", context, role=role, section="tokens", status=400 if failed else 200
    )


@login_required
@require_POST
@lakegate_errors()
def token_revoke_view(request: HtmxHttpRequest, token_id: int) -> HttpResponse:
    authorize(request, Role.ADMIN)
    token = token_revoke(token_id=token_id)
    messages.success(request, f"Token {token.name!r} revoked; requests with it now get 401.")
    return redirect("dashboard:tokens")
