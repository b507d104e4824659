"""Token reads: authenticate a raw bearer token, list tokens."""

from __future__ import annotations

import hmac

from django.contrib.auth.base_user import AbstractBaseUser
from django.contrib.auth.models import AnonymousUser, PermissionsMixin
from django.db.models import QuerySet

from lakegate_server.accounts.models import ROLE_RANK, ApiToken, Role, hash_secret

__all__ = ["token_authenticate", "token_list", "user_role"]


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


def user_role(user: AbstractBaseUser | AnonymousUser) -> Role | None:
    """The dashboard role of ``user``: admin for superusers, else its highest role group."""
    # PermissionsMixin: a user with groups and is_superuser (Django's User; never AnonymousUser).
    if not isinstance(user, PermissionsMixin) or not user.is_authenticated or not user.is_active:
        return None
    if user.is_superuser:
        return Role.ADMIN
    names = set(user.groups.values_list("name", flat=True)) & set(ROLE_RANK)
    return Role(max(names, key=ROLE_RANK.__getitem__)) if names else None
