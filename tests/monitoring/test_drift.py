"""Drift statistics against SciPy/NumPy, verdicts, corrections and parity.

The tolerances asserted here are the ones documented in docs/drift.md.
"""

import json

import numpy as np
import pytest
from gatehouse_client.profile import (
    DEFAULT_TAIL_BUCKETS,
    BinsMismatchError,
    CategoricalProfile,
    NumericBins,
    NumericProfile,
)
from gatehouse_client.profile.categorical import tail_bucket
from scipy import stats
from scipy.spatial.distance import jensenshannon
from scipy.stats import kstwo

from monitoring.drift import (
    DEFAULT_THRESHOLDS,
    DriftConfig,
    FeatureDriftConfig,
    FeatureDriftResult,
    ParityConfig,
    evaluate_feature_parity,
    evaluate_prediction_drift,
    evaluate_window,
)
from monitoring.statistics import (
    KS_EXACT_MAX_N,
    adjust_pvalues,
    categorical_statistics,
    categorical_table,
    jensen_shannon_distance,
    ks_from_profiles,
    ks_pvalue,
    numeric_histograms,
    numeric_statistics,
    psi,
    wasserstein_from_profiles,
)

# Documented tolerances (docs/drift.md, "Tolerances"). Wasserstein / reference std:
# |ours - scipy| <= absolute + relative * scipy.
WASSERSTEIN_TOL_LARGE = (0.002, 0.005)  # at least 10,000 values a side
WASSERSTEIN_TOL_SMALL = (0.015, 0.01)  # down to 100 values a side
KS_PVALUE_REL_TOL = 0.04  # limiting distribution vs kstwo.sf, p >= 1e-6
EXACT = 1e-12


def generator(seed):
    return np.random.default_rng(seed)


DISTRIBUTIONS = {
    "normal": lambda g, n, shift: g.normal(shift, 1.0, n),
    "lognormal": lambda g, n, shift: g.lognormal(shift, 1.0, n),
    "mixture": lambda g, n, shift: np.where(
        g.random(n) < 0.4, g.normal(-3 + shift, 0.5, n), g.normal(2, 1.5, n)
    ),
    "student_t3": lambda g, n, shift: g.standard_t(3, n) + shift,
    "exponential": lambda g, n, shift: g.exponential(1 + shift, n),
}
# shift 4 moves most of the current window beyond the reference maximum.
SHIFTS = [0.0, 0.05, 0.3, 4.0]
SIZES = [(200_000, 50_000), (10_000, 10_000), (5_000, 300), (1_000, 100)]


def numeric_pair(shape, n_reference, n_current, shift, seed=0):
    g = generator(seed)
    reference = DISTRIBUTIONS[shape](g, n_reference, 0.0)
    current = DISTRIBUTIONS[shape](g, n_current, shift)
    ref_profile = NumericProfile.from_reference(reference)
    cur_profile = NumericProfile.from_values(current, ref_profile.bins)
    return reference, current, ref_profile, cur_profile


