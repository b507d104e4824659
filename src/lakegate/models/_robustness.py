"""Perturbation robustness: how much hold-out metrics drop under realistic input damage.

Perturbations act on the model's feature matrix (after the feature steps):

- ``noise``: gaussian noise of ``k x`` the training standard deviation on continuous features;
- ``swap``: a fraction of rows get another category in each categorical feature
  (one-hot groups and ordinal codes, known from the fitted feature steps);
- ``missing``: a fraction of continuous values become missing. Estimators that cannot
  take missing values get the training median instead (noted in the row).

Each row of the table is (perturbation, level, metric, before, after, drop); ``drop`` is
positive when the metric got worse. Clustering reports ``agreement``: the share of rows
that keep their cluster. The summary holds the worst drop per metric (``f1_drop``) and
per perturbation (``noise_f1_drop``) for promotion rules (``robustness.f1_drop <= 0.05``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict, Field

from lakegate.models._evaluate import score_predictions
from lakegate.models._tasks import Task, higher_is_better

if TYPE_CHECKING:
    import numpy as np

    from lakegate.models.trainers import FittedModel

__all__ = ["FeatureGroups", "RobustnessConfig", "RobustnessReport", "RobustnessRow", "assess_robustness"]


class RobustnessConfig(BaseModel):
    """``robustness:`` in a pipeline (``false`` turns it off)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    enabled: bool = True
    noise: list[float] = Field(default_factory=lambda: [0.1, 0.5, 1.0])
    swap: float = Field(0.1, ge=0, le=1)
    missing: float = Field(0.1, ge=0, le=1)
    seed: int = 0


class RobustnessRow(BaseModel):
    model_config = ConfigDict(frozen=True)

    perturbation: str
    level: float
    metric: str
    before: float | None
    after: float | None
    drop: float | None
    note: str = ""


class RobustnessReport(BaseModel):
    model_config = ConfigDict(frozen=True)

    rows: list[RobustnessRow] = Field(default_factory=list)
    summary: dict[str, float] = Field(default_factory=dict)
    notes: list[str] = Field(default_factory=list)


@dataclass(frozen=True)
class FeatureGroups:
    """Which feature indices get which perturbation."""

    continuous: list[int]
    one_hot: list[list[int]] = field(default_factory=list)
    ordinal: list[tuple[int, list[int]]] = field(default_factory=list)


def assess_robustness(
    model: FittedModel,
    x: np.ndarray,
    y: np.ndarray | None,
    *,
    task: Task,
    metrics: list[str],
    groups: FeatureGroups,
    train_std: np.ndarray,
    train_median: np.ndarray,
    config: RobustnessConfig,
    n_classes: int = 0,
) -> RobustnessReport:
    """The degradation table of ``model`` on the hold-out ``x``/``y``."""
    import numpy as np

    if not config.enabled or len(x) == 0:
        return RobustnessReport(notes=["robustness not assessed"])
    reference = model.predict_values(x)
    measure = ["agreement"] if task == "clustering" else list(metrics)

    def score(damaged: np.ndarray) -> dict[str, float | None]:
        values = model.predict_values(damaged)
        if task == "clustering":
            return {"agreement": float(np.mean(values == reference))}
        proba = model.predict_proba(damaged) if task == "classification" else None
        return score_predictions(
            task,
            measure,
            x=damaged,
            y=y,
            values=values,
            proba=proba,
            centers=None,
            n_classes=n_classes,
            seed=0,
        )

    before = score(x)
    rows: list[RobustnessRow] = []
    notes: list[str] = []
    rng = np.random.default_rng(config.seed)
    continuous = np.asarray(groups.continuous, dtype=np.int64)

    def add(perturbation: str, level: float, damaged: np.ndarray, note: str = "") -> None:
        after = score(damaged)
        for metric in measure:
            b, a = before.get(metric), after.get(metric)
            drop = None if a is None or b is None else (b - a if higher_is_better(metric) else a - b)
            rows.append(
                RobustnessRow(
                    perturbation=perturbation,
                    level=level,
                    metric=metric,
                    before=b,
                    after=a,
                    drop=drop,
                    note=note,
                )
            )

    if len(continuous):
        for k in config.noise:
            damaged = x.copy()
            scale = train_std[continuous] * k
            damaged[:, continuous] += rng.normal(size=(len(x), len(continuous))) * scale
            add("noise", k, damaged)
    elif config.noise:
        notes.append("noise: no continuous features")
    if config.swap > 0 and (groups.one_hot or groups.ordinal):
        add("swap", config.swap, _swap(x, groups, config.swap, rng))
    elif config.swap > 0:
        notes.append("swap: no categorical features")
    if config.missing > 0 and len(continuous):
        damaged = x.copy()
        mask = rng.random((len(x), len(continuous))) < config.missing
        block = damaged[:, continuous]
        note = ""
        if model.handles_missing:
            block[mask] = np.nan
        else:
            block[mask] = np.broadcast_to(train_median[continuous], block.shape)[mask]
            note = "imputed with training medians (the estimator takes no missing values)"
        damaged[:, continuous] = block
        add("missing", config.missing, damaged, note)
    elif config.missing > 0:
        notes.append("missing: no continuous features")
    return RobustnessReport(rows=rows, summary=_summary(rows), notes=notes)


def _swap(x: np.ndarray, groups: FeatureGroups, fraction: float, rng: Any) -> np.ndarray:
    import numpy as np

    damaged = x.copy()
    for columns in groups.one_hot:
        chosen = np.flatnonzero(rng.random(len(x)) < fraction)
        idx = np.asarray(columns)
        current = np.argmax(damaged[np.ix_(chosen, idx)], axis=1)
        # A different category: shift by 1..n-1 positions within the group.
        shifted = (current + rng.integers(1, len(idx), size=len(chosen))) % len(idx)
        damaged[np.ix_(chosen, idx)] = 0.0
        damaged[chosen, idx[shifted]] = 1.0
    for column, codes in groups.ordinal:
        chosen = np.flatnonzero(rng.random(len(x)) < fraction)
        values = np.asarray(codes, dtype=np.float64)
        current = damaged[chosen, column]
        position = np.searchsorted(values, current).clip(0, len(values) - 1)
        shifted = (position + rng.integers(1, len(values), size=len(chosen))) % len(values)
        damaged[chosen, column] = values[shifted]
    return damaged


def _summary(rows: list[RobustnessRow]) -> dict[str, float]:
    summary: dict[str, float] = {}
    for row in rows:
        if row.drop is None:
            continue
        for key in (f"{row.metric}_drop", f"{row.perturbation}_{row.metric}_drop"):
            summary[key] = max(summary.get(key, row.drop), row.drop)
    return summary
