"""Drift against stored sketches: shifted columns are flagged, unshifted ones are not."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest
from scipy.stats import ks_2samp, wasserstein_distance

from lakegate.checks import (
    DriftConfig,
    DriftDetails,
    ReasonCode,
    Reference,
    Status,
    run_checks,
)

from .conftest import mixed_frame

SHIFTED = {"amount", "age", "country", "churned"}


def drift(current, reference, **options) -> tuple[Status, DriftDetails, list]:
    report = run_checks(current, checks=[DriftConfig(**options)], reference=reference)
    [result] = report.checks
    assert isinstance(result.details, DriftDetails)
    return result.status, result.details, list(result.reasons)


def test_it_flags_the_shifted_columns_and_only_those(store):
    _, reference = store("ref", mixed_frame(1))
    current, _ = store("cur", mixed_frame(2, shift=True))
    status, details, reasons = drift(current, Reference(profile=reference))
    assert set(details.drifted) == SHIFTED
    assert {c.column for c in details.columns if not c.drifted} == {"score", "visits", "device"}
    assert status == Status.FAIL  # 4 of 7 columns: dataset drift
    codes = [r.code for r in reasons]
    assert codes.count(ReasonCode.COLUMN_DRIFT) == 4
    assert ReasonCode.DATASET_DRIFT in codes


def test_an_unshifted_batch_passes(store):
    _, reference = store("ref", mixed_frame(1))
    current, _ = store("cur", mixed_frame(3))
    status, details, reasons = drift(current, Reference(profile=reference))
    assert details.drifted == ()
    assert reasons == []
    assert status == Status.PASS
    assert all(c.score is not None and c.score < 1 for c in details.columns if c.kind == "numeric")


def test_the_target_drifts_as_a_label_and_fails(store):
    _, reference = store("ref", mixed_frame(1))
    current, _ = store("cur", mixed_frame(2, shift=True))
    status, details, reasons = drift(
        current, Reference(profile=reference), target="churned", dataset_share=0.9
    )
    label = next(c for c in details.columns if c.column == "churned")
    assert label.label
    assert label.drifted
    [label_reason] = [r for r in reasons if r.code == ReasonCode.LABEL_DRIFT]
    assert label_reason.status == Status.FAIL
    assert label_reason.column == "churned"
    assert status == Status.FAIL


def test_sketch_statistics_match_exact_ones(store):
    rng = np.random.default_rng(7)
    ref = pl.DataFrame({"x": rng.gamma(2.0, 3.0, 20_000), "y": rng.normal(0, 1, 20_000)})
    cur = pl.DataFrame({"x": rng.gamma(2.2, 3.0, 20_000), "y": rng.normal(0.05, 1, 20_000)})
    _, profile = store("ref", ref)
    current, _ = store("cur", cur)
    _, details, _ = drift(current, Reference(profile=profile))
    for column in details.columns:
        exact_ks = ks_2samp(ref[column.column], cur[column.column]).statistic
        exact_w = wasserstein_distance(ref[column.column], cur[column.column]) / ref[column.column].std()
        stats = column.stats
        # documented bound: D in [ks - 1/n_ref, ks_upper + 0.01 + 1/n_ref]
        assert stats.ks - 1e-4 <= exact_ks + 0.001
        assert exact_ks <= stats.ks_upper + 0.011
        assert stats.wasserstein == pytest.approx(exact_w, abs=0.01)
        assert stats.mean_current == pytest.approx(cur[column.column].mean(), rel=1e-6)


def test_thresholds_can_be_set_per_column(store):
    _, reference = store("ref", mixed_frame(1))
    current, _ = store("cur", mixed_frame(2, shift=True))
    off = {"ks": None, "psi": None, "wasserstein": None, "null_pct_delta": None}
    _, details, _ = drift(current, Reference(profile=reference), per_column={"age": off})
    assert "age" not in details.drifted
    assert "amount" in details.drifted


def test_new_and_vanished_categories_are_named(store):
    rng = np.random.default_rng(3)
    _, profile = store("ref", pl.DataFrame({"c": rng.choice(["a", "b", "c"], 3000)}))
    current, _ = store("cur", pl.DataFrame({"c": rng.choice(["a", "b", "d"], 3000)}))
    _, details, _ = drift(current, Reference(profile=profile))
    [column] = details.columns
    assert column.drifted
    assert column.stats.new_categories == ("d",)
    assert column.stats.vanished_categories == ("c",)
    assert column.stats.new_share == pytest.approx(1 / 3, abs=0.03)
    assert {"new_share", "vanished_share", "psi"} <= set(column.triggered)
    assert column.plot is not None
    assert "d" in (column.plot.labels or ())


def test_a_change_in_nulls_is_drift(store):
    rng = np.random.default_rng(4)
    _, profile = store("ref", pl.DataFrame({"v": rng.normal(size=3000)}))
    frame = pl.DataFrame({"v": rng.normal(size=3000), "hole": rng.random(3000) < 0.3})
    current, _ = store("cur", frame.select(pl.when(~pl.col("hole")).then(pl.col("v")).alias("v")))
    _, details, _ = drift(current, Reference(profile=profile))
    [column] = details.columns
    assert column.triggered == ("null_pct_delta",)
    assert column.drifted
    assert column.stats.null_pct_current == pytest.approx(30, abs=3)


def test_a_window_of_versions_is_one_merged_reference(store):
    _, first = store("v1", mixed_frame(1, 2000))
    _, second = store("v2", mixed_frame(5, 2000))
    reference = Reference.from_profiles([first, second], versions=["1", "2"])
    assert reference.rows == 4000
    current, _ = store("cur", mixed_frame(2, shift=True))
    _, details, _ = drift(current, reference)
    assert set(details.drifted) == SHIFTED
    calm, _ = store("calm", mixed_frame(6))
    assert drift(calm, reference)[1].drifted == ()


def test_large_batches_are_hash_sampled(store):
    _, reference = store("ref", mixed_frame(1))
    current, _ = store("cur", mixed_frame(2, 6000, shift=True))
    _, details, _ = drift(current, Reference(profile=reference), max_rows=2000)
    assert details.sampled_rows == 2000
    assert details.current_rows == 6000
    assert set(details.drifted) == SHIFTED
    again = drift(current, Reference(profile=reference), max_rows=2000)[1]
    assert again.columns == details.columns  # deterministic sample


def test_psi_over_histogram_bins(store):
    _, reference = store("ref", mixed_frame(1))
    current, _ = store("cur", mixed_frame(2, shift=True))
    _, by_histogram, _ = drift(current, Reference(profile=reference), psi_bins="histogram")
    _, by_quantile, _ = drift(current, Reference(profile=reference))
    age_h = next(c for c in by_histogram.columns if c.column == "age").stats.psi
    age_q = next(c for c in by_quantile.columns if c.column == "age").stats.psi
    assert age_h > 0.2
    assert age_q > 0.2
    assert age_h != age_q


def test_severity_can_be_overridden(store):
    _, reference = store("ref", mixed_frame(1))
    current, _ = store("cur", mixed_frame(2, shift=True))
    status, _, reasons = drift(
        current,
        Reference(profile=reference),
        dataset_share=1.0,
        severity={"column_drift": "pass"},
    )
    assert status == Status.PASS
    assert {r.status for r in reasons} == {Status.PASS}


def test_free_text_is_left_to_text_drift(store):
    rng = np.random.default_rng(0)
    frame = pl.DataFrame({"note": [f"note number {i} {rng.integers(1e9)}" for i in range(500)]})
    _, profile = store("ref", frame)
    current, _ = store("cur", frame)
    status, details, reasons = drift(current, Reference(profile=profile))
    [column] = details.columns
    assert column.skipped == ReasonCode.HIGH_CARDINALITY
    assert status == Status.SKIP
    assert [r.code for r in reasons] == [ReasonCode.NOTHING_TO_CHECK]


def test_without_a_reference_it_skips(store):
    current, _ = store("cur", mixed_frame(2))
    [result] = run_checks(current, checks=[DriftConfig()]).checks
    status, details, reasons = result.status, result.details, result.reasons
    assert status == Status.SKIP
    assert details is None
    assert [r.code for r in reasons] == [ReasonCode.NO_REFERENCE]


def test_the_fingerprint_is_stable_and_tracks_the_config():
    assert DriftConfig().fingerprint() == DriftConfig().fingerprint()
    assert DriftConfig(target="y").fingerprint() != DriftConfig().fingerprint()
    assert len(DriftConfig().fingerprint()) == 16


def test_nan_and_infinity_are_left_out_of_the_distribution(store):
    rng = np.random.default_rng(8)
    _, profile = store("ref", pl.DataFrame({"v": rng.normal(size=3000), "w": rng.normal(size=3000)}))
    values = rng.normal(size=3000)
    values[:30] = np.nan
    values[30:40] = np.inf
    clean = pl.DataFrame({"v": values[40:], "w": rng.normal(size=2960)})
    dirty = pl.DataFrame({"v": values, "w": np.r_[clean["w"].to_numpy(), rng.normal(size=40)]})
    _, with_nan, _ = drift(dirty.lazy(), Reference(profile=profile))
    _, without, _ = drift(clean.lazy(), Reference(profile=profile))
    nan_v, clean_v = with_nan.columns[0].stats, without.columns[0].stats
    assert nan_v.ks == clean_v.ks
    assert nan_v.wasserstein == clean_v.wasserstein
    assert nan_v.mean_current == clean_v.mean_current
    assert with_nan.drifted == ()


def test_the_kolmogorov_tail_matches_scipy():
    from scipy.special import kolmogorov

    from lakegate.checks._drift_numeric import kolmogorov_sf

    for x in [*np.linspace(0.0, 3.0, 61), 4.0, 8.0]:
        assert kolmogorov_sf(float(x)) == pytest.approx(float(kolmogorov(x)), abs=1e-12)


def test_identifier_columns_are_not_drift_but_unique_measures_are_measured(store):
    """Each batch brings the next ids: that is not drift. A unique amount spread wide still counts."""
    rng = np.random.default_rng(4)

    def batch(first_id: int, shift: float) -> pl.DataFrame:
        return pl.DataFrame(
            {
                "order_id": np.arange(first_id, first_id + 1000),
                "cents": rng.choice(10_000_000, size=1000, replace=False) + int(shift),
                "qty": rng.integers(1, 5, size=1000),
            }
        )

    _, reference = store("ref", batch(1, 0))
    current, _ = store("cur", batch(1001, 4_000_000))
    _status, details, _reasons = drift(current, Reference(profile=reference))
    by_name = {c.column: c for c in details.columns}
    assert by_name["order_id"].skipped == ReasonCode.IDENTIFIER
    assert not by_name["order_id"].drifted
    assert by_name["cents"].skipped is None
    assert by_name["cents"].drifted  # unique, but spread far wider than its row count
    assert by_name["qty"].skipped is None

    _status, named, _ = drift(current, Reference(profile=reference), columns=("order_id", "qty"))
    assert {c.column: c.drifted for c in named.columns} == {"order_id": True, "qty": False}
