"""Claims: sealed segments move into a batch folder whose contents never change.

A claim is complete when ``batch.json`` (the manifest: segment order, counts) exists in
``flushing/<batch-id>/``. A folder without one is a claim cut short by a crash: the next
claim or :func:`pending_batches` moves its segments back to ``sealed/``. Claims on one
dataset are serialised with ``flock`` on ``<dataset>/.claim.lock``.
"""

from __future__ import annotations

import builtins
import contextlib
import fcntl
import os
import shutil
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import orjson

from lakegate._atomic import atomic_path, write_bytes_atomic
from lakegate.errors import StreamError
from lakegate.streams._layout import FLUSHING, OPEN, SEALED, SEGMENT_SUFFIX, dataset_dir, fsync_dir

if TYPE_CHECKING:
    import polars as pl

__all__ = ["ClaimedBatch", "claim_batch", "pending_batches", "stream_datasets"]

MANIFEST = "batch.json"
_LOCK = ".claim.lock"


@dataclass(frozen=True)
class ClaimedBatch:
    """A claimed, immutable set of segments: write it to the lake, then call :meth:`done`.

    ``records`` counts whole lines; ``torn_lines`` counts segments whose final line was cut
    short by a crash (no trailing newline): those lines are dropped, never half-read.
    """

    id: str
    dataset: str
    path: Path
    segments: list[Path]
    records: int
    bytes: int
    torn_lines: int = 0

    def read_lines(self) -> builtins.bytes:
        """All whole lines of the batch's segments, in the claimed order."""
        chunks = []
        for segment in self.segments:
            data = segment.read_bytes()
            if not data.endswith(b"\n"):
                data = data[: data.rfind(b"\n") + 1]  # the torn-line rule
            chunks.append(data)
        return b"".join(chunks)

    def to_frame(self) -> pl.DataFrame:
        """The batch as one polars frame; the schema is inferred across every record."""
        return _read_ndjson(self.read_lines())

    def write_parquet(self, dest: Path) -> Path:
        """Write every record to one zstd Parquet file at ``dest`` (same segments -> same bytes)."""
        frame = self.to_frame()
        dest = Path(dest)
        with atomic_path(dest, durable=True) as scratch:
            # Fixed settings and no timestamps in the footer: the bytes depend on the rows only.
            frame.write_parquet(scratch, compression="zstd", compression_level=3, statistics=True)
        return dest

    def done(self) -> None:
        """Remove the batch (call it after its records were committed to the lake)."""
        trash = self.path.parent / f".done-{self.id}"
        try:
            self.path.rename(trash)
        except FileNotFoundError:
            return  # already done
        fsync_dir(self.path.parent)
        shutil.rmtree(trash, ignore_errors=True)

    @classmethod
    def load(cls, path: Path) -> ClaimedBatch:
        """Read a claimed batch folder from its manifest."""
        try:
            manifest: dict[str, Any] = orjson.loads((path / MANIFEST).read_bytes())
        except (OSError, orjson.JSONDecodeError) as exc:
            raise StreamError(f"stream batch {path}: unreadable {MANIFEST}: {exc}") from exc
        return cls(
            id=manifest["id"],
            dataset=manifest["dataset"],
            path=path,
            segments=[path / name for name in manifest["segments"]],
            records=manifest["records"],
            bytes=manifest["bytes"],
            torn_lines=manifest["torn_lines"],
        )


def _read_ndjson(lines: bytes) -> pl.DataFrame:
    import polars as pl

    if not lines:
        return pl.DataFrame()
    try:
        frame = pl.read_ndjson(lines, infer_schema_length=None)
        if not any(_has_empty_struct(dtype) for dtype in frame.schema.values()):
            return frame
        # An empty object ({}) somewhere: Parquet has no struct without fields, so the
        # flush could never write this batch. Nested values become JSON text, as below.
        raise pl.exceptions.ComputeError("a struct without fields")
    except pl.exceptions.PolarsError:
        # Records disagree on a nested type (a list here, an object there): keep nested
        # values as JSON text. Decided by the rows alone, so the result stays deterministic.
        rows = [orjson.loads(line) for line in lines.splitlines()]
        flat = [{key: _text_if_nested(value) for key, value in row.items()} for row in rows]
        try:
            return pl.DataFrame(flat, infer_schema_length=None)
        except pl.exceptions.PolarsError:
            texts = [{key: _text(value) for key, value in row.items()} for row in rows]
            return pl.DataFrame(texts, infer_schema_length=None)


