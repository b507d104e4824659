"""The write-ahead log: pushed records are appended (and fsynced) to segment files.

One :class:`StreamLog` per (process, dataset) appends to its own open segment; a
segment is *sealed* (atomically renamed into ``sealed/``) when it is big or old enough,
by its writer or, when the writer is idle or dead, by :func:`seal_stale` in the flusher.

Writer and sealer coordinate with ``fcntl.flock`` on the segment file: the writer holds
``LOCK_EX`` while it writes, the sealer takes ``LOCK_EX`` (non-blocking) before the
rename. After taking its lock the writer checks that the open path still names its file
(same inode); if not, the segment was sealed meanwhile and it writes to a new one. So a
line is written to exactly one segment, and never to a segment after it was sealed.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import threading
import time
from pathlib import Path
from types import TracebackType
from typing import Any

import orjson

from lakegate.errors import StreamError
from lakegate.streams._layout import (
    OPEN,
    REJECTED,
    SEALED,
    SEGMENT_SUFFIX,
    dataset_dir,
    fsync_dir,
    host_name,
    write_fully,
)
from lakegate.streams._parse import ParsedRecords

__all__ = ["StreamLog", "seal_stale"]

_sync_data = getattr(os, "fdatasync", os.fsync)  # file size is flushed too; mtime need not be


class StreamLog:
    """Durable, thread-safe appender of validated records for one dataset.

    ``append`` returns only after the lines are written and fsynced: acknowledge the
    client or the broker after it returns, never before.
    """

    _written: int
    _synced: int

    def __init__(
        self,
        root: Path,
        dataset: str,
        *,
        max_records: int = 200_000,
        max_bytes: int = 64 * 2**20,
        max_age_seconds: float = 5.0,
        fsync: bool = True,
    ) -> None:
        self.root = Path(root)
        self.dataset = dataset
        self.max_records = max_records
        self.max_bytes = max_bytes
        self.max_age_seconds = max_age_seconds
        self.fsync = fsync
        self.path = dataset_dir(self.root, dataset)
        self._open_dir = self.path / OPEN
        self._sealed_dir = self.path / SEALED
        self._open_dir.mkdir(parents=True, exist_ok=True)
        self._sealed_dir.mkdir(parents=True, exist_ok=True)
        self._fd: int | None = None
        self._reset_process()
        self._records = 0
        self._bytes = 0
        self._opened_at = 0.0

    def __enter__(self) -> StreamLog:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def append(self, parsed: ParsedRecords) -> None:
        """Append the records to the open segment and fsync; rotate it when it is due."""
        if parsed.count == 0:
            return
        if self._pid != os.getpid():
            self._reset_process()
        try:
            with self._lock:
                self._append_locked(parsed)
                mine = self._written
            if self.fsync:
                self._sync_through(mine)
        except OSError as exc:
            raise StreamError(
                f"stream {self.dataset!r}: could not write to the log in {self._open_dir}: "
                f"{exc.strerror or exc}",
                detail={"dataset": self.dataset},
            ) from exc

    def _sync_through(self, mine: int) -> None:
        """Group commit: one fdatasync covers every append written before it started.

        Appends write under ``_lock`` and return only once a sync covering them finished:
        while one thread syncs, the others queue their writes, and the next sync (by
        whichever of them gets ``_sync_lock`` first) covers them all. Sealing a segment syncs
        it first, so appends to a segment rotated away meanwhile are covered too.
        """
        with self._sync_lock:
            if self._synced >= mine:
                return
            with self._lock:
                target = self._written
                fd = os.dup(self._fd) if self._fd is not None else None
            if fd is not None:  # None: the segment was sealed (and synced) since our write
                try:
                    _sync_data(fd)
                finally:
                    os.close(fd)
            with self._lock:
                self._synced = max(self._synced, target)

    def close(self) -> None:
        """Seal the open segment (an empty one is removed)."""
        if self._pid != os.getpid():
            self._reset_process()
        with self._lock:
            fd = self._fd
            if fd is None:
                return
            try:
                fcntl.flock(fd, fcntl.LOCK_EX)
                if self._still_ours():
                    self._seal_locked()
            finally:
                self._drop()

    def reject(self, rows: list[dict[str, Any]]) -> Path | None:
        """Durably write rows (``reason`` + the raw message) to ``rejected/``; return the file."""
        if not rows:
            return None
        folder = self.path / REJECTED
        folder.mkdir(parents=True, exist_ok=True)
        with self._lock:
            self._seq += 1
            name = f"{self._prefix}-{self._seq:06d}{SEGMENT_SUFFIX}"
        data = b"".join([orjson.dumps(row, option=orjson.OPT_NON_STR_KEYS) + b"\n" for row in rows])
        scratch = folder / f".{name}.tmp"
        with scratch.open("wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        final = folder / name
        scratch.rename(final)
        fsync_dir(folder)
        return final

    # -- internals (called with self._lock held) -------------------------------------

    def _reset_process(self) -> None:
        """Start fresh in this process (also after a fork: the parent's segment stays its own)."""
        if self._fd is not None:
            os.close(self._fd)  # the parent's descriptor copy; its lock stays with the parent
        self._pid = os.getpid()
        # The start time keeps names unique when a pid is reused after a crash.
        self._prefix = f"{host_name()}-{self._pid}-{time.time_ns():x}"
        self._seq = 0
        self._lock = threading.Lock()
        self._sync_lock = threading.Lock()
        self._written = 0  # appends written to segments so far (in this process)
        self._synced = 0  # ... of which a finished fdatasync covers this many
        self._fd = None
        self._segment: Path | None = None

    def _append_locked(self, parsed: ParsedRecords) -> None:
        while True:
            if self._fd is None:
                self._open_segment()
            fd = self._fd
            assert fd is not None
            fcntl.flock(fd, fcntl.LOCK_EX)
            try:
                if not self._still_ours():
                    self._drop()  # sealed by seal_stale meanwhile: write to a new segment
                    continue
                try:
                    write_fully(fd, parsed.lines)
                except OSError:
                    self._abandon()
                    raise
                self._records += parsed.count
                self._bytes += len(parsed.lines)
                self._written += 1
                if self._due():
                    self._seal_locked()
                    self._drop()
                return
            finally:
                if self._fd == fd:
                    fcntl.flock(fd, fcntl.LOCK_UN)

    def _open_segment(self) -> None:
        while True:
            self._seq += 1
            path = self._open_dir / f"{self._prefix}-{self._seq:06d}{SEGMENT_SUFFIX}"
            flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_APPEND | os.O_CLOEXEC
            try:
                self._fd = os.open(path, flags, 0o644)
            except FileExistsError:
                continue
            break
        if self.fsync:
            fsync_dir(self._open_dir)
        self._segment = path
        self._records = 0
        self._bytes = 0
        self._opened_at = time.monotonic()

    def _still_ours(self) -> bool:
        assert self._fd is not None
        assert self._segment is not None
        return _names(self._segment, os.fstat(self._fd).st_ino)

    def _due(self) -> bool:
        return (
            self._records >= self.max_records
            or self._bytes >= self.max_bytes
            or time.monotonic() - self._opened_at >= self.max_age_seconds
        )

    def _seal_locked(self) -> None:
        """Rename the (locked, still ours) open segment into sealed/; remove it if empty."""
        assert self._segment is not None
        if self._bytes == 0:
            self._segment.unlink(missing_ok=True)
            return
        if self.fsync and self._fd is not None:
            _sync_data(self._fd)  # appends still waiting for a group sync are covered by this one
            self._synced = self._written
        self._segment.rename(self._sealed_dir / self._segment.name)
        if self.fsync:
            fsync_dir(self._sealed_dir)
            fsync_dir(self._open_dir)

    def _abandon(self) -> None:
        """After a failed write: cut the segment back to its last whole append, then seal it."""
        assert self._fd is not None
        with contextlib.suppress(OSError):
            os.ftruncate(self._fd, self._bytes)
        with contextlib.suppress(OSError):
            self._seal_locked()
        self._drop()

    def _drop(self) -> None:
        if self._fd is not None:
            os.close(self._fd)  # also releases the flock
        self._fd = None
        self._segment = None


def seal_stale(root: Path, *, max_age_seconds: float) -> int:
    """Seal open segments of every dataset under ``root`` not written for ``max_age_seconds``.

    A segment whose writer holds its lock is skipped (it is being written to); an empty
    stale segment is removed. Returns how many segments were sealed.
    """
    root = Path(root)
    sealed = 0
    now = time.time()
    for open_dir in sorted(root.glob(f"*/{OPEN}")):
        for path in sorted(open_dir.glob(f"*{SEGMENT_SUFFIX}")):
            sealed += _seal_one(path, open_dir.parent / SEALED, now - max_age_seconds)
    return sealed


def _seal_one(path: Path, sealed_dir: Path, cutoff: float) -> int:
    try:
        fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    except FileNotFoundError:
        return 0  # sealed by its writer meanwhile
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return 0  # its writer is appending right now
        info = os.fstat(fd)
        if not _names(path, info.st_ino) or info.st_mtime > cutoff:
            return 0  # sealed by its writer meanwhile, or written to recently
        if info.st_size == 0:
            path.unlink()
            return 0
        sealed_dir.mkdir(parents=True, exist_ok=True)
        path.rename(sealed_dir / path.name)
        fsync_dir(sealed_dir)
        fsync_dir(path.parent)
        return 1
    finally:
        os.close(fd)


def _names(path: Path, inode: int) -> bool:
    """Whether ``path`` still names the file with this inode (it was not renamed away)."""
    try:
        return path.stat().st_ino == inode
    except FileNotFoundError:
        return False
