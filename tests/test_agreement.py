"""Agreement statistics against hand-computed values, published examples and statsmodels."""

from __future__ import annotations

import math

import numpy as np
import pytest
from statsmodels.stats.inter_rater import cohens_kappa as sm_cohens_kappa
from statsmodels.stats.inter_rater import fleiss_kappa

from deconfound.stats import (
    agreement,
    cohen_kappa,
    confusion_matrix,
    gwet_ac1,
    krippendorff_alpha,
    pabak,
    percent_agreement,
    prevalence,
    sensitivity_specificity,
)

# 10 items, 8 agreements; each rater says 1 six times (worked by hand in the comments below).
A = [1, 1, 1, 0, 0, 0, 1, 0, 1, 1]
B = [1, 1, 0, 0, 0, 1, 1, 0, 1, 1]


def test_hand_computed_binary_example() -> None:
    # p_o = 0.8; p_e = 0.6*0.6 + 0.4*0.4 = 0.52
    assert percent_agreement(A, B) == pytest.approx(0.8)
    assert cohen_kappa(A, B) == pytest.approx((0.8 - 0.52) / (1 - 0.52))
    # AC1: pi = 0.6, p_e = 2*0.6*0.4 = 0.48
    assert gwet_ac1(A, B) == pytest.approx((0.8 - 0.48) / (1 - 0.48))
    assert pabak(A, B) == pytest.approx(2 * 0.8 - 1)
    # alpha: 20 values (12 ones, 8 zeros), o_01 = o_10 = 2 -> 1 - 19*4/(2*12*8)
    alpha = krippendorff_alpha(list(zip(A, B, strict=True)))
    assert alpha == pytest.approx(1 - 19 * 4 / (2 * 12 * 8))


def test_kappa_matches_statsmodels_on_a_three_class_table() -> None:
    rng = np.random.default_rng(7)
    cats = ["refusal", "partial", "engaged"]
    a = list(rng.choice(cats, size=300, p=[0.4, 0.1, 0.5]))
    b = [x if rng.random() < 0.75 else str(rng.choice(cats)) for x in a]
    cm = confusion_matrix(a, b, cats)
    assert cm.n == 300
    assert cohen_kappa(a, b, cats) == pytest.approx(sm_cohens_kappa(cm.counts).kappa)


def test_two_rater_fleiss_kappa_relation_to_alpha() -> None:
    """Krippendorff's alpha with two raters = Scott's pi corrected for small samples.

    Fleiss' kappa for 2 raters equals Scott's pi; alpha = 1 - (n-1)/n * (1 - pi) where n is the
    number of pairable values (Krippendorff 2004, ch. 11)."""
    table = np.zeros((len(A), 2))
    for i, (x, y) in enumerate(zip(A, B, strict=True)):
        table[i, x] += 1
        table[i, y] += 1
    pi = fleiss_kappa(table)
    n = 2 * len(A)
    alpha = krippendorff_alpha(list(zip(A, B, strict=True)))
    assert alpha == pytest.approx(1 - (n - 1) / n * (1 - pi))


def test_krippendorff_published_reliability_example() -> None:
    """Krippendorff (2011) "Computing Krippendorff's alpha-reliability": 4 observers, 12 units,
    missing values; nominal alpha = 0.743."""
    obs = [
        [1, 2, 3, 3, 2, 1, 4, 1, 2, None, None, None],
        [1, 2, 3, 3, 2, 2, 4, 1, 2, 5, None, 3],
        [None, 3, 3, 3, 2, 3, 4, 2, 2, 5, 1, None],
        [1, 2, 3, 3, 2, 4, 4, 1, 2, 5, 1, None],
    ]
    units = [list(col) for col in zip(*obs, strict=True)]
    assert krippendorff_alpha(units) == pytest.approx(0.743, abs=5e-4)


def test_missing_ratings_are_dropped_pairwise() -> None:
    a = [1, 1, None, 0, 0]
    b = [1, 0, 1, None, 0]
    res = agreement(a, b)
    assert res.n == 3
    assert res.observed == pytest.approx(2 / 3)
    assert res.confusion.to_dict() == {"0": {"0": 1, "1": 0}, "1": {"0": 1, "1": 1}}


def test_kappa_paradox_ac1_stays_high_when_one_class_dominates() -> None:
    # 95% raw agreement but both raters almost always say "engaged"
    a = ["engaged"] * 95 + ["refusal"] * 5
    b = ["engaged"] * 92 + ["refusal"] * 3 + ["engaged"] * 5
    res = agreement(a, b)
    assert res.observed == pytest.approx(0.92)
    assert res.cohen_kappa < 0
    assert res.gwet_ac1 > 0.9


def test_perfect_agreement_on_one_category_leaves_kappa_undefined() -> None:
    res = agreement(["x"] * 5, ["x"] * 5)
    assert res.observed == 1.0
    assert math.isnan(res.cohen_kappa)
    assert res.to_dict()["cohen_kappa"] is None


def test_category_set_fixes_q_for_ac1_and_pabak() -> None:
    two = pabak(A, B)
    three = pabak(A, B, categories=[0, 1, 2])
    assert two == pytest.approx(0.6)
    assert three == pytest.approx((3 * 0.8 - 1) / 2)
    with pytest.raises(ValueError, match="outside"):
        cohen_kappa(A, B, categories=[0])


def test_prevalence_ignores_missing() -> None:
    assert prevalence(["a", "b", None, "a"]) == {
        "a": pytest.approx(2 / 3),
        "b": pytest.approx(1 / 3),
    }


def test_cluster_bootstrap_interval_brackets_the_estimate_and_is_reproducible() -> None:
    rng = np.random.default_rng(1)
    a = list(rng.integers(0, 2, size=200))
    b = [x if rng.random() < 0.8 else 1 - x for x in a]
    clusters = [i // 4 for i in range(200)]
    r1 = agreement(a, b, clusters=clusters, n_boot=300, seed=3)
    r2 = agreement(a, b, clusters=clusters, n_boot=300, seed=3)
    assert r1.kappa_ci is not None and r1.ac1_ci is not None
    assert r1.kappa_ci[0] < r1.cohen_kappa < r1.kappa_ci[1]
    assert r1.ac1_ci[0] < r1.gwet_ac1 < r1.ac1_ci[1]
    assert r1.kappa_ci == r2.kappa_ci


def test_sensitivity_specificity_counts() -> None:
    pred = [True, True, False, False, True, None, False]
    gold = [True, False, True, False, True, True, None]
    r = sensitivity_specificity(pred, gold)
    assert (r.tp, r.fn, r.tn, r.fp) == (2, 1, 1, 1)
    assert r.sensitivity == pytest.approx(2 / 3)
    assert r.specificity == pytest.approx(1 / 2)
    assert (r.n_pos, r.n_neg) == (3, 2)
    labels = sensitivity_specificity(
        ["refusal", "engaged"], ["refusal", "partial"], positive=lambda v: v == "refusal"
    )
    assert labels.sensitivity == 1.0 and labels.specificity == 1.0


def test_unequal_lengths_rejected() -> None:
    with pytest.raises(ValueError, match="length"):
        agreement([1, 0], [1])
