"""Leave-one-model-out agreement of the offline judge (and the lexical judge) with the corpus.

For every corpus model in turn, heads are fitted on the other models only (their regularisation
and probability temperature chosen by an inner leave-one-model-out over those models) and the
held-out model's answers are labelled; Cohen's kappa against the reference labels is reported
per model and per view, with confusion matrices. The lexical judge is reported as shipped
(``lexical-2``) and re-tuned the same way: its decision thresholds chosen on the other models
(the development split), never on the model it is scored on. XSTest is scored too, with heads
fitted on the whole corpus (no XSTest answer is ever used for fitting).

    python benchmarks/offline_judge.py --corpus /work/corpus/corpus_with_text.jsonl \
        [--xstest ../shared/data/xstest] [--variants terms,terms+windows,numpy] [--json out.json]

The corpus text file is not in the repository (benchmarks/corpus/rebuild_text.py rebuilds it).
Window embeddings are cached under the user cache dir, so re-runs only refit the heads.
"""

from __future__ import annotations

import argparse
import dataclasses
import itertools
import json
import math
import sys
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from deconfound.judges.lexical import LexicalConfig, LexicalJudge, decide, extract_features
from deconfound.judges.offline import LinearHead
from deconfound.judges.offline_data import (
    CorpusItem,
    XSTestItem,
    cached_pooled_windows,
    load_corpus,
    load_xstest,
)
from deconfound.judges.offline_features import OVERLAP_FEATURES, lexical_vector
from deconfound.judges.offline_train import (
    C_GRID,
    TARGETS,
    VIEW_NAMES,
    Backend,
    LinearFit,
    Selection,
    decode_rows,
    expected_calibration_error,
    fit_heads,
    fit_linear,
    fit_spec,
    fit_temperature,
    reference_counts,
    select_and_fit,
    view_kappa,
    view_labels,
)

ROOT = Path(__file__).resolve().parents[1]
#: Views with a target in the issue (kappa >= 0.7 on every model, goal 0.8).
TARGET_VIEWS = (
    "refusal_vs_not",
    "refusal_or_partial_vs_engaged",
    "ic",
    "in_role_among_ref_refusal_partial",
)
SHORT = {
    "refusal_vs_not": "R|not",
    "refusal_or_partial_vs_engaged": "RP|E",
    "engagement_3class": "3-cls",
    "ic": "IC",
    "in_role_among_ref_refusal_partial": "in_role",
    "narrow_refusal_vs_not": "narrowR",
    "refusal_kind_among_ref_refusal_partial": "kind",
}
#: Lexical thresholds searched on the development split (decision-level only: cheap to search).
LEXICAL_GRID = {
    "substantive_words": (30, 60, 90, 150),
    "substantive_items": (1, 2, 3, 5),
    "short_answer_words": (60, 90, 150, 250),
    "plan_words": (25, 50, 100),
}


@dataclasses.dataclass(frozen=True)
class Variant:
    name: str
    terms: bool
    windows: bool
    backend: Backend
    prompt: bool = False
    #: weight of XSTest answers added to the engagement head's training rows (0: none)
    xstest_weight: float = 0.0
    #: offline-4: the prompt-overlap block, and per-head choices by inner leave-one-model-out
    select: bool = False


VARIANTS = {
    "lexical-cues": Variant("lexical-cues (sklearn)", False, False, "sklearn"),
    "terms": Variant("cues+terms (sklearn)", True, False, "sklearn"),
    "terms+windows": Variant("cues+terms+windows (sklearn)", True, True, "sklearn"),
    "windows": Variant("cues+windows (sklearn)", False, True, "sklearn"),
    "numpy": Variant("cues+terms (numpy head)", True, False, "numpy"),
    "template": Variant("cues+terms+template (sklearn)", True, False, "sklearn", True),
    "template+xstest": Variant(
        "cues+terms+template, XSTest x0.25 in the engagement head (sklearn)",
        True,
        False,
        "sklearn",
        True,
        0.25,
    ),
    "template-numpy": Variant("cues+terms+template (numpy head)", True, False, "numpy", True),
    "select": Variant(
        "offline-4: cues+terms+template [+overlap], per-head choices by inner LOMO (sklearn)",
        True,
        False,
        "sklearn",
        True,
        select=True,
    ),
}
#: The variant the shipped heads (offline-5) are fitted with.
SHIPPED_VARIANT = "template"
#: Bootstrap replicates for the per-model 95% intervals.
BOOT = 1000


