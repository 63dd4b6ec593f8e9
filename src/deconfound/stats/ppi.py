"""Prediction-powered estimates (PPI++) from judge labels on every response and gold on a few.

A judge labels every response cheaply but with errors that can differ by condition (an ethics
prompt makes engaged answers sound like refusals). A careful reader labels a random, possibly
stratified, subset. Prediction-powered inference (Angelopoulos et al. 2023) uses the judge on all
responses and corrects its bias with the gold subset ("rectifier"); PPI++ (Angelopoulos, Duchi &
Zrnic 2023) scales the judge's part by a power-tuning λ chosen from the data, so the estimate is
never less precise than the gold labels alone (λ = 0) and recovers plain PPI at λ = 1.

Our setting differs from the textbook one in three ways, each handled here:

- **Gold ⊂ judged.** The gold items are a subsample of the same responses the judge labelled,
  not a disjoint set, so the judge mean and the rectifier are correlated. We write the estimator
  as a mean of per-response pseudo-outcomes ψ_i (the "difference estimator" of survey sampling,
  as in active inference, Zrnic & Candès 2024), so the covariance is carried automatically.
- **Stratified gold samples.** ``deconfound label`` over-samples some strata (condition × judge
  label). Each gold item carries its inclusion probability π_i; the rectifier is a Hajek-weighted
  mean within each calibration group (weights 1/π_i), which is the stratified estimator when the
  groups are the sampling strata (Cochran 1977, ch. 5).
- **Clustered responses.** Epochs of a scenario, and both conditions of a paired comparison, are
  not independent; every SE is the cluster-robust (scenario) sandwich of the ψ totals, and λ is
  tuned to minimise that clustered variance.

For one condition, calibration group g (its N_g responses; its gold items with weights w_i) and
a label with judge value f_i and gold value y_i::

    ψ_i(λ) = λ·f_i + R̂_g + ξ_i·c_i·(y_i − λ·f_i − R̂_g),   R̂_g = Σ_gold w(y − λf) / Σ_gold w,
    c_i = N_g·w_i / Σ_gold w,                               θ̂ = Σ ψ_i / N.

ψ is linear in λ, so the clustered variance of any estimand built from ψ totals is a quadratic in
λ and the power-tuned λ is a least-squares coefficient. Ratios (IC among engaged = IC&engaged /
engaged) use the estimating-equation form: one λ on the estimating function A − θ·B, which makes
θ̂ = Σψ^A/Σψ^B. A mean is the ratio with B ≡ 1.

References:
    Angelopoulos, A. N., Bates, S., Fannjiang, C., Jordan, M. I. & Zrnic, T. (2023).
    Prediction-powered inference. Science 382(6671):669–674.
    Angelopoulos, A. N., Duchi, J. C. & Zrnic, T. (2023). PPI++: Efficient prediction-powered
    inference. arXiv:2311.01453.
    Zrnic, T. & Candès, E. J. (2024). Active statistical inference. ICML 2024, arXiv:2403.03208.
    Cochran, W. G. (1977). Sampling Techniques, 3rd ed. Wiley.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy import stats as sps

from deconfound.stats.intervals import ConfidenceInterval

_F = NDArray[np.float64]

METHOD_PPI = (
    "PPI++ (Angelopoulos et al. 2023; Angelopoulos, Duchi & Zrnic 2023): judge on all responses, "
    "rectified per condition by gold labels with inclusion-probability weights; power-tuned "
    "lambda; scenario-clustered jackknife SE, t interval on scenarios - 1 df"
)
METHOD_GOLD = (
    "gold labels only (lambda = 0): Hajek-weighted by inclusion probability within calibration "
    "groups; scenario-clustered jackknife SE, t interval on scenarios - 1 df"
)


@dataclass(frozen=True)
class PPIArm:
    """One condition's responses: a judge label on each, a gold label on a weighted subset.

    The estimand is the ratio Σ y^A / Σ y^B over the condition's responses (a proportion when
    B is omitted: B ≡ 1). Arrays are aligned, one entry per response.

    Args:
        clusters: Scenario id of each response (any hashable values; compared across arms).
        numerator_judge: Judge's value of the numerator label (0/1).
        numerator_gold: Gold value of the numerator label; NaN where not gold-labelled.
        denominator_judge: Judge's value of the denominator label (0/1); None for a proportion.
        denominator_gold: Gold value of the denominator label; NaN where not gold-labelled.
        weights: 1/π_i, the inverse inclusion probability of each gold item (ignored elsewhere);
            None means equal weights (a simple random gold sample within each group).
        strata: Calibration group of each response (the sampling strata of a stratified gold
            sample); None means one group for the whole condition. Groups with fewer than two
            gold items are merged into one remainder group so every rectifier is estimable.
    """

    clusters: ArrayLike
    numerator_judge: ArrayLike
    numerator_gold: ArrayLike
    denominator_judge: ArrayLike | None = None
    denominator_gold: ArrayLike | None = None
    weights: ArrayLike | None = None
    strata: ArrayLike | None = None


@dataclass(frozen=True)
class PPIResult:
    """A prediction-powered (or gold-only) estimate with its scenario-clustered interval.

    Attributes:
        estimate: Point estimate (a proportion, a ratio of proportions, or a difference).
        se: Scenario-clustered leave-one-scenario-out (jackknife) SE.
        ci: Normal interval clipped to the estimand's range.
        lam: Power-tuning λ per arm (0 = gold only, 1 = plain PPI).
        n_gold: Gold items used (over all arms).
        n: Responses used (over all arms).
        n_clusters: Scenarios contributing.
        method: Name of the method.
    """

    estimate: float
    se: float
    ci: ConfidenceInterval
    lam: tuple[float, ...]
    n_gold: int
    n: int
    n_clusters: int
    method: str

    def to_dict(self) -> dict[str, Any]:
        """JSON form: ``{estimate, ci, se, lambdas, n_gold, n, n_scenarios, method}``."""

        def num(x: float) -> float | None:
            return x if math.isfinite(x) else None

        return {
            "estimate": num(self.estimate),
            "ci": [num(self.ci.low), num(self.ci.high)],
            "se": num(self.se),
            "lambdas": [num(v) for v in self.lam],
            "n_gold": self.n_gold,
            "n": self.n,
            "n_scenarios": self.n_clusters,
            "method": self.method,
        }


@dataclass(frozen=True)
class _Parts:
    """Per-cluster totals of the ψ components of one arm: ψ^X = a^X + λ·b^X."""

    codes: NDArray[np.int64]  # cluster index of each cluster total (into the shared labels)
    a_num: _F
    b_num: _F
    a_den: _F
    b_den: _F
    n: int
    n_gold: int


def _vector(x: ArrayLike, name: str, n: int | None) -> _F:
    arr = np.asarray(x, dtype=float).reshape(-1)
    if n is not None and len(arr) != n:
        raise ValueError(f"{name} has {len(arr)} entries, expected {n} (one per response)")
    return arr


def _check_binary_or_nan(x: _F, name: str) -> None:
    ok = np.isnan(x) | (x == 0) | (x == 1)
    if not ok.all():
        bad = x[~ok][0]
        raise ValueError(f"{name} must hold 0, 1 or NaN (not labelled); got {bad!r}")


def _groups(strata: ArrayLike | None, gold: NDArray[np.bool_], n: int) -> NDArray[np.int64]:
    """Calibration group of each response; groups with < 2 gold items merge into a remainder."""
    if strata is None:
        return np.zeros(n, dtype=np.int64)
    s = np.asarray(strata).reshape(-1)
    if len(s) != n:
        raise ValueError(f"strata has {len(s)} entries, expected {n} (one per response)")
    _, codes = np.unique(s.astype(str), return_inverse=True)
    codes = codes.astype(np.int64)
    n_gold = np.bincount(codes, weights=gold.astype(float))
    thin = n_gold < 2
    if thin.any():
        rest = int(codes.max()) + 1
        codes = np.where(thin[codes], rest, codes)
        if np.bincount(codes, weights=gold.astype(float))[rest] < 2:
            return np.zeros(n, dtype=np.int64)
    return codes


def _arm_parts(arm: PPIArm, labels: NDArray[Any]) -> _Parts:
    """ψ components of one arm, summed per cluster (cluster codes index ``labels``)."""
    clusters = np.asarray(arm.clusters).reshape(-1)
    n = len(clusters)
    if n == 0:
        raise ValueError("an arm has no responses")
    f_a = _vector(arm.numerator_judge, "numerator_judge", n)
    y_a = _vector(arm.numerator_gold, "numerator_gold", n)
    if (arm.denominator_judge is None) != (arm.denominator_gold is None):
        raise ValueError("give both denominator_judge and denominator_gold, or neither")
    if arm.denominator_judge is None or arm.denominator_gold is None:
        f_b = np.ones(n)
        y_b = np.where(np.isnan(y_a), np.nan, 1.0)
    else:
        f_b = _vector(arm.denominator_judge, "denominator_judge", n)
        y_b = _vector(arm.denominator_gold, "denominator_gold", n)
    for arr, name in ((f_a, "numerator_judge"), (f_b, "denominator_judge")):
        _check_binary_or_nan(arr, name)
        if np.isnan(arr).any():
            raise ValueError(f"{name} must be 0 or 1 for every response (NaN found)")
    _check_binary_or_nan(y_a, "numerator_gold")
    _check_binary_or_nan(y_b, "denominator_gold")
    if ((f_a > f_b) | (y_a > y_b)).any():
        raise ValueError("a response counted in the numerator must be counted in the denominator")
    gold = ~np.isnan(y_a) & ~np.isnan(y_b)
    n_gold = int(gold.sum())
    if n_gold < 2:
        raise ValueError(f"an arm has {n_gold} gold-labelled response(s); at least 2 are needed")
    if arm.weights is None:
        w = np.ones(n)
    else:
        w = _vector(arm.weights, "weights", n)
        wg = w[gold]
        if not (np.isfinite(wg).all() and (wg > 0).all()):
            raise ValueError("weights must be positive and finite for every gold item (1/π)")
    w = np.where(gold, w, 0.0)
    g = _groups(arm.strata, gold, n)
    n_g = np.bincount(g).astype(float)
    w_g = np.bincount(g, weights=w)
    c = np.where(gold, n_g[g] * w / w_g[g], 0.0)
    # Residuals about an estimated group mean are scaled by √(n_g/(n_g − 1)), the n − 1 of a
    # stratum variance s_h² (Cochran 1977 §5.3). They sum to zero within each group, so the
    # scaling changes the variance only, never the point estimate.
    k_g = np.bincount(g, weights=gold.astype(float))
    c_res = c * np.sqrt(k_g[g] / np.maximum(k_g[g] - 1, 1))

    def components(f: _F, y: _F) -> tuple[_F, _F]:
        yz = np.where(gold, y, 0.0)
        ybar = np.bincount(g, weights=w * yz) / w_g
        fbar = np.bincount(g, weights=w * f) / w_g
        a = ybar[g] + c_res * (yz - ybar[g])
        b = (f - fbar[g]) - c_res * (f - fbar[g])
        return a, b

    a_num, b_num = components(f_a, y_a)
    a_den, b_den = components(f_b, y_b)
    index = {v: i for i, v in enumerate(labels.tolist())}
    codes = np.array([index[v] for v in clusters.tolist()], dtype=np.int64)
    size = len(labels)

    def total(x: _F) -> _F:
        return np.bincount(codes, weights=x, minlength=size).astype(np.float64)

    present = np.unique(codes)
    return _Parts(
        present,
        total(a_num),
        total(b_num),
        total(a_den),
        total(b_den),
        n,
        n_gold,
    )


def _labels(arms: tuple[PPIArm, ...]) -> NDArray[Any]:
    return np.unique(np.concatenate([np.asarray(a.clusters).reshape(-1) for a in arms]))


def _check_confidence(confidence: float) -> None:
    if not 0 < confidence < 1:
        raise ValueError(f"confidence must be in (0, 1), got {confidence!r}")


def _check_lam(lam: float | None, n_arms: int) -> None:
    if lam is not None and not (math.isfinite(lam) and 0 <= lam <= 1):
        raise ValueError(f"lam must be in [0, 1] or None (power-tuned), got {lam!r}")


def _ratio(p: _Parts, lam: float) -> tuple[float, float]:
    num = float(p.a_num.sum() + lam * p.b_num.sum())
    den = float(p.a_den.sum() + lam * p.b_den.sum())
    return (num / den if den > 0 else math.nan), den


def _influence(p: _Parts, theta: float, den: float) -> tuple[_F, _F]:
    """Cluster influence of the arm's ratio at θ as u + λ·v (one entry per shared cluster)."""
    u = (p.a_num - theta * p.a_den) / den
    v = (p.b_num - theta * p.b_den) / den
    return u, v