class TestNumericStatisticsAgainstScipy:
    @pytest.mark.parametrize("shape", sorted(DISTRIBUTIONS))
    @pytest.mark.parametrize("shift", SHIFTS)
    @pytest.mark.parametrize(("n_reference", "n_current"), SIZES)
    def test_wasserstein_matches_scipy_on_raw_data(
        self, shape, shift, n_reference, n_current
    ):
        reference, current, ref_profile, cur_profile = numeric_pair(
            shape, n_reference, n_current, shift, seed=n_current
        )
        scale = np.std(reference)
        expected = stats.wasserstein_distance(reference, current) / scale
        ours = numeric_statistics(ref_profile, cur_profile)["wasserstein"]
        large = min(n_reference, n_current) >= 10_000
        absolute, relative = WASSERSTEIN_TOL_LARGE if large else WASSERSTEIN_TOL_SMALL
        assert abs(ours - expected) <= absolute + relative * expected

    @pytest.mark.parametrize("shape", sorted(DISTRIBUTIONS))
    @pytest.mark.parametrize("shift", SHIFTS)
    @pytest.mark.parametrize(("n_reference", "n_current"), SIZES)
    def test_ks_statistic_is_bracketed_by_the_reported_bound(
        self, shape, shift, n_reference, n_current
    ):
        reference, current, ref_profile, cur_profile = numeric_pair(
            shape, n_reference, n_current, shift, seed=n_reference
        )
        expected = stats.ks_2samp(reference, current, method="asymp")
        statistic, bound = ks_from_profiles(ref_profile, cur_profile)
        assert statistic - EXACT <= expected.statistic <= statistic + bound + EXACT
        assert bound <= 0.011  # about one reference bin: 1 / n_bins
        # Its p-value brackets SciPy's the same way (up to the p-value formula).
        n, m = reference.size, current.size
        upper = ks_pvalue(statistic, n, m) * (1 + KS_PVALUE_REL_TOL)
        lower = ks_pvalue(min(statistic + bound, 1.0), n, m) * (1 - KS_PVALUE_REL_TOL)
        assert lower - 1e-300 <= expected.pvalue <= upper + EXACT

    def test_beyond_the_reference_range_statistics_stay_exact(self):
        g = generator(3)
        reference = g.normal(0, 1, 50_000)
        current = np.concatenate((g.normal(30, 5, 2_000), g.normal(-40, 1, 1_000)))
        ref_profile = NumericProfile.from_reference(reference)
        cur_profile = NumericProfile.from_values(current, ref_profile.bins)
        assert cur_profile.below_range + cur_profile.above_range == current.size
        distance = wasserstein_from_profiles(ref_profile, cur_profile)
        expected = stats.wasserstein_distance(reference, current)
        # An open-ended edge bin would put all of it at the reference maximum.
        assert distance == pytest.approx(expected, rel=1e-8)
        statistic, bound = ks_from_profiles(ref_profile, cur_profile)
        assert statistic == pytest.approx(
            stats.ks_2samp(reference, current).statistic, abs=EXACT
        )
        assert bound == 0.0

    def test_discrete_feature_ks_and_wasserstein_are_exact(self):
        g = generator(4)
        reference = g.poisson(6, 40_000).astype(float)
        current = g.poisson(6.4, 3_000).astype(float)
        ref_profile = NumericProfile.from_reference(reference)
        cur_profile = NumericProfile.from_values(current, ref_profile.bins)
        statistic, bound = ks_from_profiles(ref_profile, cur_profile)
        assert bound == 0.0
        assert statistic == pytest.approx(
            stats.ks_2samp(reference, current).statistic, abs=EXACT
        )
        assert wasserstein_from_profiles(ref_profile, cur_profile) == pytest.approx(
            stats.wasserstein_distance(reference, current), rel=1e-9
        )

    def test_histograms_count_raw_values_on_the_reference_edges(self):
        g = generator(5)
        reference = g.gamma(2.0, 1.0, 20_000)
        current = g.gamma(2.0, 1.3, 4_000) - 0.5
        ref_profile = NumericProfile.from_reference(reference)
        cur_profile = NumericProfile.from_values(current, ref_profile.bins)
        edges = ref_profile.bins.edges

        def straightforward(values):
            # [below min, [min, e1], (e1, e2], ..., above max]
            inner = np.searchsorted(edges[1:-1], values, side="left") + 1
            inner[values < edges[0]] = 0
            inner[values > edges[-1]] = edges.size
            return np.bincount(inner, minlength=edges.size + 1)

        ref_hist, cur_hist = numeric_histograms(ref_profile, cur_profile)
        assert ref_hist.tolist() == straightforward(reference).tolist()
        assert cur_hist.tolist() == straightforward(current).tolist()

    @pytest.mark.parametrize("shape", sorted(DISTRIBUTIONS))
    @pytest.mark.parametrize("shift", SHIFTS)
    def test_jensen_shannon_and_psi_match_scipy_and_numpy(self, shape, shift):
        _, _, ref_profile, cur_profile = numeric_pair(shape, 20_000, 2_000, shift)
        ref_hist, cur_hist = numeric_histograms(ref_profile, cur_profile)
        result = numeric_statistics(ref_profile, cur_profile)
        assert result["jensenshannon"] == pytest.approx(
            jensenshannon(ref_hist, cur_hist, base=2), abs=EXACT
        )
        p = np.maximum(ref_hist / ref_hist.sum(), 1e-4)
        q = np.maximum(cur_hist / cur_hist.sum(), 1e-4)
        assert result["psi"] == pytest.approx(
            np.sum((q - p) * np.log(q / p)), rel=EXACT
        )

    def test_psi_by_hand(self):
        # (0.5-0.25)ln2 + (0.25-0.5)ln(1/2) + (0.25-0.25)*0 = 0.5 ln 2
        assert psi([2, 1, 1], [1, 2, 1]) == pytest.approx(0.5 * np.log(2))
        # An empty reference bin is floored at epsilon.
        assert psi([1, 0], [1, 1], epsilon=0.01) == pytest.approx(
            (0.5 - 1) * np.log(0.5 / 1) + (0.5 - 0.01) * np.log(0.5 / 0.01)
        )

    def test_jensen_shannon_extremes(self):
        assert jensen_shannon_distance([1, 2, 3], [2, 4, 6]) == 0.0
        assert jensen_shannon_distance([1, 0], [0, 1]) == pytest.approx(1.0)
        with pytest.raises(ValueError, match="all be zero"):
            jensen_shannon_distance([0, 0], [1, 1])

    @pytest.mark.parametrize("n", [1, 7, 100, 999, 1_000])
    def test_ks_pvalue_is_scipys_asymptotic_one_up_to_the_exact_limit(self, n):
        for statistic in (0.01, 0.05, 0.2, 0.5):
            assert ks_pvalue(statistic, n, n * 10_000) == pytest.approx(
                float(kstwo.sf(statistic, round(n * n * 10_000 / (n + n * 10_000)))),
                rel=1e-12,
            )

    @pytest.mark.parametrize("n", [KS_EXACT_MAX_N + 1, 5_000, 50_000, 100_000])
    def test_ks_pvalue_approximation_stays_within_tolerance(self, n):
        for target in (0.5, 0.05, 1e-3, 1e-6):
            statistic = float(kstwo.isf(target, n))
            exact = float(kstwo.sf(statistic, n))
            # n and a huge second sample give an effective size of about n.
            ours = ks_pvalue(statistic, n, 10**15)
            assert ours == pytest.approx(exact, rel=KS_PVALUE_REL_TOL)

    def test_ks_pvalue_edges(self):
        assert ks_pvalue(0.0, 10, 10) == 1.0
        assert ks_pvalue(1.0, 1, 1) == pytest.approx(float(kstwo.sf(1.0, 1)))
        with pytest.raises(ValueError, match="at least one value"):
            ks_pvalue(0.1, 0, 10)

    def test_profiles_on_different_bins_are_not_compared(self):
        first = NumericProfile.from_reference(generator(6).normal(size=100))
        second = NumericProfile.from_reference(generator(7).normal(size=100))
        with pytest.raises(BinsMismatchError):
            numeric_statistics(first, second)


