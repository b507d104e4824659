"""``make fuzz``: every hostile file through ``lakegate convert``, ``lakegate ingest`` and the upload API.

Writes ``benchmarks/results/fuzz.json``: files, refused, converted, tracebacks, hangs,
max seconds, peak RSS (the worker and its children), per family; then the ingest
check (every file gets an outcome, every refusal a quarantine entry) and the atheris
run. Run from the repository root: ``uv run python benchmarks/_fuzz.py [--full|--quick]``.
"""

from __future__ import annotations

import argparse
import json
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.support.fuzz_corpus import atheris_figures, write_corpus  # noqa: E402
from tests.support.hostile import generate, run_watched, sample, summary  # noqa: E402
from tests.support.hostile_ingest import ingest_all  # noqa: E402


def run_atheris(seconds: int) -> dict[str, object]:
    """Run the atheris target for ``seconds`` from the valid seeds; its figures."""
    with tempfile.TemporaryDirectory(prefix="lakegate-atheris-corpus-") as corpus:
        write_corpus(Path(corpus))
        done = subprocess.run(
            [
                sys.executable,
                str(ROOT / "tests" / "support" / "fuzz_readers.py"),
                f"-max_total_time={seconds}",
                "-rss_limit_mb=2048",
                corpus,
            ],
            capture_output=True,
            text=True,
            check=False,
            cwd=ROOT,
        )
    return {"seconds": seconds, "exit": done.returncode, **atheris_figures(done.stderr)}


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--full", action="store_true", help="add the 200 MB lines and 2 GiB bombs")
    parser.add_argument("--ingest", type=int, default=200, help="files through lakegate ingest (0: none)")
    parser.add_argument("--atheris-seconds", type=int, default=300, help="atheris run time (0: none)")
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results" / "fuzz.json")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="lakegate-fuzz-") as scratch:
        work = Path(scratch)
        started = time.perf_counter()
        files = generate(work / "files", full=args.full)
        print(f"generated {len(files)} files in {time.perf_counter() - started:.0f} s", flush=True)

        def show(outcome):
            if outcome.outcome in ("crash", "hang") or outcome.seconds > 10:
                print(
                    f"  {outcome.outcome:9} {outcome.seconds:6.1f} s  {Path(outcome.path).name}: "
                    f"{outcome.reason[:300]}",
                    flush=True,
                )

        outcomes = run_watched(files, work / "out", progress=show)
        result = {"convert": summary(outcomes)}
        result["convert"]["problems"] = [
            {"file": Path(o.path).name, "outcome": o.outcome, "reason": o.reason}
            for o in outcomes
            if o.outcome in ("crash", "hang")
        ]
        print(
            json.dumps({k: v for k, v in result["convert"].items() if k != "by_family"}, indent=1), flush=True
        )
        if args.ingest:
            # The slow-by-design attacks (10k columns...) are left out: ingesting a 10,000-column
            # file (profile and quality gate per column) takes many minutes (a known limit).
            chosen = sample(files, args.ingest, quick=True)
            result["ingest"] = ingest_all(chosen, work / "project")
            print(json.dumps(result["ingest"], indent=1), flush=True)
    if args.atheris_seconds:
        result["atheris"] = run_atheris(args.atheris_seconds)
        print(json.dumps(result["atheris"], indent=1), flush=True)
    result["machine"] = {
        "python": platform.python_version(),
        "cpus": __import__("os").cpu_count(),
        "load": __import__("os").getloadavg(),
    }
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    bad = result["convert"]["tracebacks"] + result["convert"]["hangs"]
    bad += len(result.get("ingest", {}).get("violations", []))
    bad += bool(result.get("atheris", {}).get("exit"))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
