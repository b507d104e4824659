"""Categorical drift (text and boolean columns) against a reference's category sketch.

The reference keeps exact counts for its 100 most frequent values plus ``other`` (the rest);
the batch is counted exactly. Both become vectors over (reference values, other):

- **chi-squared** test of homogeneity on the 2 x k table (p-value), **PSI** on the shares;
- **vanished** values: reference values absent from the batch (exact), with their share;
- **new** values: batch values the reference never had. Only knowable when the reference's
  ``other`` is 0 (every value is in the sketch); otherwise ``new_share`` is None and unseen
  values simply land in ``other``.

A text column whose sketch leaves half or more of the reference rows in ``other`` is free
text, not a category: it is skipped here (``high_cardinality``) and left to ``text_drift``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from lakegate.checks._drift_numeric import psi
from lakegate.checks._types import finite

__all__ = ["OTHER", "categorical_statistics", "is_high_cardinality", "reference_categories"]

OTHER = "(other)"
_LISTED = 10
_PLOTTED = 12


def reference_categories(profile: Mapping[str, Any]) -> tuple[dict[str, float], float] | None:
    """({value: count}, other) of a text or boolean reference column (None: no sketch)."""
    present = float(profile.get("rows", 0)) - float(profile.get("nulls", 0))
    if profile.get("kind") == "bool":
        true = float(profile.get("true") or 0)
        return {"true": true, "false": max(present - true, 0.0)}, 0.0
    sketch = profile.get("categories")
    if not sketch:
        return None
    return {str(k): float(v) for k, v in sketch.get("counts", {}).items()}, float(sketch.get("other") or 0)


def is_high_cardinality(profile: Mapping[str, Any]) -> bool:
    categories = reference_categories(profile)
    if categories is None:
        return False
    counts, other = categories
    total = sum(counts.values()) + other
    return total > 0 and other / total >= 0.5


def categorical_statistics(
    profile: Mapping[str, Any], current: Mapping[str, int], *, rows: int, nulls: int
) -> tuple[dict[str, Any], dict[str, Any] | None]:
    """(stats for ``DriftStats``, plot data for ``Distribution``) of one column."""
    categories = reference_categories(profile)
    stats: dict[str, Any] = {"rows_current": rows}
    present = rows - nulls
    if categories is None or present <= 0:
        return stats, None
    ref_counts, ref_other = categories
    keys = sorted(ref_counts, key=lambda k: (-ref_counts[k], k))
    ref_vec = np.array([ref_counts[k] for k in keys] + [ref_other])
    cur_vec = np.array([float(current.get(k, 0)) for k in keys] + [0.0])
    unseen = {k: n for k, n in current.items() if k not in ref_counts}
    cur_vec[-1] = float(sum(unseen.values()))
    ref_total, cur_total = ref_vec.sum(), cur_vec.sum()
    if ref_total <= 0 or cur_total <= 0:
        return stats, None
    ref_share, cur_share = ref_vec / ref_total, cur_vec / cur_total
    vanished = [k for k in keys if current.get(k, 0) == 0]
    stats |= {
        "psi": finite(psi(ref_share, cur_share)),
        "vanished_share": finite(sum(ref_counts[k] for k in vanished) / ref_total),
        "vanished_categories": tuple(vanished[:_LISTED]),
    }
    stats |= _chi2(ref_vec, cur_vec)
    if ref_other == 0:
        ranked_new = sorted(unseen, key=lambda k: (-unseen[k], k))
        stats["new_share"] = finite(cur_vec[-1] / cur_total)
        stats["new_categories"] = tuple(ranked_new[:_LISTED])
    return stats, _plot(keys, ref_share, cur_share, unseen, cur_total)


def _chi2(ref_vec: np.ndarray[Any, Any], cur_vec: np.ndarray[Any, Any]) -> dict[str, Any]:
    """Pearson's chi-squared test of homogeneity on the 2 x k table (as scipy's
    ``chi2_contingency``, Yates' correction at one degree of freedom included)."""
    used = (ref_vec + cur_vec) > 0
    if used.sum() < 2:
        return {"chi2": 0.0, "chi2_pvalue": 1.0}
    from scipy.special import chdtrc

    table = np.vstack([ref_vec[used], cur_vec[used]])
    expected = np.outer(table.sum(axis=1), table.sum(axis=0)) / table.sum()
    dof = table.shape[1] - 1
    gap = np.abs(table - expected)
    if dof == 1:
        gap = np.maximum(gap - 0.5, 0.0)
    statistic = float(np.sum(gap * gap / expected))
    return {"chi2": finite(statistic), "chi2_pvalue": finite(chdtrc(dof, statistic))}


def _plot(
    keys: list[str],
    ref_share: np.ndarray[Any, Any],
    cur_share: np.ndarray[Any, Any],
    unseen: Mapping[str, int],
    cur_total: float,
) -> dict[str, Any]:
    shown = keys[: _PLOTTED - 3]
    new = sorted(unseen, key=lambda k: (-unseen[k], k))[:2]
    labels = [*shown, *new]
    ref = [float(ref_share[i]) for i in range(len(shown))] + [0.0] * len(new)
    cur = [float(cur_share[i]) for i in range(len(shown))] + [unseen[k] / cur_total for k in new]
    labels.append(OTHER)
    ref.append(max(1.0 - sum(ref), 0.0))
    cur.append(max(1.0 - sum(cur), 0.0))
    return {
        "labels": tuple(labels),
        "reference": tuple(finite(v) or 0.0 for v in ref),
        "current": tuple(finite(v) or 0.0 for v in cur),
    }
