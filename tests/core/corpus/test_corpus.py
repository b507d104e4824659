"""Every corpus file converts or is refused with a LakegateError, in time and memory, and
its row count matches DuckDB's (CSV, JSON) or python-calamine's (workbooks), or the
difference is explained in ``expectations``. See ``corpus`` for where the files come from.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.core.corpus.corpus import MAX_RSS, TIMEOUT_SECONDS, convert_watched, reference_rows
from tests.core.corpus.expectations import KNOWN, explain


@pytest.mark.timeout(120)
def test_a_corpus_file_converts_like_the_reference_reader(corpus_file: Path, corpus_root: Path, tmp_path):
    rel = corpus_file.relative_to(corpus_root).as_posix()
    outcome = convert_watched(corpus_file, tmp_path / "out")
    assert outcome.crash is None, f"{rel}: not a LakegateError: {outcome.crash}"
    assert not outcome.hung, f"{rel}: still converting after {TIMEOUT_SECONDS:.0f} s"
    assert outcome.peak_rss < MAX_RSS, f"{rel}: peak RSS {outcome.peak_rss / 2**20:.0f} MiB"
    verdict = explain(rel, outcome, reference_rows(corpus_file))
    assert verdict.ok, f"{rel}: {verdict.kind}: {verdict.reason}"
    if rel in KNOWN:
        assert verdict.kind == "documented", (
            f"{rel} is listed in KNOWN but now: {verdict.kind} (update the list)"
        )
