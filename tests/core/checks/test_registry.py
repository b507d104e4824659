"""The check registry, loading check configs, the runner's error handling, the public API."""

from __future__ import annotations

import importlib
import typing

import polars as pl
import pytest

import lakegate.checks as checks_api
from lakegate.checks import (
    CHECKS,
    DEFAULT_SEVERITY,
    AnomalyConfig,
    CompletenessConfig,
    ContractConfig,
    DriftConfig,
    ReasonCode,
    SchemaConfig,
    Status,
    TextDriftConfig,
    _registry,
    default_checks,
    load_checks,
    run_checks,
)
from lakegate.errors import ConfigError

from .conftest import mixed_frame

BUILT_IN = {SchemaConfig, ContractConfig, CompletenessConfig, DriftConfig, TextDriftConfig, AnomalyConfig}


def test_every_built_in_check_is_registered_and_resolves():
    kinds = {cls.model_fields["kind"].default for cls in BUILT_IN}
    assert set(CHECKS) == kinds
    for kind in kinds:
        assert callable(_registry.compute_function(kind))
    union = typing.get_args(typing.get_args(_registry.AnyCheckConfig)[0])
    assert set(union) == BUILT_IN


def test_every_reason_code_has_a_default_severity():
    assert set(DEFAULT_SEVERITY) == set(ReasonCode)


def test_an_unknown_kind_is_a_config_error():
    with pytest.raises(ConfigError, match="unknown check kind 'nope'"):
        _registry.compute_function("nope")


def test_checks_load_from_yaml_with_line_numbers():
    text = """\
checks:
  - kind: schema
  - kind: drift
    target: churned
    per_column: {age: {psi: 0.1}}
  - kind: contract
    contract:
      columns:
        visits: {type: int, min: 0}
"""
    loaded = load_checks(text, filename="lakegate.yaml")
    assert [c.kind for c in loaded] == ["schema", "drift", "contract"]
    assert isinstance(loaded[1], DriftConfig)
    assert loaded[1].thresholds_for("age").psi == 0.1
    assert loaded[1].thresholds_for("score").psi == 0.2
    broken = text.replace("psi: 0.1", "psi: -1")
    with pytest.raises(
        ConfigError, match=r"^lakegate\.yaml:5: \[1\].per_column: age\.psi: Input should be greater"
    ):
        load_checks(broken, filename="lakegate.yaml")
    with pytest.raises(ConfigError, match=r"^lakegate\.yaml:9: \[2\]\.contract\.columns\.visits\.min"):
        load_checks(text.replace("min: 0", "min: zero"), filename="lakegate.yaml")
    with pytest.raises(ConfigError, match=r"^lakegate\.yaml:4: \[1\]\.tarjet: Extra inputs"):
        load_checks(text.replace("target:", "tarjet:"), filename="lakegate.yaml")
    with pytest.raises(ConfigError, match="kind"):
        load_checks([{"kind": "vibes"}])


def test_config_objects_and_dicts_mix():
    loaded = load_checks([SchemaConfig(), {"kind": "anomalies", "top_k": 3}])
    assert loaded == (SchemaConfig(), AnomalyConfig(top_k=3))


def test_default_checks():
    assert [c.kind for c in default_checks()] == [
        "schema",
        "completeness",
        "drift",
        "text_drift",
        "anomalies",
    ]
    with_contract = default_checks(contract={"columns": {"a": {"type": "int"}}}, target="y")
    assert [c.kind for c in with_contract][:2] == ["schema", "contract"]
    assert isinstance(with_contract[3], DriftConfig)
    assert with_contract[3].target == "y"


def test_a_broken_check_fails_the_gate_without_raising(monkeypatch):
    def explode(config, context):
        raise ZeroDivisionError("boom")

    monkeypatch.setitem(_registry._loaded, "drift", explode)
    report = run_checks(mixed_frame(1, 50), checks=[SchemaConfig(), DriftConfig()])
    drift = report.result("drift")
    assert drift is not None
    assert drift.status == Status.FAIL
    [reason] = drift.reasons
    assert reason.code == ReasonCode.CHECK_ERROR
    assert "ZeroDivisionError: boom" in reason.message
    assert report.status == Status.FAIL


def test_a_bare_profile_is_a_reference(store):
    _, profile = store("ref", mixed_frame(1, 500))
    report = run_checks(pl.DataFrame({"score": [1.0] * 20}), checks=[SchemaConfig()], reference=profile)
    assert report.reference is not None
    assert report.reference.rows == 500
    schema = report.result("schema")
    assert schema is not None
    assert ReasonCode.MISSING_COLUMN in {r.code for r in schema.reasons}


def test_the_public_api_is_exactly_all():
    public = sorted(n for n in vars(checks_api) if not n.startswith("_") and n != "annotations")
    assert sorted(checks_api.__all__) == public
    module = importlib.import_module("lakegate.checks")
    assert all(hasattr(module, name) for name in module.__all__)
