"""Reference profiles: the sketch CDF model, merging a window of versions, hash sampling."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest

from lakegate.checks import Reference, merge_profiles, reference_sample, sample_rows
from lakegate.checks._sample import hash_keys, sample_positions
from lakegate.checks._sketch import QuantileCDF
from lakegate.errors import InputError

from .conftest import mixed_frame


def test_the_sketch_cdf_has_atoms_for_repeated_quantiles():
    model = QuantileCDF.from_quantiles([0.0] * 51 + [1.0] * 50)
    assert model is not None
    assert model.at(np.array([0.0]))[0] == pytest.approx(0.5)
    assert model.left(np.array([1.0]))[0] == pytest.approx(0.51)
    assert model.at(np.array([-1.0, 1.0, 2.0])).tolist() == [0.0, 1.0, 1.0]
    assert model.quantile(np.array([0.25, 0.9])).tolist() == [0.0, 1.0]


def test_the_sketch_cdf_is_linear_between_quantiles():
    model = QuantileCDF.from_quantiles([float(i) for i in range(101)])
    assert model is not None
    assert model.at(np.array([12.5]))[0] == pytest.approx(0.125)
    assert model.quantile(np.array([0.333]))[0] == pytest.approx(33.3)
    assert QuantileCDF.from_quantiles([None, None]) is None


def test_merging_two_halves_approximates_the_whole(store):
    whole = mixed_frame(11, 6000)
    _, first = store("a", whole.head(3000))
    _, second = store("b", whole.tail(3000))
    _, exact = store("all", whole)
    merged = merge_profiles([first, second])
    for name in ("amount", "score"):
        assert merged[name]["rows"] == 6000
        assert merged[name]["mean"] == pytest.approx(exact[name]["mean"], rel=1e-9)
        assert merged[name]["std"] == pytest.approx(exact[name]["std"], rel=1e-3)
        assert merged[name]["min"] == exact[name]["min"]
        assert merged[name]["max"] == exact[name]["max"]
        spread = exact[name]["quantiles"][90] - exact[name]["quantiles"][10]
        for got, want in zip(merged[name]["quantiles"][5:96], exact[name]["quantiles"][5:96], strict=True):
            assert got == pytest.approx(want, abs=0.02 * spread)
        assert sum(merged[name]["histogram"]["counts"]) == pytest.approx(6000)
    assert merged["country"]["categories"]["counts"] == exact["country"]["categories"]["counts"]
    assert merged["churned"]["true"] == exact["churned"]["true"]


def test_weights_scale_each_versions_rows(store):
    _, low = store("low", pl.DataFrame({"x": np.zeros(1000)}))
    _, high = store("high", pl.DataFrame({"x": np.ones(1000)}))
    merged = merge_profiles([low, high], weights=[1.0, 3.0])
    assert merged["x"]["mean"] == pytest.approx(0.75)
    assert merged["x"]["rows"] == 4000
    assert merged["x"]["quantiles"][20] == 0.0
    assert merged["x"]["quantiles"][30] == 1.0
    with pytest.raises(InputError):
        merge_profiles([low, high], weights=[1.0])
    with pytest.raises(InputError):
        merge_profiles([])


def test_a_column_takes_its_latest_kind(store):
    _, old = store("old", pl.DataFrame({"x": [1, 2, 3]}))
    _, new = store("new", pl.DataFrame({"x": ["a", "b", "b"]}))
    merged = merge_profiles([old, new])
    assert merged["x"]["kind"] == "text"
    assert merged["x"]["categories"]["counts"] == {"b": 2, "a": 1}


def test_samples_are_deterministic_nested_and_in_order():
    frame = pl.DataFrame({"i": range(10_000)})
    small = reference_sample(frame, 100, seed=3)
    assert small.equals(reference_sample(frame.lazy(), 100, seed=3))
    assert small["i"].is_sorted()
    larger = reference_sample(frame, 500, seed=3)
    assert set(small["i"]) <= set(larger["i"])
    assert set(reference_sample(frame, 100, seed=4)["i"]) != set(small["i"])
    assert sample_rows(frame, 20_000).height == 10_000
    assert reference_sample(frame.head(0), 10).height == 0


def test_sample_positions_are_a_fixed_formula_and_spread_out():
    # the keys are SplitMix64 (0xE220A8397B1DCDAF is its first output for seed 0), not a
    # library RNG stream, so samples never change with numpy or polars upgrades
    assert hash_keys(np.array([0, 1], dtype=np.uint64), 0).tolist() == [
        0xE220A8397B1DCDAF,
        7960286522194355700,
    ]
    assert sample_positions(1000, 3, seed=0).tolist() == [366, 410, 821]
    positions = sample_positions(5_000_000, 2000, seed=0)
    assert len(positions) == 2000
    assert len(set(positions.tolist())) == 2000
    counts, _ = np.histogram(positions, bins=10, range=(0, 5_000_000))
    assert counts.min() > 150  # no clumping at either end


def test_a_reference_from_profiles_concatenates_samples(store):
    _, first = store("a", mixed_frame(1, 500))
    _, second = store("b", mixed_frame(2, 500))
    samples = [reference_sample(mixed_frame(1, 500), 50), reference_sample(mixed_frame(2, 500), 50)]
    reference = Reference.from_profiles([first, second], samples=samples, versions=["1", "2"])
    assert reference.sample is not None
    assert reference.sample.height == 100
    assert reference.versions == ("1", "2")


def test_exact_histogram_counts_refine_the_sketch_between_percentiles():
    model = QuantileCDF.from_quantiles([float(i) for i in range(101)])
    assert model is not None
    refined = model.with_left_limits(np.array([0.5, 10.0, 50.25]), np.array([0.002, 0.1, 0.51]))
    assert refined.at(np.array([0.5, 50.25]))[0] == pytest.approx(0.002)
    assert refined.left(np.array([10.0]))[0] == pytest.approx(0.1)
    assert refined.at(np.array([50.25]))[0] == pytest.approx(0.51)
    assert np.all(np.diff(refined.polyline()[1]) >= 0)


def test_re_binned_histograms_are_marked_inexact(store):
    _, first = store("a", mixed_frame(1, 500))
    _, second = store("b", mixed_frame(2, 500))
    assert merge_profiles([first, second])["score"]["histogram"]["exact"] is False
    assert "exact" not in merge_profiles([first])["score"]["histogram"]
