"""The ``completeness`` check: a column that was (nearly) always filled and is now often empty.

A null share jumping from about 0% to 40% is a broken upstream (a renamed source field, a
failed join), not the population moving: the drift check would only *warn* about it
(``null_pct_delta``). Here it fails by default (``null_share_jump``, severity ``fail``).

A column is flagged when its reference null share is at most ``reference_max`` percent and
its null share in the batch is at least ``reference + increase`` percentage points. The
reference side comes from the stored profile (never the reference data); the batch side from
the batch's own profile when ingest made one, otherwise from one ``null_count`` pass.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from lakegate.checks._config import CompletenessConfig
from lakegate.checks._context import CheckContext
from lakegate.checks._results import CheckResult, ColumnCompleteness, CompletenessDetails
from lakegate.checks._types import Reason, ReasonCode, finite

__all__ = ["compute_completeness", "null_counts"]


def null_counts(context: CheckContext, columns: list[str]) -> tuple[int, dict[str, int]]:
    """(rows, {column: nulls}) of the batch: from its profile when it covers ``columns``."""
    import polars as pl

    profile = context.current_profile
    if profile is not None and columns and all(name in profile for name in columns):
        first = profile[columns[0]]
        return int(first.get("rows", 0)), {name: int(profile[name].get("nulls", 0)) for name in columns}
    exprs = [pl.len().alias("\x00rows"), *(pl.col(name).null_count().alias(name) for name in columns)]
    row = context.current.select(exprs).collect().row(0, named=True)
    return int(row["\x00rows"]), {name: int(row[name]) for name in columns}


def _share(column: Mapping[str, Any]) -> float | None:
    rows = float(column.get("rows") or 0)
    return 100.0 * float(column.get("nulls") or 0) / rows if rows else None


def compute_completeness(config: CompletenessConfig, context: CheckContext) -> CheckResult:
    """Run the completeness check (pure: reads the batch's null counts, returns a result)."""
    if context.reference is None:
        reason = config.reason(ReasonCode.NO_REFERENCE, "no reference to compare null shares with")
        return config.result([reason])
    reference = context.reference.profile
    schema = context.current.collect_schema()
    wanted = config.columns if config.columns is not None else tuple(reference)
    columns = [n for n in wanted if n in schema and n in reference and n not in config.exclude]
    if not columns:
        return config.result([config.reason(ReasonCode.NOTHING_TO_CHECK, "no shared column to compare")])
    rows, nulls = null_counts(context, columns)
    if rows < config.min_rows:
        reason = config.reason(
            ReasonCode.TOO_FEW_ROWS, f"{rows} rows, fewer than min_rows={config.min_rows}", value=rows
        )
        return config.result([reason])
    reasons: list[Reason] = []
    results: list[ColumnCompleteness] = []
    for name in columns:
        before = _share(reference[name])
        now = 100.0 * nulls[name] / rows
        limit = None if before is None else before + config.increase
        jumped = before is not None and before <= config.reference_max and limit is not None and now >= limit
        results.append(
            ColumnCompleteness(
                column=name,
                null_pct_reference=finite(before),
                null_pct_current=finite(now),
                nulls=nulls[name],
                failed=jumped,
            )
        )
        if jumped:
            reasons.append(
                config.reason(
                    ReasonCode.NULL_SHARE_JUMP,
                    f"column {name!r} is null in {now:.1f}% of rows (reference {before:.1f}%)",
                    column=name,
                    value=finite(now),
                    threshold=finite(limit),
                )
            )
    details = CompletenessDetails(
        rows=rows,
        reference_max=config.reference_max,
        increase=config.increase,
        failed=tuple(c.column for c in results if c.failed),
        columns=tuple(results),
    )
    return config.result(reasons, details)