def ref_row(it: CorpusItem) -> dict[str, str]:
    return {
        "engagement": it.engagement,
        "ic": it.ic,
        "in_role": it.in_role,
        "refusal_kind": it.refusal_kind,
    }


def labels_of(items: Sequence[CorpusItem]) -> dict[str, Sequence[str]]:
    return {t: [ref_row(it)[t] for it in items] for t in TARGETS}


def xstest_extra(
    xs: Sequence[XSTestItem], spec: Any, weight: float
) -> tuple[np.ndarray, list[str], float]:
    """XSTest answers as extra engagement-head rows (features by the fold's own spec)."""
    x = spec.matrix([it.completion for it in xs], prompts=[it.prompt for it in xs])
    return x, [it.label for it in xs], weight


def scenario_half(items: Sequence[CorpusItem]) -> np.ndarray:
    """0/1 per item: scenario ids in sorted order alternate between halves (so each category,
    whose ids sort together, is split about evenly)."""
    ids = sorted({it.scenario_id for it in items})
    half = {s: i % 2 for i, s in enumerate(ids)}
    return np.array([half[it.scenario_id] for it in items])


def fit_select(
    items: Sequence[CorpusItem], lex: np.ndarray
) -> tuple[Any, dict[str, LinearFit], str, Selection]:
    """offline-4 on ``items``: its spec, heads, decoding and the choices made by inner LOMO."""
    texts = [it.response for it in items]
    prompts = [it.prompt for it in items]
    spec = fit_spec(
        texts, terms=True, pooled=False, lexical=lex, prompt=True, overlap=True, prompts=prompts
    )
    x = spec.matrix(texts, None, lex, prompts)
    heads, decoding, sel = select_and_fit(
        x, x.shape[1] - len(OVERLAP_FEATURES), labels_of(items), [it.model for it in items]
    )
    return spec, heads, decoding, sel


def predict_select(
    heads: Mapping[str, LinearHead], decoding: str, x: np.ndarray
) -> list[dict[str, str]]:
    """offline-4's labels of rows ``x`` (engagement and IC decoded together)."""
    p = {k: h.proba(x) for k, h in heads.items()}
    eng, ic = decode_rows(p["engagement"], p["ic"], decoding)
    out = []
    for r, (e, i) in enumerate(zip(eng, ic, strict=True)):
        row = {"engagement": e, "ic": i}
        for k in ("refusal_kind", "in_role"):
            row[k] = heads[k].classes[int(p[k][r].argmax())]
        out.append(row)
    return out


