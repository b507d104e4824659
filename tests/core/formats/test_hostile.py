"""Hostile files through the converter: 0 tracebacks, 0 hangs over 30 s, peak RSS under 1 GiB.

A sample of the generated set (the hand-made attacks but the slow ones, every valid seed,
then an even draw of cut, bit-flipped, spliced, NUL-padded, renamed and tiny files);
``make fuzz`` runs all of them (``benchmarks/_fuzz.py``). See ``tests/support/hostile.py``.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.hostile import generate, run_watched, sample, summary

SAMPLE = 110
MAX_RSS = 1024**3


@pytest.fixture(scope="module")
def hostile_files(tmp_path_factory: pytest.TempPathFactory):
    return generate(tmp_path_factory.mktemp("hostile"))


def test_the_generator_makes_over_a_thousand_files_of_every_format(hostile_files):
    assert len(hostile_files) >= 1000
    suffixes = {
        "".join(f.path.suffixes[-2:]) if f.path.name.endswith(".gz") else f.path.suffix for f in hostile_files
    }
    for ext in (
        ".csv",
        ".tsv",
        ".json",
        ".jsonl",
        ".parquet",
        ".xlsx",
        ".xls",
        ".ods",
        ".pdf",
        ".zip",
        ".csv.gz",
    ):
        assert ext in suffixes
    families = {f.family for f in hostile_files}
    assert {"truncated", "bitflip", "splice", "nul", "wrong-ext", "tiny", "encoding", "attack"} <= families


@pytest.mark.timeout(600)
def test_hostile_files_are_converted_or_refused_never_a_crash_or_a_hang(hostile_files, tmp_path):
    chosen = sample(hostile_files, SAMPLE, quick=True)
    outcomes = run_watched(chosen, tmp_path / "out", timeout=30.0)
    figures = summary(outcomes)
    problems = [
        f"{Path(o.path).name}: {o.outcome}: {o.reason[-600:]}"
        for o in outcomes
        if o.outcome in ("crash", "hang")
    ]
    assert not problems, "\n".join(problems)
    heavy = [f"{Path(o.path).name}: {o.peak_rss / 2**20:.0f} MiB" for o in outcomes if o.peak_rss >= MAX_RSS]
    assert not heavy, heavy
    assert figures["files"] == len(chosen)
    assert figures["refused"] > 0
    assert figures["converted"] > 0
    refused = {Path(o.path).name: o.reason for o in outcomes if o.outcome == "refused"}
    assert all(reason.strip() for reason in refused.values())
    # The budgets name their setting.
    assert "readers.max_columns" in refused["attack-wide-20k.csv"]
    assert "readers.max_json_depth" in refused["attack-nested-obj-500.json"]
    assert "archive bomb" in refused["attack-zip-bomb.zip"]
    assert "archive bomb" in refused["attack-gzip-bomb.csv.gz"]


@pytest.mark.timeout(300)
def test_lakegate_convert_reports_every_hostile_file_and_no_traceback(hostile_files, tmp_path):
    import json
    import subprocess
    import sys

    chosen = [f for f in sample(hostile_files, 40, seed=11, quick=True) if f.family != "attack"][:25]
    chosen += [f for f in hostile_files if f.path.name.startswith(("attack-nested", "attack-surrogates"))]
    done = subprocess.run(
        [sys.executable, "-m", "lakegate_server.cli", "convert", "--json", "-o", str(tmp_path / "out")]
        + [str(f.path) for f in chosen],
        capture_output=True,
        text=True,
        timeout=280,
        check=False,
    )
    assert "Traceback" not in done.stderr
    assert "a bug in lakegate" not in done.stderr
    report = json.loads(done.stdout)
    sources = {r["source"] for r in report["results"]} | {e["file"] for e in report["errors"]}
    assert sources == {str(f.path) for f in chosen}
    assert report["errors"]
    assert done.returncode == 1
    assert all(e["message"].strip() for e in report["errors"])
