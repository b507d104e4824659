"""The documented example loads, and each package's __all__ lists exactly its public names."""

from __future__ import annotations

import importlib
import re
from pathlib import Path
from types import ModuleType

import pytest

from lakegate.pipelines import config_hash, load_notifiers, load_pipelines, validate_pipeline

DOCS = Path(__file__).resolve().parents[3] / "docs" / "pipelines.md"


def example_yaml() -> str:
    return re.search(r"```yaml\n(.*?)```", DOCS.read_text(encoding="utf-8"), re.DOTALL).group(1)


@pytest.mark.parametrize("env", ["dev", "preprod", "prod"])
def test_the_documented_example_is_valid(env):
    specs = load_pipelines(example_yaml(), env=env, filename="docs/pipelines.md")
    assert set(specs) == {"churn", "sensor-regimes"}
    for spec in specs.values():
        validate_pipeline(spec)
        assert len(config_hash(spec)) == 64
    channels = load_notifiers(example_yaml(), env=env)
    assert set(channels) == {"ml-team", "audit", "oncall"}
    churn = specs["churn"]
    assert churn.model.params["n_estimators"] == (800 if env == "prod" else 200)
    assert churn.notifications == (["ml-team", "audit", "oncall"] if env == "prod" else ["ml-team", "audit"])
    assert channels["audit"].outbound.allow_private is (env == "dev")


@pytest.mark.parametrize(
    "module_name", ["lakegate.pipelines", "lakegate.models", "lakegate.features", "lakegate.notify"]
)
def test_all_is_exactly_the_public_names(module_name):
    module = importlib.import_module(module_name)
    public = {
        name
        for name, value in vars(module).items()
        if not name.startswith("_") and name != "annotations" and not isinstance(value, ModuleType)
    }
    assert sorted(module.__all__) == sorted(public)
