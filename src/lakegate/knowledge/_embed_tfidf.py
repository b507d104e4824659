"""Default embeddings: TF-IDF + truncated SVD (latent semantic analysis), no download needed.

Fitting counts terms with polars (:mod:`._terms`), weights them as scikit-learn's
``TfidfVectorizer`` does and projects with a randomized SVD (:mod:`._lsa`): no scikit-learn
import, whose start-up alone cost a build seconds. The saved state is the vocabulary, the idf
weights and the SVD components as plain arrays, and queries are embedded with numpy alone (the
same analyzer rules: lower-case, ``token_pattern``, unigrams), so searching never imports
scikit-learn or polars and never unpickles anything.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import numpy.typing as npt

from lakegate.knowledge._embed import Vectors, normalize_rows, write_npz
from lakegate.knowledge._lsa import truncated_svd
from lakegate.knowledge._terms import TOKEN_PATTERN as _TOKEN_PATTERN
from lakegate.knowledge._terms import count_terms, select_terms

__all__ = ["TfidfEmbedder"]


def _tfidf(counts: Any) -> tuple[Any, npt.NDArray[np.float32]]:
    """``(matrix, idf)`` as scikit-learn's ``TfidfVectorizer(sublinear_tf=True)`` computes them:
    ``(1 + ln tf) * idf`` with the smoothed ``idf = ln((1 + n) / (1 + df)) + 1``, rows of unit length.
    """
    n_rows = counts.shape[0]
    tfidf = counts.astype(np.float32)  # a copy: the caller's counts stay counts
    df = np.bincount(tfidf.indices, minlength=tfidf.shape[1])
    idf = (np.log((1.0 + n_rows) / (1.0 + df)) + 1.0).astype(np.float32)
    tfidf.data = (1.0 + np.log(tfidf.data)) * idf[tfidf.indices]
    squares = np.zeros(n_rows, dtype=np.float64)
    filled = np.diff(tfidf.indptr) > 0
    squares[filled] = np.add.reduceat(tfidf.data.astype(np.float64) ** 2, tfidf.indptr[:-1][filled])
    norms = np.sqrt(squares)
    norms[norms == 0] = 1.0
    tfidf.data /= np.repeat(norms, np.diff(tfidf.indptr)).astype(np.float32)
    return tfidf, idf


class TfidfEmbedder:
    """TF-IDF (sublinear tf, English stop words) projected to ``max_dims`` dimensions by SVD.

    Corpora with at most ``max_dims`` chunks get an exact SVD, which keeps every dimension of
    the TF-IDF space (search is then plain TF-IDF cosine); larger corpora use randomized SVD.
    """

    name: ClassVar[str] = "tfidf"
    reuses_vectors: ClassVar[bool] = False

    def __init__(self, *, max_dims: int = 256, max_features: int = 2**15, seed: int = 0) -> None:
        self.max_dims = max_dims
        self.max_features = max_features
        self.seed = seed
        self._terms: list[str] = []
        self._index: dict[str, int] = {}
        self._idf: npt.NDArray[np.float32] = np.zeros(0, dtype=np.float32)
        self._components: npt.NDArray[np.float32] = np.zeros((1, 0), dtype=np.float32)
        self._token = re.compile(_TOKEN_PATTERN)

    @property
    def dims(self) -> int:
        return int(self._components.shape[0])

    def ensure_available(self) -> None:
        """scikit-learn is a core dependency: nothing to check."""

    def fit_embed(self, texts: Sequence[str]) -> Vectors:
        big = len(texts) >= 1000
        counts, terms = count_terms(texts)
        # On a real corpus, terms seen once or in almost every chunk carry no topic.
        columns = select_terms(
            counts,
            terms,
            min_df=2 if big else 1,
            max_df=0.95 if big else 1.0,
            max_features=self.max_features,
        )
        if not len(columns):  # no text, or only stop words
            self._terms, self._index = [], {}
            self._idf = np.zeros(0, dtype=np.float32)
            self._components = np.zeros((1, 0), dtype=np.float32)
            return np.zeros((len(texts), 1), dtype=np.float32)
        self._terms = [terms[i] for i in columns.tolist()]
        self._index = {term: i for i, term in enumerate(self._terms)}
        tfidf, self._idf = _tfidf(counts[:, columns])
        from threadpoolctl import threadpool_limits  # type: ignore[import-untyped]

        # One BLAS thread: as fast as two for this SVD on the 2-core target machine (measured),
        # at half the CPU, and steady when the machine is busy with other work.
        with threadpool_limits(limits=1):
            return normalize_rows(self._fit_svd(tfidf))

    def _fit_svd(self, tfidf: Any) -> npt.NDArray[np.float32]:
        """Fit the projection (``self._components``) and return the projected rows."""
        n_samples, n_terms = tfidf.shape
        if n_samples <= self.max_dims:
            # Exact and cheap at this size: the rows span at most n_samples dimensions.
            _, singular, vt = np.linalg.svd(tfidf.toarray(), full_matrices=False)
            rank = max(1, int((singular > 1e-6).sum()))
            self._components = np.ascontiguousarray(vt[:rank], dtype=np.float32)
            return np.asarray(tfidf @ self._components.T, dtype=np.float32)
        # Projected rows are tfidf @ components.T, the way queries are projected.
        self._components, projected = truncated_svd(tfidf, min(self.max_dims, n_terms - 1), seed=self.seed)
        return projected

    def _tfidf_rows(self, texts: Sequence[str]) -> Any:
        from scipy.sparse import csr_matrix

        indptr, indices, values = [0], [], []
        for text in texts:
            counts = Counter(t for t in self._token.findall(text.lower()) if t in self._index)
            for term, count in counts.items():
                indices.append(self._index[term])
                values.append(1.0 + np.log(count))
            indptr.append(len(indices))
        matrix = csr_matrix(
            (np.asarray(values, dtype=np.float32), indices, indptr), shape=(len(texts), len(self._terms))
        )
        matrix = matrix.multiply(self._idf).tocsr()
        norms = np.sqrt(np.asarray(matrix.multiply(matrix).sum(axis=1)).ravel())
        norms[norms == 0] = 1.0
        return matrix.multiply(1.0 / norms[:, None]).tocsr()

    def embed(self, texts: Sequence[str]) -> Vectors:
        if not self._terms:
            return np.zeros((len(texts), self.dims), dtype=np.float32)
        return normalize_rows(self._tfidf_rows(texts) @ self._components.T)

    def embed_query(self, text: str) -> Vectors:
        if not self._terms:
            return np.zeros(self.dims, dtype=np.float32)
        counts = Counter(t for t in self._token.findall(text.lower()) if t in self._index)
        if not counts:
            return np.zeros(self.dims, dtype=np.float32)
        columns = np.fromiter((self._index[t] for t in counts), dtype=np.int64, count=len(counts))
        weights = (1.0 + np.log(np.fromiter(counts.values(), dtype=np.float32))) * self._idf[columns]
        weights /= np.linalg.norm(weights)
        return normalize_rows(self._components[:, columns] @ weights)

    def describe(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "dims": self.dims,
            "terms": len(self._terms),
            "max_dims": self.max_dims,
            "max_features": self.max_features,
            "token_pattern": _TOKEN_PATTERN,
        }

    def save(self, path: Path) -> None:
        write_npz(
            path,
            self.describe(),
            # Terms are \w+ runs, so a newline can never be part of one.
            terms=np.array("\n".join(self._terms)),
            idf=self._idf,
            components=self._components,
        )

    @classmethod
    def from_arrays(cls, meta: dict[str, Any], arrays: dict[str, npt.NDArray[Any]]) -> TfidfEmbedder:
        embedder = cls(max_dims=int(meta["max_dims"]), max_features=int(meta["max_features"]))
        joined = str(arrays["terms"])
        embedder._terms = joined.split("\n") if joined else []
        embedder._index = {term: i for i, term in enumerate(embedder._terms)}
        embedder._idf = arrays["idf"].astype(np.float32)
        embedder._components = np.ascontiguousarray(arrays["components"], dtype=np.float32)
        return embedder
