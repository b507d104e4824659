"""Embedders: a lazy registry of name -> dotted path, and the small contract every embedder keeps.

An embedder turns chunk texts into L2-normalised float32 rows, so cosine similarity is a dot
product. Its query-time state is saved in one ``.npz`` file beside the knowledge base, loaded
with ``allow_pickle=False``: plain arrays and a JSON string, never pickled objects.
"""

from __future__ import annotations

import importlib
import json
import os
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any, ClassVar, Protocol

import numpy as np
import numpy.typing as npt

from lakegate.errors import InputError

__all__ = [
    "EMBEDDERS",
    "Embedder",
    "Vectors",
    "embedder_class",
    "get_embedder",
    "load_embedder",
    "normalize_rows",
    "read_npz",
    "write_npz",
]

Vectors = npt.NDArray[np.float32]

EMBEDDERS: dict[str, str] = {
    "tfidf": "lakegate.knowledge._embed_tfidf:TfidfEmbedder",
    "minilm": "lakegate.knowledge._embed_minilm:MiniLMEmbedder",
}


class Embedder(Protocol):
    """What the build and search need from an embedding method."""

    name: ClassVar[str]
    # True when a chunk's vector depends only on its text (a fixed model): a rebuild then embeds
    # only new chunks. False when the model is fitted to the corpus (TF-IDF): any change refits.
    reuses_vectors: ClassVar[bool]

    @property
    def dims(self) -> int: ...

    def ensure_available(self) -> None:
        """Raise :class:`~lakegate.errors.MissingExtraError` now if a needed package is missing."""
        ...

    def fit_embed(self, texts: Sequence[str]) -> Vectors:
        """Fit to the corpus if the method needs it, and embed every text."""
        ...

    def embed(self, texts: Sequence[str]) -> Vectors:
        """Embed texts with the current (fitted) state."""
        ...

    def embed_query(self, text: str) -> Vectors:
        """One query as a 1-D vector of ``dims`` floats."""
        ...

    def save(self, path: Path) -> None:
        """Write the state queries need to ``path`` (an ``.npz`` file), atomically."""
        ...

    def describe(self) -> dict[str, Any]:
        """A JSON-able summary for the manifest and the build report."""
        ...


def embedder_class(name: str) -> Any:
    """The class registered as ``name``, imported on first use."""
    try:
        dotted = EMBEDDERS[name]
    except KeyError:
        raise InputError(f"unknown embedder {name!r}; choose one of {sorted(EMBEDDERS)}") from None
    module_name, _, attr = dotted.partition(":")
    return getattr(importlib.import_module(module_name), attr)


def get_embedder(name: str) -> Embedder:
    """A fresh embedder of kind ``name`` (``tfidf`` or ``minilm``)."""
    embedder: Embedder = embedder_class(name)()
    return embedder


def load_embedder(path: Path) -> Embedder:
    """The embedder saved at ``path`` by :meth:`Embedder.save`, ready for queries."""
    arrays = read_npz(path)
    meta = json.loads(str(arrays["meta"]))
    embedder: Embedder = embedder_class(meta["name"]).from_arrays(meta, arrays)
    return embedder


def normalize_rows(matrix: npt.NDArray[Any]) -> Vectors:
    """Rows scaled to unit length (all-zero rows stay zero), as C-contiguous float32."""
    matrix = np.ascontiguousarray(matrix, dtype=np.float32)
    if matrix.size == 0:
        return matrix
    norms = np.linalg.norm(matrix, axis=-1, keepdims=True)
    np.divide(matrix, norms, out=matrix, where=norms > 0)
    return matrix


def write_npz(path: Path, meta: dict[str, Any], **arrays: npt.NDArray[Any]) -> None:
    """Save arrays plus a JSON ``meta`` string to ``path`` atomically (temp file, then rename)."""
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            payload: dict[str, Any] = {"meta": np.array(json.dumps(meta)), **arrays}
            np.savez(handle, **payload)
        Path(tmp).replace(path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def read_npz(path: Path) -> dict[str, npt.NDArray[Any]]:
    """Load every array of an ``.npz`` file without ever unpickling."""
    try:
        with np.load(path, allow_pickle=False) as data:
            return {key: data[key] for key in data.files}
    except FileNotFoundError:
        raise
    except (OSError, ValueError) as exc:
        raise InputError(f"{path}: not a lakegate embedder file ({exc})") from exc
