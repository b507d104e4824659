"""What every dashboard view shares: rendering a page or its partial, request helpers."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from django.contrib import messages
from django.http import Http404, HttpResponse
from django.shortcuts import redirect
from django.template.defaultfilters import filesizeformat
from django.template.response import TemplateResponse

from lakegate import __version__
from lakegate.errors import LakegateError, NotFoundError
from lakegate_server.accounts.models import Role
from lakegate_server.dashboard.access import HtmxHttpRequest, allows


def render_page(
    request: HtmxHttpRequest,
    template: str,
    context: dict[str, Any],
    *,
    role: Role,
    section: str,
    partial: str | None = None,
    status: int = 200,
) -> TemplateResponse:
    """``template``, or only its ``partial`` for an htmx request, with the role flags templates use."""
    # A history restore (back button after hx-push-url, cache miss) wants the whole page.
    wants_partial = request.htmx and not request.htmx.history_restore_request
    name = f"{template}#{partial}" if partial and wants_partial else template
    base = {
        "role": role,
        "can_edit": allows(role, Role.EDITOR),
        "is_admin": allows(role, Role.ADMIN),
        "section": section,
        "lakegate_version": __version__,
    }
    return TemplateResponse(request, name, {**base, **context}, status=status)


def acting_user(request: HtmxHttpRequest) -> str:
    """How runs, versions and retries record who started them from the dashboard."""
    return f"user:{request.user.get_username()}"


def format_bytes(value: float) -> str:
    return str(filesizeformat(value))


def int_param(request: HtmxHttpRequest, name: str, default: int | None = None) -> int | None:
    """An integer query parameter; anything else is 404 (a URL that names nothing)."""
    raw = request.GET.get(name)
    if raw in (None, ""):
        return default
    try:
        return int(raw)
    except ValueError:
        raise Http404(f"{name} must be a number") from None


def form_errors(form: Any) -> str:
    """A form's errors on one line, for a message after a redirect."""
    return "; ".join(f"{field}: {' '.join(errors)}" for field, errors in form.errors.items())


View = TypeVar("View", bound=Callable[..., HttpResponse])


def lakegate_errors(
    *, back: str | Callable[..., str] | None = None, prefix: str = ""
) -> Callable[[View], View]:
    """The one translation of domain errors for dashboard views.

    ``NotFoundError`` (the URL names nothing) -> 404. Any other ``LakegateError`` -> the
    message (after ``prefix``) on the next page and a redirect to ``back``: a URL name, or a
    function of the view's arguments returning a URL. Without ``back`` it propagates.
    Put it innermost, under ``login_required`` and the method check: a permission refusal
    is not a domain error.
    """

    def decorate(view: View) -> View:
        @wraps(view)
        def wrapper(request: HtmxHttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            try:
                return view(request, *args, **kwargs)
            except NotFoundError as exc:
                raise Http404(exc.message) from exc
            except LakegateError as exc:
                if back is None:
                    raise
                messages.error(request, f"{prefix}: {exc.message}" if prefix else exc.message)
                target = back(*args, **kwargs) if callable(back) else back
                return redirect(target)

        # functools.wraps keeps the view's signature, but mypy types the wrapper as its own
        # (request, *args, **kwargs) function, not as the View it replaces.
        return wrapper  # type: ignore[return-value]

    return decorate