def _variance(x: _F, present: NDArray[np.int64], tuned: list[_F]) -> float:
    """Leave-one-scenario-out (jackknife, HC3-type) variance of Σ_s x_s.

    Each cluster's centred influence is divided by 1 − h_s, with h_s its leverage: 1/C for the
    mean, plus its leverage in the regression that tuned λ (the columns of ``tuned``). Tuning λ
    on the same clusters makes the plain sandwich optimistic (it picks the λ whose *estimated*
    variance is smallest); the leave-one-out residuals are out of sample for λ, which brings the
    coverage back (benchmarks/ppi_coverage.py; MacKinnon & White 1985 for HC3).
    """
    xs = x[present]
    k = len(xs)
    if k < 2:
        return math.nan
    h = np.full(k, 1.0 / k)
    if tuned:
        vm = np.column_stack([v[present] - v[present].mean() for v in tuned])
        gram = vm.T @ vm
        if np.linalg.matrix_rank(gram) == gram.shape[0]:
            h += np.einsum("ij,jk,ik->i", vm, np.linalg.inv(gram), vm)
    h = np.minimum(h, 0.99)
    e = (xs - xs.mean()) / (1 - h)
    return float((e**2).sum())


def _tune(u: _F, vs: list[_F], present: NDArray[np.int64]) -> tuple[tuple[float, ...], list[_F]]:
    """λ per arm minimising the clustered variance of u + Σ λ_k v_k, each clipped to [0, 1].

    Returns the λs and the columns whose λ was estimated freely (not clipped, not irrelevant).
    """
    uc = u[present] - u[present].mean()
    vm = np.column_stack([v[present] - v[present].mean() for v in vs])
    scale = (vm**2).sum(axis=0)
    lam = np.ones(len(vs))
    active = scale > 1e-12 * max(1.0, float((uc**2).sum()))
    if active.any():
        sol, *_ = np.linalg.lstsq(vm[:, active], -uc, rcond=None)
        lam[active] = np.clip(sol, 0.0, 1.0)
    free = [v for v, a, lv in zip(vs, active, lam, strict=True) if a and 0 < lv < 1]
    return tuple(float(v) for v in lam), free


