"""Completeness: a column that was complete and is now often null fails the gate by default."""

from __future__ import annotations

import polars as pl
import pytest

from lakegate.checks import (
    CompletenessConfig,
    CompletenessDetails,
    ReasonCode,
    Reference,
    Status,
    default_checks,
    load_checks,
    render_html,
    run_checks,
)
from lakegate.errors import ConfigError

from .conftest import mixed_frame


def _with_nulls(frame: pl.DataFrame, column: str, share: float) -> pl.DataFrame:
    cut = int(frame.height * share)
    return frame.with_columns(
        pl.when(pl.int_range(pl.len()) < cut).then(None).otherwise(pl.col(column)).alias(column)
    )


@pytest.fixture
def reference(store) -> Reference:
    _, profile = store("ref", mixed_frame(1, 2000))
    return Reference(profile=profile, versions=("1",))


def _completeness(report):
    result = report.result("completeness")
    assert result is not None
    assert isinstance(result.details, CompletenessDetails)
    return result


def test_a_jump_from_zero_to_forty_percent_nulls_fails_by_default(store, reference):
    scan, profile = store("cur", _with_nulls(mixed_frame(2, 2000), "amount", 0.4))
    report = run_checks(scan, checks=default_checks(), reference=reference, current_profile=profile)
    result = _completeness(report)
    assert result.status == Status.FAIL
    assert report.status == Status.FAIL
    (reason,) = result.reasons
    assert (reason.code, reason.column, reason.value, reason.threshold) == (
        ReasonCode.NULL_SHARE_JUMP,
        "amount",
        40.0,
        20.0,
    )
    assert result.details.failed == ("amount",)
    by_column = {c.column: c for c in result.details.columns}
    assert by_column["amount"].nulls == 800
    assert by_column["age"].null_pct_current == 0.0
    assert "null_share_jump" in render_html(report)


def test_the_same_numbers_with_or_without_the_batch_profile(store, reference):
    scan, profile = store("cur", _with_nulls(mixed_frame(2, 2000), "country", 0.3))
    with_profile = _completeness(
        run_checks(scan, checks=[CompletenessConfig()], reference=reference, current_profile=profile)
    )
    one_pass = _completeness(run_checks(scan, checks=[CompletenessConfig()], reference=reference))
    assert with_profile.details == one_pass.details
    assert one_pass.details.failed == ("country",)


def test_a_small_rise_passes_and_the_threshold_is_configurable(store, reference):
    scan, _ = store("cur", _with_nulls(mixed_frame(2, 2000), "amount", 0.1))
    default = _completeness(run_checks(scan, checks=[CompletenessConfig()], reference=reference))
    assert default.status == Status.PASS
    assert default.reasons == ()
    strict = _completeness(run_checks(scan, checks=[CompletenessConfig(increase=5)], reference=reference))
    assert strict.status == Status.FAIL
    assert [r.column for r in strict.reasons] == ["amount"]


def test_a_column_already_often_null_is_drift_not_completeness(store):
    _, profile = store("ref", _with_nulls(mixed_frame(1, 2000), "amount", 0.3))
    scan, _ = store("cur", _with_nulls(mixed_frame(2, 2000), "amount", 0.7))
    result = _completeness(
        run_checks(scan, checks=[CompletenessConfig()], reference=Reference(profile=profile))
    )
    assert result.status == Status.PASS
    raised = _completeness(
        run_checks(scan, checks=[CompletenessConfig(reference_max=50)], reference=Reference(profile=profile))
    )
    assert raised.status == Status.FAIL


def test_severity_override_and_excluded_columns(store, reference):
    scan, _ = store("cur", _with_nulls(mixed_frame(2, 2000), "amount", 0.5))
    (warn,) = load_checks([{"kind": "completeness", "severity": {"null_share_jump": "warn"}}])
    assert _completeness(run_checks(scan, checks=[warn], reference=reference)).status == Status.WARN
    skipped = CompletenessConfig(exclude=("amount",))
    assert _completeness(run_checks(scan, checks=[skipped], reference=reference)).status == Status.PASS


def test_without_reference_or_rows_it_skips(store, reference):
    scan, _ = store("cur", mixed_frame(2, 2000))
    no_ref = run_checks(scan, checks=[CompletenessConfig()]).result("completeness")
    assert no_ref is not None
    assert (no_ref.status, no_ref.reasons[0].code) == (Status.SKIP, ReasonCode.NO_REFERENCE)
    tiny, _ = store("tiny", mixed_frame(2, 5))
    few = run_checks(tiny, checks=[CompletenessConfig()], reference=reference).result("completeness")
    assert few is not None
    assert (few.status, few.reasons[0].code) == (Status.SKIP, ReasonCode.TOO_FEW_ROWS)


def test_bad_thresholds_are_config_errors():
    with pytest.raises(ConfigError, match="increase"):
        load_checks([{"kind": "completeness", "increase": 0}])
    with pytest.raises(ConfigError, match="reference_max"):
        load_checks([{"kind": "completeness", "reference_max": 120}])
