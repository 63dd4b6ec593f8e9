"""Train the offline judge's softmax head on XSTest; evaluate it split by subject model.

Reproducible: fixed split, deterministic L-BFGS fit, embeddings from the numpy MiniLM encoder.
Held-out scores come from leave-one-subject-model-out: each of the 5 subject models is held out
in turn and its completions are predicted by a head fitted on the other four, so every score is
on a model style the head did not see. The L2 strength is chosen on the same folds (5 values).
A harder split (GPT-4 and Mistral-guard held out together) is recorded too. The shipped head is
then fitted on all five models. Everything goes into src/deconfound/judges/data/
offline_head.json: weights, provenance, the held-out scores per model and pooled.

    python scripts/train_offline_head.py [--xstest ../shared/data/xstest] [--out ...]

Embeddings are cached under the user cache dir (keyed by a hash of the texts), so re-running
only refits the head; the first run encodes 2,250 texts (several minutes on 2 cores).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np
from scipy.optimize import minimize

from deconfound.judges.offline import SoftmaxHead
from deconfound.judges.offline_data import (
    XSTestItem,
    cached_embeddings,
    load_xstest,
    texts_digest,
)
from deconfound.stats.agreement import agreement

ROOT = Path(__file__).resolve().parents[1]
CLASSES = ("refusal", "partial", "engaged")
TWO_HELD_OUT = ("gpt4", "mistralguard")
L2_GRID = (1e-5, 3e-5, 1e-4, 3e-4, 1e-3)
VERSION = "offline-1"


def embeddings(items: list[XSTestItem]) -> np.ndarray:
    """MiniLM embeddings of the completions (cached by content hash)."""
    return cached_embeddings([it.completion for it in items])


def fit_softmax(x: np.ndarray, y: np.ndarray, k: int, l2: float) -> tuple[np.ndarray, np.ndarray]:
    """Multinomial logistic regression, mean cross-entropy + l2·|W|², fitted with L-BFGS."""
    n, d = x.shape
    onehot = np.eye(k)[y]

    def loss(theta: np.ndarray) -> tuple[float, np.ndarray]:
        w = theta[: k * d].reshape(k, d)
        b = theta[k * d :]
        z = x @ w.T + b
        z -= z.max(axis=1, keepdims=True)
        logp = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
        p = np.exp(logp)
        value = -(onehot * logp).sum() / n + l2 * float((w**2).sum())
        g = (p - onehot) / n
        gw = g.T @ x + 2 * l2 * w
        gb = g.sum(axis=0)
        return value, np.concatenate([gw.ravel(), gb])

    theta0 = np.zeros(k * d + k)
    res = minimize(loss, theta0, jac=True, method="L-BFGS-B", options={"maxiter": 2000})
    return res.x[: k * d].reshape(k, d), res.x[k * d :]


def scores(pred: list[str], gold: list[str]) -> dict[str, object]:
    """Accuracy, kappa (3-class and any-refusal binary), per-class recall, partial F1."""
    n = len(gold)
    three = agreement(pred, gold, categories=CLASSES)
    bp = ["refusal" if p != "engaged" else "engaged" for p in pred]
    bg = ["refusal" if g != "engaged" else "engaged" for g in gold]
    binary = agreement(bp, bg, categories=("refusal", "engaged"))
    recall = {
        c: (sum(p == g == c for p, g in zip(pred, gold, strict=True)) / max(1, gold.count(c)))
        for c in CLASSES
    }
    tp = sum(p == g == "partial" for p, g in zip(pred, gold, strict=True))
    f1_partial = 2 * tp / max(1, pred.count("partial") + gold.count("partial"))
    return {
        "n": n,
        "accuracy_3class": round(three.observed, 4),
        "kappa_3class": round(three.cohen_kappa, 4),
        "accuracy_any_refusal": round(binary.observed, 4),
        "kappa_any_refusal": round(binary.cohen_kappa, 4),
        "recall": {c: round(v, 4) for c, v in recall.items()},
        "f1_partial": round(f1_partial, 4),
    }


def _lomo(
    x: np.ndarray, y: np.ndarray, models: np.ndarray, l2: float
) -> tuple[list[str], dict[str, dict[str, object]]]:
    """Leave-one-subject-model-out predictions (pooled, in item order) and per-model scores."""
    pooled = [""] * len(y)
    per: dict[str, dict[str, object]] = {}
    for m in sorted(set(models)):
        out = models == m
        w, b = fit_softmax(x[~out], y[~out], len(CLASSES), l2)
        pred = [CLASSES[i] for i in (x[out] @ w.T + b).argmax(axis=1)]
        for i, p in zip(np.flatnonzero(out), pred, strict=True):
            pooled[i] = p
        per[str(m)] = scores(pred, [CLASSES[i] for i in y[out]])
    return pooled, per


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--xstest", type=Path, default=ROOT.parent / "shared" / "data" / "xstest")
    ap.add_argument(
        "--out", type=Path, default=ROOT / "src/deconfound/judges/data/offline_head.json"
    )
    args = ap.parse_args()

    items = load_xstest(args.xstest)
    x = embeddings(items)
    y = np.array([CLASSES.index(it.label) for it in items])
    gold = [CLASSES[i] for i in y]
    models = np.array([it.model for it in items])

    # L2 strength by leave-one-subject-model-out 3-class accuracy (pooled over the 5 folds)
    cv: dict[str, float] = {}
    for l2 in L2_GRID:
        pooled, _ = _lomo(x, y, models, l2)
        cv[str(l2)] = round(sum(p == g for p, g in zip(pooled, gold, strict=True)) / len(y), 4)
        print(f"l2={l2:g}: leave-one-model-out accuracy {cv[str(l2)]:.3f}", file=sys.stderr)
    best = max(L2_GRID, key=lambda v: cv[str(v)])
    pooled, per_model = _lomo(x, y, models, best)
    held_out = scores(pooled, gold)

    # a harder split: two models held out together, trained on the other three
    two = np.isin(models, TWO_HELD_OUT)
    w2, b2 = fit_softmax(x[~two], y[~two], len(CLASSES), best)
    pred2 = [CLASSES[i] for i in (x[two] @ w2.T + b2).argmax(axis=1)]
    split2 = {
        m: scores(
            [p for p, k in zip(pred2, models[two] == m, strict=True) if k],
            [g for g, k in zip(np.array(gold)[two], models[two] == m, strict=True) if k],
        )
        for m in TWO_HELD_OUT
    }
    split2["pooled"] = scores(pred2, list(np.array(gold)[two]))

    # the shipped head sees all five subject models' styles
    w, b = fit_softmax(x, y, len(CLASSES), best)
    head = SoftmaxHead(
        CLASSES,
        w.astype(np.float32),
        b.astype(np.float32),
        {
            "version": VERSION,
            "encoder": "sentence-transformers/all-MiniLM-L6-v2 (numpy, mean pooling, L2 norm)",
            "data": "XSTest v2 completions, human final_label (Röttger et al., NAACL 2024)",
            "data_sha256": texts_digest([it.completion for it in items]),
            "train_models": sorted(set(models.tolist())),
            "n_train": len(y),
            "l2": best,
            "l2_selection": "pooled leave-one-subject-model-out 3-class accuracy",
            "l2_cv_accuracy": cv,
            "held_out": held_out,
            "held_out_note": "each item predicted by a head fitted without its subject model",
            "held_out_by_model": per_model,
            "two_models_held_out": {"models": list(TWO_HELD_OUT), **split2},
        },
    )
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(head.to_json(), indent=1) + "\n", encoding="utf-8")
    print(json.dumps({"l2": best, "held_out": held_out, "by_model": per_model, "two": split2}))


if __name__ == "__main__":
    main()