def offline_lomo(
    items: list[CorpusItem],
    pooled: np.ndarray | None,
    variant: Variant,
    lex: np.ndarray,
    xs: Sequence[XSTestItem] = (),
    *,
    scenario_halves: bool = False,
    selections: list[dict[str, Any]] | None = None,
) -> tuple[list[dict[str, str]], np.ndarray]:
    """Held-out predictions for every item, and the held-out engagement confidences.

    With ``scenario_halves`` each fold also holds out half of the scenarios: the held-out
    model's answers to one half are labelled by heads fitted on the other models' answers to
    the other half only (new model *and* new scenarios).
    """
    models = np.array([it.model for it in items])
    texts = [it.response for it in items]
    prompts = [it.prompt for it in items]
    half = scenario_half(items) if scenario_halves else np.zeros(len(items), dtype=int)
    preds: list[dict[str, str]] = [{} for _ in items]
    logits = np.zeros((len(items), 3))
    folds = [
        (m, h) for m in sorted(set(models.tolist())) for h in ((0, 1) if scenario_halves else (0,))
    ]
    for m, h in folds:
        test = np.flatnonzero((models == m) & (half == h))
        train = np.flatnonzero((models != m) & ((half != h) if scenario_halves else True))
        if variant.select:
            spec, sheads, decoding, sel = fit_select([items[i] for i in train], lex[train])
            xte = spec.matrix([texts[i] for i in test], None, lex[test], [prompts[i] for i in test])
            for i, got in zip(test, predict_select(sheads, decoding, xte), strict=True):
                preds[int(i)] = got
            e = sheads["engagement"]
            # temperature-free logits, as for the other variants (ECE refits a temperature)
            logits[test] = xte @ e.weights.T + e.bias
            if selections is not None:
                selections.append({"held_out": m, "half": h, **sel.to_json()})
            print(f"  {variant.name}: held out {m} {sel.to_json()}", file=sys.stderr)
            continue
        spec = fit_spec(
            [texts[i] for i in train],
            terms=variant.terms,
            pooled=variant.windows,
            lexical=lex[train],
            prompt=variant.prompt,
        )
        pt = None if pooled is None else pooled[train]
        xtr = spec.matrix(
            [texts[i] for i in train],
            pt if variant.windows else None,
            lex[train],
            [prompts[i] for i in train],
        )
        # argmax labels (hence kappa) do not depend on the temperature: fit without it here
        heads = fit_heads(
            xtr,
            labels_of([items[i] for i in train]),
            models[train].tolist(),
            variant.backend,
            calibrate=False,
            extra=xstest_extra(xs, spec, variant.xstest_weight) if variant.xstest_weight else None,
        )
        pe = None if pooled is None else pooled[test]
        xte = spec.matrix(
            [texts[i] for i in test],
            pe if variant.windows else None,
            lex[test],
            [prompts[i] for i in test],
        )
        for target, tuned in heads.items():
            p = tuned.fit.proba(xte)
            lab = [tuned.fit.classes[j] for j in p.argmax(axis=1)]
            for row, i in enumerate(test):
                preds[i][target] = lab[row]
            if target == "engagement":
                logits[test] = xte @ tuned.fit.weights.T + tuned.fit.bias
        print(
            f"  {variant.name}: held out {m}" + (f" x half {h}" if scenario_halves else ""),
            file=sys.stderr,
        )
    # calibrated confidence of model m: a temperature fitted on the other models' held-out logits
    y = np.array([TARGETS["engagement"].index(it.engagement) for it in items])
    conf = np.zeros(len(items))
    for m in sorted(set(models.tolist())):
        test = models == m
        temp = fit_temperature(np.clip(logits[~test], -60, 60), y[~test])
        z = logits[test] / temp
        z = z - z.max(axis=1, keepdims=True)
        p = np.exp(z) / np.exp(z).sum(axis=1, keepdims=True)
        conf[test] = p.max(axis=1)
    return preds, conf


def lexical_preds(
    items: Sequence[CorpusItem], config: LexicalConfig | None = None
) -> list[dict[str, str]]:
    judge = LexicalJudge(config)
    out = []
    for it in items:
        j = judge.label(it.response)
        out.append(
            {
                "engagement": str(j.engagement),
                "ic": "" if j.ic is None else str(j.ic).lower(),
                "refusal_kind": j.refusal_kind or "",
                "in_role": "",
            }
        )
    return out


