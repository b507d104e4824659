"""custom: a user function ``LazyFrame -> LazyFrame`` named by dotted path."""

from __future__ import annotations

import hashlib
import inspect
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lakegate._resolve import resolve
from lakegate.errors import ConfigError, PipelineError
from lakegate.features._base import State, StepImpl
from lakegate.features._configs import CustomStep

if TYPE_CHECKING:
    import polars as pl

__all__ = ["Custom", "resolve_function"]


def resolve_function(dotted: str) -> Callable[..., Any]:
    """Import ``package.module:function`` (``ConfigError`` when it is not there)."""
    module_name, _, attribute = dotted.partition(":")
    try:
        function = resolve(f"{module_name}:{attribute}")
    except ImportError as exc:
        raise ConfigError(f"custom step {dotted!r}: cannot import {module_name!r}: {exc}") from exc
    except AttributeError:
        function = None
    if not callable(function):
        raise ConfigError(f"custom step {dotted!r}: {module_name} has no function {attribute!r}")
    return function  # type: ignore[no-any-return]


class Custom(StepImpl[CustomStep]):
    row_wise = False

    def transform(self, frame: pl.LazyFrame, state: State) -> pl.LazyFrame:
        import polars as pl

        function = resolve_function(self.config.function)
        result = function(frame, **self.config.params)
        if isinstance(result, pl.DataFrame):
            result = result.lazy()
        if not isinstance(result, pl.LazyFrame):
            raise PipelineError(
                f"custom step {self.config.function} returned {type(result).__name__}, not a LazyFrame",
                detail={"step": "custom", "function": self.config.function},
            )
        return result

    def code_version(self) -> str:
        # Editing the function's module invalidates cached outputs of this step.
        function = resolve_function(self.config.function)
        module = inspect.getmodule(function)
        source = getattr(module, "__file__", None)
        if source and Path(source).is_file():
            return hashlib.sha256(Path(source).read_bytes()).hexdigest()
        return self.config.function
