"""Data contracts as YAML-able dicts: the model, and loading with errors that name the field.

    version: 1
    rows: {min: 1, max: 1000000}
    strict: false                 # true: columns not listed here are a failure
    unique: [order_id, line]      # composite key (optional)
    columns:
      order_id: {type: int, nullable: false}
      amount:   {type: float, min: 0, max: 10000}
      country:  {type: string, allowed: [DE, FR, IT]}
      email:    {type: string, regex: '^[^@]+@[^@]+$', nullable: true}
      day:      {type: date, min: '2020-01-01'}

Types are families, not exact dtypes (``int`` accepts Int8..UInt64), because the same data
arrives as Int32 from one reader and Int64 from another. ``number`` accepts int or float.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date, datetime
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator, model_validator

from lakegate.checks._yaml import parse_yaml, validate_with_lines
from lakegate.errors import ConfigError

__all__ = ["ColumnContract", "Contract", "ContractType", "RowBounds", "load_contract"]

ContractType = Literal[
    "int", "float", "number", "bool", "string", "date", "datetime", "time", "duration", "any"
]
Scalar = str | int | float | bool

_ORDERED = {"int", "float", "number", "date", "datetime", "any"}


class ColumnContract(BaseModel):
    """What one column must satisfy. Null values are only judged by ``nullable``."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    type: ContractType = "any"
    nullable: bool = True
    required: bool = True
    unique: bool = False
    min: int | float | str | None = None
    max: int | float | str | None = None
    allowed: tuple[Scalar, ...] | None = Field(default=None, min_length=1)
    regex: str | None = None

    @field_validator("min", "max")
    @classmethod
    def _bound_fits_type(
        cls, value: int | float | str | None, info: ValidationInfo
    ) -> int | float | str | None:
        kind = info.data.get("type", "any")
        if value is None:
            return value
        if kind not in _ORDERED:
            raise ValueError(f"min/max do not apply to type {kind!r}")
        if kind in {"date", "datetime"}:
            if not isinstance(value, str):
                raise ValueError(f"min/max of a {kind} column are ISO strings, got {value!r}")
            _parse_temporal(kind, value)
        elif kind != "any" and isinstance(value, str):
            raise ValueError("min/max of a numeric column must be numbers")
        return value

    @field_validator("regex")
    @classmethod
    def _regex_compiles(cls, value: str | None, info: ValidationInfo) -> str | None:
        if value is None:
            return value
        kind = info.data.get("type", "any")
        if kind not in {"string", "any"}:
            raise ValueError(f"regex applies to string columns, not {kind!r}")
        try:
            re.compile(value)
        except re.error as exc:
            raise ValueError(f"{value!r} does not compile: {exc}") from None
        return value

    @model_validator(mode="after")
    def _ordered(self) -> ColumnContract:
        low, high = self.bound("min"), self.bound("max")
        if low is not None and high is not None:
            try:
                reversed_bounds = bool(low > high)
            except TypeError:
                raise ValueError(f"min ({self.min!r}) and max ({self.max!r}) cannot be compared") from None
            if reversed_bounds:
                raise ValueError(f"min ({self.min!r}) is greater than max ({self.max!r})")
        return self

    def bound(self, which: Literal["min", "max"]) -> Any:
        """``min`` / ``max`` as a comparable Python value (dates parsed)."""
        value = self.min if which == "min" else self.max
        if isinstance(value, str) and self.type in {"date", "datetime"}:
            return _parse_temporal(self.type, value)
        return value


class RowBounds(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    min: int | None = Field(default=None, ge=0)
    max: int | None = Field(default=None, ge=0)

    @model_validator(mode="after")
    def _ordered(self) -> RowBounds:
        if self.min is not None and self.max is not None and self.min > self.max:
            raise ValueError(f"min ({self.min}) is greater than max ({self.max})")
        return self


class Contract(BaseModel):
    """A dataset's contract (version 1 of the format)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    version: Literal[1] = 1
    rows: RowBounds | None = None
    strict: bool = False
    unique: tuple[str, ...] = ()
    columns: dict[str, ColumnContract] = Field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """The YAML-able dict, without defaults (what a person would write)."""
        return self.model_dump(mode="json", exclude_defaults=True) | {"version": 1}


def _parse_temporal(kind: str, text: str) -> date | datetime:
    try:
        return date.fromisoformat(text) if kind == "date" else datetime.fromisoformat(text)
    except ValueError:
        raise ValueError(f"{text!r} is not an ISO {kind}") from None


def load_contract(
    source: Contract | Mapping[str, Any] | str | Path, *, filename: str | None = None
) -> Contract:
    """Validate a contract given as a model, a dict, YAML text or a YAML file.

    Errors raise :class:`~lakegate.errors.ConfigError` naming the field
    (``columns.age.min``) and, for YAML, the file and line (``contract.yaml:7``).
    """
    if isinstance(source, Contract):
        return source
    node: Any = None
    data: Any = source
    if isinstance(source, str | Path):
        data, node, filename = parse_yaml_source(source, filename=filename, what="contract")
        if data is None:
            data = {}
        if not isinstance(data, Mapping):
            raise ConfigError(f"{filename}:1: a contract is a mapping (columns:, rows:, ...)")
    return validate_with_lines(Contract.model_validate, data, what="contract", filename=filename, node=node)


def parse_yaml_source(source: str | Path, *, filename: str | None, what: str) -> tuple[Any, Any, str]:
    """(data, node tree, name used in messages) of YAML text or a YAML file.

    A file is named by its path unless ``filename`` is given, text by ``<what>``; a file that
    cannot be read raises :class:`~lakegate.errors.ConfigError` saying it held ``what``.
    """
    if isinstance(source, Path):
        filename = filename or str(source)
        try:
            source = source.read_text(encoding="utf-8")
        except OSError as exc:
            raise ConfigError(f"{filename}: cannot read {what}: {exc.strerror}") from exc
    filename = filename or f"<{what}>"
    data, node = parse_yaml(source, filename)
    return data, node, filename
