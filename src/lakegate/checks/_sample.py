"""Deterministic row sampling by hashing row positions.

Row ``i`` (0-based position in the frame) gets the key ``h(i) = mix64(seed + (i + 1) * G)``:
the ``(i+1)``-th output of SplitMix64 seeded with ``seed`` (``G = 0x9E3779B97F4A7C15``,
``mix64`` is SplitMix64's finaliser; all arithmetic modulo 2**64). A sample of ``n`` rows is
the ``n`` rows with the smallest keys, returned in their original order. So:

- the same frame, ``n`` and ``seed`` give the same rows on any machine and any library
  version (the keys are a fixed integer formula, not a library RNG stream or a polars hash);
- samples are nested: the 1,000-row sample is part of the 5,000-row sample;
- the cost is one pass over the positions in 4M-row chunks plus one filtered scan of the
  frame, with memory O(n + chunk), whatever the frame's size.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Final

import numpy as np
import numpy.typing as npt

from lakegate.checks._frame import row_count

if TYPE_CHECKING:
    import polars as pl

__all__ = ["ROW_COLUMN", "hash_keys", "reference_sample", "sample_positions", "sample_rows"]

ROW_COLUMN: Final = "__lakegate_row__"
_GOLDEN: Final = np.uint64(0x9E3779B97F4A7C15)
_MIX1: Final = np.uint64(0xBF58476D1CE4E5B9)
_MIX2: Final = np.uint64(0x94D049BB133111EB)
_CHUNK: Final = 1 << 22
_MASK: Final = (1 << 64) - 1


def hash_keys(positions: npt.NDArray[np.uint64], seed: int) -> npt.NDArray[np.uint64]:
    """SplitMix64 keys of row positions (see the module docstring)."""
    with np.errstate(over="ignore"):
        z = np.uint64(seed & _MASK) + (positions + np.uint64(1)) * _GOLDEN
        z = (z ^ (z >> np.uint64(30))) * _MIX1
        z = (z ^ (z >> np.uint64(27))) * _MIX2
        return z ^ (z >> np.uint64(31))


def sample_positions(total: int, n: int, seed: int = 0) -> npt.NDArray[np.int64]:
    """Sorted positions of the ``n`` rows (of ``total``) with the smallest hash keys."""
    if n >= total:
        return np.arange(total, dtype=np.int64)
    if n <= 0:
        return np.zeros(0, dtype=np.int64)
    best_keys = np.zeros(0, dtype=np.uint64)
    best_rows = np.zeros(0, dtype=np.uint64)
    for start in range(0, total, _CHUNK):
        rows = np.arange(start, min(start + _CHUNK, total), dtype=np.uint64)
        keys = np.concatenate([best_keys, hash_keys(rows, seed)])
        rows = np.concatenate([best_rows, rows])
        if len(keys) > n:
            keep = np.argpartition(keys, n - 1)[:n]
            keys, rows = keys[keep], rows[keep]
        best_keys, best_rows = keys, rows
    return np.sort(best_rows.astype(np.int64))


def sample_rows(
    frame: pl.LazyFrame | pl.DataFrame, n: int, *, seed: int = 0, keep_position: bool = False
) -> pl.DataFrame:
    """At most ``n`` rows of ``frame`` chosen by hash key; ``keep_position`` adds ``ROW_COLUMN``."""
    import polars as pl

    lazy = frame.lazy()
    total = row_count(lazy)
    positions = sample_positions(total, n, seed)
    indexed = lazy.with_row_index(ROW_COLUMN)
    if len(positions) < total:
        wanted = pl.Series(ROW_COLUMN, positions, dtype=pl.get_index_type())
        indexed = indexed.filter(pl.col(ROW_COLUMN).is_in(wanted.implode()))
    sample = indexed.collect()
    return sample if keep_position else sample.drop(ROW_COLUMN)


def reference_sample(frame: pl.LazyFrame | pl.DataFrame, n: int = 5000, *, seed: int = 0) -> pl.DataFrame:
    """The bounded sample of an accepted version to store next to its profile (for the
    anomaly and text-drift checks): ``n`` rows chosen by hash key, in their original order.

    Store it at ingest time (e.g. ``sample.write_parquet(version_dir / "sample.parquet")``)
    and pass it back as ``Reference(..., sample=pl.read_parquet(...))``.
    """
    return sample_rows(frame, n, seed=seed)
