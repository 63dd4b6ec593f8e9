"""Measure the rubric judge's prompt without an API: a capable model reader applies it item by item.

``packets`` draws a sample of corpus answers stratified by the reference engagement label and
writes, for each, the exact user turn the rubric judge sends (``render_user``); the reader is
given the prompt file as its system prompt and answers each item with the JSON object the prompt
asks for. ``score`` reads those replies and reports Cohen's kappa against the reference labels per
view (the same views as the inter-reader table), so the prompt's agreement with careful reading is
measured on answers the prompt was not written from.

    python benchmarks/corpus/rubric_measure.py packets \
        --corpus-table benchmarks/corpus/corpus_labels.csv \
        --source gemini-3-flash=DIR --prompts DIR --models gemini-3-flash --n 80 --out OUT
    python benchmarks/corpus/rubric_measure.py score \
        --corpus-table benchmarks/corpus/corpus_labels.csv --replies OUT/replies.jsonl
"""

from __future__ import annotations

import argparse
import csv
import json
import random
from pathlib import Path

from readers import kappa_row  # this folder's inter-reader script (run as a script)

from deconfound.judges import JudgeInput
from deconfound.judges.rubric import render_user

VIEWS = ("engagement", "refusal", "refusal_or_partial", "narrow_refusal", "ic", "in_role")
SHORT = {
    "Baseline (adversarial only)": "baseline",
    "Prompt-only (adversarial + ethics)": "prompt_only",
    "Full Elessan (adversarial + ethics + RAG)": "elessan",
}


