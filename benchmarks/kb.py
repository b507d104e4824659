"""Knowledge base benchmark: ``lakegate kb build`` against LlamaIndex and a plain floor (not a test).

    uv run python benchmarks/kb.py [--docs 10000] [--repeat 3] [--baseline-src DIR] [--no-peer]

1. The tree (``_kb_tree.py``, kept under ``benchmarks/.data/kb/tree``): 10k .md/.txt/.html
   documents, 36 MB, 274 folders, each on one of 20 topics.
2. Floor (``_kb_floor.py``, a subprocess): walk + read + fixed 1000-char windows + JSONL.
3. lakegate: the CLI process ``lakegate kb build TREE -o OUT --json`` from scratch (default
   TF-IDF embeddings and categories), ``--repeat`` times, median; process wall and CPU time
   (rusage of the child), and the phases the build reports. ``--baseline-src`` runs the same
   command with ``PYTHONPATH`` at another checkout's ``src`` (the code before a change) in the
   same run, so before and after meet the same machine load.
4. Peer: LlamaIndex ``SimpleDirectoryReader`` + ``SentenceSplitter`` (``_kb_llamaindex.py``) in
   its own venv, created on first use under ``~/.cache/lakegate-bench/llamaindex`` (``uv venv``
   + ``uv pip install llama-index-core``, never in lakegate's lock); with its default splitter
   and with ~1000-character chunks (256 tokens); the faster counts.
5. Rebuilds (unchanged; 1% of the files changed), search quality (200 topic queries:
   precision@10/@100, relevant = a chunk of a document on the query's topic) and latency.

Targets: the lakegate process >= 5x faster than the peer's load + split; scan + read <= 2x
the floor. Wall times on a shared 2-core machine move with its load (recorded before and
after); CPU seconds are recorded beside them. Writes ``benchmarks/results/kb.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import _kb_tree  # noqa: E402 - the benchmark's own helper module

DATA = HERE / ".data" / "kb"
TREE = DATA / "tree"
RESULTS = HERE / "results" / "kb.json"
PEER_ENV = Path.home() / ".cache" / "lakegate-bench" / "llamaindex"
PEER_PACKAGE = "llama-index-core==0.14.25"
PEER_CONFIGS = {"defaults": (), "256_tokens": ("256", "38")}  # ~1000 chars, 15% overlap, like lakegate


def run(command: list[str], env: dict[str, str] | None = None) -> tuple[float, float, str]:
    """``(wall seconds, CPU seconds, stdout)`` of a child process; fails loudly."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, check=False, env=env, cwd=HERE.parent)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0:
        raise SystemExit(f"{command[:3]} failed:\n{done.stderr[-3000:]}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu, done.stdout


def last_json(stdout: str) -> dict[str, Any]:
    result: dict[str, Any] = json.loads(stdout.strip().splitlines()[-1])
    return result


def floor(repeat: int) -> dict[str, Any]:
    command = [sys.executable, str(HERE / "_kb_floor.py"), str(TREE), str(DATA / "floor.jsonl")]
    runs = [run(command) for _ in range(repeat)]
    inner = [last_json(out) for _, _, out in runs]
    return {
        "seconds_median": round(statistics.median(r["seconds"] for r in inner), 3),
        "seconds_runs": [round(r["seconds"], 3) for r in inner],
        "cpu_seconds_median": round(statistics.median(r["cpu_seconds"] for r in inner), 3),
        "process_seconds_median": round(statistics.median(w for w, _, _ in runs), 3),
        "chunks": inner[0]["chunks"],
    }


def lakegate_build(out: Path, src: str | None = None) -> dict[str, Any]:
    """One ``lakegate kb build`` process (from scratch unless ``out`` exists)."""
    env = dict(os.environ)
    if src:
        env["PYTHONPATH"] = src
    lakegate = str(Path(sys.executable).parent / "lakegate")
    command = [lakegate, "kb", "build", str(TREE), "-o", str(out), "--json"]
    wall, cpu, stdout = run(command, env)
    report = json.loads(stdout)
    return {"process_seconds": wall, "cpu_seconds": cpu, "report": report}


def lakegate_runs(repeat: int, name: str, src: str | None = None) -> dict[str, Any]:
    out = DATA / name / "kb.jsonl"
    runs = []
    for _ in range(repeat):
        shutil.rmtree(out.parent, ignore_errors=True)
        runs.append(lakegate_build(out, src))
        r = runs[-1]
        print(
            f"  {name}: {r['process_seconds']:.2f} s (cpu {r['cpu_seconds']:.2f} s), "
            f"{r['report']['chunks']} chunks; "
            + ", ".join(f"{k} {v:.2f}" for k, v in r["report"]["timings"].items()),
            flush=True,
        )
    median = statistics.median(r["process_seconds"] for r in runs)
    best = min(runs, key=lambda r: abs(r["process_seconds"] - median))
    timings = [r["report"]["timings"] for r in runs]
    phases = {k: statistics.median(t[k] for t in timings) for k in timings[0]}
    return {
        "process_seconds_median": round(median, 3),
        "process_seconds_runs": [round(r["process_seconds"], 3) for r in runs],
        "cpu_seconds_median": round(statistics.median(r["cpu_seconds"] for r in runs), 3),
        "phases_median": {k: round(v, 3) for k, v in phases.items()},
        "scan_plus_read_median": round(statistics.median(t["scan"] + t["read"] for t in timings), 3),
        "chunks": best["report"]["chunks"],
        "dims": best["report"]["dims"],
        "categories": len(best["report"]["categories"]),
        "output": str(out),
    }


def ensure_peer() -> Path:
    python = PEER_ENV / "bin" / "python"
    if not python.exists():
        print(f"creating the LlamaIndex environment in {PEER_ENV} ...", flush=True)
        PEER_ENV.parent.mkdir(parents=True, exist_ok=True)
        subprocess.run(["uv", "venv", "--quiet", "--python", "3.11", str(PEER_ENV)], check=True)
        # Copies, not hard links: nltk (LlamaIndex's sentence splitter) refuses hard-linked data files.
        subprocess.run(
            ["uv", "pip", "install", "--quiet", "--link-mode=copy", "--python", str(python), PEER_PACKAGE],
            check=True,
        )
    return python


def peer(python: Path) -> dict[str, Any]:
    results = {}
    for name, extra in PEER_CONFIGS.items():
        wall, cpu, stdout = run([str(python), str(HERE / "_kb_llamaindex.py"), str(TREE), *extra])
        inner = last_json(stdout)
        results[name] = {"process_seconds": round(wall, 3), "cpu_seconds": round(cpu, 3), **inner}
        print(f"  llamaindex {name}: {wall:.2f} s (cpu {cpu:.2f} s), {inner['nodes']} nodes", flush=True)
    return results


def rebuilds(out: Path) -> dict[str, Any]:
    unchanged = lakegate_build(out)
    touched = sorted(TREE.rglob("doc*.txt"))[: max(1, len(list(TREE.rglob("doc*"))) // 100)]
    originals = {p: p.read_text(encoding="utf-8") for p in touched}
    for path, text in originals.items():
        path.write_text(text + "\nappended line\n", encoding="utf-8")
    try:
        changed = lakegate_build(out)
    finally:
        for path, text in originals.items():
            path.write_text(text, encoding="utf-8")
    return {
        "unchanged": {
            "process_seconds": round(unchanged["process_seconds"], 3),
            "files_reused": unchanged["report"]["files_reused"],
            "up_to_date": unchanged["report"]["up_to_date"],
        },
        "one_percent_changed": {
            "process_seconds": round(changed["process_seconds"], 3),
            "files_read": changed["report"]["files_read"],
            "files_reused": changed["report"]["files_reused"],
            "timings": changed["report"]["timings"],
        },
    }


def topic_queries(count: int = 200) -> list[tuple[int, str]]:
    topics, general, _ = _kb_tree.vocabularies(0)
    rng = np.random.default_rng(1)
    queries = []
    for _ in range(count):
        topic = int(rng.integers(_kb_tree.TOPICS))
        words = list(rng.choice(topics[topic], size=int(rng.integers(1, 4))))
        words += list(rng.choice(general[:2000], size=int(rng.integers(0, 2))))  # a common word or not
        queries.append((topic, " ".join(words)))
    return queries


def search_quality(kb_path: str, doc_topics: dict[str, int]) -> dict[str, Any]:
    from lakegate.knowledge import KnowledgeBase

    precision: dict[int, list[float]] = {10: [], 100: []}
    latencies = []
    with KnowledgeBase.open(kb_path) as kb:
        for topic, query in topic_queries():
            start = time.perf_counter()
            hits = kb.search(query, k=100)
            latencies.append((time.perf_counter() - start) * 1000)
            for k, found in precision.items():
                found.append(sum(doc_topics[h.path] == topic for h in hits[:k]) / k)
    return {
        "queries": len(latencies),
        "precision_at_10": round(float(np.mean(precision[10])), 4),
        "precision_at_100": round(float(np.mean(precision[100])), 4),
        "search_k100_p50_ms": round(float(np.percentile(latencies, 50)), 2),
        "search_k100_p99_ms": round(float(np.percentile(latencies, 99)), 2),
    }


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--docs", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=3, help="lakegate and floor runs (median counts)")
    parser.add_argument("--baseline-src", help="another checkout's src/: its build is measured too")
    parser.add_argument("--no-peer", action="store_true", help="skip LlamaIndex (no ratio then)")
    args = parser.parse_args()

    load_before = os.getloadavg()
    doc_topics = _kb_tree.generate(TREE, args.docs)
    size = sum(p.stat().st_size for p in TREE.rglob("doc*"))
    folders = sum(1 for p in TREE.rglob("*") if p.is_dir())
    print(f"tree: {len(doc_topics)} documents, {size / 1e6:.1f} MB, {folders} folders", flush=True)

    print("floor (walk + read + fixed chunks + JSONL):", flush=True)
    floor_result = floor(args.repeat)
    print(f"  {floor_result}", flush=True)
    print("lakegate kb build (CLI process, from scratch):", flush=True)
    after = lakegate_runs(args.repeat, "lakegate")
    before = lakegate_runs(args.repeat, "baseline", args.baseline_src) if args.baseline_src else None
    peers = None if args.no_peer else peer(ensure_peer())
    print("rebuilds:", flush=True)
    rebuild = rebuilds(Path(after["output"]))
    print(f"  {rebuild}", flush=True)
    quality = {"lakegate": search_quality(after["output"], doc_topics)}
    if before is not None:
        quality["baseline"] = search_quality(before["output"], doc_topics)
    print(f"search quality: {quality}", flush=True)

    ratios: dict[str, Any] = {
        "read_chunk_over_floor": round(after["scan_plus_read_median"] / floor_result["seconds_median"], 2),
        "read_chunk_over_floor_target": 2.0,
    }
    if peers is not None:
        fastest = min(peers, key=lambda name: peers[name]["process_seconds"])
        ratios.update(
            {
                "fastest_peer": f"llamaindex {fastest}",
                "peer_over_lakegate": round(
                    peers[fastest]["process_seconds"] / after["process_seconds_median"], 2
                ),
                "peer_over_lakegate_cpu": round(
                    peers[fastest]["cpu_seconds"] / after["cpu_seconds_median"], 2
                ),
                "peer_over_lakegate_target": 5.0,
            }
        )
        if before is not None:
            ratios["peer_over_baseline"] = round(
                peers[fastest]["process_seconds"] / before["process_seconds_median"], 2
            )
    if before is not None:
        ratios["baseline_read_chunk_over_floor"] = round(
            before["scan_plus_read_median"] / floor_result["seconds_median"], 2
        )
    print(f"ratios: {ratios}", flush=True)

    results = {
        "benchmark": "kb",
        "machine": {
            "cpus": os.cpu_count(),
            "python": sys.version.split()[0],
            "platform": platform.platform(),
            # Other work on the machine skews wall times: 1/5/15-minute load before and after.
            "load_average_before": [round(x, 2) for x in load_before],
            "load_average_after": [round(x, 2) for x in os.getloadavg()],
        },
        "tree": {
            "documents": len(doc_topics),
            "megabytes": round(size / 1e6, 1),
            "folders": folders,
            "mix": {"txt": 0.4, "md": 0.35, "html": 0.25},
        },
        "floor": floor_result,
        "lakegate": after,
        "baseline": before,
        "peer": {"package": PEER_PACKAGE, "runs": peers},
        "rebuilds": rebuild,
        "search_quality": quality,
        "ratios": ratios,
    }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    print(f"wrote {RESULTS}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
