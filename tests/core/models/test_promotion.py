"""Promotion rules: the safe expression language and the decisions it makes."""

from __future__ import annotations

import pytest

from lakegate.errors import ConfigError
from lakegate.models import PromotionSpec, decide_promotion, parse_rule

RULE = PromotionSpec(rule="f1 >= champion.f1 + 0.01 and robustness.f1_drop <= 0.05", floor="f1 >= 0.6")
CHAMPION = {"f1": 0.80, "roc_auc": 0.90, "robustness": {"f1_drop": 0.02}}


def candidate(f1: float, drop: float = 0.01) -> dict:
    return {"f1": f1, "roc_auc": 0.9, "robustness": {"f1_drop": drop}}


def test_a_better_model_is_promoted():
    decision = decide_promotion(RULE, candidate(0.83), CHAMPION)
    assert decision.promote
    assert decision.compared == {"f1": 0.83, "champion.f1": 0.80, "robustness.f1_drop": 0.01}
    assert "f1 (0.83) >= champion.f1 + 0.01 (0.81): yes" in decision.reason


def test_a_worse_or_barely_better_model_is_not():
    decision = decide_promotion(RULE, candidate(0.805), CHAMPION)
    assert not decision.promote
    assert decision.reason.startswith("rule not met: f1 (0.805) >= champion.f1 + 0.01 (0.81): no")


def test_a_fragile_model_is_not_promoted():
    decision = decide_promotion(RULE, candidate(0.9, drop=0.2), CHAMPION)
    assert not decision.promote
    assert "robustness.f1_drop (0.2) <= 0.05: no" in decision.reason


def test_the_first_model_is_judged_by_the_floor():
    assert decide_promotion(RULE, candidate(0.65), None).promote
    first = decide_promotion(RULE, candidate(0.65), None)
    assert first.reason.startswith("first model (no champion); floor met: f1 (0.65) >= 0.6: yes")
    low = decide_promotion(RULE, candidate(0.55), None)
    assert not low.promote
    assert low.reason == "below the floor: f1 (0.55) >= 0.6: no"


def test_the_floor_applies_even_when_beating_the_champion():
    weak_champion = {"f1": 0.3, "robustness": {"f1_drop": 0.0}}
    assert not decide_promotion(RULE, candidate(0.5), weak_champion).promote


def test_no_floor_and_string_rules():
    assert decide_promotion("roc_auc > champion.roc_auc", {"roc_auc": 0.8}, None).promote
    assert not decide_promotion("roc_auc > champion.roc_auc", {"roc_auc": 0.8}, {"roc_auc": 0.85}).promote
    assert decide_promotion(None, {"f1": 0.1}, {"f1": 0.9}).reason == "no rule: promoted"


def test_lower_is_better_and_arithmetic():
    rule = "rmse <= champion.rmse * 0.98 or (rmse - champion.rmse) / champion.rmse < -0.1"
    assert decide_promotion(rule, {"rmse": 9.7}, {"rmse": 10.0}).promote
    assert not decide_promotion(rule, {"rmse": 9.9}, {"rmse": 10.0}).promote
    assert decide_promotion("not rmse > 5 and -rmse < 0", {"rmse": 4.0}, None).promote


def test_undefined_metrics_never_pass():
    decision = decide_promotion("roc_auc >= 0.5", {"roc_auc": None}, None)
    assert not decision.promote
    assert "roc_auc (undefined) >= 0.5: no" in decision.reason
    assert decision.compared == {"roc_auc": None}
    assert not decide_promotion("f1 / 0 > 1", {"f1": 0.5}, None).promote


@pytest.mark.parametrize(
    ("rule", "message"),
    [
        ("__import__('os')", "call is not allowed"),
        ("__import__('os').system('id') == 0", "call is not allowed"),
        ("f1()", "call is not allowed"),
        ("champion.__class__ == 1", "names starting with '_'"),
        ("f1.__class__.__bases__", "names starting with '_'"),
        ("_secret > 1", "names starting with '_'"),
        ("f1 > 'a'", "only numbers"),
        ("f1 > None", "only numbers"),
        ("champion['f1'] > 1", "subscript is not allowed"),
        ("(lambda: 1)() > 0", "is not allowed"),
        ("[x for x in ()]", "is not allowed"),
        ("f1 ** 100000", "pow is not allowed"),
        ("f1 if f1 else 1", "ifexp is not allowed"),
        ("f1 >=", "invalid syntax"),
        ("", "empty"),
        ("f1 > 0 and " * 200 + "f1 > 0", "longer than"),
    ],
)
def test_the_parser_rejects_anything_but_arithmetic_comparisons(rule, message):
    with pytest.raises(ConfigError, match=message):
        parse_rule(rule)


def test_unknown_names_at_decision_time():
    with pytest.raises(ConfigError, match="unknown name 'auc'"):
        decide_promotion("auc > 0.5", {"f1": 0.5}, None)
    with pytest.raises(ConfigError, match="'robustness' is not a number"):
        decide_promotion("robustness > 0.5", {"robustness": {"f1_drop": 0.1}}, None)


def test_rule_names():
    assert parse_rule("f1 >= champion.f1 and robustness.f1_drop < 0.1").names == {
        "f1",
        "champion.f1",
        "robustness.f1_drop",
    }
    assert parse_rule("champion.f1 > 0").uses_champion
    assert not parse_rule("f1 > 0").uses_champion


def test_manifest_metrics_feed_rules(churn_model):
    metrics = churn_model.promotion_metrics()
    decision = decide_promotion("f1 >= champion.f1 and robustness.f1_drop <= 1", metrics, metrics)
    assert decision.promote
