"""Fixtures: the corpus of kb_corpus.py in tmp_path, and the same corpus built once per session."""

from __future__ import annotations

from pathlib import Path

import pytest

from lakegate.knowledge import build_kb

from .kb_corpus import MAX_BYTES, Built, Corpus, make_corpus


@pytest.fixture
def corpus(tmp_path: Path) -> Corpus:
    return Corpus(root=make_corpus(tmp_path / "docs"), out=tmp_path / "out" / "kb.jsonl")


@pytest.fixture(scope="session")
def built(tmp_path_factory: pytest.TempPathFactory) -> Built:
    """The corpus built once for the read-only tests (search, export)."""
    base = tmp_path_factory.mktemp("built")
    corpus = Corpus(root=make_corpus(base / "docs"), out=base / "out" / "kb.jsonl")
    return Built(corpus, build_kb(corpus.root, corpus.out, max_file_bytes=MAX_BYTES))