def lexical_tuned_lomo(
    items: list[CorpusItem], base: list[dict[str, str]]
) -> tuple[list[dict[str, str]], dict[str, Any]]:
    """Lexical labels with thresholds chosen on the other models; and the all-model choice."""
    feats = [extract_features(it.response) for it in items]
    models = np.array([it.model for it in items])
    combos = [
        dict(zip(LEXICAL_GRID, v, strict=True)) for v in itertools.product(*LEXICAL_GRID.values())
    ]
    labels = {i: [decide(f, LexicalConfig(**c))[0] for f in feats] for i, c in enumerate(combos)}

    def score(rows: np.ndarray, k: int) -> float:
        ref = [ref_row(items[i]) for i in rows]
        pred = [{"engagement": labels[k][i]} for i in rows]
        a = view_kappa("refusal_vs_not", pred, ref)[0]
        b = view_kappa("refusal_or_partial_vs_engaged", pred, ref)[0]
        return float(np.nanmean([a, b]))

    out = [dict(r) for r in base]
    chosen: dict[str, Any] = {}
    for m in sorted(set(models.tolist())):
        dev = np.flatnonzero(models != m)
        best = max(range(len(combos)), key=lambda k: (score(dev, k), -k))
        chosen[m] = combos[best]
        for i in np.flatnonzero(models == m):
            out[i]["engagement"] = labels[best][i]
    every = np.arange(len(items))
    chosen["all models (shipped)"] = combos[
        max(range(len(combos)), key=lambda k: (score(every, k), -k))
    ]
    return out, chosen


def _kappa(a: np.ndarray, b: np.ndarray) -> float:
    """Cohen's kappa of two integer-coded label arrays (nan when chance agreement is 1)."""
    k = int(max(a.max(), b.max())) + 1
    n = len(a)
    po = float((a == b).mean())
    pe = float((np.bincount(a, minlength=k) * np.bincount(b, minlength=k)).sum()) / (n * n)
    return float("nan") if pe >= 1.0 else (po - pe) / (1.0 - pe)


def bootstrap_ci(
    view: str, pred: Sequence[dict[str, str]], ref: Sequence[dict[str, str]], seed: int = 0
) -> tuple[float, float] | None:
    """Percentile 95% interval of kappa over answers resampled with replacement (BOOT times).

    Replicates whose kappa is undefined (one class only) are dropped; None when fewer than
    half remain (e.g. a view where the reference has a single class).
    """
    pairs = []
    for p, r in zip(pred, ref, strict=True):
        if view.endswith("_among_ref_refusal_partial") and r.get("engagement") == "engaged":
            continue
        lp, lr = view_labels(view, p), view_labels(view, r)
        if lp is not None and lr is not None:
            pairs.append((lp, lr))
    if len(pairs) < 2:
        return None
    if len({r for _, r in pairs}) < 2:
        return None  # the reference has one class: kappa is undefined, not 0
    cats = sorted({v for pair in pairs for v in pair})
    a = np.array([cats.index(x) for x, _ in pairs])
    b = np.array([cats.index(y) for _, y in pairs])
    rng = np.random.default_rng(seed)
    reps = []
    for _ in range(BOOT):
        s = rng.integers(0, len(a), len(a))
        reps.append(_kappa(a[s], b[s]))
    got = np.array([r for r in reps if not math.isnan(r)])
    if len(got) < BOOT / 2:
        return None
    lo, hi = np.percentile(got, [2.5, 97.5])
    return round(float(lo), 3), round(float(hi), 3)


def kappa_table(
    items: list[CorpusItem], preds: list[dict[str, str]], *, ci: bool = False
) -> dict[str, dict[str, dict[str, Any]]]:
    """{model: {view: {kappa, n, confusion[, ci95]}}} plus a pooled row."""
    models = [it.model for it in items]
    out: dict[str, dict[str, dict[str, Any]]] = {}
    for m in [*sorted(set(models)), "pooled"]:
        idx = [i for i, mm in enumerate(models) if m in ("pooled", mm)]
        ref = [ref_row(items[i]) for i in idx]
        pr = [preds[i] for i in idx]
        out[m] = {}
        for v in VIEW_NAMES:
            k, n, conf = view_kappa(v, pr, ref)
            counts = reference_counts(v, ref)
            # one reference class: kappa is undefined whatever the judge says (not 0)
            undefined = len(counts) < 2
            out[m][v] = {
                "kappa": None if undefined or math.isnan(k) else round(k, 3),
                "n": n,
                "confusion_pred_rows_ref_cols": None if conf is None else conf.to_dict(),
                "ref_counts": counts,
                "undefined": undefined,
            }
            if ci:
                out[m][v]["ci95"] = bootstrap_ci(v, pr, ref)
    return out


