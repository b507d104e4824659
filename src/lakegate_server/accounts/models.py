"""API tokens with a role. Only a hash of the secret is stored; the token is shown once."""

from __future__ import annotations

import hashlib
from typing import ClassVar

from django.db import models


class Role(models.TextChoices):
    VIEWER = "viewer", "Viewer: read everything"
    EDITOR = "editor", "Editor: also ingest, run, approve, promote"
    ADMIN = "admin", "Admin: also manage tokens"


def hash_secret(secret: str) -> str:
    """Tokens are random and long, so one SHA-256 (no salt, no stretching) is enough."""
    return hashlib.sha256(secret.encode()).hexdigest()


# Each role may do what the roles before it may do.
ROLE_RANK: dict[str, int] = {Role.VIEWER: 0, Role.EDITOR: 1, Role.ADMIN: 2}


class ApiToken(models.Model):
    name = models.CharField(max_length=100)
    role = models.CharField(max_length=10, choices=Role.choices)
    # The public part of the token (``lg_<prefix>_<secret>``) finds the row without a scan.
    prefix = models.CharField(max_length=16, unique=True)
    secret_hash = models.CharField(max_length=64)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering: ClassVar = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.name} ({self.role}, lg_{self.prefix}_…)"

    def allows(self, role: str) -> bool:
        return ROLE_RANK[self.role] >= ROLE_RANK[role]


class FailureCount(models.Model):
    """Failed logins or bad tokens counted under one key (``login-ip:1.2.3.4``, ``login-user:ann``).

    In the database, not in process memory: every web process counts into the same rows, on
    SQLite and PostgreSQL alike, and a row is updated under a row lock (exact counts, whatever
    the concurrency). See ``accounts.throttle``.
    """

    key = models.CharField(max_length=200, unique=True)
    count = models.PositiveIntegerField(default=0)
    window_started_at = models.DateTimeField()
    blocked_until = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True, db_index=True)

    def __str__(self) -> str:
        return f"{self.key}: {self.count}"
