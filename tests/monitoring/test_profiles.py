"""Window profiles: bins, counts, tails, moments, merge and JSON round trip.

Pure NumPy code: no database is touched.
"""

import json
import time

import numpy as np
import pytest
from gatehouse_client.profile import (
    DEFAULT_TAIL_BUCKETS,
    OTHER_CATEGORY,
    BinsMismatchError,
    CategoricalProfile,
    NumericBins,
    NumericProfile,
    merge_profiles,
    profile_from_dict,
)

from monitoring.statistics import categorical_table


def rng(seed=0):
    return np.random.default_rng(seed)


def expected_cells(bins, values):
    """Straightforward cell index: one searchsorted over every cell boundary.

    Cells are right-closed; the reference minimum has a cell of its own, so the
    boundary just below it (the largest float < min) separates the low tail.
    """
    below = np.nextafter(bins.low, -np.inf)
    boundaries = np.concatenate(
        (bins._low_bounds, [below], bins.edges, bins._high_bounds)
    )
    return np.searchsorted(boundaries, values, side="left")


SAMPLES = {
    "normal": lambda g, n: g.normal(0, 1, n),
    "lognormal": lambda g, n: g.lognormal(0, 1, n),
    "pareto": lambda g, n: g.pareto(1.1, n),
    "mixture": lambda g, n: np.where(
        g.random(n) < 0.3, g.normal(-4, 0.2, n), g.normal(5, 2, n)
    ),
    "integers": lambda g, n: g.integers(-5, 60, n).astype(float),
    "large_offset": lambda g, n: 1e9 + g.normal(0, 1e-3, n),
}


