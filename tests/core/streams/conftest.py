"""Shared helpers for the stream tests: read every line a log holds, wherever it is."""

from __future__ import annotations

import sys
from pathlib import Path

import orjson
import pytest

ROOT_SRC = str(Path(__file__).resolve().parents[3] / "src")


def segment_files(root: Path, dataset: str, *states: str) -> list[Path]:
    states = states or ("open", "sealed", "flushing")
    folder = root / dataset
    return sorted(path for state in states for path in (folder / state).rglob("*.ndjson"))


def log_records(root: Path, dataset: str, *states: str) -> list[dict]:
    """Every whole line of the dataset's segments, parsed (a torn final line is skipped)."""
    records = []
    for path in segment_files(root, dataset, *states):
        data = path.read_bytes()
        whole = data[: data.rfind(b"\n") + 1]
        records.extend(orjson.loads(line) for line in whole.splitlines())
    return records


@pytest.fixture
def python_cmd() -> list[str]:
    return [sys.executable, "-c"]
