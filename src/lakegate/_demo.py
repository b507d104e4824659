"""The demo project behind ``make up``: deterministic sample data and the settings that use it.

``write_demo(project)`` writes ``sample-data/`` (a customer table as CSV and XLSX, a later
customer batch whose spending and churn rate drifted, a week of hourly sensor readings, and a small tree of
documents) and appends the demo's datasets, pipelines and knowledge base to lakegate.yaml.
Everything is generated from fixed seeds, so every demo shows the same numbers.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

__all__ = ["DEMO_CONFIG", "DemoFiles", "write_demo"]

DEMO_CONFIG = """
# --- demo (written by `lakegate init --demo`) ---------------------------------------------
datasets:
  customers:
    target: churned
  readings: {}

knowledge_bases:
  docs: kb/docs.jsonl

pipelines:
  churn:
    description: Which customers will leave (demo)
    inputs: [customers]
    target: churned
    steps:
      - one_hot: {columns: [plan, city], max_categories: 10}
      - date_parts: {columns: [signup_date], parts: [month]}
    model:
      task: classification
      algorithm: lightgbm
      params: {n_estimators: 60, learning_rate: 0.1, num_leaves: 15}
      exclude: [customer_id]
    split: {method: random, test_size: 0.25, stratify: true}
    metrics: [f1, roc_auc, accuracy]
    promotion:
      rule: "f1 >= champion.f1"
      floor: "f1 >= 0.5"
    triggers: [{on_new_version: customers}, manual]
    id_columns: [customer_id]
    seed: 7
  sensor-regimes:
    description: Daily behaviour of each sensor, clustered (demo)
    inputs: [readings]
    steps:
      - aggregate:
          by: [sensor_id]
          time: ts
          every: 1d
          aggs: {temperature: [mean, std, min, max], vibration: [mean, max]}
    model:
      task: clustering
      algorithm: minibatch_kmeans
      params: {n_clusters: 3}
    promotion: {floor: "silhouette >= 0.1"}
    triggers: [{on_new_version: readings}]
    id_columns: [sensor_id, ts]
    seed: 7
"""

_DOCS = {
    "water/rivers/nitrate.md": "# Nitrate in rivers\n\nNitrate from fields feeds algae in slow rivers.",
    "water/rivers/oxygen.txt": "Dissolved oxygen drops in warm summer water and stresses fish.",
    "water/lakes/blooms.md": "# Algae blooms\n\nLakes with warm still water and phosphorus see blooms.",
    "energy/solar/panels.txt": "Solar panels turn sunlight into electricity; dust lowers their yield.",
    "energy/wind/turbines.md": "# Turbines\n\nWind turbines are stopped in storms to protect the blades.",
    "sensors/maintenance.txt": "Vibration that rises day after day often means a bearing is wearing out.",
}


@dataclass(frozen=True)
class DemoFiles:
    customers_csv: Path
    customers_xlsx: Path
    customers_drifted: Path
    readings: Path
    docs: Path


def _customers(rows: int, seed: int, *, spend_shift: float = 0.0, churn_share: float = 0.25) -> object:
    import numpy as np
    import polars as pl

    rng = np.random.default_rng(seed)
    support = rng.poisson(1.5, rows)
    spend = rng.gamma(4.0, 15.0, rows) + spend_shift
    tenure = rng.integers(1, 72, rows)
    score = 0.9 * support - 0.03 * spend - 0.04 * tenure + rng.normal(0, 0.8, rows)
    return pl.DataFrame(
        {
            "customer_id": np.arange(seed * 100_000, seed * 100_000 + rows),
            "age": rng.integers(18, 80, rows),
            "plan": rng.choice(["basic", "pro", "team"], rows, p=[0.5, 0.35, 0.15]),
            "city": rng.choice(["Oslo", "Lyon", "Porto", "Graz", "Turku"], rows),
            "signup_date": pl.date_range(pl.date(2024, 1, 1), pl.date(2026, 6, 30), "1d", eager=True)
            .sample(rows, with_replacement=True, seed=seed)
            .to_list(),
            "tenure_months": tenure,
            "monthly_spend": spend.round(2),
            "support_calls": support,
            "churned": score > np.quantile(score, 1 - churn_share),
        }
    )


def _readings(seed: int) -> object:
    import numpy as np
    import polars as pl

    rng = np.random.default_rng(seed)
    hours = pl.datetime_range(pl.datetime(2026, 11, 1), pl.datetime(2026, 11, 7, 23), "1h", eager=True)
    frames = []
    for index in range(8):
        base = [18.0, 24.0, 30.0][index % 3]
        n = len(hours)
        frames.append(
            pl.DataFrame(
                {
                    "sensor_id": [f"s{index + 1}"] * n,
                    "ts": hours,
                    "temperature": (base + rng.normal(0, 1.0, n)).round(2),
                    "vibration": (0.2 + 0.1 * (index % 3) + rng.gamma(2.0, 0.02, n)).round(4),
                }
            )
        )
    return pl.concat(frames)


def write_demo(project: Path) -> DemoFiles:
    """Write the sample data under ``project/sample-data`` and the demo settings into lakegate.yaml."""
    root = project / "sample-data"
    root.mkdir(parents=True, exist_ok=True)
    files = DemoFiles(
        customers_csv=root / "customers-2026-10.csv",
        customers_xlsx=root / "customers-2026-11.xlsx",
        customers_drifted=root / "customers-2026-12.csv",
        readings=root / "readings-2026-11.csv",
        docs=root / "docs",
    )
    _customers(1500, 1).write_csv(files.customers_csv)  # type: ignore[attr-defined]
    _customers(1500, 2).write_excel(files.customers_xlsx, worksheet="customers")  # type: ignore[attr-defined]
    _customers(1500, 3, spend_shift=60.0, churn_share=0.6).write_csv(files.customers_drifted)  # type: ignore[attr-defined]
    _readings(4).write_csv(files.readings)  # type: ignore[attr-defined]
    for name, text in _DOCS.items():
        path = files.docs / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text + "\n", encoding="utf-8")
    config = project / "lakegate.yaml"
    text = config.read_text(encoding="utf-8")
    if "# --- demo" not in text:
        # The template ends with empty `datasets: {}` / `knowledge_bases: {}`; the demo's replace them.
        text = text.replace("\ndatasets: {}\n", "\n").replace("\nknowledge_bases: {}\n", "\n")
        config.write_text(text + DEMO_CONFIG, encoding="utf-8")
    return files