def _interval(
    est: float, se: float, confidence: float, low: float, n_clusters: int
) -> ConfidenceInterval:
    """Student-t interval on C − 1 df (C scenarios), as for the tool's other clustered CIs."""
    if not (math.isfinite(est) and math.isfinite(se)) or n_clusters < 2:
        return ConfidenceInterval(math.nan, math.nan)
    z = float(sps.t.ppf(0.5 + confidence / 2, n_clusters - 1))
    return ConfidenceInterval(max(low, est - z * se), min(1.0, est + z * se))


def ppi_ratio(arm: PPIArm, *, lam: float | None = None, confidence: float = 0.95) -> PPIResult:
    """PPI++ estimate of one condition's proportion or ratio of proportions.

    Args:
        arm: The condition's responses (see :class:`PPIArm`).
        lam: Fixed λ in [0, 1] (0 = gold only, 1 = plain PPI); None tunes it to minimise the
            scenario-clustered variance (PPI++).
        confidence: Two-sided confidence level.

    Returns:
        A :class:`PPIResult`; the interval is clipped to [0, 1].
    """
    _check_confidence(confidence)
    _check_lam(lam, 1)
    labels = _labels((arm,))
    p = _arm_parts(arm, labels)
    if lam is None:
        theta1, den1 = _ratio(p, 1.0)
        u, v = _influence(p, theta1, den1)
        lams, free = _tune(u, [v], p.codes)
        lam_used = lams[0]
    else:
        lam_used, free = lam, []
    theta, den = _ratio(p, lam_used)
    u, v = _influence(p, theta, den)
    se = math.sqrt(_variance(u + lam_used * v, p.codes, [v] if free else []))
    return PPIResult(
        theta,
        se,
        _interval(theta, se, confidence, 0.0, len(p.codes)),
        (lam_used,),
        p.n_gold,
        p.n,
        len(p.codes),
        METHOD_GOLD if lam == 0 else METHOD_PPI,
    )


