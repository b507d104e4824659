"""Embedding reports its progress in batches for text-only models, once for corpus-fitted ones."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import ClassVar

import numpy as np

from lakegate.knowledge._embed_tfidf import TfidfEmbedder
from lakegate.knowledge._incremental import EMBED_BATCH, embed_records
from lakegate.knowledge._store import KBPaths


class TextOnly:
    """A stand-in for MiniLM: a text's vector depends on the text alone; counts its calls."""

    name: ClassVar[str] = "text-only"
    reuses_vectors: ClassVar[bool] = True
    dims = 3

    def __init__(self) -> None:
        self.calls: list[int] = []

    def ensure_available(self) -> None:
        pass

    def fit_embed(self, texts: Sequence[str]) -> np.ndarray:
        return self.embed(texts)

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        self.calls.append(len(texts))
        return np.array([[len(t), t.count("a"), 1.0] for t in texts], dtype=np.float32).reshape(len(texts), 3)

    def embed_query(self, text: str) -> np.ndarray:
        return self.embed([text])[0]

    def save(self, path: Path) -> None:
        pass


def records(n: int) -> list[dict[str, str]]:
    return [{"id": f"c{i}", "text": "a" * (i % 7) + f" chunk {i}"} for i in range(n)]


def test_a_text_only_model_embeds_in_batches_and_reports_each(tmp_path):
    rows = records(2 * EMBED_BATCH + 88)
    seen: list[int] = []
    model = TextOnly()
    _, vectors, reused = embed_records(
        rows, model, None, True, KBPaths.of(tmp_path / "kb.jsonl"), progress=seen.append
    )
    assert seen == [EMBED_BATCH, 2 * EMBED_BATCH, 2 * EMBED_BATCH + 88]
    assert model.calls == [EMBED_BATCH, EMBED_BATCH, 88]
    assert reused == 0
    np.testing.assert_array_equal(vectors, TextOnly().embed([r["text"] for r in rows]))


def test_a_corpus_fitted_model_is_one_call_and_one_report(tmp_path):
    rows = records(300)
    seen: list[int] = []
    _, vectors, _ = embed_records(
        rows, TfidfEmbedder(), None, True, KBPaths.of(tmp_path / "kb.jsonl"), progress=seen.append
    )
    assert seen == [300]
    assert vectors.shape[0] == 300
