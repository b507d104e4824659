"""The reference a batch is checked against: stored profiles (sketches), optionally a sample.

Checks never read the reference data. A window of the last N versions is one merged
profile (:func:`merge_profiles`): each version counts with its rows times its weight.

Merging is exact for counts, nulls, min/max, ``true`` and mean; the std is pooled (law of
total variance); quantiles are those of the weighted mixture of the versions' sketch CDFs
(see ``_sketch``); histograms are re-binned onto 20 equal bins over the merged range,
assuming values spread evenly inside each source bin; categories add up, but a value that
was in one version's top 100 and in another's ``other`` is undercounted by the latter.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from lakegate.checks._sketch import QuantileCDF, mixture
from lakegate.errors import InputError

if TYPE_CHECKING:
    import polars as pl

__all__ = ["Profile", "Reference", "merge_profiles"]

Profile = Mapping[str, Mapping[str, Any]]
_QUANTILES = np.linspace(0.0, 1.0, 101)
_BINS = 20
_CATEGORIES = 100
_TOP = 20


@dataclass(frozen=True)
class Reference:
    """What the current batch is compared with.

    ``profile`` is one version's profile (``lakegate.lake.profile_parquet``) or several merged;
    ``sample`` a bounded sample of reference rows (:func:`reference_sample`) for the anomaly
    and text-drift checks; ``versions`` labels the reference in reports.
    """

    profile: Profile
    sample: pl.DataFrame | None = None
    versions: tuple[str, ...] = field(default=())

    @classmethod
    def from_profiles(
        cls,
        profiles: Sequence[Profile],
        *,
        weights: Sequence[float] | None = None,
        samples: Sequence[pl.DataFrame] = (),
        versions: Sequence[str] = (),
    ) -> Reference:
        """A window of versions: profiles merged (weighted), samples concatenated."""
        sample = None
        if samples:
            import polars as pl

            sample = pl.concat(list(samples), how="diagonal_relaxed")
        return cls(profile=merge_profiles(profiles, weights=weights), sample=sample, versions=tuple(versions))

    @property
    def rows(self) -> int:
        first = next(iter(self.profile.values()), None)
        return int(first["rows"]) if first else 0


def merge_profiles(profiles: Sequence[Profile], *, weights: Sequence[float] | None = None) -> dict[str, Any]:
    """One profile for a window of versions (oldest first); a column takes the latest kind."""
    if not profiles:
        raise InputError("no reference profiles to merge")
    weights = list(weights) if weights is not None else [1.0] * len(profiles)
    if len(weights) != len(profiles) or any(not (w > 0 and math.isfinite(w)) for w in weights):
        raise InputError("weights must be positive numbers, one per profile")
    if len(profiles) == 1 and weights[0] == 1.0:
        return {name: dict(column) for name, column in profiles[0].items()}
    names = list(dict.fromkeys(name for profile in profiles for name in profile))
    merged: dict[str, Any] = {}
    for name in names:
        entries = [(p[name], w) for p, w in zip(profiles, weights, strict=True) if name in p]
        latest = entries[-1][0]
        merged[name] = _merge_column([(c, w) for c, w in entries if c.get("kind") == latest.get("kind")])
    return merged


def _number(value: float) -> float | int:
    return int(value) if float(value).is_integer() else round(float(value), 6)


def _merge_column(entries: list[tuple[Mapping[str, Any], float]]) -> dict[str, Any]:
    latest = entries[-1][0]
    out: dict[str, Any] = {"kind": latest.get("kind"), "dtype": latest.get("dtype")}
    rows = sum(w * c.get("rows", 0) for c, w in entries)
    nulls = sum(w * c.get("nulls", 0) for c, w in entries)
    out["rows"], out["nulls"] = round(rows), round(nulls)
    out["null_pct"] = round(100 * nulls / rows, 4) if rows else 0.0
    distinct = [c["distinct"] for c, _ in entries if c.get("distinct") is not None]
    if distinct:
        out["distinct"] = max(distinct)
    kind = out["kind"]
    if kind in {"numeric", "temporal"}:
        lows = [c["min"] for c, _ in entries if c.get("min") is not None]
        highs = [c["max"] for c, _ in entries if c.get("max") is not None]
        out["min"], out["max"] = (min(lows) if lows else None), (max(highs) if highs else None)
    if kind == "numeric":
        _merge_numeric(entries, out)
    elif kind == "bool":
        out["true"] = _number(sum(w * (c.get("true") or 0) for c, w in entries))
    elif kind == "text":
        _merge_categories(entries, out)
    return out


def _present(column: Mapping[str, Any]) -> float:
    return float(column.get("rows", 0)) - float(column.get("nulls", 0))


def _merge_numeric(entries: list[tuple[Mapping[str, Any], float]], out: dict[str, Any]) -> None:
    moments = [(w * _present(c), c) for c, w in entries if c.get("mean") is not None and _present(c) > 0]
    mass = sum(m for m, _ in moments)
    if mass > 0:
        mean = sum(m * float(c["mean"]) for m, c in moments) / mass
        second = sum(m * (float(c.get("std") or 0.0) ** 2 + float(c["mean"]) ** 2) for m, c in moments) / mass
        out["mean"], out["std"] = mean, math.sqrt(max(second - mean * mean, 0.0))
    sketched = [
        (w * _present(c), QuantileCDF.from_quantiles(c["quantiles"]))
        for c, w in entries
        if c.get("quantiles")
    ]
    models = [(m, model) for m, model in sketched if model is not None and m > 0]
    if models:
        merged = mixture([model for _, model in models], [m for m, _ in models])
        out["quantiles"] = [float(v) for v in merged.quantile(_QUANTILES)]
    histograms = [(w, c["histogram"]) for c, w in entries if c.get("histogram")]
    if histograms and out.get("min") is not None and out.get("max") is not None:
        out["histogram"] = _rebin(histograms, float(out["min"]), float(out["max"]))


def _rebin(histograms: list[tuple[float, Mapping[str, Any]]], low: float, high: float) -> dict[str, Any]:
    width = (high - low) / _BINS or 1.0
    edges = np.array([low + i * width for i in range(_BINS + 1)])
    counts = np.zeros(_BINS)
    for weight, histogram in histograms:
        source = np.asarray(histogram["edges"], dtype=np.float64)
        for j, count in enumerate(histogram["counts"]):
            a, b = source[j], source[j + 1]
            overlap = np.clip(np.minimum(edges[1:], b) - np.maximum(edges[:-1], a), 0.0, None)
            share = overlap / (b - a) if b > a else np.zeros(_BINS)
            if share.sum() == 0:  # an empty-width bin, or rounding at the ends: nearest bin
                share = np.zeros(_BINS)
                share[int(np.clip((a - low) // width, 0, _BINS - 1))] = 1.0
            counts += weight * count * share / share.sum()
    # "exact": False tells drift not to treat these re-binned counts as exact CDF values
    return {"edges": [float(e) for e in edges], "counts": [_number(c) for c in counts], "exact": False}


def _merge_categories(entries: list[tuple[Mapping[str, Any], float]], out: dict[str, Any]) -> None:
    totals: dict[str, float] = {}
    present = 0.0
    for column, weight in entries:
        present += weight * _present(column)
        for value, count in (column.get("categories") or {}).get("counts", {}).items():
            totals[value] = totals.get(value, 0.0) + weight * count
    if not totals:
        return
    ranked = sorted(totals.items(), key=lambda item: (-item[1], item[0]))[:_CATEGORIES]
    kept = {value: _number(count) for value, count in ranked}
    out["categories"] = {"counts": kept, "other": _number(max(present - sum(c for _, c in ranked), 0.0))}
    out["top"] = [{"value": v, "count": c} for v, c in list(kept.items())[:_TOP]]