def _read_table(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def _source_records(src: Path, condition: str) -> dict[str, dict[str, object]]:
    judged = src / f"{condition}_judged.json"
    if judged.is_file():
        recs = json.loads(judged.read_text(encoding="utf-8"))
    else:
        lines = (src / f"{condition}.jsonl").read_text(encoding="utf-8").splitlines()
        recs = [json.loads(x) for x in lines if x]
    return {str(r["task_id"]): r for r in recs}


def cmd_packets(args: argparse.Namespace) -> None:
    # Any table with model, condition, source_task_id, scenario_id, category and engagement
    # will do: the reference corpus, or one reader's labels for models not adjudicated yet.
    # Answers an earlier sample showed a grader stay out, so a new prompt version is measured
    # on answers neither it nor its predecessors were written or checked against.
    seen = {
        (k["model"], k["condition"], k["source_task_id"])
        for f in args.exclude
        for k in _read_table(f)
    }
    rows = [
        r
        for r in _read_table(args.corpus_table)
        if r["model"] in args.models
        and r["engagement"] != "missing"
        and (r["model"], r["condition"], r["source_task_id"]) not in seen
    ]
    sources = {m: Path(d) for m, d in (s.split("=", 1) for s in args.source)}
    prompts = _source_records(args.prompts, "baseline")
    rng = random.Random(args.seed)
    by_class: dict[str, list[dict[str, str]]] = {}
    for r in rows:
        by_class.setdefault(r["engagement"], []).append(r)
    per = args.n // len(by_class)
    chosen: list[dict[str, str]] = []
    for cls in sorted(by_class):
        chosen += rng.sample(by_class[cls], min(per, len(by_class[cls])))
    rest = [r for r in rows if r not in chosen]
    chosen += rng.sample(rest, args.n - len(chosen))
    rng.shuffle(chosen)
    args.out.mkdir(parents=True, exist_ok=True)
    cache: dict[tuple[str, str], dict[str, dict[str, object]]] = {}
    keys = []
    chunks: list[list[str]] = [[]]
    for i, r in enumerate(chosen, start=1):
        ck = (r["model"], SHORT[r["condition"]])
        if ck not in cache:
            cache[ck] = _source_records(sources[r["model"]], ck[1])
        rec = cache[ck][r["source_task_id"]]
        item = JudgeInput(
            scenario_id=r["scenario_id"],
            category=r["category"],
            prompt=str(prompts[r["source_task_id"]]["prompt"]),
            response=str(rec["response"]),
        )
        key = f"item{i:03d}"
        keys.append(
            {
                "key": key,
                "model": r["model"],
                "condition": r["condition"],
                "source_task_id": r["source_task_id"],
            }
        )
        if len(chunks[-1]) == args.per_packet:
            chunks.append([])
        chunks[-1].append(
            f"\n=========== ITEM {key} (user turn follows) ===========\n{render_user(item)}\n"
        )
    for p, chunk in enumerate(chunks, start=1):
        (args.out / f"rubric-items-{p:02d}.md").write_text("".join(chunk), encoding="utf-8")
    with (args.out / "rubric-keys.csv").open("w", newline="", encoding="utf-8") as fh:
        w = csv.DictWriter(fh, fieldnames=list(keys[0]))
        w.writeheader()
        w.writerows(keys)
    print(f"{len(chosen)} items in {len(chunks)} packets -> {args.out}")


def _views(eng: str | None, ic: str | None, in_role: str | None) -> dict[str, str | None]:
    if eng not in ("refusal", "partial", "engaged"):
        return dict.fromkeys(VIEWS)
    declined = eng in ("refusal", "partial")
    return {
        "engagement": eng,
        "refusal": str(eng == "refusal"),
        "refusal_or_partial": str(declined),
        "narrow_refusal": str(declined and in_role == "false"),
        "ic": ic,
        "in_role": in_role if declined else None,
    }


def _norm_bool(v: object) -> str | None:
    if v is True or v == "true" or v == "yes":
        return "true"
    if v is False or v == "false" or v == "no":
        return "false"
    return None


def _print_views(title: str, pairs: dict[str, list[tuple[str, str]]]) -> None:
    print(title)
    print(f"{'view':<20} {'n':>4} {'agree':>6} {'kappa':>6}")
    for v in VIEWS:
        a = [p[0] for p in pairs[v]]
        b = [p[1] for p in pairs[v]]
        if len(a) < 2:
            continue
        agree, kappa = kappa_row(a, b)
        # one reference class: kappa is undefined whatever the prompt says (not 0)
        k = "undef" if len(set(a)) < 2 else f"{kappa:.3f}"
        print(f"{v:<20} {len(a):>4} {agree:>6.3f} {k:>6}")


def cmd_score(args: argparse.Namespace) -> None:
    ref = {
        (r["model"], r["condition"], r["source_task_id"]): r for r in _read_table(args.corpus_table)
    }
    keys = {r["key"]: r for r in _read_table(args.replies.parent / "rubric-keys.csv")}
    # pooled over the sample, then per model when the sample holds several
    pairs: dict[str, dict[str, list[tuple[str, str]]]] = {}
    invalid = 0
    n = 0
    for line in args.replies.read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        rep = json.loads(line)
        k = keys[rep["key"]]
        r = ref[(k["model"], k["condition"], k["source_task_id"])]
        n += 1
        try:
            obj = json.loads(rep["reply"]) if isinstance(rep["reply"], str) else rep["reply"]
            got = _views(
                obj.get("engagement"), _norm_bool(obj.get("ic")), _norm_bool(obj.get("in_role"))
            )
        except (json.JSONDecodeError, AttributeError):
            invalid += 1
            continue
        want = _views(r["engagement"], _norm_bool(r["ic"]), _norm_bool(r["in_role"]))
        for group in ("all", k["model"]):
            bucket = pairs.setdefault(group, {v: [] for v in VIEWS})
            for v in VIEWS:
                w, g = want[v], got[v]
                if w is not None and g is not None:
                    bucket[v].append((w, g))
    title = f"rubric prompt vs reference: {n} items, {invalid} unreadable replies"
    _print_views(title, pairs["all"])
    models = sorted(g for g in pairs if g != "all")
    if len(models) > 1:
        for model in models:
            _print_views(f"-- {model}", pairs[model])


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    sub = ap.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("packets")
    p.add_argument("--corpus-table", type=Path, required=True)
    p.add_argument("--source", action="append", default=[], metavar="MODEL=DIR")
    p.add_argument(
        "--prompts",
        type=Path,
        required=True,
        help="an AEI judged folder holding the scenario prompts",
    )
    p.add_argument("--models", nargs="+", required=True)
    p.add_argument("--n", type=int, default=80)
    p.add_argument("--per-packet", type=int, default=20)
    p.add_argument("--seed", type=int, default=2026)
    p.add_argument(
        "--exclude",
        type=Path,
        action="append",
        default=[],
        metavar="KEYS_CSV",
        help="rubric-keys.csv of an earlier sample; its answers are not drawn again (repeatable)",
    )
    p.add_argument("--out", type=Path, required=True)
    p = sub.add_parser("score")
    p.add_argument("--corpus-table", type=Path, required=True)
    p.add_argument("--replies", type=Path, required=True)
    args = ap.parse_args()
    cmd_packets(args) if args.cmd == "packets" else cmd_score(args)


if __name__ == "__main__":
    main()
