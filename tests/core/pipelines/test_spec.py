"""The pipelines: section: parsing, env overlays, clear errors with lines, stable hashes, triggers."""

from __future__ import annotations

import datetime as dt
import textwrap

import pytest

from lakegate.errors import ConfigError, NotFoundError
from lakegate.features import OneHotStep
from lakegate.pipelines import (
    CronTrigger,
    ManualTrigger,
    NewVersionTrigger,
    config_hash,
    deep_merge,
    load_notifiers,
    load_pipeline,
    load_pipelines,
)

BASE = textwrap.dedent(
    """\
    notifiers:
      ops:
        kind: slack
        url: https://hooks.slack.com/services/T000/B000/XXXX
    pipelines:
      churn:
        inputs: [customers]
        target: churned
        steps:
          - fill_nulls: {income: median}
          - one_hot: [city, plan]
        model:
          task: classification
          algorithm: lightgbm
          params: {n_estimators: 50, learning_rate: 0.1}
        metrics: [f1, roc_auc]
        promotion:
          rule: "f1 >= champion.f1 + 0.01 and robustness.f1_drop <= 0.05"
          floor: "f1 >= 0.6"
        triggers:
          - manual
          - on_new_version: customers
          - cron: "0 3 * * *"
        notifications: [ops]
    environments:
      prod:
        pipelines:
          churn:
            model:
              params: {n_estimators: 500}
    """
)


def test_base_pipeline_is_typed():
    spec = load_pipeline(BASE, "churn")
    assert spec.name == "churn"
    assert spec.inputs == ["customers"]
    assert isinstance(spec.steps[1], OneHotStep)
    assert spec.steps[1].columns == ["city", "plan"]
    assert spec.step_names == ["01_fill_nulls", "02_one_hot"]
    assert spec.model.canonical_algorithm == "lightgbm.LGBMClassifier"
    assert spec.primary_metric == "f1"
    assert [type(t) for t in spec.triggers] == [ManualTrigger, NewVersionTrigger, CronTrigger]
    assert spec.triggered_by("customers")
    assert not spec.triggered_by("orders")
    assert spec.robustness.noise == [0.1, 0.5, 1.0]


def test_env_overlay_deep_merges_only_in_that_env():
    dev = load_pipeline(BASE, "churn", env="dev")
    prod = load_pipeline(BASE, "churn", env="prod")
    assert dev.model.params == {"n_estimators": 50, "learning_rate": 0.1}
    assert prod.model.params == {"n_estimators": 500, "learning_rate": 0.1}  # merged, not replaced
    assert prod.model.algorithm == "lightgbm"
    assert config_hash(dev) != config_hash(prod)


def test_deep_merge_replaces_lists_and_scalars():
    base = {"a": {"b": 1, "c": [1, 2]}, "d": 1}
    assert deep_merge(base, {"a": {"c": [3]}, "d": None}) == {"a": {"b": 1, "c": [3]}, "d": None}
    assert base == {"a": {"b": 1, "c": [1, 2]}, "d": 1}


def test_config_hash_is_stable_across_spellings_and_ignores_triggers():
    long_form = BASE.replace(
        "- one_hot: [city, plan]", "- {kind: one_hot, columns: [city, plan], max_categories: 20}"
    )
    reordered = BASE.replace(
        "params: {n_estimators: 50, learning_rate: 0.1}", "params: {learning_rate: 0.1, n_estimators: 50}"
    )
    no_triggers = BASE.replace('          - cron: "0 3 * * *"\n', "")
    hashes = {config_hash(load_pipeline(text, "churn")) for text in (BASE, long_form, reordered, no_triggers)}
    assert len(hashes) == 1
    changed = BASE.replace("learning_rate: 0.1", "learning_rate: 0.2")
    assert config_hash(load_pipeline(changed, "churn")) not in hashes
    assert len(next(iter(hashes))) == 64


def test_defaults_for_metrics_and_promotion():
    spec = load_pipeline(
        {
            "pipelines": {
                "price": {
                    "inputs": "houses",
                    "target": "price",
                    "model": {"task": "regression", "algorithm": "ridge"},
                }
            }
        },
        "price",
    )
    assert spec.metrics == ["rmse", "mae", "r2"]
    assert spec.promotion.rule == "rmse <= champion.rmse"  # lower is better
    assert spec.triggers == [ManualTrigger()]


def error_for(text: str, **kwargs) -> ConfigError:
    with pytest.raises(ConfigError) as info:
        load_pipelines(text, filename="lakegate.yaml", **kwargs)
    return info.value


