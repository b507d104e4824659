"""The corpus files as test parameters: downloaded (once, cached) when the tests are collected."""

from __future__ import annotations

import os
import subprocess

import pytest

from tests.core.corpus.corpus import cache_dir, corpus_files, ensure_corpus


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "corpus_file" not in metafunc.fixturenames:
        return
    try:
        root = ensure_corpus()
    except (OSError, subprocess.SubprocessError) as exc:
        if os.environ.get("CI"):
            raise  # CI reaches PyPI: a corpus that cannot be built is a failure there
        metafunc.parametrize(
            "corpus_file", [pytest.param(None, marks=pytest.mark.skip(reason=f"no corpus: {exc}"))]
        )
        return
    files = list(corpus_files(root))
    metafunc.parametrize("corpus_file", files, ids=[p.relative_to(root).as_posix() for p in files])


@pytest.fixture(scope="session")
def corpus_root():
    return cache_dir()
