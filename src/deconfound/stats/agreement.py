"""Agreement between judges, and a judge's error rates against a labelled set.

Pure functions over label sequences (no pandas, no I/O), in the style of ``scipy.stats``: each
returns a number or a small result dataclass. ``None`` marks a missing rating; pairwise statistics
drop pairs with a missing side, Krippendorff's alpha uses every available rating.

Why several statistics: Cohen's kappa collapses when one class dominates even if raw agreement is
high (the "kappa paradox", Feinstein & Cicchetti 1990), so Gwet's AC1 and PABAK are reported
beside it, with the prevalence that explains the difference. Against human gold labels,
sensitivity and specificity (per condition) matter more than any agreement coefficient, and they
are what Rogan–Gladen correction needs. Formulas: ../shared/docs/statistics.md §(h).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np

Label = Hashable


@dataclass(frozen=True)
class ConfusionMatrix:
    """Counts of (rater A category, rater B category); rows are A, columns are B."""

    categories: tuple[Label, ...]
    counts: np.ndarray

    @property
    def n(self) -> int:
        return int(self.counts.sum())

    def to_dict(self) -> dict[str, dict[str, int]]:
        """Nested ``{a_category: {b_category: count}}`` with string keys (for JSON)."""
        return {
            str(a): {str(b): int(self.counts[i, j]) for j, b in enumerate(self.categories)}
            for i, a in enumerate(self.categories)
        }


@dataclass(frozen=True)
class AgreementResult:
    """Agreement of two raters on the items both rated.

    Attributes:
        n: Items rated by both.
        categories: Category set used (given, or the observed union in sorted order).
        observed: Raw agreement p_o.
        cohen_kappa: Cohen (1960) kappa; nan when expected agreement is 1.
        gwet_ac1: Gwet (2008) AC1; nan when undefined (one category only).
        krippendorff_alpha: Krippendorff (2004) nominal alpha for these two raters.
        pabak: Prevalence- and bias-adjusted kappa (Byrt, Bishop & Carlin 1993),
            (Q·p_o − 1)/(Q − 1); 2·p_o − 1 for two categories.
        prevalence_a: Share of each category in rater A's labels.
        prevalence_b: Share of each category in rater B's labels.
        confusion: Rows = rater A, columns = rater B.
        kappa_ci: Optional cluster-bootstrap percentile interval for kappa.
        ac1_ci: Optional cluster-bootstrap percentile interval for AC1.
    """

    n: int
    categories: tuple[Label, ...]
    observed: float
    cohen_kappa: float
    gwet_ac1: float
    krippendorff_alpha: float
    pabak: float
    prevalence_a: dict[Label, float]
    prevalence_b: dict[Label, float]
    confusion: ConfusionMatrix
    kappa_ci: tuple[float, float] | None = None
    ac1_ci: tuple[float, float] | None = None

    def to_dict(self) -> dict[str, object]:
        """JSON-ready dict (nan → None, category keys as strings)."""
        return {
            "n": self.n,
            "categories": [str(c) for c in self.categories],
            "observed": _json_float(self.observed),
            "cohen_kappa": _json_float(self.cohen_kappa),
            "gwet_ac1": _json_float(self.gwet_ac1),
            "krippendorff_alpha": _json_float(self.krippendorff_alpha),
            "pabak": _json_float(self.pabak),
            "prevalence_a": {str(k): _json_float(v) for k, v in self.prevalence_a.items()},
            "prevalence_b": {str(k): _json_float(v) for k, v in self.prevalence_b.items()},
            "confusion": self.confusion.to_dict(),
            "kappa_ci": _json_ci(self.kappa_ci),
            "ac1_ci": _json_ci(self.ac1_ci),
        }


@dataclass(frozen=True)
class SensitivitySpecificity:
    """A binary classifier's error rates against gold labels (True = positive class).

    Attributes:
        sensitivity: tp / n_pos (nan when there are no gold positives).
        specificity: tn / n_neg (nan when there are no gold negatives).
        n_pos: Gold positives with a prediction.
        n_neg: Gold negatives with a prediction.
        tp, fn, tn, fp: The confusion counts.
    """

    sensitivity: float
    specificity: float
    n_pos: int
    n_neg: int
    tp: int
    fn: int
    tn: int
    fp: int

    @property
    def youden_j(self) -> float:
        """Se + Sp − 1: the attenuation factor of a prevalence difference (Rogan–Gladen)."""
        return self.sensitivity + self.specificity - 1


@dataclass(frozen=True)
class _Pairs:
    a: list[Label] = field(default_factory=list)
    b: list[Label] = field(default_factory=list)
    clusters: list[Hashable] = field(default_factory=list)


def _json_float(v: float) -> float | None:
    return None if v is None or (isinstance(v, float) and math.isnan(v)) else round(float(v), 6)


def _json_ci(ci: tuple[float, float] | None) -> list[float | None] | None:
    return None if ci is None else [_json_float(ci[0]), _json_float(ci[1])]


def _is_missing(v: object) -> bool:
    if v is None:
        return True
    try:
        return bool(v != v)  # nan, pd.NA raises
    except TypeError:
        return True


def _paired(
    a: Sequence[Label | None],
    b: Sequence[Label | None],
    clusters: Sequence[Hashable] | None = None,
) -> _Pairs:
    if len(a) != len(b):
        raise ValueError(f"rater sequences differ in length ({len(a)} vs {len(b)})")
    if clusters is not None and len(clusters) != len(a):
        raise ValueError("clusters must have one entry per item")
    out = _Pairs()
    for i, (x, y) in enumerate(zip(a, b, strict=True)):
        if _is_missing(x) or _is_missing(y):
            continue
        out.a.append(x)
        out.b.append(y)
        out.clusters.append(clusters[i] if clusters is not None else i)
    return out


def _categories(values: Sequence[Label], categories: Sequence[Label] | None) -> tuple[Label, ...]:
    if categories is not None:
        cats = tuple(categories)
        unknown = set(values) - set(cats)
        if unknown:
            raise ValueError(f"labels outside the category set: {sorted(map(str, unknown))}")
        return cats
    return tuple(sorted(set(values), key=str))


def confusion_matrix(
    a: Sequence[Label | None],
    b: Sequence[Label | None],
    categories: Sequence[Label] | None = None,
) -> ConfusionMatrix:
    """Cross-tabulate two raters on the items both rated (rows = ``a``)."""
    p = _paired(a, b)
    cats = _categories(p.a + p.b, categories)
    idx = {c: i for i, c in enumerate(cats)}
    counts = np.zeros((len(cats), len(cats)), dtype=np.int64)
    for x, y in zip(p.a, p.b, strict=True):
        counts[idx[x], idx[y]] += 1
    return ConfusionMatrix(cats, counts)


def _from_table(t: np.ndarray) -> tuple[float, float, float, float]:
    """p_o, kappa, AC1, PABAK from a square count table (shared by the bootstrap)."""
    n = t.sum()
    q = t.shape[0]
    if n == 0:
        return (math.nan,) * 4
    p_o = float(np.trace(t) / n)
    pa = t.sum(axis=1) / n
    pb = t.sum(axis=0) / n
    p_e = float(np.dot(pa, pb))
    kappa = (p_o - p_e) / (1 - p_e) if p_e < 1 else math.nan
    pi = (pa + pb) / 2
    if q >= 2:
        pe_g = float(np.sum(pi * (1 - pi)) / (q - 1))
        ac1 = (p_o - pe_g) / (1 - pe_g) if pe_g < 1 else math.nan
        pabak_v = (q * p_o - 1) / (q - 1)
    else:
        ac1 = pabak_v = math.nan
    return p_o, float(kappa), float(ac1), float(pabak_v)


def percent_agreement(a: Sequence[Label | None], b: Sequence[Label | None]) -> float:
    """Raw agreement p_o on the items both raters labelled (nan if none)."""
    p = _paired(a, b)
    if not p.a:
        return math.nan
    return sum(x == y for x, y in zip(p.a, p.b, strict=True)) / len(p.a)


class PairStatistic(Protocol):
    """A two-rater statistic over the items both rated (``categories`` fixes Q and the order)."""

    def __call__(
        self,
        a: Sequence[Label | None],
        b: Sequence[Label | None],
        categories: Sequence[Label] | None = None,
    ) -> float: ...


def _pair_statistic(index: int, name: str, doc: str) -> PairStatistic:
    """One entry of :func:`_from_table` as a public function: the coefficients are computed
    together from one confusion matrix (as :func:`agreement` and the bootstrap do), so each
    public one is a view on that table rather than a second implementation."""

    def statistic(
        a: Sequence[Label | None],
        b: Sequence[Label | None],
        categories: Sequence[Label] | None = None,
    ) -> float:
        return _from_table(confusion_matrix(a, b, categories).counts)[index]

    statistic.__name__ = statistic.__qualname__ = name
    statistic.__doc__ = doc
    return statistic


cohen_kappa = _pair_statistic(
    1, "cohen_kappa", "Cohen's kappa (Cohen 1960): (p_o − p_e)/(1 − p_e), p_e = Σ_k p_k(A)·p_k(B)."
)
gwet_ac1 = _pair_statistic(
    2,
    "gwet_ac1",
    "Gwet's AC1 (Gwet 2008): p_e = Σ_q π_q(1 − π_q)/(Q − 1), π_q the mean of both raters' "
    "category shares. Q is the size of ``categories`` (default: categories observed).",
)
pabak = _pair_statistic(
    3,
    "pabak",
    "PABAK (Byrt, Bishop & Carlin 1993): (Q·p_o − 1)/(Q − 1), i.e. 2·p_o − 1 when binary.",
)


def prevalence(
    labels: Sequence[Label | None], categories: Sequence[Label] | None = None
) -> dict[Label, float]:
    """Share of each category among the non-missing labels."""
    vals = [v for v in labels if not _is_missing(v)]
    cats = _categories(vals, categories)
    n = len(vals)
    return {c: (sum(v == c for v in vals) / n if n else math.nan) for c in cats}


def krippendorff_alpha(
    ratings: Sequence[Sequence[Label | None]], categories: Sequence[Label] | None = None
) -> float:
    """Krippendorff's alpha for nominal data, any number of raters, missing ratings allowed.

    ``ratings`` is one sequence per unit (item) holding each rater's label or None. Units with
    fewer than two ratings are not pairable and are ignored. Coincidences o_ck sum
    1/(m_u − 1) over ordered pairs within each unit; alpha = 1 − (n − 1)·Σ_{c≠k} o_ck /
    Σ_{c≠k} n_c·n_k (Krippendorff 2004; Hayes & Krippendorff 2007). Returns nan when there is
    no disagreement to expect (one category, or fewer than two pairable values).
    """
    units = [[v for v in unit if not _is_missing(v)] for unit in ratings]
    units = [u for u in units if len(u) >= 2]
    cats = _categories([v for u in units for v in u], categories)
    if not units or len(cats) < 2:
        return math.nan
    idx = {c: i for i, c in enumerate(cats)}
    o = np.zeros((len(cats), len(cats)))
    for u in units:
        m = len(u)
        counts = np.zeros(len(cats))
        for v in u:
            counts[idx[v]] += 1
        # ordered pairs of different raters: n_c·n_k off the diagonal, n_c(n_c − 1) on it
        pair = np.outer(counts, counts) - np.diag(counts)
        o += pair / (m - 1)
    n_c = o.sum(axis=1)
    n = n_c.sum()
    disagree_obs = o.sum() - np.trace(o)
    disagree_exp = (n_c.sum() ** 2 - np.sum(n_c**2)) / (n - 1)
    if disagree_exp == 0:
        return math.nan
    return float(1 - disagree_obs / disagree_exp)


def _cluster_bootstrap(
    pairs: _Pairs,
    cats: tuple[Label, ...],
    n_boot: int,
    seed: int,
    level: float,
) -> tuple[tuple[float, float], tuple[float, float]]:
    idx = {c: i for i, c in enumerate(cats)}
    q = len(cats)
    codes = np.array([idx[x] * q + idx[y] for x, y in zip(pairs.a, pairs.b, strict=True)])
    cluster_ids: dict[Hashable, int] = {}
    cl = np.array([cluster_ids.setdefault(c, len(cluster_ids)) for c in pairs.clusters])
    n_cl = len(cluster_ids)
    # per-cluster count tables, so one resample is a weighted sum of cluster tables
    tables = np.zeros((n_cl, q * q))
    np.add.at(tables, (cl, codes), 1)
    rng = np.random.default_rng(seed)
    draws = rng.integers(0, n_cl, size=(n_boot, n_cl))
    weights = np.zeros((n_boot, n_cl))
    for b in range(n_boot):
        weights[b] = np.bincount(draws[b], minlength=n_cl)
    boot = weights @ tables
    kappas, ac1s = [], []
    for row in boot:
        _, k, g, _ = _from_table(row.reshape(q, q))
        kappas.append(k)
        ac1s.append(g)
    lo, hi = (1 - level) / 2, 1 - (1 - level) / 2

    def pct(v: list[float]) -> tuple[float, float]:
        arr = np.array([x for x in v if not math.isnan(x)])
        if len(arr) == 0:
            return (math.nan, math.nan)
        return (float(np.quantile(arr, lo)), float(np.quantile(arr, hi)))

    return pct(kappas), pct(ac1s)


def agreement(
    a: Sequence[Label | None],
    b: Sequence[Label | None],
    *,
    categories: Sequence[Label] | None = None,
    clusters: Sequence[Hashable] | None = None,
    n_boot: int = 0,
    seed: int = 0,
    level: float = 0.95,
) -> AgreementResult:
    """All pairwise agreement statistics of two raters on the items both rated.

    Args:
        a: Rater A's labels (None = missing).
        b: Rater B's labels, aligned with ``a``.
        categories: Category set (fixes Q for AC1/PABAK and the confusion order); default the
            observed union.
        clusters: Cluster id per item (e.g. scenario id) for the bootstrap; default each item.
        n_boot: Cluster-bootstrap resamples for kappa/AC1 percentile intervals (0 = none).
            Judges label responses nested in scenarios, so resampling scenarios keeps the
            within-scenario correlation (statistics.md §h).
        seed: Bootstrap seed.
        level: Interval coverage.
    """
    pairs = _paired(a, b, clusters)
    cats = _categories(pairs.a + pairs.b, categories)
    cm = confusion_matrix(pairs.a, pairs.b, cats)
    p_o, kappa, ac1, pab = _from_table(cm.counts)
    alpha = krippendorff_alpha(list(zip(pairs.a, pairs.b, strict=True)), cats)
    kappa_ci = ac1_ci = None
    if n_boot > 0 and pairs.a:
        kappa_ci, ac1_ci = _cluster_bootstrap(pairs, cats, n_boot, seed, level)
    return AgreementResult(
        n=cm.n,
        categories=cats,
        observed=p_o,
        cohen_kappa=kappa,
        gwet_ac1=ac1,
        krippendorff_alpha=alpha,
        pabak=pab,
        prevalence_a=prevalence(pairs.a, cats),
        prevalence_b=prevalence(pairs.b, cats),
        confusion=cm,
        kappa_ci=kappa_ci,
        ac1_ci=ac1_ci,
    )


def sensitivity_specificity(
    pred: Sequence[bool | None],
    gold: Sequence[bool | None],
    positive: Callable[[object], bool] = bool,
) -> SensitivitySpecificity:
    """Sensitivity and specificity of ``pred`` against ``gold`` (pairs with a None dropped).

    Args:
        pred: Predicted labels (True = positive, e.g. "refusal" or "IC shown").
        gold: Gold labels aligned with ``pred``.
        positive: Maps a label to True/False (default ``bool``), so category labels can be
            passed with e.g. ``lambda v: v == "refusal"``.
    """
    p = _paired(pred, gold)
    tp = fn = tn = fp = 0
    for x, y in zip(p.a, p.b, strict=True):
        px, gy = positive(x), positive(y)
        if gy and px:
            tp += 1
        elif gy:
            fn += 1
        elif px:
            fp += 1
        else:
            tn += 1
    n_pos, n_neg = tp + fn, tn + fp
    return SensitivitySpecificity(
        sensitivity=tp / n_pos if n_pos else math.nan,
        specificity=tn / n_neg if n_neg else math.nan,
        n_pos=n_pos,
        n_neg=n_neg,
        tp=tp,
        fn=fn,
        tn=tn,
        fp=fp,
    )
