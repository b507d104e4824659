"""A fitted sequence of steps: what a model stores and the predictor replays."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from pydantic import TypeAdapter, ValidationError

from lakegate.errors import ModelError
from lakegate.features._base import CategoricalGroup, Row, State, StepImpl
from lakegate.features._configs import StepConfig
from lakegate.features._registry import step_impl

if TYPE_CHECKING:
    import polars as pl

__all__ = ["FeaturePipeline", "FittedStep", "step_name"]

_STEP_ADAPTER: TypeAdapter[StepConfig] = TypeAdapter(StepConfig)


def step_name(index: int, config: Any) -> str:
    """The step's folder name: its ``name`` or ``<index>_<kind>`` (``01_one_hot``)."""
    return config.name or f"{index + 1:02d}_{config.kind}"


@dataclass
class FittedStep:
    """One step with its learned state."""

    name: str
    config: StepConfig
    state: State
    impl: StepImpl[Any]

    @classmethod
    def create(cls, name: str, config: StepConfig, state: State) -> FittedStep:
        return cls(name=name, config=config, state=state, impl=step_impl(config))

    def to_json(self) -> dict[str, Any]:
        # Keys starting with "_" are per-process caches (lookup tables), never stored.
        state = {k: v for k, v in self.state.items() if not k.startswith("_")}
        return {"name": self.name, "config": self.config.model_dump(mode="json"), "state": state}


class FeaturePipeline:
    """Replays fitted steps over a LazyFrame, or over one row as a dict (``row_wise`` only)."""

    def __init__(self, steps: Iterable[FittedStep]) -> None:
        self.steps = list(steps)
        self.row_wise = all(step.impl.row_wise for step in self.steps)

    def transform(self, frame: pl.LazyFrame) -> pl.LazyFrame:
        for step in self.steps:
            frame = step.impl.transform(frame, step.state)
        return frame

    def transform_row(self, row: Row) -> Row:
        for step in self.steps:
            row = step.impl.transform_row(row, step.state)
        return row

    def groups(self) -> list[CategoricalGroup]:
        return [group for step in self.steps for group in step.impl.groups(step.state)]

    def to_json(self) -> list[dict[str, Any]]:
        return [step.to_json() for step in self.steps]

    @classmethod
    def from_json(cls, data: list[dict[str, Any]]) -> FeaturePipeline:
        steps = []
        for index, item in enumerate(data):
            try:
                config = _STEP_ADAPTER.validate_python(item["config"])
                steps.append(FittedStep.create(str(item["name"]), config, dict(item["state"])))
            except (KeyError, TypeError, ValidationError) as exc:
                raise ModelError(f"stored feature step {index} is invalid: {exc}") from exc
        return cls(steps)