class TestCategoricalStatistics:
    @pytest.mark.parametrize(
        ("reference", "current"),
        [
            ({"a": 500, "b": 300, "c": 200}, {"a": 450, "b": 350, "c": 200}),
            ({"a": 60, "b": 40}, {"a": 45, "b": 55}),  # dof 1: Yates, as SciPy
            ({"a": 500, "b": 300}, {"a": 400, "b": 300, "new": 30}),  # unseen
            ({"a": 10, "b": 5, "gone": 20}, {"a": 30, "b": 9}),  # vanished
            ({"x": 1_000}, {"x": 10}),  # one category: nothing to test
        ],
    )
    def test_chi_square_matches_scipy_contingency(self, reference, current):
        ref = CategoricalProfile.from_reference(
            [name for name, count in reference.items() for _ in range(count)]
        )
        cur = CategoricalProfile.from_values(
            [name for name, count in current.items() for _ in range(count)],
            ref.categories,
        )
        names, ref_counts, cur_counts = categorical_table(ref, cur)
        result = categorical_statistics(ref, cur)
        if len(names) < 2:
            assert (result["chi2"], result["chi2_pvalue"], result["chi2_dof"]) == (
                0.0,
                1.0,
                0.0,
            )
            return
        expected = stats.chi2_contingency(np.stack((ref_counts, cur_counts)))
        assert result["chi2"] == pytest.approx(expected.statistic, rel=1e-12)
        assert result["chi2_pvalue"] == pytest.approx(expected.pvalue, rel=1e-9)
        assert result["chi2_dof"] == expected.dof
        assert result["jensenshannon"] == pytest.approx(
            jensenshannon(ref_counts, cur_counts, base=2), abs=EXACT
        )

    def test_categories_seen_on_one_side_only_are_kept(self):
        ref = CategoricalProfile.from_values(
            ["a", "b", "b", "gone"], ("a", "b", "gone")
        )
        cur = CategoricalProfile.from_values(["a", "b", "z", "z"], ("a", "b", "z", "q"))
        names, ref_counts, cur_counts = categorical_table(ref, cur)
        assert names == ["a", "b", "gone", "z"]
        assert ref_counts.tolist() == [1, 2, 1, 0]
        assert cur_counts.tolist() == [1, 1, 0, 2]

    def test_unseen_values_land_in_the_tail_and_are_counted(self):
        ref = CategoricalProfile.from_reference(["a"] * 90 + ["b"] * 10)
        cur = CategoricalProfile.from_values(
            ["a"] * 50 + ["brand-new"] * 50, ref.categories
        )
        names, _, cur_counts = categorical_table(ref, cur)
        bucket = tail_bucket("brand-new", DEFAULT_TAIL_BUCKETS)
        assert names == ["a", "b", f"__other__[{bucket}]"]
        assert cur_counts.tolist() == [50, 0, 50]
        statistics = categorical_statistics(ref, cur)
        assert statistics["chi2_pvalue"] < 1e-10
        assert statistics["unseen_share"] == 0.5


