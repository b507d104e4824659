"""Walk a folder tree: the files to read, and the entries skipped with a reason.

Symlinks are followed (a link is indexed under its own path), but a link back to a folder that
is already being walked is a loop and is skipped, as is a second link to a folder walked before.
Hidden entries (a name starting with ``.``) are ignored without being reported: they are tool
state (``.git``, ``.lakegate``), not documents. Nothing here opens a file, so a FIFO or a device
can never block the build.
"""

from __future__ import annotations

import errno
import os
import stat
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Literal

__all__ = ["SKIP_REASONS", "ScanResult", "SkippedFile", "SourceFile", "scan_folder"]

SkipReason = Literal[
    "binary", "unreadable", "too_large", "encrypted", "symlink_loop", "duplicate", "unsupported_type"
]
SKIP_REASONS: tuple[str, ...] = (
    "binary",
    "unreadable",
    "too_large",
    "encrypted",
    "symlink_loop",
    "duplicate",
    "unsupported_type",
)


@dataclass(frozen=True, slots=True)
class SkippedFile:
    """A file or folder left out of the knowledge base: ``reason`` is one of :data:`SKIP_REASONS`."""

    path: str
    reason: str
    detail: str = ""

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True, slots=True)
class SourceFile:
    """A regular file to read: absolute ``location`` and ``path`` relative to the root (POSIX)."""

    location: Path
    path: str
    size: int
    mtime_ns: int


@dataclass(slots=True)
class ScanResult:
    files: list[SourceFile]
    skipped: list[SkippedFile]


def scan_folder(root: Path, *, max_bytes: int, exclude: frozenset[Path] = frozenset()) -> ScanResult:
    """Every regular file below ``root`` in sorted order, and what was skipped on the way.

    ``exclude`` holds paths never to list (the build's own output files when they are written
    inside the folder being indexed); they are matched by device and inode, so a link to one is
    left out too, without resolving the path of every file walked.
    """
    result = ScanResult(files=[], skipped=[])
    root_stat = root.stat()
    excluded = set()
    for path in exclude:
        try:
            info = path.stat()
        except OSError:
            continue  # not there (yet): nothing of the walk can be it
        excluded.add((info.st_dev, info.st_ino))
    _walk(root, "", (root_stat.st_dev, root_stat.st_ino), set(), max_bytes, frozenset(excluded), result)
    return result


def _walk(
    directory: Path,
    prefix: str,
    key: tuple[int, int],
    ancestors: set[tuple[int, int]],
    max_bytes: int,
    exclude: frozenset[tuple[int, int]],
    result: ScanResult,
    visited: set[tuple[int, int]] | None = None,
) -> None:
    visited = set() if visited is None else visited
    visited.add(key)
    ancestors = ancestors | {key}
    try:
        with os.scandir(directory) as it:
            entries = sorted(it, key=lambda e: e.name)
    except OSError as exc:
        result.skipped.append(SkippedFile(prefix or ".", "unreadable", exc.strerror or str(exc)))
        return
    for entry in entries:
        if entry.name.startswith("."):
            continue
        rel = f"{prefix}{entry.name}"
        location = Path(entry.path)
        try:
            info = entry.stat(follow_symlinks=True)
        except OSError as exc:
            result.skipped.append(_stat_failure(rel, entry, exc))
            continue
        if stat.S_ISDIR(info.st_mode):
            child = (info.st_dev, info.st_ino)
            if child in ancestors:
                result.skipped.append(SkippedFile(rel, "symlink_loop", "links back to a parent folder"))
            elif child in visited:
                result.skipped.append(
                    SkippedFile(rel, "duplicate", "folder already indexed via another path")
                )
            else:
                _walk(location, f"{rel}/", child, ancestors, max_bytes, exclude, result, visited)
        elif not stat.S_ISREG(info.st_mode):
            result.skipped.append(SkippedFile(rel, "unsupported_type", "not a regular file"))
        elif exclude and (info.st_dev, info.st_ino) in exclude:
            continue
        elif info.st_size > max_bytes:
            result.skipped.append(SkippedFile(rel, "too_large", f"{info.st_size} bytes > limit {max_bytes}"))
        else:
            result.files.append(SourceFile(location, rel, info.st_size, info.st_mtime_ns))


def _stat_failure(rel: str, entry: os.DirEntry[str], exc: OSError) -> SkippedFile:
    if exc.errno == errno.ELOOP:
        return SkippedFile(rel, "symlink_loop", "symlink points to itself")
    if entry.is_symlink() and exc.errno == errno.ENOENT:
        return SkippedFile(rel, "unreadable", "broken symlink")
    return SkippedFile(rel, "unreadable", exc.strerror or str(exc))
