"""Incremental rebuilds: what of the last build can be trusted, and reusing it.

The last build is trusted only when its manifest has the same settings (chunking, embedder)
and all of its files load. A file is reused when its content hash is unchanged; vectors are
reused per chunk id for a fixed-model embedder, and wholesale for any embedder when nothing
changed; categories are reused only when nothing changed and the same ``k`` was asked for.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Final

import numpy as np
import numpy.typing as npt

from lakegate.errors import LakegateError
from lakegate.knowledge._categories import Category, categorize
from lakegate.knowledge._embed import Embedder, load_embedder
from lakegate.knowledge._store import KBPaths, iter_records, read_embeddings, read_manifest

__all__ = ["Previous", "categorize_records", "embed_records", "load_previous", "reusable_records"]

log = logging.getLogger(__name__)


@dataclass(slots=True)
class Previous:
    """The last build, as far as it can be trusted for reuse."""

    files: dict[str, dict[str, Any]]
    records: dict[str, list[dict[str, Any]]]
    rows: dict[str, int]
    vectors: npt.NDArray[np.float32]
    categories: list[Category]
    categories_requested: int | None


def load_previous(paths: KBPaths, settings: dict[str, Any]) -> Previous | None:
    if not all(p.is_file() for p in paths.all()):
        return None
    try:
        manifest = read_manifest(paths.manifest)
        if manifest.get("settings") != settings:
            log.info("knowledge base settings changed: rebuilding every file")
            return None
        records: dict[str, list[dict[str, Any]]] = {}
        for record in iter_records(paths.jsonl):
            records.setdefault(record["path"], []).append(record)
        ids, vectors = read_embeddings(paths.embeddings)
    except (LakegateError, OSError, ValueError, KeyError) as exc:
        log.warning("previous knowledge base unusable, rebuilding everything: %s", exc)
        return None
    return Previous(
        files=manifest.get("files", {}),
        records=records,
        rows={cid: row for row, cid in enumerate(ids)},
        vectors=vectors,
        categories=[Category.from_dict(c) for c in manifest.get("categories", [])],
        categories_requested=manifest.get("categories_requested"),
    )


def reusable_records(
    path: str, digest: str, modified: str, previous: Previous | None
) -> list[dict[str, Any]] | None:
    """The last build's records of ``path`` if its content is unchanged (``modified`` refreshed)."""
    if previous is None:
        return None
    old = previous.files.get(path)
    old_records = previous.records.get(path, [])
    if old is None or old.get("hash") != digest or len(old_records) != old.get("chunks"):
        return None
    return [{**r, "modified": modified} for r in old_records]


def embed_records(
    records: list[dict[str, Any]],
    embedder: Embedder,
    previous: Previous | None,
    changed: bool,
    paths: KBPaths,
    progress: Callable[[int], None] | None = None,
) -> tuple[Embedder, npt.NDArray[np.float32], int]:
    """``(embedder, vectors, vectors reused)``; ``progress(done)`` counts chunks with a vector.

    A model whose vectors depend on the text alone (MiniLM) embeds in batches of
    ``EMBED_BATCH`` chunks, reporting after each: a neural build takes a minute per thousand
    chunks on a small CPU, and the bar must move. A corpus-fitted method (TF-IDF) is one call.
    """
    report = progress or (lambda _done: None)
    ids = [r["id"] for r in records]
    texts = [r["text"] for r in records]
    if (
        previous is not None
        and (not changed or embedder.reuses_vectors)
        and all(cid in previous.rows for cid in ids)
    ):
        # Every chunk has a valid vector already: keep them, with the embedder that made them.
        try:
            saved = load_embedder(paths.embedder)
        except (LakegateError, OSError, KeyError, ValueError) as exc:
            log.warning("saved embedder unusable, embedding again: %s", exc)
        else:
            if saved.name == embedder.name:
                rows = np.fromiter((previous.rows[cid] for cid in ids), dtype=np.int64, count=len(ids))
                report(len(ids))
                return saved, np.ascontiguousarray(previous.vectors[rows]), len(ids)
    if previous is not None and embedder.reuses_vectors and len(previous.vectors):
        vectors = np.zeros((len(ids), previous.vectors.shape[1]), dtype=np.float32)
        missing = []
        for i, cid in enumerate(ids):
            row = previous.rows.get(cid)
            if row is None:
                missing.append(i)
            else:
                vectors[i] = previous.vectors[row]
        reused = len(ids) - len(missing)
        report(reused)
        if missing:
            vectors[missing] = _embed_batches(embedder, [texts[i] for i in missing], reused, report)
        return embedder, vectors, reused
    if embedder.reuses_vectors:
        return embedder, _embed_batches(embedder, texts, 0, report), 0
    vectors = embedder.fit_embed(texts)
    report(len(ids))
    return embedder, vectors, 0


EMBED_BATCH: Final = 256


def _embed_batches(
    embedder: Embedder, texts: list[str], done: int, report: Callable[[int], None]
) -> npt.NDArray[np.float32]:
    parts = []
    for start in range(0, len(texts), EMBED_BATCH):
        parts.append(embedder.embed(texts[start : start + EMBED_BATCH]))
        report(done + min(start + EMBED_BATCH, len(texts)))
    return np.vstack(parts) if parts else embedder.embed(texts)


def categorize_records(
    records: list[dict[str, Any]],
    vectors: npt.NDArray[np.float32],
    categories: int | None,
    previous: Previous | None,
    changed: bool,
) -> list[Category]:
    """Cluster the chunks and label every record, unless the last build's clusters still hold."""
    reusable = previous is not None and not changed and previous.categories_requested == categories
    if previous is not None and reusable and (previous.categories or not records):
        return previous.categories  # same chunks, same vectors: the clusters cannot differ
    labels, found = categorize(vectors, [r["text"] for r in records], k=categories)
    names = [c.label for c in found]
    for record, label in zip(records, labels.tolist(), strict=True):
        record["category"] = label
        record["category_label"] = names[label]
    return found