def ppi_paired_difference(
    baseline: PPIArm,
    treatment: PPIArm,
    *,
    lam: float | None = None,
    confidence: float = 0.95,
) -> PPIResult:
    """PPI++ estimate of treatment − baseline for a proportion or ratio, paired by scenario.

    Each condition is rectified by its own gold labels (judges err differently by condition) and
    gets its own λ; the two λ are tuned jointly to minimise the clustered variance of the
    difference. Both conditions of a scenario fall in one cluster, which keeps the pairing.

    Args:
        baseline: The baseline condition's responses.
        treatment: The treatment condition's responses.
        lam: Fixed λ for both arms, or None to power-tune each.
        confidence: Two-sided confidence level.

    Returns:
        A :class:`PPIResult` with ``lam = (λ_baseline, λ_treatment)``; CI clipped to [−1, 1].
    """
    _check_confidence(confidence)
    _check_lam(lam, 2)
    labels = _labels((baseline, treatment))
    p0 = _arm_parts(baseline, labels)
    p1 = _arm_parts(treatment, labels)
    present = np.union1d(p0.codes, p1.codes)
    if lam is None:
        t0, d0 = _ratio(p0, 1.0)
        t1, d1 = _ratio(p1, 1.0)
        u0, v0 = _influence(p0, t0, d0)
        u1, v1 = _influence(p1, t1, d1)
        (lam0, lam1), free = _tune(u1 - u0, [-v0, v1], present)
    else:
        lam0 = lam1 = lam
        free = []
    t0, d0 = _ratio(p0, lam0)
    t1, d1 = _ratio(p1, lam1)
    u0, v0 = _influence(p0, t0, d0)
    u1, v1 = _influence(p1, t1, d1)
    est = t1 - t0
    tuned = [c for c, lv in ((-v0, lam0), (v1, lam1)) if free and 0 < lv < 1]
    se = math.sqrt(_variance((u1 + lam1 * v1) - (u0 + lam0 * v0), present, tuned))
    return PPIResult(
        est,
        se,
        _interval(est, se, confidence, -1.0, len(present)),
        (lam0, lam1),
        p0.n_gold + p1.n_gold,
        p0.n + p1.n,
        len(present),
        METHOD_GOLD if lam == 0 else METHOD_PPI,
    )
