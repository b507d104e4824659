"""The floor for ``benchmarks/kb.py``'s read + chunk phase: the least any folder indexer does.

Walk the tree (``os.walk``, hidden entries skipped), read each file, decode it as UTF-8, cut
fixed-size character windows (the same size and overlap as lakegate's defaults, no search for
a natural break, no cleanup, no HTML parsing) and write one JSON line per chunk with its path.
No hashing, no metadata, no embeddings.

    python benchmarks/_kb_floor.py TREE OUT.jsonl   # prints {"seconds", "cpu_seconds", "chunks"}
"""

# ruff: noqa: PTH118, PTH123 - plain os calls on purpose: the floor is the cheapest way to do it

from __future__ import annotations

import json
import os
import sys
import time

import orjson

SIZE, OVERLAP = 1000, 150


def floor(root: str, out: str) -> int:
    chunks = 0
    with open(out, "wb") as handle:
        for folder, dirs, files in os.walk(root):
            dirs[:] = sorted(d for d in dirs if not d.startswith("."))
            for name in sorted(files):
                if name.startswith("."):
                    continue
                path = os.path.join(folder, name)
                with open(path, "rb") as source:
                    text = source.read().decode("utf-8", errors="replace")
                rel = os.path.relpath(path, root)
                starts = range(0, max(len(text) - OVERLAP, 1), SIZE - OVERLAP)
                lines = [
                    orjson.dumps({"path": rel, "chunk": i, "text": text[start : start + SIZE]})
                    for i, start in enumerate(starts)
                ]
                handle.write(b"\n".join(lines) + b"\n")
                chunks += len(lines)
    return chunks


def main() -> None:
    start, cpu = time.perf_counter(), time.process_time()
    chunks = floor(sys.argv[1], sys.argv[2])
    print(
        json.dumps(
            {
                "seconds": time.perf_counter() - start,
                "cpu_seconds": time.process_time() - cpu,
                "chunks": chunks,
            }
        )
    )


if __name__ == "__main__":
    main()
