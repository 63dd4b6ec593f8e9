"""Stratified gold samples: allocation, inclusion probabilities, reproducibility; sample-size
planning."""

from __future__ import annotations

import numpy as np
import pytest

from deconfound.stats import plan_gold_sample, stratified_sample


def _population() -> list[str]:
    return ["a|refusal"] * 40 + ["a|engaged"] * 160 + ["b|refusal"] * 90 + ["b|engaged"] * 110


def test_sample_has_n_items_and_inclusion_probabilities_n_h_over_N_h() -> None:
    pop = _population()
    s = stratified_sample(pop, 100, seed=4)
    assert len(s.index) == 100 == len(set(s.index.tolist()))
    assert sum(n for n, _ in s.allocation.values()) == 100
    for i, p, h in zip(s.index, s.inclusion_probability, s.stratum, strict=True):
        assert pop[i] == h
        n_h, big_n = s.allocation[h]
        assert p == pytest.approx(n_h / big_n)
    # Horvitz-Thompson: the weights of each stratum add up to its size
    for h, (_, big_n) in s.allocation.items():
        mask = np.array(s.stratum) == h
        assert (1 / s.inclusion_probability[mask]).sum() == pytest.approx(big_n)


def test_allocation_is_proportional_without_oversampling() -> None:
    s = stratified_sample(_population(), 100, seed=0)
    # shares 40 / 10 / 27.5 / 22.5: the two halves go by largest remainder (ties by name)
    assert s.allocation == {
        "a|engaged": (40, 160),
        "a|refusal": (10, 40),
        "b|engaged": (28, 110),
        "b|refusal": (22, 90),
    }


def test_oversampled_strata_get_more_and_smaller_ones_keep_a_floor() -> None:
    pop = ["x"] * 1000 + ["rare"] * 3
    plain = stratified_sample(pop, 50, seed=1)
    assert plain.allocation["rare"][0] == 2  # min_per_stratum
    boosted = stratified_sample(pop + ["odd"] * 100, 60, seed=1, oversample={"odd": 4.0})
    assert boosted.allocation["odd"][0] > 60 * 100 / 1103 * 2


def test_same_seed_same_sample_and_order_hides_the_strata() -> None:
    a = stratified_sample(_population(), 30, seed=9)
    b = stratified_sample(_population(), 30, seed=9)
    assert a.index.tolist() == b.index.tolist()
    assert a.stratum != tuple(sorted(a.stratum))  # shuffled, not grouped by stratum


def test_n_larger_than_the_population_takes_everything() -> None:
    s = stratified_sample(["a", "b", "b"], 10)
    assert sorted(s.index.tolist()) == [0, 1, 2]
    assert np.all(s.inclusion_probability == 1.0)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ((["a"], 0), "n must be a positive whole number"),
        (([], 5), "strata is empty"),
    ],
)
def test_bad_sampling_arguments_raise(args: tuple[list[str], int], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        stratified_sample(*args)


def test_plan_needs_fewer_gold_labels_with_an_accurate_judge_and_none_when_noise_dominates() -> (
    None
):
    good = plan_gold_sample(
        estimand="delta_refusal",
        half_widths=[0.05, 0.10],
        judge_variance=0.0002,
        outcome_variance=0.2,
        judge_error_rate=0.05,
    )
    bad = plan_gold_sample(
        estimand="delta_refusal",
        half_widths=[0.05, 0.10],
        judge_variance=0.0002,
        outcome_variance=0.2,
        judge_error_rate=0.20,
    )
    assert good[0].n_ppi is not None and bad[0].n_ppi is not None
    assert good[0].n_ppi < bad[0].n_ppi <= bad[0].n_gold_only
    assert good[1].n_ppi is not None and good[1].n_ppi < good[0].n_ppi
    noisy = plan_gold_sample(
        estimand="x",
        half_widths=[0.01],
        judge_variance=0.01,
        outcome_variance=0.2,
        judge_error_rate=0.1,
    )
    assert noisy[0].n_ppi is None
