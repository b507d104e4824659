"""Knowledge base: folder -> chunks -> embeddings -> categories -> search and graph export.

    report = build_kb("docs/", "kb.jsonl")              # incremental on rebuild
    with KnowledgeBase.open("kb.jsonl") as kb:
        hits = kb.search("river water quality", k=5)
    export_kb("kb.jsonl", to="graphml", output="kb.graphml")

Heavy libraries (scikit-learn, pdfplumber, python-docx, networkx, sentence-transformers) are
imported only when a build, an extractor or an export needs them.
"""

from lakegate.knowledge._build import DEFAULT_MAX_FILE_BYTES, BuildReport, ProgressCallback, build_kb
from lakegate.knowledge._categories import Category, categorize
from lakegate.knowledge._chunk import ChunkOptions, chunk_text, clean_text
from lakegate.knowledge._embed import EMBEDDERS, Embedder, get_embedder, load_embedder
from lakegate.knowledge._export import EXPORT_FORMATS, ExportReport, export_kb
from lakegate.knowledge._extract import EXTRACTORS, Page, extract
from lakegate.knowledge._scan import SKIP_REASONS, SkippedFile
from lakegate.knowledge._search import KnowledgeBase, SearchHit
from lakegate.knowledge._store import KBPaths

__all__ = [
    "DEFAULT_MAX_FILE_BYTES",
    "EMBEDDERS",
    "EXPORT_FORMATS",
    "EXTRACTORS",
    "SKIP_REASONS",
    "BuildReport",
    "Category",
    "ChunkOptions",
    "Embedder",
    "ExportReport",
    "KBPaths",
    "KnowledgeBase",
    "Page",
    "ProgressCallback",
    "SearchHit",
    "SkippedFile",
    "build_kb",
    "categorize",
    "chunk_text",
    "clean_text",
    "export_kb",
    "extract",
    "get_embedder",
    "load_embedder",
]
