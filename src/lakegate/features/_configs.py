"""The typed configuration of every built-in feature step (light: pydantic only).

A pipeline's ``steps:`` list is validated against :data:`StepConfig`, a union tagged by
``kind``. YAML may also use the short form ``- one_hot: {columns: [city]}`` (the key is
the kind) or ``- select: [a, b]`` (a list fills the step's main field); :func:`normalize_step`
turns both into the long form before validation.
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Final, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

__all__ = [
    "DTYPES",
    "AggregateStep",
    "CastStep",
    "CustomStep",
    "DatePartsStep",
    "DropStep",
    "FillNullsStep",
    "JoinStep",
    "OneHotStep",
    "OrdinalStep",
    "RenameStep",
    "ScaleStep",
    "SelectStep",
    "StepConfig",
    "TfidfStep",
    "normalize_step",
]

DType = Literal["int", "float", "str", "bool", "date", "datetime"]
DTYPES: Final[tuple[str, ...]] = ("int", "float", "str", "bool", "date", "datetime")
FillStrategy = Literal["mean", "median", "mode", "min", "max"]
FILL_STRATEGIES: Final = frozenset({"mean", "median", "mode", "min", "max"})
Aggregation = Literal["mean", "std", "min", "max", "sum", "median", "count", "first", "last", "n_unique"]
DatePart = Literal[
    "year", "quarter", "month", "week", "day", "weekday", "dayofyear", "is_weekend", "hour", "minute"
]
_DOTTED_FUNCTION = re.compile(r"^[A-Za-z_][\w.]*:[A-Za-z_]\w*$")


class _Step(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str | None = Field(
        None, pattern=r"^[A-Za-z0-9_\-]{1,64}$", description="Folder name of the output."
    )


class SelectStep(_Step):
    """Keep only these columns, in this order."""

    kind: Literal["select"] = "select"
    columns: list[str] = Field(min_length=1)


class DropStep(_Step):
    """Drop these columns (absent ones are ignored)."""

    kind: Literal["drop"] = "drop"
    columns: list[str] = Field(min_length=1)


class RenameStep(_Step):
    """Rename columns: ``{old: new}``."""

    kind: Literal["rename"] = "rename"
    columns: dict[str, str] = Field(min_length=1)


class CastStep(_Step):
    """Cast columns to ``int``, ``float``, ``str``, ``bool``, ``date`` or ``datetime`` (strict)."""

    kind: Literal["cast"] = "cast"
    columns: dict[str, DType] = Field(min_length=1)


class FillNullsStep(_Step):
    """Fill missing values (and NaN) per column.

    A value is a literal, or a strategy learned at training and stored with the model:
    ``mean``, ``median``, ``min``, ``max`` (numeric) or ``mode`` (any). To fill with the
    literal text "mean", write ``{value: mean}``.
    """

    kind: Literal["fill_nulls"] = "fill_nulls"
    values: dict[str, int | float | str | bool | dict[str, int | float | str | bool]] = Field(min_length=1)

    @field_validator("values")
    @classmethod
    def _literal_objects(cls, values: dict[str, Any]) -> dict[str, Any]:
        for column, value in values.items():
            if isinstance(value, dict) and set(value) != {"value"}:
                raise ValueError(f"{column}: write a literal fill as {{value: ...}}")
        return values


class ScaleStep(_Step):
    """Standardize (``(x - mean) / std``) or min-max scale numeric columns, learned at training."""

    kind: Literal["scale"] = "scale"
    columns: list[str] = Field(min_length=1)
    method: Literal["standard", "minmax"] = "standard"


class OneHotStep(_Step):
    """One 0/1 column per category learned at training (the ``max_categories`` most frequent).

    Unseen categories, rarer ones and nulls get all zeros.
    """

    kind: Literal["one_hot"] = "one_hot"
    columns: list[str] = Field(min_length=1)
    max_categories: int = Field(20, ge=1, le=1000)
    drop_original: bool = True


class OrdinalStep(_Step):
    """Integer codes per category (sorted, or the given ``order``); unseen and null get ``unknown_value``."""

    kind: Literal["ordinal"] = "ordinal"
    columns: list[str] = Field(min_length=1)
    order: dict[str, list[str]] = Field(default_factory=dict)
    unknown_value: int = -1


class TfidfStep(_Step):
    """TF-IDF weights of a text column's words, learned at training (scikit-learn's vectoriser).

    One float column per term of the learned vocabulary (``<column>_tfidf_<i>``), the
    ``max_features`` most frequent terms seen in at least ``min_df`` rows; with a linear model
    (``logistic_regression``) this is a text classifier.
    """

    kind: Literal["tfidf"] = "tfidf"
    columns: list[str] = Field(min_length=1)
    max_features: int = Field(300, ge=1, le=5000)
    min_df: int = Field(2, ge=1)
    ngrams: int = Field(1, ge=1, le=3, description="Up to this many words per term.")
    lowercase: bool = True
    drop_original: bool = True


def _default_parts() -> list[DatePart]:
    return ["year", "month", "day", "weekday"]


class DatePartsStep(_Step):
    """Calendar parts of date/datetime columns as ``<column>_<part>`` (weekday: Monday = 1)."""

    kind: Literal["date_parts"] = "date_parts"
    columns: list[str] = Field(min_length=1)
    parts: list[DatePart] = Field(default_factory=_default_parts, min_length=1)
    drop_original: bool = True


class AggregateStep(_Step):
    """Aggregate rows per key and time window: ``<column>_<agg>`` plus a ``count`` column.

    ``every``/``period`` are polars durations ("1h", "1d", "1w"); windows start at the
    window boundary and are labelled by their start in the ``time`` column.
    """

    kind: Literal["aggregate"] = "aggregate"
    by: list[str] = Field(default_factory=list)
    time: str
    every: str = Field(pattern=r"^(\d+(ns|us|ms|s|m|h|d|w|mo|q|y))+$")
    period: str | None = Field(None, pattern=r"^(\d+(ns|us|ms|s|m|h|d|w|mo|q|y))+$")
    aggs: dict[str, list[Aggregation]] = Field(min_length=1)
    count: bool = True


class JoinStep(_Step):
    """Left-join columns of another pipeline input on a key (a lookup / dimension table).

    The joined table (at most ``max_rows`` rows, one per key) is stored with the model,
    so prediction enriches records the same way without the dataset.
    """

    kind: Literal["join"] = "join"
    input: str
    key: list[str] = Field(min_length=1, description="Join columns (present on both sides).")
    columns: list[str] | None = Field(None, description="Columns to bring (default: all but the key).")
    max_rows: int = Field(100_000, ge=1, le=1_000_000)

    @model_validator(mode="before")
    @classmethod
    def _yaml_on(cls, data: Any) -> Any:
        # YAML 1.1 reads a bare ``on:`` key as the boolean true; accept it (and "on") as ``key``.
        if isinstance(data, dict):
            for spelling in (True, "on"):
                if spelling in data and "key" not in data:
                    data = {("key" if k == spelling else k): v for k, v in data.items()}
        return data

    @field_validator("key", mode="before")
    @classmethod
    def _one_key(cls, value: Any) -> Any:
        return [value] if isinstance(value, str) else value


class CustomStep(_Step):
    """A Python function ``LazyFrame -> LazyFrame`` named ``"package.module:function"``.

    ``params`` are passed as keyword arguments. Custom steps run through polars at
    prediction time too (no single-row fast path).
    """

    kind: Literal["custom"] = "custom"
    function: str
    params: dict[str, Any] = Field(default_factory=dict)

    @field_validator("function")
    @classmethod
    def _dotted(cls, value: str) -> str:
        if not _DOTTED_FUNCTION.match(value):
            raise ValueError("must look like 'package.module:function'")
        return value


StepConfig = Annotated[
    SelectStep
    | DropStep
    | RenameStep
    | CastStep
    | FillNullsStep
    | ScaleStep
    | OneHotStep
    | OrdinalStep
    | DatePartsStep
    | TfidfStep
    | AggregateStep
    | JoinStep
    | CustomStep,
    Field(discriminator="kind"),
]

# The field a bare list (``- select: [a, b]``) or string (``- custom: pkg.mod:fn``) fills.
_MAIN_FIELD: Final[dict[str, str]] = {
    "select": "columns",
    "drop": "columns",
    "rename": "columns",
    "cast": "columns",
    "fill_nulls": "values",
    "scale": "columns",
    "one_hot": "columns",
    "ordinal": "columns",
    "date_parts": "columns",
    "tfidf": "columns",
    "custom": "function",
}


def normalize_step(raw: Any) -> Any:
    """Turn ``{one_hot: {...}, name: x}`` / ``{select: [..]}`` into ``{kind: one_hot, ...}``.

    Anything it does not recognise is returned unchanged for pydantic to report.
    """
    if not isinstance(raw, dict) or "kind" in raw:
        return raw
    keys = [key for key in raw if key != "name"]
    if len(keys) != 1:
        return raw
    kind = keys[0]
    body = raw[kind]
    if isinstance(body, dict) and (kind not in {"rename", "cast", "fill_nulls"} or _looks_long(kind, body)):
        normalized: dict[str, Any] = {"kind": kind, **body}
    elif kind in _MAIN_FIELD:
        normalized = {"kind": kind, _MAIN_FIELD[kind]: body}
    else:
        normalized = {"kind": kind, **(body if isinstance(body, dict) else {})}
    if "name" in raw:
        normalized["name"] = raw["name"]
    return normalized


def _looks_long(kind: str, body: dict[str, Any]) -> bool:
    # ``- rename: {a: b}`` is the mapping itself; ``- rename: {columns: {a: b}}`` the long form.
    main = _MAIN_FIELD[kind]
    return main in body and isinstance(body[main], dict)
