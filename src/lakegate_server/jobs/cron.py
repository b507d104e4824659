"""Cron schedules: when is a slot due, catch up once, claim it once (pipelines and sources).

A schedule's last fired slot lives in the database (each caller keeps its own record), so
a restarted scheduler neither fires a slot twice nor skips one silently:

- a schedule seen for the first time is *armed*: it fires from its next time on;
- slots missed while no scheduler ran fire once, for the latest of them, with a warning
  naming the first one missed;
- the caller's ``claim`` records the slot with a conditional write, so of two schedulers
  only one starts it.
"""

from __future__ import annotations

import datetime as dt
import logging
import zoneinfo
from collections.abc import Callable
from typing import TypeVar

__all__ = ["cron_fire", "cron_latest_slot", "cron_next_slot"]

log = logging.getLogger("lakegate.scheduler")
T = TypeVar("T")


def cron_next_slot(cron: str, after: dt.datetime, *, timezone: str = "UTC") -> dt.datetime:
    """The first slot strictly after ``after`` (aware, UTC); ``cron`` read in ``timezone``."""
    from croniter import croniter  # type: ignore[import-untyped]  # croniter ships no type hints

    local = after.astimezone(zoneinfo.ZoneInfo(timezone))
    slot: dt.datetime = croniter(cron, local).get_next(dt.datetime)
    return slot.astimezone(dt.UTC)


def cron_latest_slot(cron: str, now: dt.datetime, *, timezone: str = "UTC") -> dt.datetime:
    """The latest slot at or before ``now`` (aware, UTC)."""
    from croniter import croniter

    local = (now + dt.timedelta(microseconds=1)).astimezone(zoneinfo.ZoneInfo(timezone))
    slot: dt.datetime = croniter(cron, local).get_prev(dt.datetime)
    return slot.astimezone(dt.UTC)


def cron_fire(
    cron: str,
    *,
    last: dt.datetime | None,
    now: dt.datetime,
    arm: Callable[[dt.datetime], object],
    claim: Callable[[dt.datetime], T | None],
    label: str,
    timezone: str = "UTC",
) -> T | None:
    """Fire the schedule's due slot through ``claim``; None when nothing is due (or was claimed).

    ``last`` is the slot fired last (None: never armed, so ``arm(now)`` records it and
    nothing fires). ``claim(slot)`` records ``slot`` as fired and starts its work; it
    returns None when another scheduler claimed it first.
    """
    if last is None:
        arm(now)
        log.info("cron schedule armed", extra={"schedule": label, "cron": cron})
        return None
    due = cron_next_slot(cron, last, timezone=timezone)
    if due > now:
        return None
    slot = max(due, cron_latest_slot(cron, now, timezone=timezone))
    if slot > due:
        log.warning(
            "cron slots missed while no scheduler ran; firing once for the latest",
            extra={"schedule": label, "cron": cron, "first_missed": due.isoformat()},
        )
    return claim(slot)
