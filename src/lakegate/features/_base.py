"""What a feature step implements: fit (learn state) -> transform (frame) -> transform_row (dict).

``fit`` checks the columns it needs and returns JSON-able state (categories, fill values,
scales) that is stored with the model, so prediction applies exactly the training
encoding. ``transform`` is lenient about absent columns that are not features (the
target is absent at prediction). ``transform_row`` is the pure-Python single-row path the
online predictor uses instead of polars; steps that change the row grain (aggregate) or
run arbitrary code (custom) have none.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar, Generic, TypeVar

from pydantic import BaseModel

from lakegate.errors import PipelineError

if TYPE_CHECKING:
    import polars as pl

__all__ = ["CategoricalGroup", "Row", "State", "StepImpl", "require_columns"]

Row = dict[str, Any]
State = dict[str, Any]
C = TypeVar("C", bound=BaseModel)


@dataclass(frozen=True)
class CategoricalGroup:
    """Model features that encode one categorical column (used for category-swap robustness).

    One-hot: ``columns`` are the 0/1 columns (``codes`` empty). Ordinal: one column and its codes.
    """

    source: str
    columns: tuple[str, ...]
    codes: tuple[int, ...] = field(default=())


class StepImpl(Generic[C]):
    """Base class of step implementations; ``config`` is the step's validated pydantic model."""

    row_wise: ClassVar[bool] = True

    def __init__(self, config: C) -> None:
        self.config = config

    def fit(self, frame: pl.LazyFrame) -> State:
        """Learn state from the training frame (and check the columns exist)."""
        return {}

    def transform(self, frame: pl.LazyFrame, state: State) -> pl.LazyFrame:  # pragma: no cover - abstract
        raise NotImplementedError

    def transform_row(self, row: Row, state: State) -> Row:
        """Apply the step to one row in place (only when ``row_wise``)."""
        raise NotImplementedError(f"{type(self).__name__} has no single-row path")

    def groups(self, state: State) -> list[CategoricalGroup]:
        """Categorical encodings this step produced (for robustness category swaps)."""
        return []

    def code_version(self) -> str:
        """Part of the cache key: changes when the step's code (custom) or side input (join) changes."""
        return ""

    def bind(self, inputs: Mapping[str, tuple[pl.LazyFrame, str]]) -> None:
        """Give the step the pipeline's other inputs (name -> (frame, fingerprint)) before ``fit``."""


def require_columns(frame: pl.LazyFrame, columns: list[str] | tuple[str, ...], step: str) -> dict[str, Any]:
    """Return the frame's schema, or raise ``PipelineError`` naming the missing columns."""
    schema = dict(frame.collect_schema())
    missing = [column for column in columns if column not in schema]
    if missing:
        raise PipelineError(
            f"step {step}: no column {', '.join(repr(m) for m in missing)} "
            f"(available: {', '.join(schema) or 'none'})",
            detail={"step": step, "missing": missing, "available": list(schema)},
        )
    return schema
