"""Single-row predict latency of the core Predictor vs the LightGBM booster itself (not a test).

    uv run python benchmarks/serving_core.py [--calls 20000] [--trees 100]

1. Generates a customer table (8 raw columns, 1,500 rows; text, dates, a few nulls) and trains a
   LightGBM churn classifier through a lakegate pipeline (fill_nulls -> one_hot -> date_parts,
   13 model features), kept under ``benchmarks/.data/serving_core/`` between runs.
2. Loads it with ``load_model`` (hash verified) and times, per call, over ``--calls`` calls
   interleaved in rounds so machine load hits every variant alike:

   - ``predictor_record``: ``Predictor.predict(dict)`` on a JSON-like record (ISO date string):
     validation against the training schema + stored feature steps + booster + decoding to
     ``{"predictions": [...], "probabilities": [...]}``;
   - ``booster_numpy_row``: ``booster.predict(numpy_row, num_threads=1)`` on the already
     encoded 1x13 row: the floor (what any wrapper must pay);
   - ``predictor_polars_frame``: ``Predictor.predict(polars 1-row DataFrame)``: the batch path,
     fewer calls, to show what the pure-Python row path saves;
   - ``booster_default_threads``: the booster without ``num_threads`` (LightGBM's OpenMP
     default), timed last because its spinning worker threads slow whatever runs next.

Writes ``benchmarks/results/serving_core.json``. The HTTP benchmark is separate (server side).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import statistics
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

from lakegate.models import Predictor, load_model
from lakegate.pipelines import load_pipeline, run_pipeline

HERE = Path(__file__).resolve().parent
DATA = HERE / ".data" / "serving_core"
RESULTS = HERE / "results" / "serving_core.json"


def customers(n: int = 1500, seed: int = 0) -> pl.DataFrame:
    rng = np.random.default_rng(seed)
    plan = rng.choice(["basic", "pro", "team"], n, p=[0.5, 0.3, 0.2])
    city = rng.choice(["paris", "lyon", "nice", "lille"], n)
    tenure = rng.integers(0, 60, n)
    tickets = rng.poisson(2.0, n)
    logit = -2.0 + 2.2 * (plan == "basic") - 0.07 * tenure + 1.2 * (city == "nice") + 0.6 * tickets
    income = rng.normal(50_000, 15_000, n).round(0)
    return pl.DataFrame(
        {
            "customer_id": np.arange(1, n + 1),
            "age": rng.integers(18, 80, n),
            "income": np.where(rng.random(n) < 0.05, np.nan, income),
            "city": city,
            "plan": plan,
            "tenure_months": tenure,
            "tickets": tickets,
            "signup_date": [
                dt.date(2021, 1, 1) + dt.timedelta(days=int(d)) for d in rng.integers(0, 1000, n)
            ],
            "churned": np.where(rng.random(n) < 1 / (1 + np.exp(-logit)), "yes", "no"),
        }
    ).with_columns(pl.col("income").fill_nan(None))


def pipeline(trees: int) -> dict[str, Any]:
    return {
        "pipelines": {
            "churn": {
                "inputs": ["customers"],
                "target": "churned",
                "steps": [
                    {"fill_nulls": {"income": "median"}},
                    {"one_hot": ["city", "plan"]},
                    {"date_parts": {"columns": ["signup_date"], "parts": ["month", "weekday"]}},
                ],
                "model": {
                    "task": "classification",
                    "algorithm": "lightgbm",
                    "params": {"n_estimators": trees, "num_leaves": 31},
                    "exclude": ["customer_id"],
                    "positive_class": "yes",
                },
                "robustness": False,
            }
        }
    }


def timed(fn: Any, calls: int) -> list[float]:
    """Per-call wall times in microseconds."""
    out = []
    clock = time.perf_counter_ns
    for _ in range(calls):
        start = clock()
        fn()
        out.append((clock() - start) / 1000)
    return out


def summary(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)
    return {
        "calls": len(ordered),
        "p50_us": round(ordered[len(ordered) // 2], 1),
        "p90_us": round(ordered[int(len(ordered) * 0.90)], 1),
        "p99_us": round(ordered[int(len(ordered) * 0.99)], 1),
        "mean_us": round(statistics.fmean(ordered), 1),
        "max_us": round(ordered[-1], 1),
    }


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--calls", type=int, default=20_000)
    parser.add_argument("--trees", type=int, default=100)
    parser.add_argument("--rounds", type=int, default=20, help="interleaved rounds the calls are split into")
    parser.add_argument("--output", type=Path, default=RESULTS)
    args = parser.parse_args()

    load_before = os.getloadavg()
    spec = load_pipeline(pipeline(args.trees), "churn")
    result = run_pipeline(spec, {"customers": customers()}, DATA / f"trees-{args.trees}")
    predictor: Predictor = load_model(result.model_dir, result.model_sha256)
    booster = predictor.model.estimator
    print(
        f"model: {result.manifest.algorithm}, {args.trees} trees, {len(predictor.feature_names)} features, "
        f"roc_auc {result.metrics['roc_auc']:.3f}, sha256 {result.model_sha256[:12]}"
    )

    record = customers(n=1, seed=42).drop("churned").to_dicts()[0]
    record["signup_date"] = record["signup_date"].isoformat()  # as it arrives in JSON
    row = predictor._matrix_from_records([record])  # the encoded 1 x n_features row
    frame = pl.DataFrame([record]).with_columns(pl.col("signup_date").str.to_date())

    # Same answer on every path before timing anything.
    expected = predictor.predict(record).probabilities[0]["yes"]  # type: ignore[index]
    assert abs(float(booster.predict(row, num_threads=1)[0]) - expected) < 1e-12
    assert abs(predictor.predict(frame).probabilities[0]["yes"] - expected) < 1e-12  # type: ignore[index]

    variants = {
        "predictor_record": lambda: predictor.predict(record),
        "booster_numpy_row": lambda: booster.predict(row, num_threads=1),
    }
    samples: dict[str, list[float]] = {name: [] for name in variants}
    per_round = max(1, args.calls // args.rounds)
    for fn in variants.values():
        timed(fn, 500)  # warm up
    for _ in range(args.rounds):
        for name, fn in variants.items():
            samples[name] += timed(fn, per_round)
    polars_calls = max(200, args.calls // 10)
    timed(lambda: predictor.predict(frame), 50)
    samples["predictor_polars_frame"] = timed(lambda: predictor.predict(frame), polars_calls)
    # Last: OpenMP worker threads keep spinning after each call and would slow whatever runs next.
    timed(lambda: booster.predict(row), 500)
    samples["booster_default_threads"] = timed(lambda: booster.predict(row), polars_calls)

    stats = {name: summary(values) for name, values in samples.items()}
    floor, ours = stats["booster_numpy_row"], stats["predictor_record"]
    overhead = {
        "p50_us": round(ours["p50_us"] - floor["p50_us"], 1),
        "p99_us": round(ours["p99_us"] - floor["p99_us"], 1),
        "p50_ratio": round(ours["p50_us"] / floor["p50_us"], 2),
    }
    for name, values in stats.items():
        print(
            f"{name:26s} p50 {values['p50_us']:8.1f} us  p99 {values['p99_us']:8.1f} us  "
            f"mean {values['mean_us']:8.1f} us  ({values['calls']} calls)"
        )
    print(
        f"predictor overhead over the booster: p50 +{overhead['p50_us']} us (x{overhead['p50_ratio']}), "
        f"p99 +{overhead['p99_us']} us"
    )

    results = {
        "benchmark": "serving_core",
        "machine": {
            "cpus": os.cpu_count(),
            "python": sys.version.split()[0],
            "platform": platform.platform(),
            "numpy": np.__version__,
            "polars": pl.__version__,
            "lightgbm": __import__("lightgbm").__version__,
            "load_average_before": [round(x, 2) for x in load_before],
            "load_average_after": [round(x, 2) for x in os.getloadavg()],
        },
        "model": {
            "algorithm": result.manifest.algorithm,
            "trees": args.trees,
            "raw_columns": len(predictor.input_columns),
            "features": len(predictor.feature_names),
            "steps": [s.config.kind for s in predictor.steps.steps],
        },
        "latency": stats,
        "predictor_overhead_vs_booster": overhead,
    }
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    print(f"wrote {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
