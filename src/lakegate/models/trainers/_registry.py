"""The lazy registry of trainers: allow-listed algorithm -> (trainer dotted path, task).

Only the algorithms named here can be trained or loaded: a pipeline cannot name an
arbitrary class. Short aliases pick the class for the task (``lightgbm`` ->
``lightgbm.LGBMClassifier`` for classification). XGBoost is an optional extra; asking
for it without the package raises ``MissingExtraError`` naming ``pip install 'lakegate[xgboost]'``.
"""

from __future__ import annotations

from typing import Final

from lakegate._resolve import resolve
from lakegate.errors import ConfigError
from lakegate.models._tasks import Task
from lakegate.models.trainers._base import FittedModel, Trainer

__all__ = [
    "ALIASES",
    "FORMATS",
    "TRAINERS",
    "model_class",
    "resolve_algorithm",
    "trainer_code_version",
    "trainer_for",
]

_SK = "lakegate.models.trainers.sklearn:SklearnTrainer"
_LGB = "lakegate.models.trainers.lightgbm:LightGBMTrainer"
_XGB = "lakegate.models.trainers.xgboost:XGBoostTrainer"
_CUSTOM = "lakegate.models.trainers.custom:CustomTrainer"

TRAINERS: Final[dict[str, tuple[str, Task]]] = {
    "lightgbm.LGBMClassifier": (_LGB, "classification"),
    "lightgbm.LGBMRegressor": (_LGB, "regression"),
    "xgboost.XGBClassifier": (_XGB, "classification"),
    "xgboost.XGBRegressor": (_XGB, "regression"),
    "sklearn.linear_model.LogisticRegression": (_SK, "classification"),
    "sklearn.ensemble.RandomForestClassifier": (_SK, "classification"),
    "sklearn.ensemble.ExtraTreesClassifier": (_SK, "classification"),
    "sklearn.ensemble.GradientBoostingClassifier": (_SK, "classification"),
    "sklearn.ensemble.HistGradientBoostingClassifier": (_SK, "classification"),
    "sklearn.tree.DecisionTreeClassifier": (_SK, "classification"),
    "sklearn.neighbors.KNeighborsClassifier": (_SK, "classification"),
    "sklearn.naive_bayes.GaussianNB": (_SK, "classification"),
    "sklearn.linear_model.LinearRegression": (_SK, "regression"),
    "sklearn.linear_model.Ridge": (_SK, "regression"),
    "sklearn.linear_model.Lasso": (_SK, "regression"),
    "sklearn.linear_model.ElasticNet": (_SK, "regression"),
    "sklearn.ensemble.RandomForestRegressor": (_SK, "regression"),
    "sklearn.ensemble.ExtraTreesRegressor": (_SK, "regression"),
    "sklearn.ensemble.GradientBoostingRegressor": (_SK, "regression"),
    "sklearn.ensemble.HistGradientBoostingRegressor": (_SK, "regression"),
    "sklearn.tree.DecisionTreeRegressor": (_SK, "regression"),
    "sklearn.neighbors.KNeighborsRegressor": (_SK, "regression"),
    "sklearn.cluster.KMeans": (_SK, "clustering"),
    "sklearn.cluster.MiniBatchKMeans": (_SK, "clustering"),
}

ALIASES: Final[dict[str, dict[str, str]]] = {
    "lightgbm": {"classification": "lightgbm.LGBMClassifier", "regression": "lightgbm.LGBMRegressor"},
    "xgboost": {"classification": "xgboost.XGBClassifier", "regression": "xgboost.XGBRegressor"},
    "random_forest": {
        "classification": "sklearn.ensemble.RandomForestClassifier",
        "regression": "sklearn.ensemble.RandomForestRegressor",
    },
    "hist_gradient_boosting": {
        "classification": "sklearn.ensemble.HistGradientBoostingClassifier",
        "regression": "sklearn.ensemble.HistGradientBoostingRegressor",
    },
    "logistic_regression": {"classification": "sklearn.linear_model.LogisticRegression"},
    "linear_regression": {"regression": "sklearn.linear_model.LinearRegression"},
    "ridge": {"regression": "sklearn.linear_model.Ridge"},
    "kmeans": {"clustering": "sklearn.cluster.KMeans"},
    "minibatch_kmeans": {"clustering": "sklearn.cluster.MiniBatchKMeans"},
}

# Saved model format -> the FittedModel class that loads it.
FORMATS: Final[dict[str, str]] = {
    "lightgbm": "lakegate.models.trainers.lightgbm:LightGBMModel",
    "xgboost": "lakegate.models.trainers.xgboost:XGBoostModel",
    "skops": "lakegate.models.trainers.sklearn:SklearnModel",
    "custom": "lakegate.models.trainers.custom:CustomModel",
}


def resolve_algorithm(name: str, task: Task) -> str:
    """The canonical dotted name for ``name`` (an alias or a dotted name) and ``task``.

    ``package.module:Class`` (with a colon) names the project's own trainer
    (``lakegate.models.trainers.custom``); it is imported when a run trains or loads it.
    """
    if ":" in name:
        from lakegate.models.trainers.custom import check_name

        return check_name(name, task)
    canonical = ALIASES.get(name, {}).get(task, name)
    entry = TRAINERS.get(canonical)
    if entry is None:
        choices = sorted({*(a for a, tasks in ALIASES.items() if task in tasks), *_for_task(task)})
        raise ConfigError(
            f"model.algorithm: {name!r} is not an allowed {task} algorithm "
            f"(choose one of: {', '.join(choices)})",
            detail={"field": "model.algorithm", "allowed": choices},
        )
    if entry[1] != task:
        raise ConfigError(
            f"model.algorithm: {canonical} is a {entry[1]} algorithm, but model.task is {task}",
            detail={"field": "model.algorithm"},
        )
    return canonical


def _for_task(task: Task) -> list[str]:
    return [name for name, (_, kind) in TRAINERS.items() if kind == task]


def _import(dotted: str) -> type:
    cls: type = resolve(dotted)
    return cls


def trainer_for(algorithm: str) -> Trainer:
    """The trainer of an allow-listed canonical algorithm name (or a ``package.module:Class``)."""
    cls = _import(TRAINERS[algorithm][0] if ":" not in algorithm else _CUSTOM)
    trainer: Trainer = cls(algorithm)
    return trainer


def trainer_code_version(algorithm: str) -> str:
    """Part of a model's cache key: the module hash of a project's own trainer, else empty."""
    if ":" not in algorithm:
        return ""
    from lakegate.models.trainers.custom import code_version

    return code_version(algorithm)


def model_class(fmt: str) -> type[FittedModel]:
    """The class that loads a saved model ``format`` (``lightgbm``, ``xgboost``, ``skops``)."""
    return _import(FORMATS[fmt])