def _cell(c: dict[str, Any]) -> str:
    """A kappa as printed: 'undef' where the reference has one class, 'n/a' where absent."""
    if c.get("undefined"):
        return "undef"
    return "n/a" if c["kappa"] is None else f"{c['kappa']:.2f}"


def fmt_ci(table: dict[str, dict[str, dict[str, Any]]]) -> list[str]:
    """The target views with bootstrap 95% intervals and the reference's class counts."""
    lines = ["  95% bootstrap intervals (answers resampled within the model; reference counts):"]
    for m, row in table.items():
        cells = []
        for v in TARGET_VIEWS:
            c = row[v]
            k = _cell(c)
            iv = "[undefined]" if c.get("ci95") is None else "[{:.2f}, {:.2f}]".format(*c["ci95"])
            counts = "/".join(f"{n}" for n in c.get("ref_counts", {}).values())
            cells.append(f"{SHORT[v]} {k} {iv} ({counts})")
        lines.append(f"    {m:<21} " + "; ".join(cells))
    return lines


def fmt_table(name: str, table: dict[str, dict[str, dict[str, Any]]]) -> list[str]:
    lines = [f"{name}", "  " + f"{'model':<21}" + "".join(f"{SHORT[v]:>9}" for v in VIEW_NAMES)]
    for m, row in table.items():
        cells = []
        for v in VIEW_NAMES:
            cells.append(f"{_cell(row[v]):>9}")
        lines.append("  " + f"{m:<21}" + "".join(cells))
    return lines


def worst_model(table: dict[str, dict[str, dict[str, Any]]], view: str) -> float:
    """The worst held-out model's kappa on a view; undefined cells (one reference class) are
    left out, a missing kappa of a defined cell counts as -1."""
    return min(
        (row[view]["kappa"] if row[view]["kappa"] is not None else -1.0)
        for m, row in table.items()
        if m != "pooled" and not row[view].get("undefined")
    )


def decision_score(table: dict[str, dict[str, dict[str, Any]]]) -> str:
    """The ship rule's figures: mean over the target views of the worst held-out model's kappa
    (undefined cells left out), the mean pooled kappa (tie-break) and the single worst cell."""
    worst = [worst_model(table, v) for v in TARGET_VIEWS]
    pooled = [table["pooled"][v]["kappa"] for v in TARGET_VIEWS]
    return (
        f"mean worst-model kappa {np.mean(worst):.3f}, mean pooled {np.mean(pooled):.3f}, "
        f"worst cell {min(worst):.2f}"
    )


def fmt_selection(sel: dict[str, Any]) -> str:
    e, r, i = sel["engagement"], sel["in_role"], sel["ic"]
    return (
        f"engagement {e['features']} C={e['c']}; in_role {r['features']} C={r['c']}; "
        f"IC {i['features']} C={i['c']} rows={i['rows']} decoding={i['decoding']}"
    )


def targets_met(table: dict[str, dict[str, dict[str, Any]]], views: Sequence[str]) -> str:
    worst = {v: worst_model(table, v) for v in views}
    undefined = {
        v: [m for m, row in table.items() if m != "pooled" and row[v].get("undefined")]
        for v in views
    }
    return ", ".join(
        f"{SHORT[v]} min {k:.2f} ({'>=0.7' if k >= 0.7 else 'below 0.7'}"
        + "".join(f"; {m} undefined" for m in undefined[v])
        + ")"
        for v, k in worst.items()
    )


