"""The atheris target's seed corpus (one valid file per format) and its figures."""

from __future__ import annotations

import re
import tempfile
from pathlib import Path
from typing import Any

from tests.support.hostile import seeds

__all__ = ["atheris_figures", "write_corpus"]

# The same order as fuzz_readers.SUFFIXES: an input's first byte picks its extension.
SUFFIXES = (".csv", ".tsv", ".txt", ".json", ".jsonl", ".parquet", ".xlsx", ".ods", ".csv.gz", ".zip")
_SEED_OF = {".csv.gz": ".gz", ".txt": ".csv"}


def write_corpus(folder: Path) -> int:
    """Write one seed input per fuzzed extension into ``folder``; how many."""
    folder.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as work:
        valid = seeds(Path(work))
    count = 0
    for index, suffix in enumerate(SUFFIXES):
        data = valid.get(_SEED_OF.get(suffix, suffix))
        if data is not None:
            (folder / f"seed{index:02d}").write_bytes(bytes([index]) + data)
            count += 1
    return count


def atheris_figures(log: str) -> dict[str, Any]:
    """Executions, coverage and crash of a libFuzzer log."""
    done = re.search(r"Done (\d+) runs in (\d+) second", log)
    cov = re.findall(r"cov: (\d+) ft: (\d+)", log)
    return {
        "execs": int(done.group(1)) if done else None,
        "coverage_edges": int(cov[-1][0]) if cov else None,
        "features": int(cov[-1][1]) if cov else None,
        "crash": "==ERROR" in log or "Uncaught Python exception" in log,
        "tail": log[-800:] if "==ERROR" in log or "Uncaught Python exception" in log else "",
    }
