"""What every check computes over: the current batch, the reference, the batch's profile."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from lakegate.checks._reference import Reference

if TYPE_CHECKING:
    import polars as pl

__all__ = ["CheckContext"]


@dataclass(frozen=True)
class CheckContext:
    """Inputs of one check run. ``current_profile`` (from ingest) saves the schema check a pass."""

    current: pl.LazyFrame
    reference: Reference | None = None
    current_profile: Mapping[str, Mapping[str, Any]] | None = None
