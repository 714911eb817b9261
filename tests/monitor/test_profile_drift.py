"""Profiles and drift distances against numpy/scipy reference implementations."""

from __future__ import annotations

import json
import math

import numpy as np
import polars as pl
import pytest
from scipy.spatial.distance import jensenshannon
from scipy.stats import wasserstein_distance
from sklearn.datasets import make_classification

from mmtop.store import drift, profile


def _frame(seed: int = 0, n: int = 4000) -> pl.DataFrame:
    x, _ = make_classification(
        n_samples=n, n_features=4, n_informative=3, n_redundant=0, random_state=seed
    )
    rng = np.random.default_rng(seed)
    cats = rng.choice(["a", "b", "c", "d"], size=n, p=[0.4, 0.3, 0.2, 0.1])
    return pl.DataFrame(
        {
            "f0": x[:, 0],
            "f1": x[:, 1],
            "count": rng.integers(0, 5, n),
            "city": cats,
            "flag": rng.random(n) > 0.5,
        }
    )


def test_numeric_profile_matches_numpy() -> None:
    frame = _frame().with_columns(
        pl.when(pl.int_range(pl.len()) % 10 == 0).then(None).otherwise(pl.col("f0")).alias("f0")
    )
    prof = profile.profile(frame, bins=10)
    json.dumps(prof, allow_nan=False)
    col = prof["columns"]["f0"]
    values = frame["f0"].drop_nulls().to_numpy()
    assert col["kind"] == "numeric"
    assert col["nulls"] == 400 and col["count"] == 3600
    assert col["null_share"] == pytest.approx(0.1, abs=1e-12)
    assert col["mean"] == pytest.approx(float(np.mean(values)), abs=1e-9)
    assert col["std"] == pytest.approx(float(np.std(values, ddof=1)), abs=1e-9)
    assert (col["min"], col["max"]) == (float(values.min()), float(values.max()))
    edges = np.quantile(values, np.linspace(0, 1, 11))
    np.testing.assert_allclose(col["edges"], edges, rtol=0, atol=1e-9)
    inner = edges[1:-1]
    expected = np.bincount(np.searchsorted(inner, values, side="right"), minlength=10)
    assert col["counts"] == expected.tolist()
    assert sum(col["counts"]) == 3600


def test_discrete_column_dedupes_edges_and_constant_has_one_bin() -> None:
    frame = pl.DataFrame({"k": [0] * 90 + [1] * 10, "c": [3.0] * 100})
    prof = profile.profile(frame)
    # numpy's linear quantile at 0.9 of 90 zeros and 10 ones lies between them
    assert prof["columns"]["k"]["edges"] == pytest.approx([0.0, 0.1, 1.0], abs=1e-12)
    assert prof["columns"]["k"]["counts"] == [90, 10]
    assert prof["columns"]["c"]["edges"] == [3.0]
    assert prof["columns"]["c"]["counts"] == [100]
    assert prof["columns"]["c"]["std"] == 0.0


def test_nan_and_inf_count_as_null() -> None:
    frame = pl.DataFrame({"x": [1.0, float("nan"), float("inf"), None, 2.0]})
    col = profile.profile(frame)["columns"]["x"]
    assert (col["count"], col["nulls"], col["null_share"]) == (2, 3, 0.6)


def test_categorical_profile_top_k_and_other() -> None:
    frame = _frame()
    prof = profile.profile(frame, top_k=2)
    col = prof["columns"]["city"]
    counts = dict(zip(*np.unique(frame["city"].to_numpy(), return_counts=True), strict=True))
    assert col["kind"] == "categorical" and col["distinct"] == 4
    assert col["categories"] == {"a": counts["a"], "b": counts["b"]}
    assert col["other"] == counts["c"] + counts["d"]
    flag = prof["columns"]["flag"]
    assert set(flag["categories"]) == {"true", "false"} and flag["other"] == 0


def test_sample_is_bounded_seeded_and_reads_back() -> None:
    frame = _frame(n=12_000)
    prof = profile.profile(frame, sample_rows=10_000, seed=3)
    assert prof["sample"]["rows"] == 10_000
    sample = profile.sample_frame(prof)
    assert sample.height == 10_000
    assert sample.schema["f0"] == pl.Float64 and sample.schema["flag"] == pl.String
    picked = np.sort(np.random.default_rng(3).choice(12_000, 10_000, replace=False))
    np.testing.assert_array_equal(sample["f0"].to_numpy(), frame["f0"].to_numpy()[picked])
    small = profile.profile(frame.head(50))
    assert profile.sample_frame(small)["city"].to_list() == frame["city"].head(50).to_list()
    assert json.loads(json.dumps(prof)) == prof


def test_psi_matches_numpy_reference() -> None:
    rng = np.random.default_rng(1)
    base, cur = rng.normal(size=5000), rng.normal(0.3, 1.2, size=3000)
    edges = np.unique(np.quantile(base, np.linspace(0, 1, 11)))
    e_counts = np.histogram(base, bins=np.r_[-np.inf, edges[1:-1], np.inf])[0]
    a_counts = np.histogram(cur, bins=np.r_[-np.inf, edges[1:-1], np.inf])[0]
    e = np.maximum(e_counts / e_counts.sum(), 1e-4)
    a = np.maximum(a_counts / a_counts.sum(), 1e-4)
    reference = float(np.sum((a - e) * np.log(a / e)))
    assert drift.psi(e_counts, a_counts) == pytest.approx(reference, abs=1e-9)
    prof = profile.profile(pl.DataFrame({"x": base}))
    report = drift.compare(prof, pl.DataFrame({"x": cur}))
    assert report["psi"][0] == pytest.approx(reference, abs=1e-9)
    assert drift.psi([10, 0, 5], [10, 0, 5]) == 0.0


