"""The peer of ``benchmarks/kb.py``: LlamaIndex loads and splits the same tree (no embeddings).

Runs in its own virtual environment (``llama-index-core`` only, never in lakegate's lock):

    ~/.cache/lakegate-bench/llamaindex/bin/python benchmarks/_kb_llamaindex.py TREE [SIZE OVERLAP]

``SimpleDirectoryReader(recursive=True)`` reads every .md/.txt/.html file (the tree sits under
a hidden folder, so ``exclude_hidden`` is off and the extension list keeps the marker file
out), then ``SentenceSplitter`` (its defaults, or ``SIZE``/``OVERLAP`` tokens) makes the
nodes. Prints one JSON line: import, load and split seconds, documents and nodes.
"""

from __future__ import annotations

import json
import sys
import time

started = time.perf_counter()
from llama_index.core import SimpleDirectoryReader  # noqa: E402 - the import is timed
from llama_index.core.node_parser import SentenceSplitter  # noqa: E402

imported = time.perf_counter()
documents = SimpleDirectoryReader(
    sys.argv[1], recursive=True, exclude_hidden=False, required_exts=[".md", ".txt", ".html"]
).load_data()
loaded = time.perf_counter()
options = {"chunk_size": int(sys.argv[2]), "chunk_overlap": int(sys.argv[3])} if len(sys.argv) > 3 else {}
nodes = SentenceSplitter(**options).get_nodes_from_documents(documents)
split = time.perf_counter()
print(
    json.dumps(
        {
            "import_seconds": imported - started,
            "load_seconds": loaded - imported,
            "split_seconds": split - loaded,
            "documents": len(documents),
            "nodes": len(nodes),
            "splitter": options or "defaults (1024 tokens, overlap 200)",
        }
    )
)