def _long_tail_case(seed: int = 14, size: int = 10_000):
    """400 categories (Zipf-like, 16 % of the mass outside the top 100); the
    current window moves mass between rare categories only: ranks 101-250 gain
    60 %, ranks 251-400 lose 60 %, the tail's total and the top 100 unchanged."""
    g = generator(seed)
    names = np.array([f"c{rank:03d}" for rank in range(400)], dtype=object)
    weights = 1 / np.arange(1, 401) ** 1.1
    weights /= weights.sum()
    drifted = weights.copy()
    drifted[100:250] *= 1.6
    drifted[250:] *= 0.4
    drifted[100:] *= weights[100:].sum() / drifted[100:].sum()
    return names[g.choice(400, size, p=weights)], names[g.choice(400, size, p=drifted)]


def _scipy_on_raw(reference, current):
    names = np.union1d(reference, current)
    table = np.stack(
        [
            [np.count_nonzero(side == name) for name in names]
            for side in (reference, current)
        ]
    )
    return stats.chi2_contingency(table)


class TestLongTail:
    """Drift that lives only in rare categories (issue #14, item 5)."""

    def test_drift_among_400_categories_matches_scipy_on_the_raw_categories(self):
        reference, current = _long_tail_case()
        expected = _scipy_on_raw(reference, current)
        ref = CategoricalProfile.from_reference(reference)
        cur = CategoricalProfile.from_values(current, ref.categories)
        result = categorical_statistics(ref, cur)
        # The top 500 are counted exactly: the same table as SciPy's.
        assert expected.pvalue < 1e-6
        assert result["chi2_pvalue"] == pytest.approx(expected.pvalue, rel=1e-9)
        assert result["chi2_dof"] == expected.dof
        verdict = evaluate_window(
            {"city": ref}, {"city": cur}, DriftConfig(categorical_method="chi2")
        )[0]
        assert (verdict.drifted, verdict.severity) == (True, "critical")

    def test_the_tail_sketch_sees_the_drift_beyond_the_vocabulary(self):
        reference, current = _long_tail_case()
        ref = CategoricalProfile.from_reference(reference, max_categories=100)
        cur = CategoricalProfile.from_values(current, ref.categories)
        lumped_ref = CategoricalProfile.from_reference(
            reference, max_categories=100, tail_buckets=0
        )
        lumped_cur = CategoricalProfile.from_values(
            current, lumped_ref.categories, tail_buckets=0
        )
        # One __other__ bucket hides it (what format-1 profiles did) ...
        assert categorical_statistics(lumped_ref, lumped_cur)["chi2_pvalue"] > 0.5
        # ... the hashed tail does not, with fewer degrees of freedom than SciPy.
        sketched = categorical_statistics(ref, cur)
        assert sketched["chi2_pvalue"] < 0.01
        assert 300 <= sketched["chi2_dof"] < _scipy_on_raw(reference, current).dof

    def test_a_new_category_keeps_its_degree_of_freedom(self):
        reference, current = _long_tail_case(seed=3)
        current = np.concatenate((current, np.array(["brand-new"] * 40, dtype=object)))
        expected = _scipy_on_raw(reference, current)
        ref = CategoricalProfile.from_reference(reference)
        cur = CategoricalProfile.from_values(current, ref.categories)
        result = categorical_statistics(ref, cur)
        assert result["chi2_dof"] == expected.dof
        assert result["chi2_pvalue"] == pytest.approx(expected.pvalue, rel=1e-9)
        # brand-new, and the rare categories the reference sample never drew
        never_seen = ~np.isin(current, reference)
        assert result["unseen_share"] == pytest.approx(never_seen.mean(), rel=1e-12)
        assert never_seen.sum() > 40

    def test_no_drift_false_alarm_rate_is_nominal(self):
        """200 no-drift repetitions, 1,000 rows a side, five categories.

        The contingency test alarms at about its nominal 5 %; the test that takes
        the reference proportions as exact alarms at about 30 %.
        """
        g = generator(12)
        names = np.array(list("abcde"), dtype=object)
        weights = np.array([0.4, 0.25, 0.15, 0.12, 0.08])
        contingency_alarms = naive_alarms = 0
        repetitions = 200
        for _ in range(repetitions):
            reference = names[g.choice(5, 1_000, p=weights)]
            current = names[g.choice(5, 1_000, p=weights)]
            ref = CategoricalProfile.from_reference(reference)
            cur = CategoricalProfile.from_values(current, ref.categories)
            contingency_alarms += categorical_statistics(ref, cur)["chi2_pvalue"] < 0.05
            _, ref_counts, cur_counts = categorical_table(ref, cur)
            expected = ref_counts / ref_counts.sum() * cur_counts.sum()
            naive_alarms += stats.chisquare(cur_counts, expected).pvalue < 0.05
        assert 0.01 <= contingency_alarms / repetitions <= 0.09
        assert naive_alarms / repetitions >= 0.2


