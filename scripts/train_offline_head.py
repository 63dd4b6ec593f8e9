"""Fit the shipped offline heads on every corpus model and store their measured LOMO kappa.

offline-5 (``--variant template``, the default) is offline-3's fixed recipe: C and each head's
temperature chosen by leave-one-model-out over the corpus models, each head's own argmax.
``--variant select`` refits offline-4's per-head selection (deconfound.judges.offline_train:
select_and_fit). The kappa stored as metadata is read from the JSON that
``benchmarks/offline_judge.py --json`` wrote, i.e. measured with heads that never saw the scored
model. Nothing here looks at a score of the heads on their own training answers.

    python scripts/train_offline_head.py --corpus /work/corpus/corpus_with_text.jsonl \
        --lomo benchmarks/offline_judge.json [--variant template] [--out ...]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from collections.abc import Sequence
from pathlib import Path

from deconfound.judges.offline import OFFLINE_VERSION, LinearHead, OfflineHeads
from deconfound.judges.offline_data import cached_pooled_windows, load_corpus
from deconfound.judges.offline_features import OVERLAP_FEATURES
from deconfound.judges.offline_train import TARGETS, fit_heads, fit_spec, select_and_fit

ROOT = Path(__file__).resolve().parents[1]
#: Variant -> (its lomo key in benchmarks/offline_judge.py's JSON, terms, windows, prompt).
VARIANTS = {
    "select": (
        "offline-4: cues+terms+template [+overlap], per-head choices by inner LOMO (sklearn)",
        True,
        False,
        True,
    ),
    "template": ("cues+terms+template (sklearn)", True, False, True),
    "terms": ("cues+terms (sklearn)", True, False, False),
    "terms+windows": ("cues+terms+windows (sklearn)", True, True, False),
}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--corpus", type=Path, required=True)
    ap.add_argument("--lomo", type=Path, required=True, help="benchmarks/offline_judge.py --json")
    ap.add_argument("--variant", choices=sorted(VARIANTS), default="template")
    ap.add_argument(
        "--out", type=Path, default=ROOT / "src/deconfound/judges/data/offline_heads.json"
    )
    args = ap.parse_args()
    key, terms, windows, prompt = VARIANTS[args.variant]

    items = load_corpus(args.corpus)
    texts = [it.response for it in items]
    pooled = cached_pooled_windows(texts, 128, 2) if windows else None
    prompts = [it.prompt for it in items]
    if prompt and not all(prompts):
        sys.exit(f"--corpus: {args.corpus} has rows without a prompt; these heads read it")
    select = args.variant == "select"
    spec = fit_spec(
        texts, terms=terms, pooled=windows, prompt=prompt, overlap=select, prompts=prompts
    )
    x = spec.matrix(texts, pooled, prompts=prompts)
    labels: dict[str, Sequence[str]] = {
        "engagement": [it.engagement for it in items],
        "ic": [it.ic for it in items],
        "refusal_kind": [it.refusal_kind for it in items],
        "in_role": [it.in_role for it in items],
    }
    decoding = "independent"
    chosen: dict[str, object] | None = None
    if select:
        fits, decoding, selection = select_and_fit(
            x, x.shape[1] - len(OVERLAP_FEATURES), labels, [it.model for it in items]
        )
        chosen = selection.to_json()
        c_of = {t: f.c for t, f in fits.items()}
    else:
        tuned = fit_heads(x, labels, [it.model for it in items])
        fits = {t: f.fit for t, f in tuned.items()}
        c_of = {t: f.fit.c for t, f in tuned.items()}
    heads = {t: LinearHead(f.classes, f.weights, f.bias, f.temperature) for t, f in fits.items()}
    lomo_all = json.loads(args.lomo.read_text(encoding="utf-8"))
    if key not in lomo_all["judges"]:
        sys.exit(f"--lomo: {args.lomo} has no results for {key!r}; rerun the benchmark with it")
    lomo = {
        m: {v: cell["kappa"] for v, cell in row.items()}
        for m, row in lomo_all["judges"][key]["lomo"].items()
    }
    digest = hashlib.sha256()
    for t in texts:
        digest.update(t.encode("utf-8") + b"\x00")
    meta = {
        "data": "deconfound reference corpus (benchmarks/corpus/), codebook-1",
        "n_train": len(items),
        "train_models": sorted({it.model for it in items}),
        "data_sha256": digest.hexdigest(),
        "features": args.variant,
        "c": c_of,
        "selection": chosen,
        "targets": {t: list(c) for t, c in TARGETS.items()},
        "lomo_note": "Cohen's kappa per held-out model, heads fitted on the other models "
        "(benchmarks/offline_judge.py)",
        "lomo": lomo,
        "lomo_ci95": {
            m: {v: cell.get("ci95") for v, cell in row.items()}
            for m, row in lomo_all["judges"][key]["lomo"].items()
        },
        "engagement_ece_held_out": lomo_all["judges"][key].get("engagement_ece_held_out"),
    }
    out = OfflineHeads(OFFLINE_VERSION, spec, heads, meta, decoding)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(out.to_json()) + "\n", encoding="utf-8")
    print(f"wrote {args.out} ({args.out.stat().st_size // 1024} KiB)")


if __name__ == "__main__":
    main()
