"""What the online route keeps in memory so that a request touches no database.

- :class:`TokenCache`: bearer token -> caller, checked with the ``accounts`` hash. Every
  request first reads the token table's generation
  (:class:`~lakegate_server.accounts.revocation.RevocationWatch`: one ``stat`` call); when a
  token was revoked, deleted or changed anywhere, the cache is dropped and the next request
  of each token is checked against the database: **a revoked token is refused at once**.
  Entries are re-checked in the background after ``ttl`` x ``refresh_after`` seconds anyway
  (this also records ``last_used_at``).
- :class:`ChampionCache`: model name -> loaded champion (sha256 verified on load). A
  background task reads every model's ``generation`` (one small query) once a second and
  reloads the models whose champion changed, so a promotion or rollback is served within
  about a second, without a restart. A request never waits for that check.

Database work runs in worker threads (``anyio.to_thread``), never on the event loop.
"""

from __future__ import annotations

import asyncio
import gc
import hashlib
import logging
import time
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from typing import Any, TypeVar

import anyio.to_thread
from django.db import close_old_connections

from lakegate.errors import LakegateError
from lakegate_server.accounts.revocation import RevocationWatch, revocation_watch
from lakegate_server.accounts.selectors import token_authenticate
from lakegate_server.accounts.services import token_touch
from lakegate_server.serving.predict import Champion, load_champion
from lakegate_server.training.selectors import champion_generations

__all__ = ["Caller", "ChampionCache", "TokenCache", "db_call"]

log = logging.getLogger("lakegate.serving")
T = TypeVar("T")
_MAX_NAMES = 10_000


async def db_call(func: Callable[..., T], *args: Any) -> T:
    """Run ``func`` in a worker thread and close its connection after (no leak per thread)."""

    def call() -> T:
        try:
            return func(*args)
        finally:
            close_old_connections()

    return await anyio.to_thread.run_sync(call)


@dataclass(frozen=True)
class Caller:
    name: str
    role: str


def _lookup_token(raw: str) -> Caller | None:
    token = token_authenticate(raw=raw)
    if token is None:
        return None
    token_touch(token=token)
    return Caller(name=token.name, role=token.role)


class TokenCache:
    """Bearer tokens seen recently. Keys are SHA-256 digests: no secret is kept in memory.

    Every request compares the token table's generation with the one the entries were read
    at; a change (a revocation anywhere) drops them all. An entry lives ``ttl`` seconds
    besides: a request that finds it past ``refresh_after`` x ttl still gets the cached
    answer and starts one background re-check, so steady traffic never waits for the
    database. Concurrent misses for one token share one lookup.
    """

    def __init__(
        self,
        *,
        ttl: float = 30.0,
        refresh_after: float = 0.8,
        max_entries: int = 10_000,
        revocations: RevocationWatch | None = None,
    ) -> None:
        self.ttl = ttl
        self.refresh_after = refresh_after
        self.max_entries = max_entries
        self.revocations = revocations or revocation_watch()
        self._generation: Hashable = self.revocations.generation()
        self._entries: dict[str, tuple[float, float, Caller]] = {}  # key -> (expires, refresh at, caller)
        self._pending: dict[str, asyncio.Future[Caller | None]] = {}
        self._tasks: set[asyncio.Task[Caller | None]] = set()

    async def authenticate(self, raw: str) -> Caller | None:
        generation = self.revocations.generation()
        if generation != self._generation:
            # A token changed somewhere: nothing cached before is trusted. A lookup already
            # on its way may have read the old row; it must not refill the cache either.
            self._generation = generation
            self._entries.clear()
            self._pending.clear()
        key = hashlib.sha256(raw.encode()).hexdigest()
        hit = self._entries.get(key)
        now = time.monotonic()
        if hit is not None and hit[0] > now:
            if hit[1] <= now and key not in self._pending:
                task = asyncio.get_running_loop().create_task(self._lookup(key, raw))
                self._tasks.add(task)  # keep a reference until it is done
                task.add_done_callback(self._tasks.discard)
            return hit[2]
        return await self._lookup(key, raw)

    async def _lookup(self, key: str, raw: str) -> Caller | None:
        pending = self._pending.get(key)
        if pending is not None:
            return await asyncio.shield(pending)
        future: asyncio.Future[Caller | None] = asyncio.get_running_loop().create_future()
        self._pending[key] = future
        generation = self._generation
        try:
            caller = await db_call(_lookup_token, raw)
        except asyncio.CancelledError:
            future.cancel()
            raise
        except Exception as exc:
            future.set_exception(exc)
            future.exception()  # retrieved: no "never retrieved" warning when nobody waited
            raise
        finally:
            if self._pending.get(key) is future:
                del self._pending[key]
        if generation == self._generation:
            self._store(key, caller)
        future.set_result(caller)
        return caller

    def _store(self, key: str, caller: Caller | None) -> None:
        if caller is None:
            self._entries.pop(key, None)
            return
        now = time.monotonic()
        if len(self._entries) >= self.max_entries:
            self._entries = {k: v for k, v in self._entries.items() if v[0] > now}
            if len(self._entries) >= self.max_entries:
                self._entries.clear()
        self._entries[key] = (now + self.ttl, now + self.ttl * self.refresh_after, caller)

    def clear(self) -> None:
        self._entries.clear()