class TestCorrections:
    def test_holm_bonferroni_and_bh(self):
        pvalues = [0.01, 0.04, 0.03, 0.005]
        # Holm: sorted 0.005, 0.01, 0.03, 0.04 times 4, 3, 2, 1, running max.
        assert adjust_pvalues(pvalues, "holm") == pytest.approx(
            [0.03, 0.06, 0.06, 0.02]
        )
        assert adjust_pvalues(pvalues, "bonferroni") == pytest.approx(
            [0.04, 0.16, 0.12, 0.02]
        )
        assert adjust_pvalues(pvalues, "bh") == pytest.approx(
            stats.false_discovery_control(pvalues, method="bh")
        )
        assert adjust_pvalues(pvalues, "none") == pvalues
        assert adjust_pvalues([], "holm") == []

    def test_adjusted_values_never_exceed_one(self):
        assert adjust_pvalues([0.6, 0.9], "holm") == [1.0, 1.0]

    def test_rejects_bad_input(self):
        with pytest.raises(ValueError, match="unknown correction"):
            adjust_pvalues([0.1], "sidak")
        with pytest.raises(ValueError, match=r"\[0, 1\]"):
            adjust_pvalues([1.2], "holm")


def make_window(n_reference, n_current, shifts, seed=0, n_features=10):
    g = generator(seed)
    reference, current = {}, {}
    for index in range(n_features):
        name = f"f{index}"
        reference[name] = NumericProfile.from_reference(g.normal(0, 1, n_reference))
        current[name] = NumericProfile.from_values(
            g.normal(shifts.get(name, 0.0), 1, n_current), reference[name].bins
        )
    return reference, current


