"""Semantic search over a built knowledge base: one matrix product per query.

:class:`KnowledgeBase` loads the embeddings once (a float32 matrix) and memory-maps the JSONL,
reading only the lines of the hits. Because the build replaces files by rename, an open
knowledge base keeps answering from the snapshot it opened, even while a rebuild runs; call
:meth:`KnowledgeBase.open` again to see the new one. Searching is read-only and thread-safe.
"""

from __future__ import annotations

import mmap
import weakref
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any

import numpy as np
import numpy.typing as npt

from lakegate.errors import InputError
from lakegate.knowledge._categories import Category
from lakegate.knowledge._embed import Embedder, load_embedder
from lakegate.knowledge._store import KBPaths, read_embeddings, read_manifest

__all__ = ["KnowledgeBase", "SearchHit"]

MAX_K = 1000


@dataclass(frozen=True, slots=True)
class SearchHit:
    """One matching chunk: cosine ``score`` (higher is closer) and the chunk's record."""

    rank: int
    score: float
    record: dict[str, Any]

    @property
    def id(self) -> str:
        return str(self.record["id"])

    @property
    def path(self) -> str:
        return str(self.record["path"])

    @property
    def text(self) -> str:
        return str(self.record["text"])

    def to_dict(self) -> dict[str, Any]:
        return {"rank": self.rank, "score": round(self.score, 6), **self.record}


class KnowledgeBase:
    """A built knowledge base opened for search: ``KnowledgeBase.open("kb.jsonl").search("query", k=5)``."""

    def __init__(
        self,
        paths: KBPaths,
        manifest: dict[str, Any],
        ids: list[str],
        vectors: npt.NDArray[np.float32],
        embedder: Embedder,
    ) -> None:
        self.paths = paths
        self.manifest = manifest
        self.ids = ids
        self.vectors = vectors
        self.embedder = embedder
        self.categories = [Category.from_dict(c) for c in manifest.get("categories", [])]
        self._file = paths.jsonl.open("rb")
        size = paths.jsonl.stat().st_size
        self._map: mmap.mmap | None = (
            mmap.mmap(self._file.fileno(), 0, access=mmap.ACCESS_READ) if size else None
        )
        # A base dropped without close() (the server's cache replacing it after a rebuild,
        # while a search may still hold it) releases its file when it is collected.
        self._release = weakref.finalize(self, _release, self._file, self._map)
        self._starts = self._line_starts()

    @classmethod
    def open(cls, path: Path | str) -> KnowledgeBase:
        """Open the knowledge base whose JSONL is ``path`` (its sibling files must be there)."""
        paths = KBPaths.of(path)
        paths.require()
        manifest = read_manifest(paths.manifest)
        ids, vectors = read_embeddings(paths.embeddings)
        embedder = load_embedder(paths.embedder)
        if vectors.shape[1] != embedder.dims:
            raise InputError(
                f"{paths.embeddings}: vectors have {vectors.shape[1]} dimensions, the embedder "
                f"{embedder.dims}; rebuild the knowledge base"
            )
        return cls(paths, manifest, ids, vectors, embedder)

    def _line_starts(self) -> npt.NDArray[np.int64]:
        if self._map is None:
            newlines = np.zeros(0, dtype=np.int64)
        else:
            newlines = np.flatnonzero(np.frombuffer(self._map, dtype=np.uint8) == ord("\n")).astype(np.int64)
        if len(newlines) != len(self.ids):
            self.close()
            raise InputError(
                f"{self.paths.jsonl} has {len(newlines)} records but {self.paths.embeddings} has "
                f"{len(self.ids)} vectors; rebuild the knowledge base"
            )
        # starts[i] .. starts[i + 1] - 1 is line i (without its newline).
        return np.concatenate(([0], newlines + 1))

    def __len__(self) -> int:
        return len(self.ids)

    def __enter__(self) -> KnowledgeBase:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def close(self) -> None:
        # The numpy views from _line_starts are copies, so the map can always be closed.
        self._release()
        self._map = None

    def record(self, row: int) -> dict[str, Any]:
        """The record on line ``row`` (0-based) of the JSONL."""
        import orjson

        if self._map is None:
            raise InputError("this knowledge base is closed or empty")
        line = self._map[int(self._starts[row]) : int(self._starts[row + 1]) - 1]
        record: dict[str, Any] = orjson.loads(line)
        if record.get("id") != self.ids[row]:
            raise InputError(
                f"{self.paths.jsonl} and its embeddings are out of step; rebuild the knowledge base"
            )
        return record

    def scores(self, query: str) -> npt.NDArray[np.float32]:
        """Cosine similarity of ``query`` to every chunk, in JSONL order."""
        if not query.strip():
            raise InputError("the search query is empty")
        vector = self.embedder.embed_query(query)
        if not len(self.ids):
            return np.zeros(0, dtype=np.float32)
        return self.vectors @ vector

    def search(self, query: str, k: int = 5) -> list[SearchHit]:
        """The ``k`` chunks closest to ``query``, best first (only chunks with a positive score)."""
        if not 1 <= k <= MAX_K:
            raise InputError(f"k must be between 1 and {MAX_K}, not {k}")
        scores = self.scores(query)
        if not len(scores):
            return []
        k = min(k, len(scores))
        top = np.argpartition(-scores, k - 1)[:k]
        # Sort by score, then by position, so equal scores come back in a stable order.
        top = top[np.lexsort((top, -scores[top]))]
        top = top[scores[top] > 1e-6]  # nothing in common with the query is not a hit
        return [
            SearchHit(rank=rank, score=float(scores[row]), record=self.record(int(row)))
            for rank, row in enumerate(top.tolist(), start=1)
        ]


def _release(file: Any, mapped: mmap.mmap | None) -> None:
    if mapped is not None:
        mapped.close()
    file.close()