def settle_heap() -> None:
    """Collect, then freeze what is left (the loaded models, Django, the libraries).

    Frozen objects are skipped by the cyclic garbage collector, whose full passes over a
    heap this size otherwise show up as the slowest requests (measured: p99 5 ms -> 10-15 ms
    in some 10 s windows). Called once per champion load, so a replaced model's cycles are
    collected first.
    """
    gc.unfreeze()
    gc.collect()
    gc.freeze()


class ChampionCache:
    """Loaded champions by model name, swapped when their generation changes."""

    def __init__(
        self, *, refresh_seconds: float = 1.0, missing_seconds: float = 1.0, settle_heap: bool = False
    ) -> None:
        self.refresh_seconds = refresh_seconds
        self.missing_seconds = missing_seconds
        self.settle_heap = settle_heap
        self._entries: dict[str, Champion] = {}
        self._missing: dict[str, float] = {}
        self._failed: dict[str, int] = {}  # name -> generation whose load failed (not retried)
        self._locks: dict[str, asyncio.Lock] = {}
        self._task: asyncio.Task[None] | None = None

    async def get(self, name: str) -> Champion | None:
        """The champion of ``name``, or None when it has none (cached for ``missing_seconds``)."""
        self._ensure_refresher()
        entry = self._entries.get(name)
        if entry is not None:
            return entry
        if self._missing.get(name, 0.0) > time.monotonic():
            return None
        if len(self._locks) > _MAX_NAMES or len(self._missing) > _MAX_NAMES:
            self._trim()
        lock = self._locks.setdefault(name, asyncio.Lock())
        async with lock:  # one load per model, however many requests wait for it
            entry = self._entries.get(name)
            if entry is None:
                entry = await db_call(load_champion, name)
                if entry is None:
                    self._missing[name] = time.monotonic() + self.missing_seconds
                    return None
                self._entries[name] = entry
                self._missing.pop(name, None)
                self._settle()
            return entry

    def _trim(self) -> None:
        """Forget names asked for that have no champion (requests for random names add up)."""
        now = time.monotonic()
        self._missing = {k: v for k, v in self._missing.items() if v > now}
        self._locks = {k: v for k, v in self._locks.items() if k in self._entries or v.locked()}

    def _settle(self) -> None:
        if self.settle_heap:
            settle_heap()

    def _ensure_refresher(self) -> None:
        loop = asyncio.get_running_loop()
        task = self._task
        if task is None or task.done() or task.get_loop() is not loop:
            self._task = loop.create_task(self._refresh_forever(), name="champion-refresh")

    async def _refresh_forever(self) -> None:
        while True:
            await asyncio.sleep(self.refresh_seconds)
            try:
                await self.refresh()
            except Exception:  # a database blip must not stop future refreshes
                log.exception("champion refresh failed; serving the models loaded before")

    async def refresh(self) -> list[str]:
        """Reload every cached model whose generation changed; return their names."""
        if not self._entries:
            return []
        generations = await db_call(champion_generations)
        changed = []
        for name, entry in list(self._entries.items()):
            generation = generations.get(name)
            if generation == entry.generation or self._failed.get(name) == generation:
                continue
            try:
                fresh = await db_call(load_champion, name)
            except LakegateError as exc:
                # Keep answering with the model loaded before; responses name their version.
                self._failed[name] = generation if generation is not None else -1
                log.error(
                    "new champion not loaded; still serving the previous one",
                    extra={"model": name, "serving": entry.version, "error": exc.message},
                )
                continue
            self._failed.pop(name, None)
            if fresh is None:
                self._entries.pop(name, None)
            else:
                self._entries[name] = fresh
            changed.append(name)
            self._settle()
            log.info(
                "champion swapped",
                extra={"model": name, "from": entry.version, "to": fresh.version if fresh else None},
            )
        return changed

    def clear(self) -> None:
        self._entries.clear()
        self._missing.clear()
        self._failed.clear()
