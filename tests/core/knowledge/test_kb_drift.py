"""Corpus drift between two builds of a knowledge base: centroid shift and new categories."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from lakegate.knowledge import Category, build_kb
from lakegate.knowledge._drift import corpus_drift

GARDEN = [
    "Roses need pruning in early spring before the buds open.",
    "Tomatoes grow best in full sun with steady watering.",
    "Compost feeds the soil and keeps the garden beds healthy.",
    "Prune apple trees in winter while they are dormant.",
]
ENGINES = [
    "The diesel engine injects fuel into compressed hot air.",
    "Turbochargers push more air into the engine cylinders.",
    "Engine oil keeps the pistons and crankshaft lubricated.",
    "A spark plug ignites the fuel mixture in a petrol engine.",
]


def write(folder: Path, name: str, lines: list[str]) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for index, line in enumerate(lines):
        (folder / f"{name}-{index}.txt").write_text(line * 3, encoding="utf-8")


def test_a_first_build_and_an_unchanged_rebuild_have_no_drift(tmp_path: Path) -> None:
    write(tmp_path / "docs" / "garden", "g", GARDEN)
    out = tmp_path / "kb" / "kb.jsonl"
    assert build_kb(tmp_path / "docs", out).drift is None
    assert build_kb(tmp_path / "docs", out).drift is None  # nothing changed


def test_a_new_kind_of_document_is_a_new_category_and_moves_the_centre(tmp_path: Path) -> None:
    docs = tmp_path / "docs"
    write(docs / "garden", "g", GARDEN)
    out = tmp_path / "kb" / "kb.jsonl"
    build_kb(docs, out, categories=2)

    write(docs / "garden", "h", [line.replace("spring", "autumn") for line in GARDEN])
    same_topic = build_kb(docs, out, categories=2).drift
    assert same_topic is not None
    assert same_topic["previous_chunks"] == len(GARDEN)

    write(docs / "engines", "e", ENGINES * 2)
    moved = build_kb(docs, out, categories=2).drift
    assert moved is not None
    assert moved["previous_chunks"] == 2 * len(GARDEN)
    assert moved["centroid_shift"] > same_topic["centroid_shift"]
    # The engine chunks form a category none of the garden chunks falls into.
    assert moved["new_categories"], moved
    assert moved["new_category_share"] >= 0.25, moved
    assert {c["label"] for c in moved["categories"]} >= set(moved["new_categories"])


def test_drift_of_identical_corpora_is_zero() -> None:
    class Identity:
        def embed(self, texts: list[str]) -> np.ndarray:
            return np.asarray([[1.0, 0.0] if "rose" in t else [0.0, 1.0] for t in texts], dtype=np.float32)

    texts = ["rose a", "rose b", "engine a", "engine b"]
    vectors = Identity().embed(texts)
    categories = [Category(0, "roses", ("rose",), 2), Category(1, "engines", ("engine",), 2)]
    drift = corpus_drift(
        previous_texts=texts,
        embedder=Identity(),
        vectors=vectors,
        category_of=[0, 0, 1, 1],
        categories=categories,
    )
    assert drift is not None
    assert drift["centroid_shift"] == 0.0
    assert drift["new_categories"] == []
    assert [(c["before"], c["after"]) for c in drift["categories"]] == [(0.5, 0.5), (0.5, 0.5)]
    # Only engines now: the roses category held half the old chunks and none of the new.
    only_engines = corpus_drift(
        previous_texts=["rose a", "rose b"],
        embedder=Identity(),
        vectors=vectors[2:],
        category_of=[1, 1],
        categories=[Category(1, "engines", ("engine",), 2)],
    )
    assert only_engines is not None
    assert only_engines["centroid_shift"] == 1.0
    assert only_engines["new_categories"] == ["engines"]
    assert only_engines["new_category_share"] == 1.0
