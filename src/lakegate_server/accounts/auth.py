"""Bearer-token auth for the API and the one role check every endpoint starts with."""

from __future__ import annotations

from django.http import HttpRequest
from ninja.errors import AuthorizationError
from ninja.security import HttpBearer

from lakegate_server.accounts.models import ApiToken, Role
from lakegate_server.accounts.selectors import token_authenticate
from lakegate_server.accounts.services import token_touch
from lakegate_server.accounts.throttle import throttle_fail, throttled, token_keys

__all__ = ["TokenAuth", "authorize"]


class TokenAuth(HttpBearer):
    """``Authorization: Bearer lg_<prefix>_<secret>``; anything else is 401 (429 once an
    address sent too many bad tokens: see ``accounts.throttle``)."""

    def authenticate(self, request: HttpRequest, token: str) -> ApiToken | None:
        api_token = token_authenticate(raw=token)
        if api_token is None:
            wait = throttle_fail(token_keys(address=request.META.get("REMOTE_ADDR")))
            if wait is not None:
                raise throttled(wait, "bad API tokens from this address")
            return None
        token_touch(token=api_token)
        return api_token


def authorize(request: HttpRequest, role: Role) -> ApiToken:
    """Return the request's token if its role allows ``role``; 403 otherwise."""
    token = getattr(request, "auth", None)
    if not isinstance(token, ApiToken):  # pragma: no cover - TokenAuth runs first on every route
        raise AuthorizationError(message="no API token on this request")
    if not token.allows(role):
        raise AuthorizationError(
            message=f"this needs the {role.value} role; the token {token.name!r} is {token.role}"
        )
    return token
