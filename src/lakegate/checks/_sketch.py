"""The reference CDF a stored quantile sketch implies, and the statistics it supports.

A profile keeps 101 nearest-rank quantiles ``q[i]`` (i = 0..100 %). The model CDF is:

- at a sketched value ``v``: ``F(v) = max{i : q[i] = v} / 100`` and its left limit
  ``F(v-) = min{i : q[i] = v} / 100`` (repeated quantiles are an atom: ties, discrete data);
- linear between consecutive distinct sketched values; 0 below ``q[0]``, 1 from ``q[100]``.

Between two consecutive distinct sketched values the model rises by exactly 0.01, and the
true reference CDF rises by 0.01 (+/- 1/n_ref from nearest-rank rounding) over the same
interval, so the model is within ~0.01 + 1/n_ref of the reference's empirical CDF everywhere.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

__all__ = ["QuantileCDF"]

Floats = npt.NDArray[np.float64]


@dataclass(frozen=True)
class QuantileCDF:
    """Piecewise-linear CDF with atoms: distinct ``values`` and ``F`` just below (``lo``) and at (``hi``)."""

    values: Floats
    lo: Floats
    hi: Floats

    @classmethod
    def from_quantiles(cls, quantiles: Sequence[float | None]) -> QuantileCDF | None:
        """The model of a profile's ``quantiles`` list (None: nothing finite to model)."""
        points = [(float(v), i / (len(quantiles) - 1)) for i, v in enumerate(quantiles) if v is not None]
        points = [(v, p) for v, p in points if np.isfinite(v)]
        if not points:
            return None
        values = np.array([v for v, _ in points])
        percents = np.array([p for _, p in points])
        distinct, first = np.unique(values, return_index=True)
        last = len(values) - 1 - np.unique(values[::-1], return_index=True)[1]
        lo, hi = percents[first], percents[last]
        hi[-1] = 1.0  # q[100] is the maximum: nothing lies above it
        return cls(values=distinct, lo=lo, hi=hi)

    def with_left_limits(self, points: Floats, below: Floats) -> QuantileCDF:
        """The model refined by exact ``P(X < point)`` values (a histogram's inner edges).

        A point between sketched values becomes a new vertex; on a sketched value it fixes
        that value's left limit. Monotonicity is restored where nearest-rank rounding of the
        quantiles (1/n) disagrees with the exact counts.
        """
        keep = (points > self.values[0]) & (points < self.values[-1]) & np.isfinite(points)
        points, below = points[keep], below[keep]
        values = np.union1d(self.values, points)
        lo, hi = self.left(values), self.at(values)
        where = np.searchsorted(values, points)
        on_sketch = np.isin(points, self.values)
        lo[where] = below
        hi[where[~on_sketch]] = below[~on_sketch]
        hi = np.maximum(hi, lo)
        _, fs = QuantileCDF(values=values, lo=lo, hi=hi).polyline()
        fs = np.maximum.accumulate(fs)
        return QuantileCDF(values=values, lo=fs[0::2], hi=fs[1::2])

    def at(self, x: Floats) -> Floats:
        """F(x) = P(X <= x) under the model."""
        return self._eval(x, left=False)

    def left(self, x: Floats) -> Floats:
        """F(x-) = P(X < x) under the model."""
        return self._eval(x, left=True)

    def _eval(self, x: Floats, *, left: bool) -> Floats:
        v, lo, hi = self.values, self.lo, self.hi
        x = np.asarray(x, dtype=np.float64)
        k = np.searchsorted(v, x, side="right") - 1  # last sketched value <= x
        out = np.zeros(x.shape, dtype=np.float64)
        inside = k >= 0
        kk = np.clip(k, 0, len(v) - 1)
        exact = inside & (v[kk] == x)
        out[exact] = (lo if left else hi)[kk[exact]]
        between = inside & ~exact
        last = between & (kk == len(v) - 1)
        out[last] = 1.0
        mid = between & ~last
        k0 = kk[mid]
        x0, x1 = v[k0], v[k0 + 1]
        f0, f1 = hi[k0], lo[k0 + 1]
        out[mid] = f0 + (x[mid] - x0) / (x1 - x0) * (f1 - f0)
        return out

    def polyline(self) -> tuple[Floats, Floats]:
        """(x, F) vertices in order; vertical steps at atoms."""
        xs = np.repeat(self.values, 2)
        fs = np.empty(len(xs))
        fs[0::2], fs[1::2] = self.lo, self.hi
        return xs, fs

    def quantile(self, p: Floats) -> Floats:
        """Smallest x with F(x) >= p under the model (linear inside segments)."""
        xs, fs = self.polyline()
        p = np.asarray(p, dtype=np.float64)
        j = np.clip(np.searchsorted(fs, p, side="left"), 0, len(fs) - 1)
        prev = np.clip(j - 1, 0, len(fs) - 1)
        rise = fs[j] - fs[prev]
        frac = np.where(rise > 0, (p - fs[prev]) / np.where(rise > 0, rise, 1.0), 1.0)
        frac = np.clip(frac, 0.0, 1.0)
        return np.where(j == 0, xs[0], xs[prev] + frac * (xs[j] - xs[prev]))


def mixture(models: Sequence[QuantileCDF], masses: Sequence[float]) -> QuantileCDF:
    """The model of a weighted mixture: exact for the component models (linear between knots)."""
    values = np.unique(np.concatenate([m.values for m in models]))
    total = float(sum(masses))
    lo = sum(w * m.left(values) for m, w in zip(models, masses, strict=True)) / total
    hi = sum(w * m.at(values) for m, w in zip(models, masses, strict=True)) / total
    return QuantileCDF(values=values, lo=np.asarray(lo), hi=np.asarray(hi))
