"""Token reads: authenticate a raw bearer token, list tokens."""

from __future__ import annotations

import hmac

from django.db.models import QuerySet

from lakegate_server.accounts.models import ApiToken, hash_secret

__all__ = ["token_authenticate", "token_list"]


def token_authenticate(*, raw: str) -> ApiToken | None:
    """Return the live token for ``lg_<prefix>_<secret>``, or None (unknown, revoked, malformed)."""
    parts = raw.strip().split("_", 2)
    if len(parts) != 3 or parts[0] != "lg":
        return None
    _, prefix, secret = parts
    token = ApiToken.objects.filter(prefix=prefix, revoked_at__isnull=True).first()
    if token is None or not hmac.compare_digest(token.secret_hash, hash_secret(secret)):
        return None
    return token


def token_list(*, include_revoked: bool = False) -> QuerySet[ApiToken]:
    tokens = ApiToken.objects.all()
    return tokens if include_revoked else tokens.filter(revoked_at__isnull=True)
