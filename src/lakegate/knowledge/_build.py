"""Build a knowledge base from a folder: scan -> read -> chunk -> embed -> categorize -> write.

Incremental: the manifest beside the JSONL keeps each file's content hash; a rebuild with the
same chunking and embedder re-extracts only added or changed files and drops removed ones.
Vectors are reused per chunk when the embedder is a fixed model (MiniLM); a corpus-fitted
embedder (TF-IDF) is refitted whenever the corpus changed, since every vector depends on it.
One bad file never stops a build: it is skipped and listed in the report with its reason.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from lakegate.errors import InputError, NotFoundError
from lakegate.knowledge._categories import Category
from lakegate.knowledge._chunk import ChunkOptions
from lakegate.knowledge._drift import corpus_drift
from lakegate.knowledge._embed import Embedder, get_embedder
from lakegate.knowledge._incremental import categorize_records, embed_records, load_previous
from lakegate.knowledge._read import read_all
from lakegate.knowledge._scan import SkippedFile, scan_folder
from lakegate.knowledge._store import (
    MANIFEST_FORMAT,
    KBPaths,
    write_embeddings,
    write_json,
    write_records,
)

__all__ = ["DEFAULT_MAX_FILE_BYTES", "BuildReport", "ProgressCallback", "build_kb"]

DEFAULT_MAX_FILE_BYTES = 50 * 1024 * 1024

# ``progress(stage, done, total)``; stages: scan, read, embed, categorize, write.
ProgressCallback = Callable[[str, int, int], None]


@dataclass(slots=True)
class BuildReport:
    """What a build did. ``files_read`` were extracted now, ``files_reused`` came from the last build."""

    folder: str
    output: str
    embedder: str
    dims: int
    files_seen: int
    files_read: int
    files_reused: int
    files_removed: int
    files_indexed: int
    chunks: int
    chunks_embedded: int
    vectors_reused: int
    up_to_date: bool
    seconds: float
    skipped: list[SkippedFile] = field(default_factory=list)
    categories: list[Category] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)
    outputs: dict[str, str] = field(default_factory=dict)
    drift: dict[str, Any] | None = None
    """How this build differs from the last one (``lakegate.knowledge._drift``); None for a
    first build or one with nothing changed."""

    def to_dict(self) -> dict[str, Any]:
        return {
            "folder": self.folder,
            "output": self.output,
            "embedder": self.embedder,
            "dims": self.dims,
            "files_seen": self.files_seen,
            "files_read": self.files_read,
            "files_reused": self.files_reused,
            "files_removed": self.files_removed,
            "files_indexed": self.files_indexed,
            "files_skipped": len(self.skipped),
            "chunks": self.chunks,
            "chunks_embedded": self.chunks_embedded,
            "vectors_reused": self.vectors_reused,
            "up_to_date": self.up_to_date,
            "seconds": round(self.seconds, 3),
            "skipped": [s.to_dict() for s in self.skipped],
            "categories": [c.to_dict() for c in self.categories],
            "timings": {k: round(v, 3) for k, v in self.timings.items()},
            "outputs": self.outputs,
            "drift": self.drift,
        }


def _check_arguments(root: Path, max_file_bytes: int, categories: int | None) -> None:
    if not root.exists():
        raise NotFoundError(f"folder not found: {root}")
    if not root.is_dir():
        raise InputError(f"not a folder: {root}")
    if max_file_bytes < 1:
        raise InputError(f"the file size limit must be positive, not {max_file_bytes}")
    if categories is not None and categories < 1:
        raise InputError(f"the number of categories must be at least 1, not {categories}")


def _write(
    paths: KBPaths,
    embedder: Embedder,
    records: list[dict[str, Any]],
    vectors: npt.NDArray[np.float32],
    manifest: dict[str, Any],
) -> None:
    # Manifest last: until it lands, the previous one (with other hashes) describes the folder.
    embedder.save(paths.embedder)
    write_embeddings(paths.embeddings, [r["id"] for r in records], vectors)
    write_records(paths.jsonl, records)
    write_json(paths.manifest, manifest)


def build_kb(
    folder: Path | str,
    output: Path | str,
    *,
    embed: str = "tfidf",
    categories: int | None = None,
    chunking: ChunkOptions | None = None,
    max_file_bytes: int = DEFAULT_MAX_FILE_BYTES,
    progress: ProgressCallback | None = None,
) -> BuildReport:
    """Index every readable file below ``folder`` into the knowledge base ``output`` (a ``.jsonl`` path).

    ``embed`` names an embedder (``tfidf`` default, ``minilm`` with the extra), ``categories``
    fixes the number of clusters (chosen by silhouette when None). Returns the build report.
    """
    started = time.perf_counter()
    notify = progress or (lambda _stage, _done, _total: None)
    chunking = chunking or ChunkOptions()
    root = Path(folder)
    _check_arguments(root, max_file_bytes, categories)
    paths = KBPaths.of(output)
    embedder = get_embedder(embed)  # fails early on an unknown name...
    embedder.ensure_available()  # ...or a missing extra, before any file is read
    paths.jsonl.parent.mkdir(parents=True, exist_ok=True)
    settings = {"chunking": chunking.to_dict(), "embedder": embed}
    timings: dict[str, float] = {}

    mark = time.perf_counter()
    notify("scan", 0, 0)
    scan = scan_folder(root, max_bytes=max_file_bytes, exclude=frozenset(paths.all()))
    previous = load_previous(paths, settings)
    timings["scan"], mark = time.perf_counter() - mark, time.perf_counter()

    done = read_all(scan.files, chunking, max_file_bytes, previous, notify)
    records = done.records
    removed = len(set(previous.files) - set(done.files)) if previous is not None else 0
    changed = previous is None or done.read > 0 or removed > 0
    timings["read"], mark = time.perf_counter() - mark, time.perf_counter()

    notify("embed", 0, len(records))
    embedder, vectors, vectors_reused = embed_records(
        records, embedder, previous, changed, paths, progress=lambda done: notify("embed", done, len(records))
    )
    notify("embed", len(records), len(records))
    timings["embed"], mark = time.perf_counter() - mark, time.perf_counter()

    notify("categorize", 0, 1)
    found = categorize_records(records, vectors, categories, previous, changed)
    notify("categorize", 1, 1)
    timings["categorize"], mark = time.perf_counter() - mark, time.perf_counter()

    drift = None
    if previous is not None and changed:
        old_records = [r for chunks in previous.records.values() for r in chunks]
        reusable = embedder.reuses_vectors and all(r["id"] in previous.rows for r in old_records)
        drift = corpus_drift(
            previous_texts=[r["text"] for r in old_records],
            previous_vectors=previous.vectors[[previous.rows[r["id"]] for r in old_records]]
            if reusable
            else None,
            embedder=embedder,
            vectors=vectors,
            category_of=[r["category"] for r in records],
            categories=found,
        )
        timings["drift"], mark = time.perf_counter() - mark, time.perf_counter()

    notify("write", 0, 1)
    manifest = {
        "format": MANIFEST_FORMAT,
        "built_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "root": str(root.resolve()),
        "settings": settings,
        "embedder": embedder.describe(),
        "categories_requested": categories,
        "categories": [c.to_dict() for c in found],
        "chunks": len(records),
        "files": done.files,
    }
    _write(paths, embedder, records, vectors, manifest)
    notify("write", 1, 1)
    timings["write"] = time.perf_counter() - mark

    return BuildReport(
        folder=str(root),
        output=str(paths.jsonl),
        embedder=embedder.name,
        dims=int(vectors.shape[1]) if vectors.ndim == 2 else 0,
        files_seen=len(scan.files),
        files_read=done.read,
        files_reused=done.reused,
        files_removed=removed,
        files_indexed=len(done.files),
        chunks=len(records),
        chunks_embedded=len(records) - vectors_reused,
        vectors_reused=vectors_reused,
        up_to_date=not changed,
        seconds=time.perf_counter() - started,
        skipped=sorted([*scan.skipped, *done.skipped], key=lambda s: s.path),
        categories=found,
        timings=timings,
        drift=drift,
        outputs={
            "jsonl": str(paths.jsonl),
            "embeddings": str(paths.embeddings),
            "embedder": str(paths.embedder),
            "manifest": str(paths.manifest),
        },
    )