class TestNumericBins:
    def test_edges_are_reference_quantiles_and_exact_extremes(self):
        values = rng().normal(size=5_000)
        bins = NumericBins.from_reference(values, n_bins=100)
        ordered = np.sort(values)
        assert bins.low == ordered[0]
        assert bins.high == ordered[-1]
        # Inverted-CDF quantile k/100 is the ceil(k * n / 100)-th smallest value
        # (numpy's float k/100 * n sometimes rounds past an integer).
        k = np.arange(1, 100)
        quantiles = ordered[-(-k * values.size // 100) - 1]
        assert np.isin(quantiles, bins.edges).all()
        # Extreme levels split the widest outer bins; nothing else is added.
        extremes = np.quantile(
            ordered,
            [0.001, 0.002, 0.005, 0.995, 0.998, 0.999],
            method="inverted_cdf",
        )
        assert (
            bins.edges.size
            == np.unique(np.concatenate((ordered[[0, -1]], quantiles, extremes))).size
        )

    def test_discrete_feature_gets_one_edge_per_value(self):
        values = rng().integers(0, 30, 10_000).astype(float)
        bins = NumericBins.from_reference(values)
        assert bins.edges.tolist() == list(range(30))

    def test_discrete_check_covers_values_missing_from_the_sample(self):
        values = np.zeros(300_000)
        values[:299_990] = rng().integers(0, 5, 299_990)
        values[-1] = 7.0  # one rare value the edge sample will most likely miss
        bins = NumericBins.from_reference(values, sample_size=1_000)
        assert bins.high == 7.0
        profile = NumericProfile.from_values(values, bins)
        assert profile.above_range == 0
        assert profile.below_range == 0

    def test_constant_reference_has_one_edge_and_positive_tail_scale(self):
        bins = NumericBins.from_reference(np.full(1_000, 4.5))
        assert bins.edges.tolist() == [4.5]
        assert bins.n_bins == 0
        assert bins.tail_scale == pytest.approx(4.5e-3)

    @pytest.mark.parametrize("values", [[], [np.nan, None], np.full(3, np.nan)])
    def test_reference_without_values_cannot_fit_bins(self, values):
        with pytest.raises(ValueError, match="no non-missing values"):
            NumericBins.from_reference(np.asarray(values, dtype=object))

    @pytest.mark.parametrize(
        ("data", "message"),
        [
            ({"edges": [1.0, 1.0], "tail_scale": 1.0}, "strictly increasing"),
            ({"edges": [0.0, float("inf")], "tail_scale": 1.0}, "finite"),
            ({"edges": [], "tail_scale": 1.0}, "empty"),
            ({"edges": [0.0, 1.0], "tail_scale": -1.0}, "positive"),
            ({"edges": [0.0, 1.0], "tail_scale": 1, "tail_bins": 99}, "between"),
            ({"edges": [0.0, 1.0]}, "invalid numeric bins"),
        ],
    )
    def test_from_dict_rejects_invalid_layouts(self, data, message):
        with pytest.raises(ValueError, match=message):
            NumericBins.from_dict(data)

    @pytest.mark.parametrize("shape", sorted(SAMPLES))
    def test_cell_index_matches_a_plain_searchsorted(self, shape):
        generator = rng(1)
        reference = SAMPLES[shape](generator, 20_000)
        bins = NumericBins.from_reference(reference)
        spread = bins.high - bins.low
        current = np.concatenate(
            (
                SAMPLES[shape](generator, 50_000) * 1.5 + 0.2 * spread,
                bins.edges,  # ties with every edge
                np.nextafter(bins.edges, np.inf),
                np.nextafter(bins.edges, -np.inf),
                bins._low_bounds,
                bins._high_bounds,
                [bins.low - 1e6 * spread - 1, bins.high + 1e6 * spread + 1],
            )
        )
        assert np.array_equal(bins.cell_index(current), expected_cells(bins, current))

    def test_tail_cells_grow_geometrically_beyond_the_range(self):
        bins = NumericBins(edges=np.array([0.0, 1.0]), tail_scale=0.5, tail_bins=4)
        assert bins._high_bounds.tolist() == [1.5, 2.0, 3.0, 5.0]
        assert bins._low_bounds.tolist() == [-4.0, -2.0, -1.0, -0.5]
        cells = bins.cell_index(np.array([-100.0, -0.2, 0.0, 0.5, 1.0, 1.2, 4.0, 9.0]))
        # 5 low cells, {0}, (0, 1], 5 high cells
        assert cells.tolist() == [0, 4, 5, 6, 6, 7, 10, 11]
        assert bins.n_cells == 12

    def test_equal_layouts_are_equal_and_share_an_instance_from_dict(self):
        values = rng().normal(size=1_000)
        first = NumericBins.from_reference(values)
        second = NumericBins.from_reference(values)
        assert first == second
        assert first.fingerprint == second.fingerprint
        stored = json.loads(json.dumps(first.to_dict()))
        assert NumericBins.from_dict(stored) is NumericBins.from_dict(stored)
        assert NumericBins.from_dict(stored) == first
        assert first != NumericBins.from_reference(values + 1)


class TestNumericProfile:
    @pytest.mark.parametrize("shape", sorted(SAMPLES))
    def test_counts_and_moments_match_numpy(self, shape):
        generator = rng(2)
        reference = SAMPLES[shape](generator, 30_000)
        bins = NumericBins.from_reference(reference)
        current = SAMPLES[shape](generator, 10_000) * 1.2 + 0.5
        profile = NumericProfile.from_values(current, bins)
        expected = np.bincount(expected_cells(bins, current), minlength=bins.n_cells)
        assert profile.counts.tolist() == expected.tolist()
        assert profile.count == current.size
        assert profile.missing == 0
        assert profile.minimum == current.min()
        assert profile.maximum == current.max()
        assert profile.mean == pytest.approx(current.mean(), rel=1e-12, abs=1e-12)
        assert profile.variance == pytest.approx(current.var(), rel=1e-9)
        # Offsets keep each cell's sum of values exactly enough for Wasserstein.
        sums = np.bincount(
            expected_cells(bins, current), weights=current, minlength=bins.n_cells
        )
        rebuilt = profile.offsets + profile.counts * bins.anchors
        assert np.allclose(rebuilt, sums, rtol=1e-9, atol=1e-9 * np.abs(current).max())

    def test_values_outside_the_reference_range_stay_in_tail_cells(self):
        bins = NumericBins.from_reference(rng(3).normal(size=10_000))
        current = np.array([-50.0, -7.0, 0.0, 5.0, 20.0, 1e12])
        profile = NumericProfile.from_values(current, bins)
        assert profile.below_range == 2
        assert profile.above_range == 3
        assert profile.maximum == 1e12
        # Far values keep distinct cells instead of piling into one edge bin.
        occupied = np.flatnonzero(profile.counts)
        assert occupied.size == 6
        assert occupied[-1] == bins.n_cells - 1  # 1e12 sits in the open last cell

    def test_missing_values_are_counted_not_binned(self):
        bins = NumericBins.from_reference([1.0, 2.0, 3.0])
        profile = NumericProfile.from_values([1.0, None, np.nan, 3.0], bins)
        assert profile.count == 2
        assert profile.missing == 2
        assert profile.missing_rate == 0.5
        assert profile.mean == 2.0

    @pytest.mark.parametrize("values", [[], [None, None], np.full(4, np.nan)])
    def test_empty_and_all_missing_windows_profile(self, values):
        bins = NumericBins.from_reference([1.0, 2.0])
        profile = NumericProfile.from_values(np.asarray(values, dtype=object), bins)
        assert profile.count == 0
        assert profile.missing == len(values)
        assert profile.minimum is None
        assert profile.maximum is None
        assert profile.variance is None
        assert profile.std is None
        assert profile.counts.sum() == 0

    def test_rejects_infinite_and_non_numeric_values(self):
        bins = NumericBins.from_reference([1.0, 2.0])
        with pytest.raises(ValueError, match="finite"):
            NumericProfile.from_values([1.0, np.inf], bins)
        with pytest.raises(ValueError, match="numeric values expected"):
            NumericProfile.from_values(np.array(["a", "b"]), bins)

    def test_merge_of_parts_equals_profile_of_the_union(self):
        generator = rng(4)
        bins = NumericBins.from_reference(generator.lognormal(size=20_000))
        parts = [
            generator.lognormal(0.3, 1.2, 7_000),
            np.concatenate((generator.lognormal(size=3_000), [np.nan] * 11)),
            np.array([np.nan, np.nan]),
            np.array([]),
            generator.normal(-3, 1, 500),  # entirely below the reference range
        ]
        profiles = [NumericProfile.from_values(part, bins) for part in parts]
        whole = NumericProfile.from_values(np.concatenate(parts), bins)
        a, b, c, d, e = profiles
        left = a.merge(b).merge(c).merge(d).merge(e)
        right = e.merge(d.merge(c.merge(b.merge(a))))
        for merged in (left, right, merge_profiles(profiles)):
            assert merged.counts.tolist() == whole.counts.tolist()
            assert merged.missing == whole.missing == 13
            assert merged.minimum == whole.minimum
            assert merged.maximum == whole.maximum
            assert merged.mean == pytest.approx(whole.mean, rel=1e-12)
            assert merged.m2 == pytest.approx(whole.m2, rel=1e-10)
            assert np.allclose(merged.offsets, whole.offsets, rtol=1e-10, atol=1e-9)

    def test_merge_is_commutative_bit_for_bit(self):
        generator = rng(5)
        bins = NumericBins.from_reference(generator.normal(size=1_000))
        a = NumericProfile.from_values(generator.normal(1, 2, 999), bins)
        b = NumericProfile.from_values(generator.normal(-1, 1, 10), bins)
        assert a.merge(b).to_dict() == b.merge(a).to_dict()

    def test_merge_refuses_profiles_on_different_bins(self):
        first = NumericProfile.from_reference(rng(6).normal(size=100))
        second = NumericProfile.from_reference(rng(7).normal(size=100))
        with pytest.raises(BinsMismatchError):
            first.merge(second)
        with pytest.raises(TypeError):
            first.merge(CategoricalProfile.from_reference(["a"]))

    def test_json_round_trip_with_and_without_bins(self):
        generator = rng(8)
        reference = NumericProfile.from_reference(generator.gamma(2.0, size=5_000))
        window = NumericProfile.from_values(
            np.concatenate((generator.gamma(2.5, size=800), [None] * 3)), reference.bins
        )
        stored = json.loads(json.dumps(window.to_dict()))
        restored = NumericProfile.from_dict(stored)
        assert restored.to_dict() == window.to_dict()
        assert restored.bins == window.bins
        lean = json.loads(json.dumps(window.to_dict(include_bins=False)))
        assert "bins" not in lean
        assert (
            profile_from_dict(lean, bins=reference.bins).to_dict() == window.to_dict()
        )
        with pytest.raises(ValueError, match="pass bins="):
            NumericProfile.from_dict(lean)
        other_bins = NumericBins.from_reference(generator.normal(size=50))
        with pytest.raises(BinsMismatchError):
            NumericProfile.from_dict(lean, bins=other_bins)

    def test_empty_profile_round_trips_through_json(self):
        bins = NumericBins.from_reference([0.0, 1.0, 2.0])
        empty = NumericProfile.from_values([None], bins)
        stored = json.loads(json.dumps(empty.to_dict()))
        assert stored["min"] is None
        assert NumericProfile.from_dict(stored).to_dict() == empty.to_dict()

    @pytest.mark.parametrize(
        ("change", "message"),
        [
            ({"counts": [1, -1]}, "expected"),
            ({"kind": "categorical"}, "not a numeric profile"),
            ({"missing": -2}, "must not be negative"),
            ({"min": None}, "minimum and maximum are required"),
            ({"m2": -1.0}, "m2 must not be negative"),
            ({"counts": "abc"}, "counts must be integers"),
        ],
    )
    def test_from_dict_rejects_corrupt_profiles(self, change, message):
        bins = NumericBins.from_reference([0.0, 1.0, 2.0])
        data = NumericProfile.from_values([0.5, 1.5], bins).to_dict()
        data.update(change)
        with pytest.raises(ValueError, match=message):
            NumericProfile.from_dict(data)

    def test_profiles_a_million_values_in_milliseconds(self):
        generator = rng(9)
        bins = NumericBins.from_reference(generator.normal(size=200_000))
        values = generator.normal(0.3, 1.1, 1_000_000)
        best = float("inf")
        for _ in range(3):
            started = time.perf_counter()
            profile = NumericProfile.from_values(values, bins)
            best = min(best, time.perf_counter() - started)
        assert profile.count == 1_000_000
        # About 15 ms on the reference machine; a Python loop would take seconds.
        assert best < 0.25


class TestCategoricalProfile:
    def test_counts_categories_missing_and_other(self):
        values = ["a", "b", "a", None, "c", float("nan"), "a", "b", "d"]
        profile = CategoricalProfile.from_reference(values, max_categories=2)
        assert profile.categories == ("a", "b")
        assert profile.counts.tolist() == [3, 2]
        assert profile.other == 2
        assert profile.missing == 2
        assert profile.count == 7
        assert profile.frequencies() == {"a": 3, "b": 2, OTHER_CATEGORY: 2}

    def test_ties_in_the_vocabulary_break_by_name(self):
        profile = CategoricalProfile.from_reference(
            ["z", "y", "x", "x"], max_categories=2
        )
        assert profile.categories == ("x", "y")

    def test_window_uses_the_reference_vocabulary(self):
        reference = CategoricalProfile.from_reference(["a", "b", "b"])
        window = CategoricalProfile.from_values(
            ["b", "new", "new", None], reference.categories
        )
        assert window.categories == ("b", "a")
        assert window.counts.tolist() == [1, 0]
        assert window.other == 2
        assert window.missing == 1

    @pytest.mark.parametrize(
        ("values", "expected", "missing"),
        [
            (np.array([3, 1, 3, 3]), {"3": 3, "1": 1}, 0),
            (np.array([True, False, True]), {"True": 2, "False": 1}, 0),
            (np.array([1.0, np.nan, 1.0]), {"1.0": 2}, 1),
            (np.array(["x", "y", "x"]), {"x": 2, "y": 1}, 0),
            (np.array(["x", None, 2], dtype=object), {"x": 1, "2": 1}, 1),
        ],
    )
    def test_values_are_compared_as_strings(self, values, expected, missing):
        profile = CategoricalProfile.from_reference(values)
        assert profile.frequencies() == expected
        assert profile.missing == missing

    def test_empty_window(self):
        profile = CategoricalProfile.from_values([], ("a", "b"))
        assert profile.count == 0
        assert profile.missing_rate is None
        assert profile.counts.tolist() == [0, 0]

    def test_merge_is_exactly_associative_and_commutative(self):
        generator = rng(10)
        names = np.array(list("abcdefgh"), dtype=object)
        reference = CategoricalProfile.from_reference(
            names[generator.integers(0, 8, 1_000)], max_categories=5
        )
        parts = [names[generator.integers(0, 8, size)] for size in (300, 0, 41)]
        a, b, c = (
            CategoricalProfile.from_values(part, reference.categories) for part in parts
        )
        whole = CategoricalProfile.from_values(
            np.concatenate(parts), reference.categories
        )
        assert a.merge(b).merge(c).to_dict() == whole.to_dict()
        assert c.merge(b.merge(a)).to_dict() == whole.to_dict()

    def test_merge_refuses_different_vocabularies(self):
        first = CategoricalProfile.from_reference(["a", "b"])
        second = CategoricalProfile.from_reference(["a", "c"])
        with pytest.raises(BinsMismatchError):
            first.merge(second)

    def test_json_round_trip(self):
        profile = CategoricalProfile.from_values(["x", "y", "q", None], ("x", "y", "z"))
        stored = json.loads(json.dumps(profile.to_dict()))
        restored = profile_from_dict(stored)
        assert isinstance(restored, CategoricalProfile)
        assert restored.to_dict() == profile.to_dict()
        assert restored.vocabulary_id == profile.vocabulary_id

    @pytest.mark.parametrize(
        ("change", "message"),
        [
            ({"counts": [1]}, "one entry per category"),
            ({"categories": ["a", "a"]}, "unique"),
            ({"other": -1}, "must not be negative"),
            ({"kind": "numeric"}, "not a categorical profile"),
            ({"counts": [1.5, 2.0]}, "integers"),
        ],
    )
    def test_from_dict_rejects_corrupt_profiles(self, change, message):
        data = CategoricalProfile.from_values(["a", "b"], ("a", "b")).to_dict()
        data.update(change)
        with pytest.raises(ValueError, match=message):
            CategoricalProfile.from_dict(data)

    def test_the_tail_sketch_is_bounded_and_merges_exactly(self):
        generator = rng(11)
        names = np.array([f"id-{i}" for i in range(5_000)], dtype=object)
        reference = CategoricalProfile.from_reference(
            names[generator.integers(0, 5_000, 20_000)], max_categories=50
        )
        assert len(reference.categories) == 50
        assert reference.tail_buckets == DEFAULT_TAIL_BUCKETS
        parts = [names[generator.integers(0, 5_000, size)] for size in (700, 3)]
        a, b = (
            CategoricalProfile.from_values(part, reference.categories) for part in parts
        )
        whole = CategoricalProfile.from_values(
            np.concatenate(parts), reference.categories
        )
        assert a.merge(b).to_dict() == whole.to_dict() == b.merge(a).to_dict()
        assert whole.tail.sum() == whole.other == 703 - whole.counts.sum()
        stored = whole.to_dict()
        assert len(stored["tail"]) <= DEFAULT_TAIL_BUCKETS
        assert len(json.dumps(reference.to_dict())) < 8_000

    def test_a_format_1_profile_still_loads_and_compares(self):
        stored = {
            "kind": "categorical",
            "version": 1,
            "categories": ["a", "b"],
            "counts": [5, 3],
            "other": 2,
            "missing": 1,
        }
        reference = profile_from_dict(stored)
        assert (reference.tail_buckets, reference.other, reference.count) == (0, 2, 10)
        window = reference.profile_counts({"a": 4, "zz": 6}, missing=0)
        assert (window.tail_buckets, window.other) == (0, 6)
        names, _, current = categorical_table(reference, window)
        assert names == ["a", "b", OTHER_CATEGORY]
        assert current.tolist() == [4, 0, 6]
        assert profile_from_dict(window.to_dict()).to_dict() == window.to_dict()

    @pytest.mark.parametrize(
        ("change", "message"),
        [
            ({"version": 3}, "format version 3"),
            ({"tail": [[300, 1]]}, "out of range"),
            ({"tail": [[1, -1]]}, "must not be negative"),
            ({"other": 5}, "sum of the tail"),
        ],
    )
    def test_from_dict_rejects_a_corrupt_tail(self, change, message):
        data = CategoricalProfile.from_values(["a", "q"], ("a",)).to_dict()
        data.update(change)
        with pytest.raises(ValueError, match=message):
            CategoricalProfile.from_dict(data)

    def test_merge_refuses_different_tail_sketches(self):
        first = CategoricalProfile.from_values(["a"], ("a",))
        second = CategoricalProfile.from_values(["a"], ("a",), tail_buckets=0)
        with pytest.raises(BinsMismatchError):
            first.merge(second)

    def test_unknown_kind_is_rejected(self):
        with pytest.raises(ValueError, match="unknown profile kind"):
            profile_from_dict({"kind": "text"})
