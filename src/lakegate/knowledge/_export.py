"""Export a knowledge base as a graph: Neo4j import files or GraphML.

Nodes: ``Folder``, ``Document``, ``Chunk``, ``Category``. Relationships: ``CONTAINS`` (folder ->
subfolder, folder -> document, document -> chunk), ``IN_FOLDER`` (document -> folder),
``IN_CATEGORY`` (chunk -> category, and document -> its most frequent category) and
``SIMILAR_TO`` (chunk -> its top-k nearest chunks of *other* documents above a cosine threshold,
each pair once, computed block-wise with numpy).
"""

from __future__ import annotations

import shutil
import tempfile
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from lakegate.errors import InputError
from lakegate.knowledge._store import KBPaths, atomic_write, iter_records, read_embeddings, read_manifest

__all__ = ["EXPORT_FORMATS", "ExportReport", "export_kb", "similar_pairs"]

EXPORT_FORMATS: dict[str, str] = {
    "neo4j": "lakegate.knowledge._export_neo4j:write_neo4j",
    "graphml": "lakegate.knowledge._export:write_graphml",
}

_BLOCK_FLOATS = 1 << 22  # similarity block of ~16 MiB of float32


@dataclass(slots=True)
class Graph:
    """The knowledge base as node tables and edge lists (ids are strings, unique per label)."""

    root_name: str
    folders: list[dict[str, Any]] = field(default_factory=list)
    documents: list[dict[str, Any]] = field(default_factory=list)
    chunks: list[dict[str, Any]] = field(default_factory=list)
    categories: list[dict[str, Any]] = field(default_factory=list)
    folder_folder: list[tuple[str, str]] = field(default_factory=list)
    folder_document: list[tuple[str, str]] = field(default_factory=list)
    document_chunk: list[tuple[str, str]] = field(default_factory=list)
    document_folder: list[tuple[str, str]] = field(default_factory=list)
    chunk_category: list[tuple[str, str]] = field(default_factory=list)
    document_category: list[tuple[str, str]] = field(default_factory=list)
    similar: list[tuple[str, str, float]] = field(default_factory=list)

    def counts(self) -> tuple[dict[str, int], dict[str, int]]:
        nodes = {
            "Folder": len(self.folders),
            "Document": len(self.documents),
            "Chunk": len(self.chunks),
            "Category": len(self.categories),
        }
        edges = {
            "CONTAINS": len(self.folder_folder) + len(self.folder_document) + len(self.document_chunk),
            "IN_FOLDER": len(self.document_folder),
            "IN_CATEGORY": len(self.chunk_category) + len(self.document_category),
            "SIMILAR_TO": len(self.similar),
        }
        return nodes, edges


@dataclass(frozen=True, slots=True)
class ExportReport:
    format: str
    output: str
    nodes: dict[str, int]
    edges: dict[str, int]
    files: list[str]

    def to_dict(self) -> dict[str, Any]:
        return {
            "format": self.format,
            "output": self.output,
            "nodes": self.nodes,
            "edges": self.edges,
            "files": self.files,
        }


