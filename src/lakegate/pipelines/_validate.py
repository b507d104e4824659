"""Checks that import libraries: run them before saving a pipeline, or from ``lakegate check``."""

from __future__ import annotations

from lakegate.features import CustomStep
from lakegate.features.custom import resolve_function
from lakegate.models import trainer_for
from lakegate.pipelines._spec import PipelineSpec

__all__ = ["validate_pipeline"]


def validate_pipeline(spec: PipelineSpec) -> None:
    """Raise ``ConfigError`` for an unknown estimator parameter or an unimportable custom step.

    (Also raises ``MissingExtraError`` when the algorithm needs an extra that is not installed.)
    """
    trainer_for(spec.model_spec.canonical_algorithm).check_params(dict(spec.model_spec.params))
    for step in spec.steps:
        if isinstance(step, CustomStep):
            resolve_function(step.function)
