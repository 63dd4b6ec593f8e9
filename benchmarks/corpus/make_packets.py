"""Blind reading packets for the labelled corpus (issue 11).

Each packet groups one model's answers to a few scenarios: the scenario prompt once, then
that scenario's answers under every condition in a shuffled order, each under an opaque key.
No condition name, published flag or judge output appears in a packet; the key file that maps
keys back is written elsewhere and readers never open it.

    python benchmarks/corpus/make_packets.py --model sonnet-4.5 \
        --src ../shared/data/aei-elessan/sonnet-4.5 \
        --packets /work/corpus/packets --keys /work/corpus/keys --per-packet 12 --seed 11

Sources are AEI `<condition>_judged.json` files, or JSON Lines with task_id, category,
prompt (optional), response and condition (a fetched copy of the same files).
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import json
import random
from pathlib import Path

CONDITIONS = ("baseline", "prompt_only", "elessan")


def _load(src: Path) -> list[dict[str, object]]:
    rows: list[dict[str, object]] = []
    for cond in CONDITIONS:
        judged = src / f"{cond}_judged.json"
        lines = src / f"{cond}.jsonl"
        if judged.is_file():
            records = json.loads(judged.read_text(encoding="utf-8"))
        elif lines.is_file():
            records = [json.loads(x) for x in lines.read_text(encoding="utf-8").splitlines() if x]
        else:
            raise SystemExit(f"{src}: no {judged.name} or {lines.name}")
        for rec in records:
            rows.append(
                {
                    "task_id": rec["task_id"],
                    "category": rec.get("category"),
                    "prompt": rec.get("prompt"),
                    "response": rec.get("response"),
                    "condition": cond,
                }
            )
    return rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--model", required=True)
    ap.add_argument("--src", type=Path, required=True)
    ap.add_argument("--prompts", type=Path, help="AEI judged folder to take scenario prompts from")
    ap.add_argument("--packets", type=Path, required=True)
    ap.add_argument("--keys", type=Path, required=True)
    ap.add_argument("--per-packet", type=int, default=12)
    ap.add_argument("--seed", type=int, default=11)
    args = ap.parse_args()

    rows = _load(args.src)
    prompts: dict[str, str] = {}
    if args.prompts:
        for rec in json.loads((args.prompts / "baseline_judged.json").read_text(encoding="utf-8")):
            prompts[rec["task_id"]] = rec["prompt"]
    rng = random.Random(f"{args.seed}:{args.model}")
    by_task: dict[str, list[dict[str, object]]] = {}
    for row in rows:
        by_task.setdefault(str(row["task_id"]), []).append(row)
    tasks = sorted(by_task)
    rng.shuffle(tasks)

    args.packets.mkdir(parents=True, exist_ok=True)
    args.keys.mkdir(parents=True, exist_ok=True)
    key_rows = []
    used: set[str] = set()
    for p, start in enumerate(range(0, len(tasks), args.per_packet), start=1):
        out = [f"# Reading packet {args.model} #{p:02d}\n"]
        for s, task in enumerate(tasks[start : start + args.per_packet], start=1):
            answers = by_task[task]
            rng.shuffle(answers)
            prompt = answers[0]["prompt"] or prompts.get(task, "(prompt not available)")
            out.append(f"\n======== SCENARIO {p:02d}.{s:02d} ========\n\n{prompt}\n")
            for ans in answers:
                while True:
                    key = hashlib.sha256(
                        f"{args.seed}{args.model}{rng.random()}".encode()
                    ).hexdigest()[:8]
                    if key not in used:
                        used.add(key)
                        break
                # an empty string is no answer too (three of qwen3-235b's baseline answers)
                text = (
                    ans["response"]
                    if isinstance(ans["response"], str) and ans["response"].strip()
                    else "[NO RESPONSE TEXT: label missing]"
                )
                out.append(f"\n-------- ANSWER {key} --------\n\n{text}\n")
                key_rows.append(
                    {
                        "key": key,
                        "model": args.model,
                        "task_id": task,
                        "condition": ans["condition"],
                        "packet": p,
                    }
                )
        (args.packets / f"{args.model}-{p:02d}.md").write_text("".join(out), encoding="utf-8")
    with (args.keys / f"{args.model}.csv").open("w", newline="", encoding="utf-8") as fh:
        w = csv.DictWriter(fh, fieldnames=["key", "model", "task_id", "condition", "packet"])
        w.writeheader()
        w.writerows(key_rows)
    print(f"{args.model}: {len(key_rows)} answers in {p} packets")


if __name__ == "__main__":
    main()