def xstest_scores(
    items: list[CorpusItem],
    xs: list[XSTestItem],
    variant: Variant,
    pooled: np.ndarray | None,
    lex: np.ndarray,
) -> dict[str, Any]:
    """Engagement heads fitted on the whole corpus, scored on XSTest's human labels.

    A variant that also fits on XSTest is scored held out by XSTest subject model: each
    subject's completions are labelled by heads fitted on the corpus and the other four.
    """

    texts = [it.response for it in items]
    prompts = [it.prompt for it in items]
    subjects = np.array([it.model for it in xs])
    if variant.select:
        sspec, sheads, decoding, _ = fit_select(items, lex)
        xq = sspec.matrix([it.completion for it in xs], prompts=[it.prompt for it in xs])
        labels = [r["engagement"] for r in predict_select(sheads, decoding, xq)]
        return _xstest_agreement(labels, xs, subjects, held_out=False)
    spec = fit_spec(
        texts, terms=variant.terms, pooled=variant.windows, lexical=lex, prompt=variant.prompt
    )
    x = spec.matrix(texts, pooled if variant.windows else None, lex, prompts)
    folds = sorted(set(subjects.tolist())) if variant.xstest_weight else [None]
    pred: list[str] = [""] * len(xs)
    xall = spec.matrix(
        [it.completion for it in xs],
        cached_pooled_windows([it.completion for it in xs], 128, 2) if variant.windows else None,
        prompts=[it.prompt for it in xs],
    )
    classes = TARGETS["engagement"]
    for held in folds:
        test = np.flatnonzero(subjects == held) if held else np.arange(len(xs))
        xf, yf, wf = x, [it.engagement for it in items], None
        if held:
            # the engagement head only: the other heads never see XSTest
            train = np.flatnonzero(subjects != held)
            xf = np.vstack([x, xall[train]])
            yf = yf + [xs[i].label for i in train]
            wf = np.concatenate([np.ones(len(items)), np.full(len(train), variant.xstest_weight)])
        # argmax labels do not depend on the temperature: no calibration needed here
        f = fit_linear(xf, yf, classes, C_GRID[0], variant.backend, wf)
        for i, j in zip(test, f.proba(xall[test]).argmax(axis=1), strict=True):
            pred[i] = f.classes[j]
    return _xstest_agreement(pred, xs, subjects, held_out=bool(variant.xstest_weight))


def _xstest_agreement(
    pred: list[str], xs: list[XSTestItem], subjects: np.ndarray, *, held_out: bool
) -> dict[str, Any]:
    from deconfound.stats.agreement import agreement

    gold = [it.label for it in xs]
    three = agreement(pred, gold, categories=("refusal", "partial", "engaged"))
    binary = agreement([q != "engaged" for q in pred], [g != "engaged" for g in gold])
    per = {}
    for sm in sorted(set(subjects.tolist())):
        idx = np.flatnonzero(subjects == sm)
        r = agreement([pred[i] != "engaged" for i in idx], [gold[i] != "engaged" for i in idx])
        per[sm] = round(float(r.cohen_kappa), 3)
    return {
        "n": len(gold),
        "held_out_by_subject": held_out,
        "kappa_3class": round(float(three.cohen_kappa), 3),
        "kappa_any_refusal": round(float(binary.cohen_kappa), 3),
        "accuracy_any_refusal": round(float(binary.observed), 3),
        "kappa_any_refusal_per_subject": per,
    }


