"""Knowledge base benchmark: build throughput and search latency (not a test).

    uv run python benchmarks/kb.py [--docs 10000] [--queries 500]

1. Generates a corpus of small documents in nested folders under ``benchmarks/.data/kb/`` (kept
   between runs; regenerated when the parameters change): 40% .txt, 30% .md, 20% .html, 10% .json,
   80-240 words each: ~35% from one of 20 topic vocabularies (300 words each), ~50% from a
   30,000-word general vocabulary with Zipf frequencies, ~15% English stop words.
2. Builds it with the default settings (TF-IDF + SVD, 1000-char chunks): documents per second,
   then an unchanged rebuild and a rebuild after touching 1% of the files (incremental reuse).
3. Builds it again with 140-character chunks, which yields >= 100k chunks, and measures
   ``KnowledgeBase.search(q, k=5)`` latency over topic queries (p50/p95/p99).

Targets: build >= 500 documents/s; search p99 < 50 ms over 100k chunks.
Writes ``benchmarks/results/kb.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

from lakegate.knowledge import ChunkOptions, KnowledgeBase, build_kb

HERE = Path(__file__).resolve().parent
DATA = HERE / ".data" / "kb"
RESULTS = HERE / "results" / "kb.json"

TOPICS = 20
FILLER = [
    "the",
    "of",
    "and",
    "to",
    "in",
    "a",
    "is",
    "that",
    "for",
    "it",
    "as",
    "was",
    "with",
    "be",
    "by",
    "on",
    "not",
    "he",
    "this",
    "are",
    "or",
    "his",
    "from",
    "at",
    "which",
    "but",
    "have",
    "an",
    "they",
    "you",
    "were",
    "their",
    "one",
    "all",
    "we",
    "can",
    "her",
    "has",
    "there",
    "been",
    "if",
    "more",
    "when",
    "will",
    "would",
    "who",
    "so",
    "no",
]
SYLLABLES = [
    "ka",
    "lo",
    "mi",
    "ne",
    "ru",
    "sa",
    "ti",
    "vo",
    "ze",
    "pa",
    "qui",
    "dor",
    "fen",
    "gal",
    "hes",
    "jun",
    "kir",
    "lum",
    "mor",
    "nix",
]


def make_words(rng: np.random.Generator, count: int, seen: set[str]) -> list[str]:
    """``count`` made-up, pronounceable, distinct words (not in ``seen``)."""
    words: list[str] = []
    while len(words) < count:
        word = "".join(rng.choice(SYLLABLES, size=int(rng.integers(2, 5))))
        if word not in seen:
            seen.add(word)
            words.append(word)
    return words


def vocabularies(rng: np.random.Generator) -> tuple[list[list[str]], list[str], np.ndarray]:
    """20 topics of 300 words, and a 30k-word general vocabulary with Zipf-like frequencies."""
    seen: set[str] = set()
    topics = [make_words(rng, 300, seen) for _ in range(TOPICS)]
    general = make_words(rng, 30_000, seen)
    weights = 1.0 / np.arange(1, len(general) + 1) ** 1.05
    return topics, general, weights / weights.sum()


def render(kind: str, title: str, body: str) -> str:
    if kind == "md":
        return f"# {title}\n\n{body}\n"
    if kind == "html":
        return f"<html><head><title>{title}</title></head><body><h1>{title}</h1><p>{body}</p></body></html>"
    if kind == "json":
        return json.dumps({"title": title, "body": body, "tags": title.split()})
    return f"{title}\n\n{body}\n"


def generate(root: Path, docs: int, seed: int = 0) -> list[list[str]]:
    marker = root / ".params.json"
    params = {"docs": docs, "seed": seed, "version": 2}
    rng = np.random.default_rng(seed)
    topics, general, weights = vocabularies(rng)
    if marker.is_file() and json.loads(marker.read_text()) == params:
        return topics
    shutil.rmtree(root, ignore_errors=True)
    root.mkdir(parents=True)
    kinds = rng.choice(["txt", "md", "html", "json"], size=docs, p=[0.4, 0.3, 0.2, 0.1])
    for i in range(docs):
        topic = int(rng.integers(TOPICS))
        n_words = int(rng.integers(80, 241))
        # ~35% words of the document's topic, ~50% general vocabulary (Zipf), ~15% stop words.
        n_topic, n_filler = int(n_words * 0.35), int(n_words * 0.15)
        words = np.concatenate(
            [
                rng.choice(topics[topic], size=n_topic),
                rng.choice(general, size=n_words - n_topic - n_filler, p=weights),
                rng.choice(FILLER, size=n_filler),
            ]
        )
        rng.shuffle(words)
        folder = root / f"area{i % 10}" / f"unit{(i // 10) % 10}" / f"batch{(i // 100) % 10}"
        folder.mkdir(parents=True, exist_ok=True)
        title = " ".join(rng.choice(topics[topic], size=3))
        (folder / f"doc{i:05d}.{kinds[i]}").write_text(
            render(str(kinds[i]), title, " ".join(words)), encoding="utf-8"
        )
    marker.write_text(json.dumps(params))
    return topics


CPU_SECONDS: list[float] = []  # process CPU time of each timed build, in order


def timed_build(root: Path, out: Path, **kwargs: Any) -> tuple[float, Any]:
    start, cpu = time.perf_counter(), time.process_time()
    report = build_kb(root, out, **kwargs)
    CPU_SECONDS.append(time.process_time() - cpu)
    return time.perf_counter() - start, report


def percentile(values: list[float], q: float) -> float:
    return float(np.percentile(np.array(values), q))


def bench_search(corpus: Path, topics: list[list[str]], n_queries: int) -> tuple[float, Any, dict[str, Any]]:
    """Build with small chunks (>= 100k of them), then time ``search(q, k=5)`` for topic queries."""
    small = DATA / "small-chunks" / "kb.jsonl"
    shutil.rmtree(small.parent, ignore_errors=True)
    small_s, small_report = timed_build(
        corpus, small, chunking=ChunkOptions(unit="chars", size=140, overlap=10)
    )
    print(
        f"build (140-char chunks): {small_report.chunks} chunks, {small_s:.2f}s; stages "
        + ", ".join(f"{k} {v:.2f}s" for k, v in small_report.timings.items())
    )

    start = time.perf_counter()
    kb = KnowledgeBase.open(small)
    open_s = time.perf_counter() - start
    rng = np.random.default_rng(1)
    queries = [
        " ".join(rng.choice(topics[int(rng.integers(TOPICS))], size=int(rng.integers(2, 6))))
        for _ in range(n_queries)
    ]
    for query in queries[:20]:  # warm-up
        kb.search(query, k=5)
    latencies = []
    hits_found = 0
    for query in queries:
        start = time.perf_counter()
        hits = kb.search(query, k=5)
        latencies.append((time.perf_counter() - start) * 1000)
        hits_found += bool(hits)
    kb.close()
    search = {
        "chunks": len(kb),
        "dims": int(kb.vectors.shape[1]),
        "open_seconds": round(open_s, 3),
        "queries": len(queries),
        "queries_with_hits": hits_found,
        "p50_ms": round(percentile(latencies, 50), 3),
        "p95_ms": round(percentile(latencies, 95), 3),
        "p99_ms": round(percentile(latencies, 99), 3),
        "mean_ms": round(statistics.fmean(latencies), 3),
        "max_ms": round(max(latencies), 3),
    }
    print(f"search over {search['chunks']} chunks: {search}")

    return small_s, small_report, search


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--docs", type=int, default=10_000)
    parser.add_argument("--queries", type=int, default=500)
    parser.add_argument("--repeat", type=int, default=3, help="default builds from scratch (median counts)")
    args = parser.parse_args()

    load_before = os.getloadavg()
    corpus = DATA / "corpus"
    t0 = time.perf_counter()
    topics = generate(corpus, args.docs)
    print(f"corpus: {args.docs} documents in {corpus} ({time.perf_counter() - t0:.1f}s to prepare)")

    # Import scikit-learn once before timing so the first build is not charged for it.
    import sklearn.cluster
    import sklearn.decomposition
    import sklearn.feature_extraction.text  # noqa: F401

    out = DATA / "default" / "kb.jsonl"
    runs = []
    for _ in range(args.repeat):  # from scratch each time; the median counts
        shutil.rmtree(out.parent, ignore_errors=True)
        seconds, report = timed_build(corpus, out)
        runs.append(seconds)
        print(
            f"build (default): {report.files_indexed} docs, {report.chunks} chunks, {seconds:.2f}s "
            f"= {report.files_indexed / seconds:.0f} docs/s (cpu {CPU_SECONDS[-1]:.2f}s); stages "
            + ", ".join(f"{k} {v:.2f}s" for k, v in report.timings.items())
        )
    seconds = statistics.median(runs)
    docs_per_s = report.files_indexed / seconds
    unchanged_s, unchanged = timed_build(corpus, out)
    print(
        f"rebuild (unchanged): {unchanged_s:.2f}s, "
        f"reused {unchanged.files_reused}, read {unchanged.files_read}"
    )
    touched = sorted(corpus.rglob("doc*.txt"))[: max(1, args.docs // 100)]
    originals = {p: p.read_text(encoding="utf-8") for p in touched}
    for path, text in originals.items():
        path.write_text(text + "\nappended line\n", encoding="utf-8")
    try:
        changed_s, changed = timed_build(corpus, out)
    finally:
        for path, text in originals.items():
            path.write_text(text, encoding="utf-8")
    print(f"rebuild (1% changed): {changed_s:.2f}s, reused {changed.files_reused}, read {changed.files_read}")

    small_s, small_report, search = bench_search(corpus, topics, args.queries)

    results = {
        "benchmark": "kb",
        "machine": {
            "cpus": os.cpu_count(),
            "python": sys.version.split()[0],
            "platform": platform.platform(),
            "numpy": np.__version__,
            # Other work on the machine skews wall times: 1/5/15-minute load before and after.
            "load_average_before": [round(x, 2) for x in load_before],
            "load_average_after": [round(x, 2) for x in os.getloadavg()],
        },
        "corpus": {"documents": args.docs, "mix": {"txt": 0.4, "md": 0.3, "html": 0.2, "json": 0.1}},
        "build_default": {
            "seconds_median": round(seconds, 3),
            "seconds_runs": [round(r, 3) for r in runs],
            "cpu_seconds_runs": [round(c, 3) for c in CPU_SECONDS[: len(runs)]],
            "documents_per_second": round(docs_per_s, 1),
            "chunks": report.chunks,
            "dims": report.dims,
            "categories": len(report.categories),
            "timings": {k: round(v, 3) for k, v in report.timings.items()},
        },
        "rebuild_unchanged": {"seconds": round(unchanged_s, 3), "files_reused": unchanged.files_reused},
        "rebuild_1pct_changed": {
            "seconds": round(changed_s, 3),
            "files_read": changed.files_read,
            "files_reused": changed.files_reused,
        },
        "build_small_chunks": {
            "seconds": round(small_s, 3),
            "chunks": small_report.chunks,
            "timings": {k: round(v, 3) for k, v in small_report.timings.items()},
        },
        "search": search,
        "targets": {
            "build_documents_per_second": {"target": 500, "met": docs_per_s >= 500},
            "search_p99_ms_over_100k_chunks": {
                "target": 50,
                "met": search["p99_ms"] < 50 and search["chunks"] >= 100_000,
            },
        },
    }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    print(f"wrote {RESULTS}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