class TestEvaluateWindow:
    def test_defaults_flag_a_shifted_feature_and_not_the_others(self):
        reference, current = make_window(100_000, 20_000, {"f3": 0.5}, n_features=20)
        results = evaluate_window(reference, current)
        assert [r.feature for r in results] == [f"f{i}" for i in range(20)]
        assert [r.feature for r in results if r.drifted] == ["f3"]
        shifted = results[3]
        assert shifted.method == "wasserstein"
        assert shifted.severity == "critical"
        assert shifted.score == pytest.approx(0.5, abs=0.03)
        assert shifted.status == "ok"
        assert all(r.severity == "none" for r in results if r.feature != "f3")

    def test_small_shift_is_a_warning(self):
        reference, current = make_window(100_000, 50_000, {"f0": 0.15}, n_features=1)
        (result,) = evaluate_window(reference, current)
        assert result.drifted is True
        assert result.severity == "warning"

    def test_small_windows_need_significance_before_alarming(self):
        # 40 records of unshifted data: W/std is sampling noise around 0.1-0.2.
        loose = DriftConfig(require_significance=False)
        alarms = loose_alarms = 0
        for seed in range(30):
            reference, current = make_window(50_000, 40, {}, seed=seed, n_features=1)
            alarms += evaluate_window(reference, current)[0].drifted
            loose_alarms += evaluate_window(reference, current, loose)[0].drifted
        assert alarms <= 2
        assert loose_alarms >= 5

    def test_holm_correction_is_applied_over_features(self):
        reference, current = make_window(20_000, 2_000, {"f1": 0.1}, n_features=5)
        results = evaluate_window(reference, current)
        raw = [r.p_value for r in results]
        assert [r.corrected_p_value for r in results] == pytest.approx(
            adjust_pvalues(raw, "holm")
        )
        bonferroni = evaluate_window(
            reference, current, DriftConfig(correction="bonferroni")
        )
        assert [r.corrected_p_value for r in bonferroni] == pytest.approx(
            [min(1.0, 5 * p) for p in raw]
        )

    def test_pvalue_method_decides_on_the_corrected_pvalue(self):
        reference, current = make_window(50_000, 5_000, {"f0": 0.2}, n_features=3)
        config = DriftConfig(numeric_method="ks")
        results = evaluate_window(reference, current, config)
        assert [r.drifted for r in results] == [True, False, False]
        assert results[0].severity == "critical"
        assert results[0].score == results[0].corrected_p_value
        assert results[0].warning_threshold == DEFAULT_THRESHOLDS["ks"][0]

    def test_per_feature_method_and_thresholds(self):
        reference, current = make_window(
            50_000, 5_000, {"f0": 0.5, "f1": 0.5}, n_features=2
        )
        config = DriftConfig(
            features={
                "f0": FeatureDriftConfig(method="psi"),
                "f1": FeatureDriftConfig(warning=0.6, critical=0.9),
            }
        )
        first, second = evaluate_window(reference, current, config)
        assert first.method == "psi"
        assert first.drifted is True
        assert first.score == first.statistics["psi"]
        assert second.method == "wasserstein"
        assert second.drifted is False  # 0.5 is under the raised threshold
        assert (second.warning_threshold, second.critical_threshold) == (0.6, 0.9)

    def test_categorical_feature_uses_jensen_shannon_by_default(self):
        g = generator(8)
        names = np.array(list("abcd"), dtype=object)
        ref = CategoricalProfile.from_reference(
            names[g.choice(4, 20_000, p=[0.4, 0.3, 0.2, 0.1])]
        )
        same = CategoricalProfile.from_values(
            names[g.choice(4, 5_000, p=[0.4, 0.3, 0.2, 0.1])], ref.categories
        )
        moved = CategoricalProfile.from_values(
            names[g.choice(4, 5_000, p=[0.1, 0.2, 0.3, 0.4])], ref.categories
        )
        results = evaluate_window(
            {"same": ref, "moved": ref}, {"same": same, "moved": moved}
        )
        assert [(r.method, r.drifted) for r in results] == [
            ("jensenshannon", False),
            ("jensenshannon", True),
        ]
        assert results[1].p_value == results[1].statistics["chi2_pvalue"]

    def test_unseen_category_in_the_window_is_drift(self):
        ref = CategoricalProfile.from_reference(["a"] * 500 + ["b"] * 500)
        cur = CategoricalProfile.from_values(["a"] * 300 + ["c"] * 400, ref.categories)
        (result,) = evaluate_window({"cat": ref}, {"cat": cur})
        assert result.drifted is True
        assert result.severity == "critical"

    @pytest.mark.parametrize("values", [[], [None] * 50, [np.nan] * 7])
    def test_empty_and_all_missing_windows_are_not_judged(self, values):
        reference, _ = make_window(1_000, 10, {}, n_features=1)
        bins = reference["f0"].bins
        current = {
            "f0": NumericProfile.from_values(np.asarray(values, dtype=object), bins)
        }
        (result,) = evaluate_window(reference, current)
        assert result.status == "insufficient_data"
        assert result.drifted is False
        assert result.severity == "none"
        assert result.statistics == {}
        assert result.p_value is None
        assert result.corrected_p_value is None
        assert result.score is None

    def test_feature_absent_on_one_side(self):
        reference, current = make_window(1_000, 500, {}, n_features=2)
        extra = NumericProfile.from_reference(generator(1).normal(size=100))
        del current["f1"]
        current["only_current"] = extra
        results = evaluate_window(reference, current)
        assert [(r.feature, r.status) for r in results] == [
            ("f0", "ok"),
            ("f1", "insufficient_data"),
            ("only_current", "no_reference"),
        ]

    def test_empty_reference_profile_is_reported_not_judged(self):
        bins = NumericBins.from_reference([0.0, 1.0])
        reference = {"f": NumericProfile.from_values([None], bins)}
        current = {"f": NumericProfile.from_values([0.5] * 100, bins)}
        (result,) = evaluate_window(reference, current)
        assert (result.status, result.drifted) == ("no_reference", False)

    def test_constant_feature(self):
        reference = NumericProfile.from_reference(np.full(10_000, 3.0))
        unchanged = NumericProfile.from_values(np.full(500, 3.0), reference.bins)
        moved = NumericProfile.from_values(
            np.concatenate((np.full(400, 3.0), np.full(100, 3.5))), reference.bins
        )
        results = evaluate_window(
            {"same": reference, "moved": reference}, {"same": unchanged, "moved": moved}
        )
        same, changed = results
        assert same.statistics["wasserstein"] == 0.0
        assert same.statistics["ks"] == 0.0
        assert same.statistics["psi"] == 0.0
        assert same.drifted is False
        assert changed.drifted is True
        assert changed.severity == "critical"
        assert changed.statistics["wasserstein_distance"] == pytest.approx(0.1)
        # scipy on the raw values agrees
        raw_moved = np.concatenate((np.full(400, 3.0), np.full(100, 3.5)))
        assert changed.statistics["ks"] == pytest.approx(
            stats.ks_2samp(np.full(10_000, 3.0), raw_moved).statistic
        )

    def test_single_value_window(self):
        reference = NumericProfile.from_reference(generator(2).normal(size=5_000))
        current = NumericProfile.from_values([0.1], reference.bins)
        (default,) = evaluate_window({"f": reference}, {"f": current})
        assert default.status == "insufficient_data"
        config = DriftConfig(min_count=1)
        (judged,) = evaluate_window({"f": reference}, {"f": current}, config)
        assert judged.status == "ok"
        assert judged.drifted is False  # one value is never significant
        raw = generator(2).normal(size=5_000)
        expected = stats.wasserstein_distance(raw, [0.1]) / np.std(raw)
        absolute, relative = WASSERSTEIN_TOL_SMALL
        assert abs(judged.statistics["wasserstein"] - expected) <= (
            absolute + relative * expected
        )

    def test_kind_mismatch_and_inapplicable_method_are_errors(self):
        numeric = NumericProfile.from_reference([1.0, 2.0, 3.0])
        categorical = CategoricalProfile.from_reference(["a"])
        with pytest.raises(ValueError, match="reference is numeric"):
            evaluate_window({"f": numeric}, {"f": categorical})
        config = DriftConfig(features={"c": FeatureDriftConfig(method="ks")})
        with pytest.raises(ValueError, match="does not apply"):
            evaluate_window({"c": categorical}, {"c": categorical}, config)

    def test_result_round_trips_through_json(self):
        reference, current = make_window(5_000, 1_000, {"f0": 0.4}, n_features=2)
        for result in evaluate_window(reference, current):
            stored = json.loads(json.dumps(result.to_dict()))
            assert FeatureDriftResult.from_dict(stored) == result

    def test_prediction_drift_is_the_same_computation_on_the_score(self):
        g = generator(9)
        reference = NumericProfile.from_reference(g.beta(2, 5, 50_000))
        current = NumericProfile.from_values(g.beta(3, 4, 5_000), reference.bins)
        result = evaluate_prediction_drift(reference, current)
        assert result.feature == "prediction"
        assert result.drifted is True
        assert result.statistics == numeric_statistics(reference, current)
        assert result.corrected_p_value == result.p_value  # a family of one