def test_unknown_algorithm_names_pipeline_field_and_line():
    error = error_for(BASE.replace("algorithm: lightgbm", "algorithm: sklearn.svm.SVC"))
    assert "lakegate.yaml:14: pipeline 'churn': model.algorithm: 'sklearn.svm.SVC'" in error.message
    assert "not an allowed classification algorithm" in error.message
    assert error.detail[0]["pipeline"] == "churn"
    assert error.detail[0]["line"] == 14


def test_bad_cron_points_at_its_line():
    error = error_for(BASE.replace('"0 3 * * *"', '"0 25 * * *"'))
    (problem,) = error.detail
    assert problem["field"] == "triggers.2.cron.cron"
    assert problem["line"] == 23
    assert "not a valid cron expression" in problem["message"]


def test_error_in_the_overlay_points_into_the_overlay():
    text = BASE.replace(
        "params: {n_estimators: 500}", "params: {n_estimators: 500}\n          task: forecasting"
    )
    assert load_pipeline(text, "churn", env="dev")  # only prod is broken
    error = error_for(text, env="prod")
    assert error.detail[0]["field"].startswith("model.task")
    assert error.detail[0]["line"] == 31


def test_step_errors_name_the_step_field():
    error = error_for(BASE.replace("- one_hot: [city, plan]", "- one_hot: {colums: [city]}"))
    fields = {p["field"] for p in error.detail}
    assert "steps.1.one_hot.colums" in fields
    assert all(p["line"] == 11 for p in error.detail)


def test_invalid_yaml_names_the_line():
    error = error_for(BASE.replace("target: churned", "target: [churned"))
    assert error.message.startswith("lakegate.yaml:")
    assert "invalid YAML" in error.message


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (("metrics: [f1, roc_auc]", "metrics: [rmse]"), "not available for classification"),
        (("    target: churned\n", ""), "needs a target column"),
        (("on_new_version: customers", "on_new_version: orders"), "is not an input"),
        (
            ('rule: "f1 >= champion.f1 + 0.01 and robustness.f1_drop <= 0.05"', "rule: \"__import__('os')\""),
            "call is not allowed",
        ),
        (('floor: "f1 >= 0.6"', 'floor: "auc >= 0.6"'), "unknown name 'auc'"),
        (("notifications: [ops]", "notifications: [pager]"), "no notifier named 'pager'"),
        (
            ("- fill_nulls: {income: median}", "- join: {input: regions, key: city}"),
            "must be listed in inputs",
        ),
        (("algorithm: lightgbm", "algorithm: kmeans"), "not an allowed classification algorithm"),
        (("metrics: [f1, roc_auc]", "metrics: [f1]\n    split: {method: time}"), "needs column"),
    ],
)
def test_invalid_specs_are_config_errors(change, message):
    error = error_for(BASE.replace(*change))
    assert message in error.message, error.message


def test_unknown_environment_and_pipeline():
    with pytest.raises(ConfigError, match="unknown environment 'staging'"):
        load_pipelines(BASE, env="staging")
    with pytest.raises(ConfigError, match="environments: unknown qa"):
        load_pipelines({"pipelines": {}, "environments": {"qa": {}}})
    with pytest.raises(NotFoundError, match="no pipeline 'x' \\(defined: churn\\)"):
        load_pipeline(BASE, "x")


def test_cron_trigger_next_time():
    trigger = CronTrigger(cron="0 3 * * *", timezone="Europe/Paris")
    after = dt.datetime(2024, 6, 1, 12, 0, tzinfo=dt.UTC)
    assert trigger.next_after(after) == dt.datetime(2024, 6, 2, 1, 0, tzinfo=dt.UTC)  # 03:00 CEST


def test_notifiers_section_with_overlay():
    text = (
        BASE
        + "    notifiers:\n"
        + "      ops: {kind: webhook, url: 'https://example.com/hook', secret_env: HOOK_SECRET}\n"
    )
    assert load_notifiers(text)["ops"].kind == "slack"
    assert load_notifiers(text, env="prod")["ops"].kind == "webhook"
    with pytest.raises(ConfigError, match="must be an http"):
        load_notifiers({"notifiers": {"x": {"kind": "slack", "url": "file:///etc/passwd"}}})


def test_the_key_names_the_pipeline_and_yaml_on_means_the_join_key():
    text = textwrap.dedent(
        """\
        pipelines:
          churn:
            name: something-else
            inputs: [customers, regions]
            target: churned
            steps:
              - join: {input: regions, on: city}
            model: {task: classification, algorithm: lightgbm}
        """
    )
    spec = load_pipeline(text, "churn")
    assert spec.name == "churn"
    assert spec.steps[0].key == ["city"]  # YAML 1.1 reads `on:` as true; accepted as the key