def _has_empty_struct(dtype: Any) -> bool:
    import polars as pl

    if isinstance(dtype, pl.Struct):
        return not dtype.fields or any(_has_empty_struct(field.dtype) for field in dtype.fields)
    if isinstance(dtype, pl.List | pl.Array):
        return _has_empty_struct(dtype.inner)
    return False


def _text_if_nested(value: Any) -> Any:
    return orjson.dumps(value).decode() if isinstance(value, dict | list) else value


def _text(value: Any) -> str | None:
    if value is None or isinstance(value, str):
        return value
    return orjson.dumps(value).decode()


@contextlib.contextmanager
def _claim_lock(folder: Path) -> Iterator[None]:
    fd = os.open(folder / _LOCK, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


def _repair(folder: Path) -> None:
    """Undo claims cut short by a crash (no manifest) and finish removing done batches."""
    flushing = folder / FLUSHING
    if not flushing.is_dir():
        return
    for batch in sorted(flushing.iterdir()):
        if batch.name.startswith(".done-"):
            shutil.rmtree(batch, ignore_errors=True)
        elif batch.is_dir() and not (batch / MANIFEST).exists():
            for segment in sorted(batch.glob(f"*{SEGMENT_SUFFIX}")):
                segment.rename(folder / SEALED / segment.name)
            fsync_dir(folder / SEALED)
            shutil.rmtree(batch)


def _measure(path: Path) -> tuple[int, int, int]:
    data = path.read_bytes()
    torn = 1 if data and not data.endswith(b"\n") else 0
    return data.count(b"\n"), len(data), torn


def claim_batch(root: Path, dataset: str, *, max_records: int = 1_000_000) -> ClaimedBatch | None:
    """Move sealed segments (oldest first, up to ``max_records``) into a new batch; None if none."""
    folder = dataset_dir(Path(root), dataset)
    sealed = folder / SEALED
    if not sealed.is_dir():
        return None
    with _claim_lock(folder):
        _repair(folder)
        ages = [(path.stat().st_mtime_ns, path.name, path) for path in sealed.glob(f"*{SEGMENT_SUFFIX}")]
        if not ages:
            return None
        chosen: list[Path] = []
        records = size = torn = 0
        for _, _, path in sorted(ages):
            lines, length, cut = _measure(path)
            if chosen and records + lines > max_records:
                break
            chosen.append(path)
            records, size, torn = records + lines, size + length, torn + cut
        batch_id = f"{time.time_ns():020d}-{uuid.uuid4().hex[:8]}"
        batch = folder / FLUSHING / batch_id
        batch.mkdir(parents=True)
        for path in chosen:
            path.rename(batch / path.name)
        fsync_dir(batch)
        fsync_dir(sealed)
        manifest = {
            "id": batch_id,
            "dataset": dataset,
            "segments": [path.name for path in chosen],
            "records": records,
            "bytes": size,
            "torn_lines": torn,
        }
        write_bytes_atomic(batch / MANIFEST, orjson.dumps(manifest))
        fsync_dir(batch)
        fsync_dir(batch.parent)
        return ClaimedBatch.load(batch)


def pending_batches(root: Path, dataset: str) -> list[ClaimedBatch]:
    """Batches claimed earlier and not done yet, oldest first (re-process them after a crash)."""
    folder = dataset_dir(Path(root), dataset)
    if not (folder / FLUSHING).is_dir():
        return []
    with _claim_lock(folder):
        _repair(folder)
        return [
            ClaimedBatch.load(path)
            for path in sorted((folder / FLUSHING).iterdir())
            if path.is_dir() and (path / MANIFEST).exists()
        ]


def stream_datasets(root: Path) -> list[str]:
    """Datasets under ``root`` with open, sealed or claimed data."""
    root = Path(root)
    if not root.is_dir():
        return []
    found = []
    for folder in sorted(root.iterdir()):
        if not folder.is_dir() or folder.name.startswith("."):
            continue
        has_segments = any(
            any((folder / sub).glob(f"*{SEGMENT_SUFFIX}"))
            for sub in (OPEN, SEALED)
            if (folder / sub).is_dir()
        )
        flushing = folder / FLUSHING
        has_batches = flushing.is_dir() and any(
            not batch.name.startswith(".") for batch in flushing.iterdir()
        )
        if has_segments or has_batches:
            found.append(folder.name)
    return found
