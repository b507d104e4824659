"""Neo4j export: CSV files in ``neo4j-admin database import`` header format, plus two ways to load them.

``import.sh`` runs ``neo4j-admin database import full`` (fastest, into an empty database);
``load.cypher`` loads the same CSVs with ``LOAD CSV`` into a running database (copy the CSVs
into its ``import/`` folder first). Node ids live in one id space per label, so a folder and a
document may share a path. Arrays use neo4j-admin's default ``;`` delimiter.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from lakegate.knowledge._export import Graph, replace_folder

__all__ = ["NODE_FILES", "RELATIONSHIP_FILES", "write_neo4j"]

# file -> (header, label); a header names the property, its type, and the id space.
NODE_FILES: dict[str, tuple[list[str], str]] = {
    "folders.csv": (["id:ID(Folder)", "name", "path", "depth:int", ":LABEL"], "Folder"),
    "documents.csv": (
        [
            "id:ID(Document)",
            "name",
            "path",
            "folder",
            "file_type",
            "size:long",
            "modified",
            "chunks:int",
            "category:int",
            ":LABEL",
        ],
        "Document",
    ),
    "chunks.csv": (
        ["id:ID(Chunk)", "path", "page:int", "chunk_index:int", "text", "category:int", ":LABEL"],
        "Chunk",
    ),
    "categories.csv": (
        ["id:ID(Category)", "number:int", "label", "terms:string[]", "size:int", ":LABEL"],
        "Category",
    ),
}

RELATIONSHIP_FILES: dict[str, tuple[str, str, str]] = {
    "folder_contains_folder.csv": ("Folder", "Folder", "CONTAINS"),
    "folder_contains_document.csv": ("Folder", "Document", "CONTAINS"),
    "document_contains_chunk.csv": ("Document", "Chunk", "CONTAINS"),
    "document_in_folder.csv": ("Document", "Folder", "IN_FOLDER"),
    "chunk_in_category.csv": ("Chunk", "Category", "IN_CATEGORY"),
    "document_in_category.csv": ("Document", "Category", "IN_CATEGORY"),
    "chunk_similar_to.csv": ("Chunk", "Chunk", "SIMILAR_TO"),
}


def _cell(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, list):
        return ";".join(str(v).replace(";", ",") for v in value)
    return value


def _write_csv(path: Path, header: list[str], rows: Iterable[list[Any]]) -> None:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, quoting=csv.QUOTE_MINIMAL, lineterminator="\n")
        writer.writerow(header)
        writer.writerows([_cell(v) for v in row] for row in rows)


def _cypher_value(column: str) -> str:
    kind = column.partition(":")[2]
    ref = f"row.`{column}`"
    if kind in {"int", "long"}:
        return f"toInteger({ref})"
    if kind == "float":
        return f"toFloat({ref})"
    if kind == "string[]":
        return f"split({ref}, ';')"
    return ref


def _load_cypher() -> str:
    out = io.StringIO()
    out.write(
        "// Load the lakegate knowledge base CSVs into a running Neo4j (files in its import/ folder).\n"
    )
    for label in ("Folder", "Document", "Chunk", "Category"):
        out.write(
            f"CREATE CONSTRAINT {label.lower()}_id IF NOT EXISTS FOR (n:{label}) REQUIRE n.id IS UNIQUE;\n"
        )
    for name, (header, label) in NODE_FILES.items():
        props = [c for c in header[1:] if not c.startswith(":")]
        sets = ", ".join(f"n.{c.partition(':')[0]} = {_cypher_value(c)}" for c in props)
        out.write(
            f"LOAD CSV WITH HEADERS FROM 'file:///{name}' AS row\n"
            f"MERGE (n:{label} {{id: row.`{header[0]}`}}) SET {sets};\n"
        )
    for name, (start, end, kind) in RELATIONSHIP_FILES.items():
        score = " SET r.score = toFloat(row.`score:float`)" if kind == "SIMILAR_TO" else ""
        out.write(
            f"LOAD CSV WITH HEADERS FROM 'file:///{name}' AS row\n"
            f"MATCH (a:{start} {{id: row.`:START_ID({start})`}}), (b:{end} {{id: row.`:END_ID({end})`}})\n"
            f"MERGE (a)-[r:{kind}]->(b){score};\n"
        )
    return out.getvalue()


def _import_sh() -> str:
    nodes = " \\\n  ".join(f"--nodes={name}" for name in NODE_FILES)
    rels = " \\\n  ".join(f"--relationships={name}" for name in RELATIONSHIP_FILES)
    return (
        "#!/bin/sh\n"
        "# Import into an empty, stopped database with Neo4j 5's neo4j-admin; run from this folder.\n"
        "set -e\n"
        'cd "$(dirname "$0")"\n'
        'neo4j-admin database import full "${1:-neo4j}" --overwrite-destination --multiline-fields=true \\\n'
        f"  {nodes} \\\n  {rels}\n"
    )


def write_neo4j(graph: Graph, output: Path) -> list[str]:
    """Write the CSVs, ``import.sh`` and ``load.cypher`` into the folder ``output`` (replaced atomically)."""

    def build(folder: Path) -> list[str]:
        tables = {
            "folders.csv": graph.folders,
            "documents.csv": graph.documents,
            "chunks.csv": graph.chunks,
            "categories.csv": graph.categories,
        }
        for name, (header, label) in NODE_FILES.items():
            keys = [c.partition(":")[0] for c in header[:-1]]
            _write_csv(folder / name, header, ([row.get(k) for k in keys] + [label] for row in tables[name]))
        edges: dict[str, list[tuple[Any, ...]]] = {
            "folder_contains_folder.csv": list(graph.folder_folder),
            "folder_contains_document.csv": list(graph.folder_document),
            "document_contains_chunk.csv": list(graph.document_chunk),
            "document_in_folder.csv": list(graph.document_folder),
            "chunk_in_category.csv": list(graph.chunk_category),
            "document_in_category.csv": list(graph.document_category),
            "chunk_similar_to.csv": list(graph.similar),
        }
        for name, (start, end, kind) in RELATIONSHIP_FILES.items():
            header = [f":START_ID({start})", f":END_ID({end})"]
            if kind == "SIMILAR_TO":
                header.append("score:float")
            _write_csv(folder / name, [*header, ":TYPE"], ([*edge, kind] for edge in edges[name]))
        (folder / "import.sh").write_text(_import_sh(), encoding="utf-8")
        (folder / "import.sh").chmod(0o755)
        (folder / "load.cypher").write_text(_load_cypher(), encoding="utf-8")
        return [*NODE_FILES, *RELATIONSHIP_FILES, "import.sh", "load.cypher"]

    return replace_folder(build, output)
