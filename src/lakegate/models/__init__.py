"""Models: trainers, evaluation, robustness, artifacts, the predictor and promotion.

- :data:`TRAINERS` is the allow-list of algorithms (scikit-learn by dotted name,
  LightGBM, XGBoost when installed); :func:`resolve_algorithm` maps aliases.
- :func:`save_model` writes a folder (native model file + ``steps.json`` + ``model.json``)
  and returns its sha256; :func:`load_model` verifies that hash before loading and
  returns a :class:`Predictor`.
- :func:`decide_promotion` applies a :class:`PromotionSpec` (a safe rule language) to a
  candidate's and the champion's metrics.
- :func:`render_model_card` renders a manifest as self-contained HTML.
"""

from lakegate.models._artifacts import TrainedModel, artifact_sha256, save_model
from lakegate.models._card import render_model_card
from lakegate.models._evaluate import cluster_sizes, evaluate
from lakegate.models._manifest import ColumnSpec, ModelManifest, TrainingInfo, code_version
from lakegate.models._performance import PerformanceSpec, rolling_performance, rule_holds
from lakegate.models._predictor import PredictionResult, Predictor, load_model, write_predictions
from lakegate.models._promotion import Decision, PromotionSpec, Rule, decide_promotion, parse_rule
from lakegate.models._robustness import (
    FeatureGroups,
    RobustnessConfig,
    RobustnessReport,
    RobustnessRow,
    assess_robustness,
)
from lakegate.models._tasks import LOWER_IS_BETTER, METRICS, TASKS, Task, higher_is_better
from lakegate.models.trainers import (
    ALIASES,
    TRAINERS,
    FittedModel,
    Trainer,
    resolve_algorithm,
    trainer_code_version,
    trainer_for,
)

__all__ = [
    "ALIASES",
    "LOWER_IS_BETTER",
    "METRICS",
    "TASKS",
    "TRAINERS",
    "ColumnSpec",
    "Decision",
    "FeatureGroups",
    "FittedModel",
    "ModelManifest",
    "PerformanceSpec",
    "PredictionResult",
    "Predictor",
    "PromotionSpec",
    "RobustnessConfig",
    "RobustnessReport",
    "RobustnessRow",
    "Rule",
    "Task",
    "TrainedModel",
    "Trainer",
    "TrainingInfo",
    "artifact_sha256",
    "assess_robustness",
    "cluster_sizes",
    "code_version",
    "decide_promotion",
    "evaluate",
    "higher_is_better",
    "load_model",
    "parse_rule",
    "render_model_card",
    "resolve_algorithm",
    "rolling_performance",
    "rule_holds",
    "save_model",
    "trainer_code_version",
    "trainer_for",
    "write_predictions",
]