def similar_pairs(
    vectors: npt.NDArray[np.float32],
    groups: npt.NDArray[np.int64],
    *,
    k: int,
    threshold: float,
) -> list[tuple[int, int, float]]:
    """Pairs ``(i, j, cosine)``, ``i < j``: each row's top-``k`` neighbours at or above ``threshold``.

    Rows must be L2-normalised; ``groups`` numbers each row's document, and rows of the same
    group are never paired.
    """
    n = len(vectors)
    if n < 2 or k < 1:
        return []
    k = min(k, n - 1)
    block = max(1, min(n, _BLOCK_FLOATS // n))
    found: dict[tuple[int, int], float] = {}
    for start in range(0, n, block):
        stop = min(start + block, n)
        sims = vectors[start:stop] @ vectors.T
        # Same document (and so the row itself) is never "similar": overlapping neighbours would win.
        sims[groups[start:stop, None] == groups[None, :]] = -np.inf
        top = np.argpartition(-sims, k - 1, axis=1)[:, :k]
        scores = np.take_along_axis(sims, top, axis=1)
        rows, cols = np.nonzero(scores >= threshold)
        for i, j, score in zip(
            (rows + start).tolist(), top[rows, cols].tolist(), scores[rows, cols].tolist(), strict=True
        ):
            found[(min(i, j), max(i, j))] = score
    return [(i, j, score) for (i, j), score in sorted(found.items())]


def _folder_chain(folder: str) -> list[str]:
    if folder == ".":
        return ["."]
    parts = folder.split("/")
    return [".", *("/".join(parts[: i + 1]) for i in range(len(parts)))]


def load_graph(kb: Path | str, *, similar_k: int = 5, similar_threshold: float = 0.5) -> Graph:
    """Read a knowledge base into a :class:`Graph`."""
    paths = KBPaths.of(kb)
    paths.require()
    manifest = read_manifest(paths.manifest)
    records = list(iter_records(paths.jsonl))
    ids, vectors = read_embeddings(paths.embeddings)
    if ids != [r["id"] for r in records]:
        raise InputError(f"{paths.jsonl} and its embeddings are out of step; rebuild the knowledge base")
    graph = Graph(root_name=Path(manifest.get("root", ".")).name or ".")
    folders: dict[str, None] = {}
    documents: dict[str, dict[str, Any]] = {}
    doc_categories: dict[str, Counter[int]] = {}
    for record in records:
        for parent, child in zip(
            _folder_chain(record["folder"]), _folder_chain(record["folder"])[1:], strict=False
        ):
            if child not in folders:
                graph.folder_folder.append((parent, child))
            folders.setdefault(parent, None)
            folders.setdefault(child, None)
        folders.setdefault(record["folder"], None)
        path = record["path"]
        if path not in documents:
            documents[path] = {
                "id": path,
                "name": record["file_name"],
                "path": path,
                "folder": record["folder"],
                "file_type": record["file_type"],
                "size": record["size"],
                "modified": record["modified"],
                "chunks": 0,
            }
            graph.folder_document.append((record["folder"], path))
            graph.document_folder.append((path, record["folder"]))
            doc_categories[path] = Counter()
        documents[path]["chunks"] += 1
        graph.chunks.append(
            {
                "id": record["id"],
                "path": path,
                "page": record["page"],
                "chunk_index": record["chunk_index"],
                "text": record["text"],
                "category": record["category"],
            }
        )
        graph.document_chunk.append((path, record["id"]))
        if record["category"] is not None:
            graph.chunk_category.append((record["id"], str(record["category"])))
            doc_categories[path][record["category"]] += 1
    for path, counter in doc_categories.items():
        if counter:
            # Most chunks wins; ties go to the lower (larger) category.
            category = min(counter.items(), key=lambda item: (-item[1], item[0]))[0]
            documents[path]["category"] = category
            graph.document_category.append((path, str(category)))
    graph.folders = [
        {
            "id": f,
            "name": graph.root_name if f == "." else f.rsplit("/", 1)[-1],
            "path": f,
            "depth": 0 if f == "." else f.count("/") + 1,
        }
        for f in sorted(folders)
    ]
    graph.documents = list(documents.values())
    graph.categories = [
        {
            "id": str(c["id"]),
            "number": c["id"],
            "label": c["label"],
            "terms": list(c["terms"]),
            "size": c["size"],
        }
        for c in manifest.get("categories", [])
    ]
    group_of = {path: number for number, path in enumerate(documents)}
    groups = np.fromiter((group_of[r["path"]] for r in records), dtype=np.int64, count=len(records))
    graph.similar = [
        (ids[i], ids[j], round(score, 6))
        for i, j, score in similar_pairs(vectors, groups, k=similar_k, threshold=similar_threshold)
    ]
    return graph


def write_graphml(graph: Graph, output: Path) -> list[str]:
    """One GraphML file: node ids ``<Label>:<id>``, each node's label in ``kind``, each edge's in ``type``."""
    import networkx as nx

    g = nx.DiGraph(name=graph.root_name)
    tables = (
        ("Folder", graph.folders),
        ("Document", graph.documents),
        ("Chunk", graph.chunks),
        ("Category", graph.categories),
    )
    for label, rows in tables:
        for row in rows:
            attrs = {k: ("; ".join(v) if isinstance(v, list) else v) for k, v in row.items() if v is not None}
            attrs["key"] = attrs.pop("id")
            g.add_node(f"{label}:{row['id']}", kind=label, **attrs)
    edge_lists = (
        ("Folder", "Folder", "CONTAINS", graph.folder_folder),
        ("Folder", "Document", "CONTAINS", graph.folder_document),
        ("Document", "Chunk", "CONTAINS", graph.document_chunk),
        ("Document", "Folder", "IN_FOLDER", graph.document_folder),
        ("Chunk", "Category", "IN_CATEGORY", graph.chunk_category),
        ("Document", "Category", "IN_CATEGORY", graph.document_category),
    )
    for source, target, kind, pairs in edge_lists:
        g.add_edges_from(((f"{source}:{a}", f"{target}:{b}", {"type": kind}) for a, b in pairs))
    g.add_edges_from(
        (f"Chunk:{a}", f"Chunk:{b}", {"type": "SIMILAR_TO", "score": s}) for a, b, s in graph.similar
    )
    atomic_write(output, lambda handle: nx.write_graphml(g, handle))
    return [str(output)]


def export_kb(
    kb: Path | str,
    *,
    to: str,
    output: Path | str,
    similar_k: int = 5,
    similar_threshold: float = 0.5,
) -> ExportReport:
    """Write the knowledge base ``kb`` as ``to`` (``neo4j`` folder or ``graphml`` file) at ``output``."""
    import importlib

    if to not in EXPORT_FORMATS:
        raise InputError(f"unknown export format {to!r}; choose one of {sorted(EXPORT_FORMATS)}")
    if similar_k < 0:
        raise InputError(f"similar_k must be 0 or more, not {similar_k}")
    if not -1.0 <= similar_threshold <= 1.0:
        raise InputError(f"similar_threshold is a cosine, between -1 and 1, not {similar_threshold}")
    graph = load_graph(kb, similar_k=similar_k, similar_threshold=similar_threshold)
    out = Path(output)
    out.parent.mkdir(parents=True, exist_ok=True)
    module_name, _, attr = EXPORT_FORMATS[to].partition(":")
    files: list[str] = getattr(importlib.import_module(module_name), attr)(graph, out)
    nodes, edges = graph.counts()
    return ExportReport(format=to, output=str(out), nodes=nodes, edges=edges, files=files)


def replace_folder(build: Any, output: Path) -> list[str]:
    """Fill a fresh temp folder with ``build(folder) -> names``, then swap it in for ``output``."""
    if output.exists() and not output.is_dir():
        raise InputError(f"{output} exists and is not a folder")
    staging = Path(tempfile.mkdtemp(prefix=f".{output.name}.", dir=output.parent))
    try:
        names: list[str] = build(staging)
        if output.exists():
            old = output.with_name(f".{output.name}.old")
            shutil.rmtree(old, ignore_errors=True)
            output.replace(old)
            staging.replace(output)
            shutil.rmtree(old, ignore_errors=True)
        else:
            staging.replace(output)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return [str(output / name) for name in names]
