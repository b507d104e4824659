"""A short coverage-guided (atheris) run over the sniffers and readers: no exception but a LakegateError.

``make fuzz`` runs the same target for minutes (``benchmarks/_fuzz.py``).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.fuzz_corpus import atheris_figures, write_corpus

TARGET = Path(__file__).resolve().parents[2] / "support" / "fuzz_readers.py"


@pytest.mark.timeout(180)
def test_a_short_atheris_run_finds_no_crash(tmp_path):
    pytest.importorskip("atheris")
    assert write_corpus(tmp_path / "corpus") == 10
    done = subprocess.run(
        [sys.executable, str(TARGET), "-max_total_time=8", "-rss_limit_mb=2048", str(tmp_path / "corpus")],
        capture_output=True,
        text=True,
        check=False,
        cwd=TARGET.parents[2],
        timeout=170,
    )
    figures = atheris_figures(done.stderr)
    assert done.returncode == 0, done.stderr[-3000:]
    assert not figures["crash"]
    assert (figures["execs"] or 0) > 10
    assert (figures["coverage_edges"] or 0) > 100
