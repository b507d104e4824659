"""Graph export: GraphML read back with networkx, Neo4j CSV headers and references, SIMILAR_TO."""

from __future__ import annotations

import csv
import itertools
from collections import Counter
from pathlib import Path

import networkx as nx
import numpy as np
import pytest

from lakegate.errors import InputError
from lakegate.knowledge import export_kb
from lakegate.knowledge._export import similar_pairs
from lakegate.knowledge._export_neo4j import NODE_FILES, RELATIONSHIP_FILES
from lakegate.knowledge._store import iter_records

from .kb_corpus import GOOD_FILES, Built


def read_csv(path: Path) -> tuple[list[str], list[dict[str, str]]]:
    with path.open(encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(handle)
        return list(reader.fieldnames or []), list(reader)


def test_graphml_reads_back_with_every_node_and_edge_kind(built: Built, tmp_path: Path) -> None:
    out = tmp_path / "kb.graphml"
    report = export_kb(built.corpus.out, to="graphml", output=out, similar_threshold=0.0)
    graph = nx.read_graphml(out)
    kinds = Counter(data["kind"] for _, data in graph.nodes(data=True))
    chunks = len(list(iter_records(built.corpus.out)))
    assert kinds == {
        "Folder": 6,  # ., data, notes, reports, reports/2024, web
        "Document": len(GOOD_FILES),
        "Chunk": chunks,
        "Category": len(built.report.categories),
    }
    assert report.nodes == dict(kinds)
    types = Counter(data["type"] for _, _, data in graph.edges(data=True))
    assert types == report.edges
    assert graph.nodes["Folder:."]["name"] == "docs"
    path = ["Folder:.", "Folder:reports", "Folder:reports/2024", "Document:reports/2024/river.pdf"]
    for parent, child in itertools.pairwise(path):
        assert graph.edges[parent, child]["type"] == "CONTAINS"
    assert graph.edges["Document:reports/2024/river.pdf", "Folder:reports/2024"]["type"] == "IN_FOLDER"
    pdf_chunks = [n for n in graph.successors("Document:reports/2024/river.pdf") if n.startswith("Chunk:")]
    assert len(pdf_chunks) == 2
    assert all(any(s.startswith("Category:") for s in graph.successors(c)) for c in pdf_chunks)
    similar = [(a, b, d["score"]) for a, b, d in graph.edges(data=True) if d["type"] == "SIMILAR_TO"]
    assert similar
    assert all(graph.nodes[a]["path"] != graph.nodes[b]["path"] for a, b, _ in similar)
    assert graph.nodes["Category:0"]["terms"]


def test_neo4j_folder_has_import_headers_and_consistent_ids(built: Built, tmp_path: Path) -> None:
    out = tmp_path / "neo4j"
    report = export_kb(built.corpus.out, to="neo4j", output=out, similar_threshold=0.0)
    assert sorted(Path(f).name for f in report.files) == sorted(
        [*NODE_FILES, *RELATIONSHIP_FILES, "import.sh", "load.cypher"]
    )
    ids: dict[str, set[str]] = {}
    for name, (header, label) in NODE_FILES.items():
        fields, rows = read_csv(out / name)
        assert fields == header
        assert fields[0] == f"id:ID({label})"
        assert {row[":LABEL"] for row in rows} <= {label}
        ids[label] = {row[fields[0]] for row in rows}
    assert len(ids["Document"]) == len(GOOD_FILES)
    for name, (start, end, kind) in RELATIONSHIP_FILES.items():
        fields, rows = read_csv(out / name)
        assert fields[:2] == [f":START_ID({start})", f":END_ID({end})"]
        assert fields[-1] == ":TYPE"
        assert {row[":TYPE"] for row in rows} <= {kind}
        for row in rows:
            assert row[fields[0]] in ids[start]
            assert row[fields[1]] in ids[end]
    fields, rows = read_csv(out / "chunk_similar_to.csv")
    assert "score:float" in fields
    assert all(0.0 <= float(row["score:float"]) <= 1.0 + 1e-6 for row in rows)
    _, chunks = read_csv(out / "chunks.csv")
    assert any("\n" in row["text"] for row in chunks)  # multi-line text survives quoting
    script = (out / "import.sh").read_text(encoding="utf-8")
    assert "neo4j-admin database import full" in script
    assert "--multiline-fields=true" in script
    assert all(f"--nodes={n}" in script for n in NODE_FILES)
    assert all(f"--relationships={n}" in script for n in RELATIONSHIP_FILES)
    cypher = (out / "load.cypher").read_text(encoding="utf-8")
    assert cypher.count("LOAD CSV WITH HEADERS") == len(NODE_FILES) + len(RELATIONSHIP_FILES)


def test_neo4j_export_replaces_an_existing_folder(built: Built, tmp_path: Path) -> None:
    out = tmp_path / "neo4j"
    out.mkdir()
    (out / "stale.csv").write_text("old", encoding="utf-8")
    export_kb(built.corpus.out, to="neo4j", output=out)
    assert not (out / "stale.csv").exists()
    assert (out / "chunks.csv").is_file()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["neo4j"]


def test_similar_pairs_match_brute_force() -> None:
    rng = np.random.default_rng(3)
    vectors = rng.normal(size=(60, 8)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    groups = np.repeat(np.arange(20), 3)
    got = similar_pairs(vectors, groups, k=2, threshold=0.3)
    expected: dict[tuple[int, int], float] = {}
    sims = vectors @ vectors.T
    for i in range(60):
        candidates = [(sims[i, j], j) for j in range(60) if groups[j] != groups[i]]
        for score, j in sorted(candidates, reverse=True)[:2]:
            if score >= 0.3:
                expected[(min(i, j), max(i, j))] = float(score)
    assert [(i, j) for i, j, _ in got] == sorted(expected)
    assert np.allclose([s for _, _, s in got], [expected[key] for key in sorted(expected)], atol=1e-5)


def test_similar_pairs_edge_cases() -> None:
    one = np.ones((1, 4), dtype=np.float32)
    assert similar_pairs(one, np.zeros(1, dtype=np.int64), k=3, threshold=0.0) == []
    two = np.ones((2, 4), dtype=np.float32) / 2
    assert similar_pairs(two, np.array([0, 0]), k=3, threshold=0.0) == []  # same document
    assert similar_pairs(two, np.array([0, 1]), k=0, threshold=0.0) == []
    assert similar_pairs(two, np.array([0, 1]), k=3, threshold=0.0) == [(0, 1, pytest.approx(1.0))]


def test_bad_export_arguments(built: Built, tmp_path: Path) -> None:
    with pytest.raises(InputError, match="unknown export format"):
        export_kb(built.corpus.out, to="gexf", output=tmp_path / "x")
    with pytest.raises(InputError, match="cosine"):
        export_kb(built.corpus.out, to="graphml", output=tmp_path / "x", similar_threshold=2.0)
    (tmp_path / "file").write_text("x", encoding="utf-8")
    with pytest.raises(InputError, match="not a folder"):
        export_kb(built.corpus.out, to="neo4j", output=tmp_path / "file")
