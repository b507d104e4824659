"""Token changes, seen at once by every web process (the lean routes cache tokens in memory).

A committed change to an API token (revoked, deleted, edited in the admin) calls
:func:`tokens_changed`, which

- replaces the file ``.lakegate/tokens.changed`` (an atomic rename): every process on this
  host sees a new inode on its next request, one ``stat`` call (about a microsecond), so the
  next request anywhere on the host is checked against the database;
- publishes on the Redis channel ``lakegate:<queue_name>:tokens`` when ``LAKEGATE_REDIS_URL``
  is set, for web processes on other hosts. Each process listens in one thread; while that
  listener is not connected (Redis down, just started) the process trusts no cached token
  and checks every request against the database.

:class:`RevocationWatch` turns both into one cheap value, :meth:`~RevocationWatch.generation`:
a token cache that sees it change drops its entries.
"""

from __future__ import annotations

import itertools
import logging
import os
import threading
import uuid
from collections.abc import Hashable
from pathlib import Path
from typing import Any

from django.conf import settings

__all__ = ["RevocationWatch", "revocation_watch", "tokens_changed"]

log = logging.getLogger("lakegate.accounts")

_FILE = "tokens.changed"
_RECONNECT_MAX_SECONDS = 5.0


def _marker() -> Path:
    return Path(settings.LAKEGATE.paths.state) / _FILE


def _channel() -> str:
    return f"lakegate:{settings.LAKEGATE.queue_name}:tokens"


def tokens_changed() -> None:
    """Tell every web process that cached tokens may be stale (call it after the commit)."""
    marker = _marker()
    tmp = marker.with_name(f".{_FILE}.{uuid.uuid4().hex}")
    tmp.write_text(uuid.uuid4().hex, encoding="utf-8")
    tmp.replace(marker)  # a new inode: what the watchers compare
    url = settings.LAKEGATE.redis_url
    if url:
        import redis

        try:
            with redis.Redis.from_url(url, socket_timeout=5) as client:
                client.publish(_channel(), "changed")
        except redis.RedisError as exc:
            # Hosts other than this one trust no cached token while their listener is cut
            # off, and this host has the file: nothing is served on a revoked token.
            log.error("token change not published", extra={"error": str(exc)})


class RevocationWatch:
    """The generation of the token table, as seen cheaply from this process."""

    def __init__(self, *, marker: Path | None = None, redis_url: str | None = None) -> None:
        self.marker = marker
        self._path = str(marker) if marker is not None else None
        self.redis_url = redis_url
        self._remote = 0
        self._listening = redis_url is None  # without Redis, the file is the whole story
        self._unsure = itertools.count()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    @property
    def listening(self) -> bool:
        """Whether changes announced on Redis reach this process (always, without Redis)."""
        return self._listening

    def generation(self) -> Hashable:
        """A value that changes whenever a token changed; differs on every call while unsure."""
        try:
            # os.stat on a str: the cheapest way to ask (this runs on every lean request).
            stat = os.stat(self._path or str(_marker()))  # noqa: PTH116
            local: tuple[int, int] | None = (stat.st_ino, stat.st_mtime_ns)
        except FileNotFoundError:
            local = None
        if self.redis_url is not None:
            self._ensure_listener()
            if not self._listening:
                return (local, "unsure", next(self._unsure))
        return (local, self._remote)

    def _ensure_listener(self) -> None:
        if self._thread is not None and self._thread.is_alive():
            return
        with self._lock:
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._listen, name="token-revocations", daemon=True)
                self._thread.start()

    def _listen(self) -> None:
        import redis

        wait = 0.1
        channel = _channel()
        while True:
            try:
                client: Any = redis.Redis.from_url(
                    self.redis_url, socket_keepalive=True, health_check_interval=15
                )
                pubsub = client.pubsub(ignore_subscribe_messages=True)
                pubsub.subscribe(channel)
                self._remote += 1  # changes made while nobody listened: drop what is cached
                self._listening = True
                wait = 0.1
                for _message in pubsub.listen():
                    self._remote += 1
            except Exception as exc:  # noqa: BLE001 - whatever broke, the next pass reconnects
                if self._listening:
                    log.warning("token revocation listener lost Redis", extra={"error": str(exc)})
                self._listening = False
                threading.Event().wait(wait)
                wait = min(wait * 2, _RECONNECT_MAX_SECONDS)


_watch: RevocationWatch | None = None
_watch_lock = threading.Lock()


def revocation_watch() -> RevocationWatch:
    """The process's one watch (one Redis listener per process, however many token caches)."""
    global _watch  # noqa: PLW0603 - one listener thread per process
    with _watch_lock:
        if _watch is None:
            _watch = RevocationWatch(marker=_marker(), redis_url=settings.LAKEGATE.redis_url)
        return _watch
