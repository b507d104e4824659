"""Failed logins and bad API tokens, counted per client address (and per username for logins).

``N`` failures under one key within ``web.failure_window_seconds`` block that key for the
same window: the dashboard login (and the admin's) answers 429 with ``Retry-After`` even for
the right password, and a bad token gets 429 instead of 401. A valid API token is never
refused: tokens are 256-bit random secrets that cannot be guessed, and a client behind the
same address (an office NAT, a CI runner) must not lose its access because a neighbour's
token was revoked. Counts live in the database (:class:`~.models.FailureCount`), shared by
every web process.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from lakegate.errors import LakegateError
from lakegate_server.accounts.models import FailureCount

__all__ = [
    "Keys",
    "ThrottledError",
    "login_keys",
    "throttle_fail",
    "throttle_reset",
    "throttle_wait",
    "throttled",
    "token_keys",
]

# Rows this long past their window (and not blocking) are deleted by the next failure.
_KEEP = timedelta(days=1)


class ThrottledError(LakegateError):
    code = "throttled"
    http_status = 429

    def __init__(self, message: str, *, retry_after: int) -> None:
        super().__init__(message, detail={"retry_after": retry_after})
        self.retry_after = retry_after


@dataclass(frozen=True)
class Keys:
    """The keys one attempt counts under, and how many failures each may have per window."""

    names: tuple[str, ...]
    limit: int
    window: int  # seconds


def _address(address: str | None) -> str:
    return (address or "unknown")[:60]


def login_keys(*, address: str | None, username: str) -> Keys:
    web = settings.LAKEGATE.web
    user = username.strip().lower()[:150]
    names = (f"login-ip:{_address(address)}", *((f"login-user:{user}",) if user else ()))
    return Keys(names=names, limit=web.login_failure_limit, window=web.failure_window_seconds)


def token_keys(*, address: str | None) -> Keys:
    web = settings.LAKEGATE.web
    return Keys(
        names=(f"token-ip:{_address(address)}",),
        limit=web.token_failure_limit,
        window=web.failure_window_seconds,
    )


def _seconds_until(moment: datetime, now: datetime) -> int:
    return max(1, int((moment - now).total_seconds() + 0.999))


def throttle_wait(keys: Keys) -> int | None:
    """Seconds until ``keys`` may try again, or None when none of them is blocked."""
    now = timezone.now()
    until = (
        FailureCount.objects.filter(key__in=keys.names, blocked_until__gt=now)
        .order_by("-blocked_until")
        .values_list("blocked_until", flat=True)
        .first()
    )
    return _seconds_until(until, now) if until is not None else None


def throttle_fail(keys: Keys) -> int | None:
    """Count one failure under each key; the seconds to wait when that blocked one, else None."""
    now = timezone.now()
    window = timedelta(seconds=keys.window)
    blocked: list[datetime] = []
    with transaction.atomic():
        for name in keys.names:
            row, _created = FailureCount.objects.select_for_update().get_or_create(
                key=name, defaults={"window_started_at": now}
            )
            if row.blocked_until is not None and row.blocked_until > now:
                blocked.append(row.blocked_until)  # blocked already: no more writes while it lasts
                continue
            if now - row.window_started_at >= window:
                row.count, row.window_started_at = 0, now
            row.count += 1
            if row.count >= keys.limit:
                row.blocked_until = now + window
                row.count, row.window_started_at = 0, now
                blocked.append(row.blocked_until)
            row.save()
        stale = Q(blocked_until__isnull=True) | Q(blocked_until__lt=now - _KEEP)
        FailureCount.objects.filter(stale, updated_at__lt=now - _KEEP).delete()
    return _seconds_until(max(blocked), now) if blocked else None


def throttle_reset(name: str) -> None:
    """Forget the failures under ``name`` (a successful login clears its username's count)."""
    FailureCount.objects.filter(key=name).delete()


def throttled(wait: int, what: str) -> ThrottledError:
    """The refusal of an attempt ``wait`` seconds before its key may try again."""
    minutes = max(1, round(wait / 60))
    return ThrottledError(
        f"too many {what}; try again in {minutes} minute{'s' if minutes != 1 else ''}", retry_after=wait
    )
