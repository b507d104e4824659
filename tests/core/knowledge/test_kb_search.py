"""KnowledgeBase.open(...).search(...): relevance, bounds, snapshots and damaged files."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from lakegate.errors import InputError, NotFoundError
from lakegate.knowledge import KBPaths, KnowledgeBase, build_kb

from .kb_corpus import Built


@pytest.fixture
def kb(built: Built) -> KnowledgeBase:
    knowledge = KnowledgeBase.open(built.corpus.out)
    yield knowledge
    knowledge.close()


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("salmon in the river basin", "reports/2024/river.pdf"),
        ("nitrate pollution in sediment", "reports/2024/river.pdf"),
        ("wind turbines electricity", "web/turbines.html"),
        ("how do I grow tomatoes with compost", "notes/garden.txt"),
        ("board approved budget revenue", "reports/2024/summary.docx"),
        ("invoice total per customer", "reports/finance.xlsx"),
        ("snowfall at weather stations", "data/stations.json"),
        ("Ada Lovelace mathematician", "data/people.csv"),
    ],
)
def test_search_returns_the_relevant_document_first(kb: KnowledgeBase, query: str, expected: str) -> None:
    hits = kb.search(query, k=3)
    assert hits[0].path == expected
    assert [h.rank for h in hits] == list(range(1, len(hits) + 1))
    assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)


def test_hits_carry_the_full_record(kb: KnowledgeBase) -> None:
    hit = kb.search("sediment nitrate delta", k=1)[0]
    assert hit.record["page"] == 2
    assert hit.record["folder"] == "reports/2024"
    assert "nitrate" in hit.text
    document = hit.to_dict()
    assert document["rank"] == 1
    assert document["id"] == hit.id
    assert 0 < document["score"] <= 1


def test_scores_are_cosines_over_every_chunk(kb: KnowledgeBase) -> None:
    scores = kb.scores("wind turbines")
    assert scores.shape == (len(kb),)
    query = kb.embedder.embed_query("wind turbines")
    assert np.allclose(scores, kb.vectors @ query)
    assert scores.max() <= 1.0 + 1e-5


def test_k_bounds_and_empty_queries(kb: KnowledgeBase) -> None:
    assert len(kb.search("river", k=1)) == 1
    assert len(kb.search("water river salmon garden budget wind", k=1000)) <= len(kb)
    with pytest.raises(InputError, match="k must be"):
        kb.search("river", k=0)
    with pytest.raises(InputError, match="empty"):
        kb.search("   ")
    assert kb.search("qwertyuiop zxcvbnm") == []


def test_opening_a_missing_or_incomplete_knowledge_base(tmp_path: Path, built: Built) -> None:
    with pytest.raises(NotFoundError, match="no knowledge base"):
        KnowledgeBase.open(tmp_path / "kb.jsonl")
    copy = tmp_path / "copy.jsonl"
    shutil.copy(built.corpus.out, copy)
    with pytest.raises(NotFoundError, match=r"incomplete \(missing copy.embeddings.parquet"):
        KnowledgeBase.open(copy)


def test_a_truncated_jsonl_is_detected(tmp_path: Path, built: Built) -> None:
    for source in KBPaths.of(built.corpus.out).all():
        shutil.copy(source, tmp_path / source.name)
    jsonl = tmp_path / "kb.jsonl"
    lines = jsonl.read_bytes().splitlines(keepends=True)
    jsonl.write_bytes(b"".join(lines[:-1]))
    with pytest.raises(InputError, match="rebuild the knowledge base"):
        KnowledgeBase.open(jsonl)
    # Same count but a different order: caught when the hit is read.
    jsonl.write_bytes(b"".join([lines[-1], *lines[:-1]]))
    with KnowledgeBase.open(jsonl) as kb, pytest.raises(InputError, match="out of step"):
        kb.search("salmon river", k=len(lines))


def test_an_open_knowledge_base_keeps_its_snapshot_during_a_rebuild(tmp_path: Path) -> None:
    root = tmp_path / "docs"
    root.mkdir()
    (root / "a.txt").write_text("salmon swim up the river", encoding="utf-8")
    (root / "b.txt").write_text("tomatoes grow in the garden", encoding="utf-8")
    out = tmp_path / "kb.jsonl"
    build_kb(root, out)
    with KnowledgeBase.open(out) as old:
        (root / "c.txt").write_text("bees visit the garden flowers", encoding="utf-8")
        build_kb(root, out)
        assert len(old) == 2
        assert old.search("salmon river", k=1)[0].path == "a.txt"
    with KnowledgeBase.open(out) as new:
        assert len(new) == 3
        assert new.search("bees flowers", k=1)[0].path == "c.txt"


def test_an_empty_knowledge_base_finds_nothing(tmp_path: Path) -> None:
    (tmp_path / "docs").mkdir()
    build_kb(tmp_path / "docs", tmp_path / "kb.jsonl")
    with KnowledgeBase.open(tmp_path / "kb.jsonl") as kb:
        assert len(kb) == 0
        assert kb.search("anything") == []
