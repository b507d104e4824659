"""Semantic categories: k-means over the chunk embeddings, each cluster labelled by its top terms.

When ``k`` is not given it is chosen by the silhouette score over ``k_range`` on a fixed-seed
sample (the score is quadratic in the number of points), then the chosen model is refined on
every chunk. Labels are the terms that are both frequent in a cluster and over-represented there
(their contribution to the KL divergence from the corpus-wide term distribution), computed
from the texts, so they work for any embedder, including ones with no vocabulary.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from lakegate.errors import InputError
from lakegate.knowledge._kmeans import KMeansResult, kmeans, pairwise_distances, silhouette
from lakegate.knowledge._terms import count_terms, select_terms

__all__ = ["Category", "categorize"]

_SAMPLE = 2000  # points used to choose k (silhouette is O(n^2)) and to seed the final fit
_CANDIDATE_INITS = 2  # k-means++ restarts per candidate k
_LABEL_SAMPLE = 10000  # chunks used to find each category's terms
_TERMS = 8


@dataclass(frozen=True, slots=True)
class Category:
    """One cluster: ``id`` (0 is the largest), a short ``label``, its top ``terms`` and ``size`` in chunks."""

    id: int
    label: str
    terms: tuple[str, ...]
    size: int

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "label": self.label, "terms": list(self.terms), "size": self.size}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Category:
        return cls(int(data["id"]), str(data["label"]), tuple(data["terms"]), int(data["size"]))


def categorize(
    vectors: npt.NDArray[np.float32],
    texts: Sequence[str],
    *,
    k: int | None = None,
    k_range: tuple[int, int] = (2, 10),
    seed: int = 0,
) -> tuple[npt.NDArray[np.int32], list[Category]]:
    """Cluster ``vectors`` (one row per text): the category id of every row, and the categories."""
    n = len(vectors)
    if k is not None and k < 1:
        raise InputError(f"the number of categories must be at least 1, not {k}")
    if n == 0:
        return np.zeros(0, dtype=np.int32), []
    from threadpoolctl import threadpool_limits  # type: ignore[import-untyped]

    # One thread: on a 2000-point sample, OpenMP/BLAS start-up and contention cost 3-7x the
    # work itself (measured on the 2-core target machine), and results do not depend on it.
    with threadpool_limits(limits=1):
        raw = _cluster(vectors, k, k_range, seed)
    labels = _by_size(raw)
    return labels, _describe(labels, texts, seed)


def _cluster(vectors: npt.NDArray[np.float32], k: int | None, k_range: tuple[int, int], seed: int) -> Any:
    """Raw cluster ids: fit on a fixed-seed sample (k chosen there if not given), refine on all rows."""
    n = len(vectors)
    if k is not None and min(k, n) == 1:
        return np.zeros(n, dtype=np.int64)
    rng = np.random.default_rng(seed)
    sample = np.sort(rng.choice(n, size=_SAMPLE, replace=False)) if n > _SAMPLE else np.arange(n)
    data = vectors[sample].astype(np.float64)
    best: KMeansResult | None = None
    if k is not None:
        best = kmeans(data, min(k, len(data)), seed=seed)
    else:
        best_score = -2.0
        distances = pairwise_distances(data)  # the same for every candidate k
        for candidate in range(k_range[0], min(k_range[1], len(data) - 1) + 1):
            model = kmeans(data, candidate, seed=seed, n_init=_CANDIDATE_INITS)
            if len(np.unique(model.labels)) < 2:
                continue
            score = silhouette(distances, model.labels)
            if score > best_score + 1e-9:
                best, best_score = model, score
        if best is None:
            return np.zeros(n, dtype=np.int64)
    if len(sample) == n:
        return best.labels
    return kmeans(vectors, len(best.centers), seed=seed, init=best.centers).labels


def _by_size(raw: npt.NDArray[Any]) -> npt.NDArray[np.int32]:
    """Renumber clusters 0..k-1, largest first (ties by first appearance); empty ones vanish."""
    values, first, counts = np.unique(raw, return_index=True, return_counts=True)
    order = sorted(range(len(values)), key=lambda i: (-counts[i], first[i]))
    mapping = np.zeros(int(values.max()) + 1, dtype=np.int32)
    for new, old in enumerate(order):
        mapping[values[old]] = new
    labels: npt.NDArray[np.int32] = mapping[np.asarray(raw)]
    return labels


def _describe(labels: npt.NDArray[np.int32], texts: Sequence[str], seed: int) -> list[Category]:
    k = int(labels.max()) + 1
    sizes = np.bincount(labels, minlength=k)
    terms = _top_terms(labels, texts, k, seed)
    categories = []
    for cid in range(k):
        top = terms[cid]
        label = ", ".join(top[:3]) if top else f"category {cid}"
        categories.append(Category(cid, label, tuple(top), int(sizes[cid])))
    return categories


def _top_terms(labels: npt.NDArray[np.int32], texts: Sequence[str], k: int, seed: int) -> list[list[str]]:
    from scipy.sparse import csr_matrix

    n = len(texts)
    rows = np.arange(n)
    if n > _LABEL_SAMPLE:
        rows = np.sort(np.random.default_rng(seed).choice(n, size=_LABEL_SAMPLE, replace=False))
    # Words of 3+ letters only (no digit, no underscore): numbers and codes make poor labels.
    counts, vocabulary = count_terms([texts[int(i)] for i in rows], min_length=3, letters_only=True)
    columns = select_terms(counts, vocabulary, max_features=2**15)
    if not len(columns):  # no usable word at all
        return [[] for _ in range(k)]
    counts = counts[:, columns]
    vocabulary = [vocabulary[i] for i in columns.tolist()]
    members = csr_matrix(
        (np.ones(len(rows), dtype=np.float32), (labels[rows], np.arange(len(rows)))), shape=(k, len(rows))
    )
    per_class = np.asarray((members @ counts).todense(), dtype=np.float64)
    # Score = p(term | category) * log(p(term | category) / p(term)): frequent in the category
    # *and* over-represented there, so words common everywhere never label a category.
    totals = per_class.sum(axis=1, keepdims=True)
    p_class = np.divide(per_class, totals, out=np.zeros_like(per_class), where=totals > 0)
    p_all = per_class.sum(axis=0) / max(per_class.sum(), 1.0)
    ratio = np.divide(p_class, p_all, out=np.ones_like(p_class), where=(p_class > 0) & (p_all > 0))
    scores = p_class * np.log(ratio)
    if k == 1:
        scores = p_class  # one category: its most frequent words
    result = []
    for cid in range(k):
        order = np.argsort(-scores[cid], kind="stable")[:_TERMS]
        result.append([str(vocabulary[i]) for i in order if scores[cid, i] > 0])
    return result
