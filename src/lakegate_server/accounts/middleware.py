"""Login throttling for the dashboard's and the admin's login forms (see ``accounts.throttle``).

Failures are counted by the ``user_login_failed`` signal (``accounts.apps``), which Django's
``authenticate`` sends for every wrong password, whichever form it came from; this
middleware refuses a login POST while its address or username is blocked, before the
password is even checked.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib.auth.forms import AuthenticationForm
from django.http import HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.template.response import TemplateResponse

from lakegate_server.accounts.throttle import login_keys, throttle_wait, throttled

__all__ = ["LoginThrottleMiddleware"]

# Login views -> the template that shows the refusal (None: a plain-text answer).
LOGIN_VIEWS: dict[str, str | None] = {"dashboard:login": "dashboard/login.html", "admin:login": None}


class LoginThrottleMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        return self.get_response(request)

    def process_view(
        self, request: HttpRequest, view: Any, args: Any, kwargs: Any
    ) -> HttpResponseBase | None:
        match = request.resolver_match
        if request.method != "POST" or match is None or match.view_name not in LOGIN_VIEWS:
            return None
        keys = login_keys(address=request.META.get("REMOTE_ADDR"), username=request.POST.get("username", ""))
        wait = throttle_wait(keys)
        if wait is None:
            return None
        refusal = throttled(wait, "failed logins")
        template = LOGIN_VIEWS[match.view_name]
        response: HttpResponseBase
        if template is None:
            response = HttpResponse(refusal.message, status=429, content_type="text/plain; charset=utf-8")
        else:
            context = {"form": AuthenticationForm(request), "throttled": refusal.message, "next": ""}
            response = TemplateResponse(request, template, context, status=429)
        response["Retry-After"] = str(wait)
        return response
