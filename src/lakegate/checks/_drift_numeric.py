"""Numeric drift from a reference sketch in one pass over the current batch.

The reference model is the sketch CDF (``_sketch``: 101 percentiles) refined by the
histogram's exact ``P(X < edge)`` at its 19 inner edges, which matters in the tails where
percentiles are far apart. For each column the current values are counted into the bins of
an evaluation grid ``G`` (polars ``hist``, O(n log |G|)): every model vertex ``v`` and the
float just below it (so both ``P(X <= v)`` and ``P(X < v)`` are exact for the batch), and the
float just below every histogram edge. With the batch's empirical CDF ``Fc`` exact on ``G``:

- **KS** ``D = max |Fc - Fr|`` over the model's vertices. Between vertices both CDFs are
  monotone, which gives a computed upper bound ``ks_upper``; the distance to the model lies in
  ``[D, ks_upper]`` and the model is within 0.01 + 1/n_ref of the reference's ECDF, so the
  distance to the real reference is ``D`` +/- (``ks_upper - D`` + 0.01 + 1/n_ref). p-value:
  asymptotic Kolmogorov with ``n_eff = n_ref n_cur / (n_ref + n_cur)`` (Stephens' correction).
- **Wasserstein-1** ``= integral |Fc - Fr| dx``: exact sums beyond the reference range
  (``E[(q0 - X)+]`` and ``E[(X - q100)+]``); inside it both CDFs are interpolated linearly
  between the model's vertices and the difference integrated exactly. Interpolating both the
  same way makes the model's own curvature error cancel for an unchanged distribution (W1 ~
  sampling noise); for a shifted one the error is second order in the vertex spacing
  (measured: 0.5195 vs exact 0.5182 for a 0.5 sd shift, 20k rows). Divided by the reference
  std (or IQR).
- **PSI** over the reference deciles (bins ``(q10k, q10(k+1)]``) or its 20 histogram bins,
  shares floored at 1e-4.
- mean and std shifts from exact current moments.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import numpy.typing as npt

from lakegate.checks._sketch import Floats, QuantileCDF
from lakegate.checks._types import finite

if TYPE_CHECKING:
    import polars as pl

__all__ = ["NumericPlan", "kolmogorov_sf", "numeric_plan", "psi"]

_FLOOR = 1e-4


def psi(reference: Floats, current: Floats) -> float:
    """Population stability index of two share vectors (shares floored at 1e-4)."""
    r = np.maximum(reference, _FLOOR)
    c = np.maximum(current, _FLOOR)
    return float(np.sum((c - r) * np.log(c / r)))


def _below(x: Floats) -> Floats:
    return np.nextafter(x, -np.inf)


@dataclass(frozen=True)
class NumericPlan:
    """What to ask polars for one column, and how to turn the answer into statistics."""

    name: str
    model: QuantileCDF
    grid: Floats
    edges: Floats
    ref_counts: Floats
    profile: Mapping[str, Any]
    knots: npt.NDArray[np.intp]

    def expressions(self, prefix: str, *, finite_only: bool = False) -> list[pl.Expr]:
        """Aggregates for one pass. The fast pass reads the column as is and counts non-finite
        values; only a column that has some is measured again with ``finite_only`` (filtering
        costs a copy of the column, ~3x the aggregates' time)."""
        import polars as pl

        x = pl.col(self.name).cast(pl.Float64)
        kept = x.filter(x.is_finite()) if finite_only else x
        lowest, highest = float(self.model.values[0]), float(self.model.values[-1])
        bins = [-math.inf, *self.grid.tolist(), math.inf]
        return [
            pl.col(self.name).null_count().alias(f"{prefix}nulls"),
            pl.len().alias(f"{prefix}rows"),
            (~x.is_finite()).sum().alias(f"{prefix}nonfinite"),
            kept.count().alias(f"{prefix}n"),
            kept.mean().alias(f"{prefix}mean"),
            kept.std().alias(f"{prefix}std"),
            (pl.lit(lowest) - kept.filter(kept < lowest)).sum().alias(f"{prefix}below"),
            (kept.filter(kept > highest) - pl.lit(highest)).sum().alias(f"{prefix}above"),
            kept.hist(bins=bins, include_breakpoint=False, include_category=False)
            .implode()
            .alias(f"{prefix}hist"),
        ]

    def statistics(
        self, row: Mapping[str, Any], prefix: str, *, scale_by: Literal["std", "iqr"], psi_bins: str
    ) -> tuple[dict[str, Any], dict[str, Any] | None]:
        """(stats for ``DriftStats``, plot data for ``Distribution``) from the query's row."""
        rows, n = int(row[f"{prefix}rows"]), int(row[f"{prefix}n"])
        ref = self.profile
        stats: dict[str, Any] = {
            "rows_current": rows,
            "mean_reference": finite(ref.get("mean")),
            "std_reference": finite(ref.get("std")),
            "mean_current": finite(row[f"{prefix}mean"]),
            "std_current": finite(row[f"{prefix}std"]),
        }
        if n == 0:
            return stats, None
        counts = np.asarray(row[f"{prefix}hist"], dtype=np.float64)
        fc = np.cumsum(counts)[:-1] / n  # P(X <= g) for every grid point
        # KS and W1 use the sketched values only: there the model and the batch's CDF are
        # interpolated the same way, so the model's curvature error cancels between them
        knots = self.grid[self.knots]
        fck, frk = fc[self.knots], self.model.at(knots)
        gaps = fck - frk
        ks = float(np.abs(gaps).max())
        n_ref = float(ref.get("rows", 0)) - float(ref.get("nulls", 0))
        w1 = _integral_abs(knots, gaps) + (float(row[f"{prefix}below"]) + float(row[f"{prefix}above"])) / n
        scale = self._scale(scale_by)
        stats |= {
            "ks": finite(ks),
            "ks_upper": finite(max(ks, _ks_upper(knots, fck, frk))),
            "ks_pvalue": finite(_ks_pvalue(ks, n_ref, n)),
            "wasserstein": finite(w1 / scale),
            "scale": finite(scale),
            "psi": finite(self._psi(fc, n, psi_bins)),
        }
        ref_mean, cur_mean = ref.get("mean"), row[f"{prefix}mean"]
        if ref_mean is not None and cur_mean is not None:
            stats["mean_shift"] = finite(abs(float(cur_mean) - float(ref_mean)) / scale)
        ref_std, cur_std = ref.get("std"), row[f"{prefix}std"]
        if ref_std is not None and cur_std is not None:
            a, b = float(ref_std), float(cur_std)
            stats["std_ratio"] = finite(1.0 if a == b else (max(a, b) / min(a, b) if min(a, b) > 0 else None))
        return stats, self._plot(fc, n)

    def _scale(self, scale_by: str) -> float:
        std = float(self.profile.get("std") or 0.0)
        q = self.profile.get("quantiles") or []
        iqr = float(q[75] - q[25]) if len(q) == 101 and q[75] is not None and q[25] is not None else 0.0
        first, second = (std, iqr) if scale_by == "std" else (iqr, std)
        return first if first > 0 else (second if second > 0 else 1.0)

    def _at(self, fc: Floats, points: Floats) -> Floats:
        """Fc at points that are on the grid."""
        return fc[np.searchsorted(self.grid, points)]

    def _psi(self, fc: Floats, n: int, psi_bins: str) -> float:
        if psi_bins == "histogram" and self.ref_counts.sum() > 0:
            return psi(self.ref_counts / self.ref_counts.sum(), self._plot_shares(fc))
        deciles = np.unique(self._decile_values())  # sketched values, so on the grid
        ref_cdf = np.concatenate([[0.0], self.model.at(deciles), [1.0]])
        cur_cdf = np.concatenate([[0.0], self._at(fc, deciles), [1.0]])
        return psi(np.diff(ref_cdf), np.diff(cur_cdf))

    def _decile_values(self) -> Floats:
        q = self.profile.get("quantiles") or []
        return np.array([q[i] for i in range(10, 100, 10) if i < len(q) and q[i] is not None], dtype=float)

    def _plot_shares(self, fc: Floats) -> Floats:
        inner = self.edges[1:-1]
        below = self._at(fc, _below(inner))  # P(X < e): the reference bins are left-closed
        cdf = np.concatenate([[0.0], below, [1.0]])
        return np.diff(cdf)

    def _plot(self, fc: Floats, n: int) -> dict[str, Any] | None:
        if self.ref_counts.sum() <= 0:
            return None
        return {
            "edges": tuple(finite(e) or 0.0 for e in self.edges),
            "reference": tuple(finite(v) or 0.0 for v in self.ref_counts / self.ref_counts.sum()),
            "current": tuple(finite(v) or 0.0 for v in self._plot_shares(fc)),
        }


def _integral_abs(x: Floats, d: Floats) -> float:
    """Integral of |d| for d linear between the points ``x`` (exact, sign changes included)."""
    a, b, width = d[:-1], d[1:], np.diff(x)
    same = a * b >= 0
    total = np.abs(a) + np.abs(b)
    crossing = np.divide(a * a + b * b, total, out=np.zeros_like(total), where=total > 0)
    return float(np.sum(width * np.where(same, total, crossing)) / 2)


def _ks_upper(x: Floats, fc: Floats, fr: Floats) -> float:
    """Largest |Fc - Fr| possible inside the cells between points (both CDFs are monotone).

    Cells with no float strictly inside (``x`` and the float just below the next) are skipped.
    """
    open_cells = np.nextafter(x[:-1], np.inf) < x[1:]
    bound = np.maximum(fc[1:] - fr[:-1], fr[1:] - fc[:-1])
    return float(np.max(bound[open_cells], initial=0.0))


def kolmogorov_sf(x: float) -> float:
    """P(K > x) for the Kolmogorov distribution (the limit of sqrt(n) D_n).

    Two classic series, each used where it converges in a few terms (as scipy's ``kolmogorov``,
    without importing scipy for it): Jacobi's theta form below 1.18, the alternating one above.
    """
    if x <= 0:
        return 1.0
    if x < 1.18:
        y = math.pi * math.pi / (8 * x * x)
        cdf = math.sqrt(2 * math.pi) / x * sum(math.exp(-((2 * k - 1) ** 2) * y) for k in range(1, 12))
        return min(max(1.0 - cdf, 0.0), 1.0)
    tail = 2.0 * sum((-1.0) ** (k - 1) * math.exp(-2.0 * k * k * x * x) for k in range(1, 12))
    return min(tail, 1.0)


def _ks_pvalue(d: float, n_ref: float, n_cur: int) -> float | None:
    if n_ref <= 0 or n_cur <= 0:
        return None
    en = math.sqrt(n_ref * n_cur / (n_ref + n_cur))
    return kolmogorov_sf((en + 0.12 + 0.11 / en) * d)


def numeric_plan(name: str, profile: Mapping[str, Any]) -> NumericPlan | None:
    """The plan for a sketched numeric column (None when the reference has no sketch)."""
    model = QuantileCDF.from_quantiles(profile.get("quantiles") or [])
    if model is None:
        return None
    histogram = profile.get("histogram") or {}
    edges = np.asarray(histogram.get("edges") or [], dtype=np.float64)
    ref_counts = np.asarray(histogram.get("counts") or [], dtype=np.float64)
    if len(edges) != len(ref_counts) + 1 or not np.all(np.isfinite(edges)):
        edges, ref_counts = np.zeros(0), np.zeros(0)
    if len(edges) > 2 and ref_counts.sum() > 0 and histogram.get("exact", True):
        # the histogram's counts are exact: P(X < edge) pins the model down between the
        # sketched percentiles, where it matters most (the 1 % tails are wide)
        model = model.with_left_limits(edges[1:-1], np.cumsum(ref_counts)[:-1] / ref_counts.sum())
    v = model.values
    knots = np.unique(np.concatenate([v, _below(v)]))
    grid = np.unique(np.concatenate([knots, _below(edges[1:-1]) if len(edges) > 2 else np.zeros(0)]))
    return NumericPlan(
        name=name,
        model=model,
        grid=grid,
        edges=edges,
        ref_counts=ref_counts,
        profile=profile,
        knots=np.searchsorted(grid, knots),
    )
