"""Token changes, seen at once by every web process (the lean routes cache tokens in memory).

A committed change to an API token (revoked, deleted, edited in the admin) calls
:func:`tokens_changed`, which

- increments the counter in ``.lakegate/tokens.changed`` (8 bytes, written in place under a
  file lock). Every web process on this host maps that file into memory, so its next request
  reads the new value from the shared page: no system call, no database query, and the next
  request anywhere on the host is checked against the database (a ``stat`` per request was
  measured at several microseconds in this VM: as much as a prediction);
- publishes on the Redis channel ``lakegate:<queue_name>:tokens`` when ``LAKEGATE_REDIS_URL``
  is set, for web processes on other hosts. Each process listens in one thread; while that
  listener is not connected (Redis down, just started) the process trusts no cached token
  and checks every request against the database.

:class:`RevocationWatch` turns both into one cheap value, :meth:`~RevocationWatch.generation`:
a token cache that sees it change drops its entries.
"""

from __future__ import annotations

import fcntl
import itertools
import logging
import mmap
import os
import struct
import threading
from collections.abc import Hashable
from pathlib import Path
from typing import Any

from django.conf import settings

__all__ = ["RevocationWatch", "revocation_watch", "tokens_changed"]

log = logging.getLogger("lakegate.accounts")

_FILE = "tokens.changed"
_SIZE = 8  # one unsigned 64-bit counter
_RECONNECT_MAX_SECONDS = 5.0


def _marker() -> Path:
    return Path(settings.LAKEGATE.paths.state) / _FILE


def _channel() -> str:
    return f"lakegate:{settings.LAKEGATE.queue_name}:tokens"


def _open_marker(path: Path) -> int:
    """The marker's file descriptor, the file made 8 bytes long if it was new."""
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    if os.fstat(fd).st_size < _SIZE:
        os.ftruncate(fd, _SIZE)
    return fd


def tokens_changed() -> None:
    """Tell every web process that cached tokens may be stale (call it after the commit)."""
    fd = _open_marker(_marker())
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)  # two revocations at once must both count
        (count,) = struct.unpack("<Q", os.pread(fd, _SIZE, 0))
        os.pwrite(fd, struct.pack("<Q", (count + 1) % 2**64), 0)
    finally:
        os.close(fd)  # closing releases the lock
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
        self.marker = marker or _marker()
        fd = _open_marker(self.marker)
        try:
            # Shared with every process mapping the file: a write is seen by the next read.
            self._counter = mmap.mmap(fd, _SIZE, access=mmap.ACCESS_READ)
        finally:
            os.close(fd)
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
        local = self._counter[:_SIZE]  # a read of shared memory: this runs on every lean request
        if self.redis_url is not None:
            self._ensure_listener(self.redis_url)
            if not self._listening:
                return (local, "unsure", next(self._unsure))
        return (local, self._remote)

    def _ensure_listener(self, redis_url: str) -> None:
        if self._thread is not None and self._thread.is_alive():
            return
        with self._lock:
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(
                    target=self._listen, args=(redis_url,), name="token-revocations", daemon=True
                )
                self._thread.start()

    def _listen(self, redis_url: str) -> None:
        import redis

        wait = 0.1
        channel = _channel()
        while True:
            try:
                client: Any = redis.Redis.from_url(redis_url, socket_keepalive=True, health_check_interval=15)
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
            _watch = RevocationWatch(redis_url=settings.LAKEGATE.redis_url)
        return _watch