class TestDriftConfig:
    def test_json_round_trip(self):
        config = DriftConfig(
            numeric_method="psi",
            thresholds={"psi": (0.1, 0.3)},
            features={
                "age": FeatureDriftConfig(method="ks", warning=0.01, critical=0.001)
            },
            correction="bh",
        )
        stored = json.loads(json.dumps(config.to_dict()))
        assert DriftConfig.from_dict(stored) == config
        assert DriftConfig.from_dict({}) == DriftConfig()

    @pytest.mark.parametrize(
        ("data", "message"),
        [
            ({"numeric_method": "energy"}, "unknown drift method"),
            ({"numeric_method": "chi2"}, "does not apply"),
            ({"categorical_method": "wasserstein"}, "does not apply"),
            ({"thresholds": {"psi": [0.3, 0.1]}}, "critical threshold must be >="),
            ({"thresholds": {"ks": [0.001, 0.05]}}, "0 < critical <= warning < 1"),
            ({"thresholds": {"psi": [0.1]}}, "pairs"),
            ({"thresholds": {"psi": ["a", 1]}}, "must be a number"),
            ({"correction": "sidak"}, "correction must be one of"),
            ({"alpha": 0}, "alpha"),
            ({"min_count": 0}, "min_count"),
            ({"min_count": True}, "min_count"),
            ({"require_significance": "yes"}, "require_significance"),
            ({"alpha": "high"}, "invalid drift configuration"),
            ({"features": {"x": {"method": "foo"}}}, "unknown drift method"),
            ({"features": {"x": {"warning": 0.5, "critical": 0.1}}}, "critical"),
            ({"features": {"x": {"colour": "red"}}}, "invalid drift configuration"),
            ({"shiny": True}, "unknown drift configuration keys"),
        ],
    )
    def test_invalid_configurations_are_rejected(self, data, message):
        with pytest.raises(ValueError, match=message):
            DriftConfig.from_dict(data)


