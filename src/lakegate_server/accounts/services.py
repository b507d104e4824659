"""Token writes: create (returns the secret once), revoke, touch."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import timedelta

from django.contrib.auth.models import Group, User
from django.db import transaction
from django.utils import timezone

from lakegate.errors import ConflictError, InputError, NotFoundError
from lakegate_server.accounts.models import ApiToken, Role, hash_secret

__all__ = ["IssuedToken", "token_create", "token_revoke", "token_touch", "user_create"]

# Writing last_used_at on every request would turn each read into a write; once a minute is enough.
_TOUCH_EVERY = timedelta(seconds=60)


@dataclass(frozen=True)
class IssuedToken:
    token: ApiToken
    raw: str


@transaction.atomic
def token_create(*, name: str, role: str) -> IssuedToken:
    """Create a token; the returned ``raw`` value is the only time the secret is visible."""
    if role not in Role.values:
        raise InputError(f"unknown role {role!r}; choose one of {', '.join(Role.values)}")
    name = name.strip()
    if not name:
        raise InputError("a token needs a non-empty name")
    prefix = secrets.token_hex(6)
    secret = secrets.token_urlsafe(32)
    token = ApiToken.objects.create(name=name, role=role, prefix=prefix, secret_hash=hash_secret(secret))
    return IssuedToken(token=token, raw=f"lg_{prefix}_{secret}")


@transaction.atomic
def token_revoke(*, token_id: int) -> ApiToken:
    token = ApiToken.objects.select_for_update().filter(id=token_id).first()
    if token is None:
        raise NotFoundError(f"no API token with id {token_id}")
    if token.revoked_at is None:
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])
    return token


def token_touch(*, token: ApiToken) -> None:
    now = timezone.now()
    if token.last_used_at is None or now - token.last_used_at > _TOUCH_EVERY:
        ApiToken.objects.filter(id=token.id).update(last_used_at=now)
        token.last_used_at = now


@transaction.atomic
def user_create(*, username: str, password: str, role: str) -> User:
    """A dashboard login; its role is the group of the same name (superusers are admins)."""
    if role not in Role.values:
        raise InputError(f"unknown role {role!r}; choose one of {', '.join(Role.values)}")
    if not username.strip():
        raise InputError("a user needs a non-empty name")
    if len(password) < 8:
        raise InputError("the password must have at least 8 characters")
    if User.objects.filter(username=username).exists():
        raise ConflictError(f"user {username!r} already exists")
    user = User.objects.create_user(username=username, password=password, is_staff=role == Role.ADMIN)
    user.groups.add(Group.objects.get_or_create(name=role)[0])
    return user
