"""K-means and the silhouette score in numpy, for the categories of a knowledge base.

These replace scikit-learn's ``KMeans`` and ``silhouette_score`` in the build because importing
scikit-learn cost more than the clustering itself (1.5 s of CPU on the 2-core machine, 4 s when
it is busy). The algorithms are the same: greedy k-means++ seeding with ``2 + ln k`` candidates
per centre, Lloyd iterations until no label changes or the centres move less than ``tol`` times
the mean feature variance, the run with the lowest inertia out of ``n_init``; the silhouette is
Rousseeuw's (1987), 0 for a point alone in its cluster. Distances are matrix products (BLAS).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

__all__ = ["KMeansResult", "kmeans", "pairwise_distances", "silhouette"]

Array = npt.NDArray[np.floating]


@dataclass(frozen=True, slots=True)
class KMeansResult:
    labels: npt.NDArray[np.int64]
    centers: Array
    inertia: float


def _squared_distances(data: Array, data_sq: Array, centers: Array) -> Array:
    """``n x k`` squared Euclidean distances (``|x|^2 - 2 x.c + |c|^2``, clipped at 0)."""
    distances = data @ centers.T
    distances *= -2
    distances += data_sq[:, None]
    distances += (centers * centers).sum(axis=1)[None, :]
    np.maximum(distances, 0, out=distances)
    return distances


def _seed(data: Array, data_sq: Array, k: int, rng: np.random.Generator) -> Array:
    """Greedy k-means++: each new centre is the best of a few candidates drawn by D^2 weight."""
    n = len(data)
    trials = 2 + int(np.log(k))
    centers = np.empty((k, data.shape[1]), dtype=data.dtype)
    centers[0] = data[rng.integers(n)]
    closest = _squared_distances(data, data_sq, centers[:1])[:, 0]
    for c in range(1, k):
        total = float(closest.sum())
        if total <= 0:  # every point already sits on a centre (duplicates): any point will do
            centers[c:] = data[rng.integers(n, size=k - c)]
            break
        picks = np.searchsorted(np.cumsum(closest), rng.random(trials) * total)
        picks = np.minimum(picks, n - 1)
        candidate = np.minimum(closest[:, None], _squared_distances(data, data_sq, data[picks]))
        best = int(np.argmin(candidate.sum(axis=0)))
        centers[c] = data[picks[best]]
        closest = candidate[:, best]
    return centers


def _lloyd(data: Array, data_sq: Array, centers: Array, max_iter: int, tol: float) -> KMeansResult:
    k = len(centers)
    labels: npt.NDArray[np.int64] | None = None
    for _ in range(max_iter):
        new_labels = _squared_distances(data, data_sq, centers).argmin(axis=1)
        members = (new_labels[None, :] == np.arange(k)[:, None]).astype(data.dtype)
        counts = members.sum(axis=1)
        moved = centers.copy()
        filled = counts > 0  # an empty cluster keeps its centre (and is dropped by the caller)
        moved[filled] = (members @ data)[filled] / counts[filled, None]
        shift = float(((moved - centers) ** 2).sum())
        centers = moved
        if labels is not None and np.array_equal(new_labels, labels):
            break
        labels = new_labels
        if shift <= tol:
            break
    distances = _squared_distances(data, data_sq, centers)
    final = distances.argmin(axis=1)
    inertia = float(distances[np.arange(len(data)), final].sum())
    return KMeansResult(final, centers, inertia)


def kmeans(
    data: Array,
    k: int,
    *,
    seed: int,
    n_init: int = 3,
    init: Array | None = None,
    max_iter: int = 100,
    tol: float = 1e-4,
) -> KMeansResult:
    """Cluster the rows of ``data`` into ``k`` groups; ``init`` (centres) runs Lloyd once from there."""
    k = min(k, len(data))
    data_sq = (data * data).sum(axis=1)
    threshold = float(np.mean(np.var(data, axis=0))) * tol
    if init is not None:
        return _lloyd(data, data_sq, init.astype(data.dtype), max_iter, threshold)
    rng = np.random.default_rng(seed)
    runs = [
        _lloyd(data, data_sq, _seed(data, data_sq, k, rng), max_iter, threshold)
        for _ in range(max(1, n_init))
    ]
    return min(runs, key=lambda run: run.inertia)  # the first of equals, as a strict "<" would keep


def pairwise_distances(data: Array) -> Array:
    """Euclidean distances between all rows (``O(n^2)`` memory: a sample, computed once per k range)."""
    squares = (data * data).sum(axis=1)
    distances = np.sqrt(_squared_distances(data, squares, data))
    np.fill_diagonal(distances, 0.0)
    return distances


def silhouette(distances: Array, labels: npt.NDArray[np.integer]) -> float:
    """Mean silhouette of points whose pairwise ``distances`` are given, clustered as ``labels``."""
    n = len(distances)
    k = int(labels.max()) + 1
    members = (labels[:, None] == np.arange(k)[None, :]).astype(distances.dtype)
    sums = distances @ members  # n x k: total distance from each point to each cluster
    sizes = members.sum(axis=0)
    own = sizes[labels]
    within = sums[np.arange(n), labels] / np.maximum(own - 1, 1)
    means = np.divide(sums, sizes[None, :], out=np.full_like(sums, np.inf), where=sizes[None, :] > 0)
    means[np.arange(n), labels] = np.inf
    nearest = means.min(axis=1)
    scores = (nearest - within) / np.maximum(np.maximum(within, nearest), 1e-300)
    scores[own <= 1] = 0.0
    return float(np.nan_to_num(scores).mean())
