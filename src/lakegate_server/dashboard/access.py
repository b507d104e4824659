"""Who may see and do what on the dashboard: one check that opens every view.

Roles are the API's (viewer < editor < admin), taken from the user's Django groups
(``accounts.selectors.user_role``). The check lives in the view, never only in a template:
an htmx partial or a hand-made POST reaches the same view and meets the same check.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest
from django.http.response import HttpResponseBase
from django.shortcuts import resolve_url
from django_htmx.http import HttpResponseClientRedirect
from django_htmx.middleware import HtmxDetails

from lakegate_server.accounts.models import ROLE_RANK, Role
from lakegate_server.accounts.selectors import user_role

__all__ = ["HtmxHttpRequest", "allows", "authorize", "login_required"]


class HtmxHttpRequest(HttpRequest):
    htmx: HtmxDetails


def allows(role: str | None, need: Role) -> bool:
    return role is not None and ROLE_RANK[role] >= ROLE_RANK[need]


def authorize(request: HttpRequest, need: Role) -> Role:
    """The user's role when it allows ``need``; 403 otherwise (also for users without a role)."""
    role = user_role(request.user)
    if role is None:
        raise PermissionDenied("your login has no dashboard role; ask an admin for one")
    if not allows(role, need):
        raise PermissionDenied(f"this needs the {need.value} role; you are {role.value}")
    return role


def login_required(view: Callable[..., HttpResponseBase]) -> Callable[..., HttpResponseBase]:
    """Send anonymous users to the login page, then back; htmx requests redirect the whole page."""

    @wraps(view)
    def wrapper(request: HtmxHttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        if request.user.is_authenticated:
            return view(request, *args, **kwargs)
        if request.htmx:
            # A swapped-in login form would land inside the partial: redirect the page instead.
            back = request.htmx.current_url_abs_path or request.get_full_path()
            return HttpResponseClientRedirect(
                f"{resolve_url(settings.LOGIN_URL)}?{urlencode({'next': back})}"
            )
        return redirect_to_login(request.get_full_path())

    return wrapper
