"""Trainers: one module per library, found through the lazy registry :data:`TRAINERS`."""

from lakegate.models.trainers._base import FittedModel, Trainer
from lakegate.models.trainers._registry import (
    ALIASES,
    FORMATS,
    TRAINERS,
    model_class,
    resolve_algorithm,
    trainer_code_version,
    trainer_for,
)

__all__ = [
    "ALIASES",
    "FORMATS",
    "TRAINERS",
    "FittedModel",
    "Trainer",
    "model_class",
    "resolve_algorithm",
    "trainer_code_version",
    "trainer_for",
]