def lexical_xstest(xs: list[XSTestItem], config: LexicalConfig | None) -> dict[str, float]:
    """The lexical judge's XSTest agreement under ``config`` (None: as shipped)."""
    from deconfound.stats.agreement import agreement

    judge = LexicalJudge(config)
    pred = [str(judge.label(it.completion).engagement) for it in xs]
    gold = [it.label for it in xs]
    three = agreement(pred, gold, categories=("refusal", "partial", "engaged"))
    binary = agreement([q != "engaged" for q in pred], [g != "engaged" for g in gold])
    return {
        "kappa_3class": round(float(three.cohen_kappa), 3),
        "kappa_any_refusal": round(float(binary.cohen_kappa), 3),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--corpus", type=Path, required=True, help="corpus_with_text.jsonl")
    ap.add_argument("--xstest", type=Path, default=ROOT.parent / "shared" / "data" / "xstest")
    ap.add_argument("--variants", default="terms,template,template+xstest,template-numpy")
    ap.add_argument("--json", type=Path, help="write the full tables (with confusions) here")
    ap.add_argument("--no-xstest", action="store_true")
    ap.add_argument(
        "--predictions",
        type=Path,
        help=f"write the {SHIPPED_VARIANT!r} variant's held-out labels of every corpus answer "
        "here (JSON lines; benchmarks/verdicts.py reads them)",
    )
    ap.add_argument(
        "--scenario-halves",
        action="store_true",
        help="also hold out half of the scenarios in every fold (new model and new scenarios)",
    )
    ap.add_argument(
        "--measured",
        type=Path,
        help="also write the shipped judges' LOMO kappa (src/deconfound/judges/data/"
        f"measured_kappa.json): offline = the {SHIPPED_VARIANT!r} variant, lexical = lexical-2 "
        "as shipped",
    )
    args = ap.parse_args()
    names = [v.strip() for v in args.variants.split(",") if v.strip()]
    unknown = [v for v in names if v not in VARIANTS]
    if unknown:
        sys.exit(f"--variants: unknown {unknown}; choose from {sorted(VARIANTS)}")

    t0 = time.time()
    items = load_corpus(args.corpus)
    models = sorted({it.model for it in items})
    need_windows = any(VARIANTS[v].windows for v in names)
    pooled = cached_pooled_windows([it.response for it in items], 128, 2) if need_windows else None
    lines = [
        f"Offline and lexical judges vs the reference corpus, leave-one-model-out "
        f"({len(items)} answers, {len(models)} models: {', '.join(models)})",
        "kappa per held-out model; views: " + "; ".join(f"{SHORT[v]}={v}" for v in VIEW_NAMES),
        "in_role and kind are scored on the reference's refusals and partials; narrowR = "
        "refusal or partial with in_role no.",
        "",
    ]
    result: dict[str, Any] = {"n": len(items), "models": models, "judges": {}}
    lexm = np.stack([lexical_vector(it.response) for it in items])
    xs = [] if args.no_xstest else load_xstest(args.xstest)
    if any(VARIANTS[v].xstest_weight for v in names) and not xs:
        sys.exit("--variants: an XSTest-fitted variant needs XSTest (drop --no-xstest)")
    lex = lexical_preds(items)
    t = kappa_table(items, lex)
    result["judges"]["lexical-2 (as shipped)"] = {"lomo": t}
    lines += [*fmt_table("lexical-2 (as shipped, no corpus tuning)", t), ""]
    lext, chosen = lexical_tuned_lomo(items, lex)
    t = kappa_table(items, lext)
    result["judges"]["lexical re-tuned"] = {"lomo": t, "thresholds": chosen}
    lines += [
        *fmt_table("lexical re-tuned (thresholds chosen on the other models)", t),
        f"  thresholds (all models): {chosen['all models (shipped)']}",
    ]
    if xs:
        lx = {
            "as shipped": lexical_xstest(xs, None),
            "re-tuned": lexical_xstest(xs, LexicalConfig(**chosen["all models (shipped)"])),
        }
        result["judges"]["lexical re-tuned"]["xstest"] = lx
        lines.append(f"  XSTest (all 2,250; thresholds as shipped vs re-tuned): {lx}")
    lines.append("")
    for name in names:
        v = VARIANTS[name]
        selections: list[dict[str, Any]] = []
        preds, conf = offline_lomo(items, pooled, v, lexm, xs, selections=selections)
        if args.predictions and name == SHIPPED_VARIANT:
            write_predictions(args.predictions, items, preds)
        t = kappa_table(items, preds, ci=True)
        correct = np.array(
            [p["engagement"] == it.engagement for p, it in zip(preds, items, strict=True)]
        )
        ece = expected_calibration_error(conf, correct)
        entry: dict[str, Any] = {"lomo": t, "engagement_ece_held_out": round(ece, 3)}
        if selections:
            entry["selections"] = selections
        if not args.no_xstest and v.backend == "sklearn" and not v.windows:
            entry["xstest"] = xstest_scores(items, xs, v, pooled, lexm)
        result["judges"][v.name] = entry
        lines += fmt_table(f"offline {v.name}", t)
        lines += fmt_ci(t)
        lines.append(f"  targets: {targets_met(t, TARGET_VIEWS)}")
        lines.append(f"  decision score: {decision_score(t)}")
        for sel in selections:
            lines.append(f"  chosen without {sel['held_out']}: {fmt_selection(sel)}")
        lines.append(f"  held-out engagement confidence: ECE {ece:.3f}")
        if args.scenario_halves:
            sp, _ = offline_lomo(items, pooled, v, lexm, xs, scenario_halves=True)
            ts = kappa_table(items, sp, ci=True)
            entry["lomo_scenario_halves"] = ts
            lines += fmt_table("  the same, held-out model AND held-out half of the scenarios", ts)
            lines += fmt_ci(ts)
        if "xstest" in entry:
            how = (
                "held out by XSTest subject"
                if v.xstest_weight
                else "heads fitted on the corpus only"
            )
            lines.append(f"  XSTest ({how}): {entry['xstest']}")
        lines.append("")
    lines.append(f"({time.time() - t0:.0f} s)")
    print("\n".join(lines))
    if args.json:
        args.json.write_text(json.dumps(result, indent=1) + "\n", encoding="utf-8")
    if args.measured:
        write_measured(args.measured, result, models)


def write_predictions(
    path: Path, items: Sequence[CorpusItem], preds: Sequence[dict[str, str]]
) -> None:
    """Each answer's label from heads never fitted on its model, keyed as the corpus is."""
    with path.open("w", encoding="utf-8") as fh:
        for it, p in zip(items, preds, strict=True):
            key = {"model": it.model, "condition": it.condition, "scenario_id": it.scenario_id}
            fh.write(json.dumps({**key, **p}) + "\n")


def write_measured(path: Path, result: dict[str, Any], models: list[str]) -> None:
    """The shipped judges' LOMO kappa per model and view, for reports (judges/measured.py)."""
    from deconfound.judges.lexical import LEXICAL_VERSION
    from deconfound.judges.offline import OFFLINE_VERSION

    corpus = f"{result['n']} answers of {', '.join(models)}, codebook-1"
    shipped = {
        "offline": (OFFLINE_VERSION, VARIANTS[SHIPPED_VARIANT].name),
        "lexical": (LEXICAL_VERSION, "lexical-2 (as shipped)"),
    }
    # keep the entries this script does not measure (benchmarks/published_flags.py writes the
    # published AEI labels' figures into the same file)
    old = json.loads(path.read_text(encoding="utf-8")) if path.is_file() else {"judges": {}}
    out: dict[str, Any] = {
        "judges": {j: e for j, e in old.get("judges", {}).items() if j not in shipped}
    }
    for judge, (version, key) in shipped.items():
        if key not in result["judges"]:
            continue
        table = result["judges"][key]["lomo"]
        out["judges"][judge] = {
            "version": version,
            "corpus": corpus,
            "kappa": {m: {v: c["kappa"] for v, c in row.items()} for m, row in table.items()},
        }
        undefined = {
            m: {v: {"reference_counts": c["ref_counts"]} for v, c in row.items() if c["undefined"]}
            for m, row in table.items()
        }
        if any(undefined.values()):
            # kappa is null there: the reference has one class (never read as 0)
            out["judges"][judge]["undefined"] = {m: row for m, row in undefined.items() if row}
        cis = {m: {v: c["ci95"] for v, c in row.items() if "ci95" in c} for m, row in table.items()}
        if any(cis.values()):
            out["judges"][judge]["kappa_ci95"] = cis
    path.write_text(json.dumps(out, indent=1) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