def test_wasserstein_matches_scipy() -> None:
    rng = np.random.default_rng(2)
    for n, m in [(100, 100), (1000, 37), (5000, 20_000)]:
        u, v = rng.normal(size=n), rng.exponential(size=m)
        assert drift.wasserstein(u, v) == pytest.approx(wasserstein_distance(u, v), abs=1e-9)
    ties = np.array([0.0, 0, 1, 1, 1, 2])
    assert drift.wasserstein(ties, ties[::-1]) == 0.0
    assert math.isnan(drift.wasserstein([], [1.0]))


def test_wasserstein_of_a_small_sample_and_a_large_window_matches_scipy() -> None:
    """The shapes a drift report meets: a 10k sample against 100k values, shifted, on a large
    offset, disjoint, discrete with ties everywhere, and tiny samples of few values."""
    rng = np.random.default_rng(5)
    base = rng.normal(size=10_000)
    cases = [
        (base, rng.normal(size=100_000)),
        (base, rng.normal(2.5, 1.0, size=100_000)),
        (base + 1e6, rng.normal(1e6 + 0.1, 1.0, size=100_000)),
        (base, rng.normal(-40.0, 1.0, size=50_000)),
        (rng.integers(0, 5, 10_000).astype(float), rng.integers(0, 7, 100_000).astype(float)),
        (np.array([3.0]), rng.normal(size=1000)),
        (rng.normal(size=1000), np.array([3.0])),
    ]
    cases += [
        (rng.integers(0, 4, n).astype(float), rng.integers(0, 4, m).astype(float))
        for n, m in rng.integers(1, 12, size=(300, 2))
    ]
    for u, v in cases:
        assert drift.wasserstein(u, v) == pytest.approx(wasserstein_distance(u, v), abs=1e-9)


def test_normalised_wasserstein_uses_baseline_sample_and_std() -> None:
    rng = np.random.default_rng(4)
    base, cur = rng.normal(2.0, 3.0, size=20_000), rng.normal(2.5, 3.0, size=4000)
    prof = profile.profile(pl.DataFrame({"x": base}), sample_rows=10_000)
    sample = profile.sample_frame(prof)["x"].to_numpy()
    reference = wasserstein_distance(sample, cur) / np.std(base, ddof=1)
    report = drift.compare(prof, pl.DataFrame({"x": cur}))
    assert report["wasserstein"][0] == pytest.approx(reference, abs=1e-9)


def test_js_distance_matches_scipy() -> None:
    for p, q in [([1, 2, 3], [3, 2, 1]), ([5, 0, 5], [0, 10, 0]), ([1, 1], [1, 1])]:
        ref = float(jensenshannon(np.array(p, float), np.array(q, float), base=2))
        assert drift.js_distance(p, q) == pytest.approx(ref, abs=1e-9)


def test_compare_categorical_unseen_and_other_bucket() -> None:
    base = pl.DataFrame({"city": ["a"] * 50 + ["b"] * 30 + ["c"] * 15 + ["d"] * 5})
    prof = profile.profile(base, top_k=2, sample_rows=0)
    cur = pl.DataFrame({"city": ["a"] * 20 + ["c"] * 10 + ["zz"] * 10 + [None] * 10})
    row = drift.compare(prof, cur).row(0, named=True)
    expected, actual = [50, 30, 20], [20, 0, 20]
    assert row["js"] == pytest.approx(
        float(jensenshannon(np.array(expected, float), np.array(actual, float), base=2)),
        abs=1e-9,
    )
    assert row["psi"] == pytest.approx(drift.psi(expected, actual), abs=1e-12)
    assert row["unseen"] == ["c", "zz"] and row["unseen_share"] == 0.5
    assert row["null_share"] == 0.2 and row["drift"] is True
    known = profile.profile(base, top_k=2)
    assert drift.compare(known, cur).row(0, named=True)["unseen"] == ["zz"]


def test_compare_flags_only_shifted_columns_and_reads_profiles() -> None:
    both = _frame(0, 16_000)
    base, same = both.head(8000), both.tail(8000)
    prof = profile.profile(base)
    shifted = same.with_columns(pl.col("f1") + 1.5, pl.col("count") * 3)
    report = drift.compare(prof, shifted)
    assert report.filter(pl.col("drift"))["column"].to_list() == ["f1", "count"]
    assert not drift.compare(prof, same)["drift"].any()
    shifted_f1 = report.filter(pl.col("column") == "f1").row(0, named=True)
    assert shifted_f1["out_of_range_share"] > 0
    by_profile = drift.compare(prof, profile.profile(shifted))
    assert by_profile.filter(pl.col("drift"))["column"].to_list() == ["f1", "count"]
    missing = drift.compare(prof, shifted.drop("f0")).row(0, named=True)
    assert missing["null_share"] == 1.0 and missing["psi"] is None


def test_thresholds_from_dict() -> None:
    t = drift.Thresholds.from_dict({"psi": 0.5, "js": None})
    assert t.to_dict() == {
        "psi": 0.5,
        "wasserstein": 0.1,
        "js": None,
        "null_share": 0.05,
        "out_of_range": 0.05,
        "unseen": 0.05,
    }
    with pytest.raises(ValueError, match="unknown drift threshold 'pis'"):
        drift.Thresholds.from_dict({"pis": 1})
    with pytest.raises(ValueError, match="must be a number"):
        drift.Thresholds.from_dict({"psi": "high"})