class TestFeatureParity:
    def test_same_data_is_in_parity(self):
        training, serving = make_window(50_000, 20_000, {}, n_features=3)
        results = evaluate_feature_parity(training, serving)
        assert all(r.in_parity for r in results)
        assert all(r.issues == () for r in results)
        assert all(r.range_violation_rate < 0.01 for r in results)

    def test_reports_missing_rate_range_violations_and_unseen_categories(self):
        g = generator(10)
        train_values = g.normal(0, 1, 20_000)
        train_values[:200] = np.nan  # 1 % missing in training
        numeric = NumericProfile.from_reference(train_values)
        serve_values = g.normal(0, 1, 10_000)
        serve_values[:1_000] = np.nan  # 10 % missing in serving
        serve_values[1_000:1_300] = 50.0  # 3 % of all rows beyond the training max
        serving_numeric = NumericProfile.from_values(serve_values, numeric.bins)
        categorical = CategoricalProfile.from_reference(["a", "b"] * 1_000)
        serving_categorical = CategoricalProfile.from_values(
            ["a"] * 950 + ["unseen"] * 50, categorical.categories
        )
        results = evaluate_feature_parity(
            {"amount": numeric, "colour": categorical},
            {"amount": serving_numeric, "colour": serving_categorical},
        )
        amount, colour = results
        assert amount.training_missing_rate == pytest.approx(0.01)
        assert amount.serving_missing_rate == pytest.approx(0.1)
        assert amount.missing_rate_difference == pytest.approx(0.09)
        present = serve_values[~np.isnan(serve_values)]
        outside = (present < np.nanmin(train_values)) | (
            present > np.nanmax(train_values)
        )
        assert outside.sum() >= 300
        assert amount.range_violation_rate == pytest.approx(outside.sum() / 9_000)
        assert amount.issues == ("drift", "missing_rate", "range_violation")
        assert amount.severity == "critical"
        assert amount.in_parity is False
        assert colour.range_violation_rate == pytest.approx(0.05)
        assert "range_violation" in colour.issues
        assert json.loads(json.dumps(amount.to_dict()))["issues"] == list(amount.issues)

    def test_absent_feature_breaks_parity(self):
        training, serving = make_window(5_000, 1_000, {}, n_features=2)
        del serving["f1"]
        results = evaluate_feature_parity(training, serving)
        assert results[1].issues == ("absent_in_serving",)
        assert results[1].severity == "critical"
        assert results[1].in_parity is False
        assert results[1].serving_missing_rate is None

    def test_tolerances_are_configurable(self):
        with pytest.raises(ValueError, match="missing_rate"):
            ParityConfig(missing_rate=(0.5, 0.1))
        g = generator(11)
        training = NumericProfile.from_reference(g.normal(size=5_000))
        values = g.normal(size=1_000)
        values[:20] = np.nan
        serving = NumericProfile.from_values(values, training.bins)
        strict = evaluate_feature_parity({"f": training}, {"f": serving})
        lenient = evaluate_feature_parity(
            {"f": training}, {"f": serving}, ParityConfig(missing_rate=(0.05, 0.1))
        )
        assert strict[0].issues == ("missing_rate",)
        assert lenient[0].in_parity is True
