"""Feature steps: pure, fit/transform-aware functions over polars LazyFrames.

Each step kind is a pydantic config (:data:`StepConfig`, tagged by ``kind``) plus an
implementation found through the lazy registry :data:`STEPS`. ``fit`` learns state
(categories, fill values, scales) at training; the state is stored with the model as
JSON and replayed by :class:`FeaturePipeline`, over a LazyFrame (batch) or over one row
as a dict (the online fast path, for row-wise steps).

Built-in kinds: ``select``, ``drop``, ``rename``, ``cast``, ``fill_nulls``, ``scale``,
``one_hot``, ``ordinal``, ``date_parts``, ``aggregate`` (per key and time window) and
``join`` (a lookup table from another input, stored
with the model) and ``custom`` (``"package.module:function"``).
"""

from lakegate.features._base import CategoricalGroup, Row, State, StepImpl
from lakegate.features._configs import (
    DTYPES,
    AggregateStep,
    CastStep,
    CustomStep,
    DatePartsStep,
    DropStep,
    FillNullsStep,
    JoinStep,
    OneHotStep,
    OrdinalStep,
    RenameStep,
    ScaleStep,
    SelectStep,
    StepConfig,
    TfidfStep,
    normalize_step,
)
from lakegate.features._pipeline import FeaturePipeline, FittedStep, step_name
from lakegate.features._registry import STEPS, step_impl

__all__ = [
    "DTYPES",
    "STEPS",
    "AggregateStep",
    "CastStep",
    "CategoricalGroup",
    "CustomStep",
    "DatePartsStep",
    "DropStep",
    "FeaturePipeline",
    "FillNullsStep",
    "FittedStep",
    "JoinStep",
    "OneHotStep",
    "OrdinalStep",
    "RenameStep",
    "Row",
    "ScaleStep",
    "SelectStep",
    "State",
    "StepConfig",
    "StepImpl",
    "TfidfStep",
    "normalize_step",
    "step_impl",
    "step_name",
]
