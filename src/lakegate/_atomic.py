"""Commit-by-rename helpers: nothing half-written is ever visible under its final name."""

from __future__ import annotations

import contextlib
import os
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path

__all__ = ["atomic_dir", "atomic_path", "fsync_tree", "write_bytes_atomic"]


def fsync_tree(folder: Path) -> None:
    """Flush every file of ``folder`` to disk, then the folder itself."""
    for path in sorted(folder.rglob("*")):
        if path.is_file():
            with path.open("rb") as handle:
                os.fsync(handle.fileno())
    with contextlib.suppress(OSError):  # directories cannot be opened for fsync on every OS
        descriptor = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(descriptor)
        finally:
            os.close(descriptor)


@contextlib.contextmanager
def atomic_dir(final: Path) -> Iterator[Path]:
    """Yield a scratch folder beside ``final``; on success rename it to ``final``.

    If ``final`` appeared meanwhile (another worker finished the same deterministic
    work), the scratch copy is discarded and the existing folder wins. On error the
    scratch folder is removed and ``final`` is untouched.
    """
    final.parent.mkdir(parents=True, exist_ok=True)
    scratch = final.parent / f".{final.name}.tmp-{uuid.uuid4().hex[:12]}"
    scratch.mkdir()
    try:
        yield scratch
        fsync_tree(scratch)
        try:
            scratch.rename(final)
        except OSError:
            if not final.is_dir():
                raise
            shutil.rmtree(scratch, ignore_errors=True)
    except BaseException:
        shutil.rmtree(scratch, ignore_errors=True)
        raise


def write_bytes_atomic(path: Path, data: bytes) -> None:
    """Write ``data`` to a temp file beside ``path``, fsync, and rename it over ``path``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    scratch = path.parent / f".{path.name}.tmp-{uuid.uuid4().hex[:12]}"
    try:
        with scratch.open("wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        scratch.replace(path)
    except BaseException:
        scratch.unlink(missing_ok=True)
        raise


@contextlib.contextmanager
def atomic_path(final: Path, *, durable: bool = False) -> Iterator[Path]:
    """Yield a unique temporary path beside ``final``; on success rename it over ``final``.

    For writers that need a path, not bytes (Parquet, HTML reports, model files): the
    temporary name is unique per call, so two writers of the same ``final`` never write
    into one temporary file; the last rename wins with a whole file. On error the
    temporary file is removed and ``final`` is untouched. ``durable`` flushes the file to
    disk before the rename (for what was acknowledged to someone: a stream batch).
    """
    final.parent.mkdir(parents=True, exist_ok=True)
    scratch = final.parent / f".{final.name}.tmp-{uuid.uuid4().hex[:12]}"
    try:
        yield scratch
        if durable:
            with scratch.open("rb") as handle:
                os.fsync(handle.fileno())
        scratch.replace(final)
    except BaseException:
        scratch.unlink(missing_ok=True)
        raise
