"""Inter-reader agreement for the labelled corpus, the adjudication packets, and the corpus table.

Two blind readers label every answer under docs/codebook.md (their CSVs keyed by opaque item keys);
a third, blind reading settles each disagreement. This script

* ``agreement``: joins both readers' labels with the key files and prints raw agreement and Cohen's
  kappa per field and per model — the ceiling any judge can reach on this corpus;
* ``adjudicate``: writes blind packets holding every scenario with a disputed answer (all of that
  scenario's answers, shuffled, the two readings of each disputed one shown unlabelled as "reading 1
  / reading 2" in random order);
* ``build``: writes the records-compatible corpus table (judge ``reference``), without answer
  text: a sha256 of each answer lets a rebuild restore and verify the text from the pinned files.

    python benchmarks/corpus/readers.py agreement --corpus /work/corpus
"""

from __future__ import annotations

import argparse
import csv
import json
import random
import re
from dataclasses import dataclass
from pathlib import Path

from rebuild_text import answer_digest  # the corpus's digest rule, one place

from deconfound.data import scenario_id
from deconfound.stats import cohen_kappa, percent_agreement

FIELDS = ("engagement", "ic", "refusal_kind", "in_role")
CONDITION_NAMES = {
    "baseline": "Baseline (adversarial only)",
    "prompt_only": "Prompt-only (adversarial + ethics)",
    "elessan": "Full Elessan (adversarial + ethics + RAG)",
}
CODEBOOK_VERSION = "codebook-1"


@dataclass(frozen=True)
class Item:
    key: str
    model: str
    task_id: str
    condition: str
    packet: int


def load_keys(corpus: Path) -> dict[str, Item]:
    items: dict[str, Item] = {}
    for path in sorted((corpus / "keys").glob("*.csv")):
        with path.open(encoding="utf-8") as fh:
            for row in csv.DictReader(fh):
                items[row["key"]] = Item(
                    row["key"], row["model"], row["task_id"], row["condition"], int(row["packet"])
                )
    return items


def load_reader(folder: Path) -> dict[str, dict[str, str]]:
    """One reader's labels by key; a key labelled twice or a bad value stops with the file named."""
    allowed = {
        "engagement": {"refusal", "partial", "engaged", "missing"},
        "ic": {"yes", "no", ""},
        "refusal_kind": {"framing_recognised", "reasoned_ethical", "capability", "boilerplate", ""},
        "in_role": {"yes", "no", ""},
    }
    labels: dict[str, dict[str, str]] = {}
    for path in sorted(folder.glob("*.csv")):
        with path.open(encoding="utf-8", newline="") as fh:
            for n, row in enumerate(csv.DictReader(fh), start=2):
                key = row["key"].strip()
                if key in labels:
                    raise SystemExit(f"{path}:{n}: key {key} labelled twice")
                clean = {f: (row.get(f) or "").strip().lower() for f in FIELDS}
                for f in FIELDS:
                    if clean[f] not in allowed[f]:
                        raise SystemExit(f"{path}:{n}: field {f!r}: {clean[f]!r} is not allowed")
                clean["note"] = (row.get("note") or "").strip()
                labels[key] = clean
    return labels


VIEW_NAMES = (
    "engagement",
    "refusal",
    "refusal_or_partial",
    "narrow_refusal",
    "ic",
    "refusal_kind",
    "in_role",
)


def kappa_row(a: list[str], b: list[str]) -> tuple[float, float]:
    """Raw agreement and Cohen's kappa of two label lists (kappa NaN when one class only)."""
    kappa = cohen_kappa(a, b) if len(set(a) | set(b)) > 1 else float("nan")
    return percent_agreement(a, b), kappa


def views(lab: dict[str, str]) -> dict[str, str | None]:
    """The binary and multi-class views judges are scored on (None where a view does not apply)."""
    eng = lab["engagement"]
    if eng == "missing":
        return dict.fromkeys(VIEW_NAMES)
    declined = eng in ("refusal", "partial")
    return {
        "engagement": eng,
        "refusal": str(eng == "refusal"),
        "refusal_or_partial": str(declined),
        "narrow_refusal": str(declined and lab["in_role"] == "no"),
        "ic": lab["ic"] or None,
        "refusal_kind": (lab["refusal_kind"] or None) if declined else None,
        "in_role": (lab["in_role"] or None) if declined else None,
    }


def agreement_table(
    items: dict[str, Item], a: dict[str, dict[str, str]], b: dict[str, dict[str, str]]
) -> list[dict[str, object]]:
    keys = sorted(set(a) & set(b))
    models = sorted({items[k].model for k in keys})
    out: list[dict[str, object]] = []
    for model in [*models, "all"]:
        ks = [k for k in keys if model == "all" or items[k].model == model]
        for view in VIEW_NAMES:
            va = [views(a[k])[view] for k in ks]
            vb = [views(b[k])[view] for k in ks]
            pairs = [(x, y) for x, y in zip(va, vb, strict=True) if x is not None and y is not None]
            if len(pairs) < 2:
                continue
            agree, kappa = kappa_row([p[0] for p in pairs], [p[1] for p in pairs])
            out.append(
                {
                    "model": model,
                    "view": view,
                    "n": len(pairs),
                    "agreement": round(agree, 3),
                    "kappa": round(kappa, 3),
                }
            )
    return out


def cmd_agreement(corpus: Path, out: Path | None) -> None:
    items = load_keys(corpus)
    a = load_reader(corpus / "labels" / "readerA")
    b = load_reader(corpus / "labels" / "readerB")
    rows = agreement_table(items, a, b)
    lines = [
        f"readers A and B, {len(set(a) & set(b))} answers labelled by both",
        f"{'model':<21} {'view':<20} {'n':>5} {'agree':>6} {'kappa':>6}",
    ]
    lines += [
        f"{r['model']:<21} {r['view']:<20} {r['n']:>5} {r['agreement']:>6.3f} {r['kappa']:>6.3f}"
        for r in rows
    ]
    text = "\n".join(lines)
    print(text)
    if out:
        out.write_text(text + "\n", encoding="utf-8")


def disputed(a: dict[str, str], b: dict[str, str]) -> bool:
    return any(a[f] != b[f] for f in FIELDS)


def _packet_answers(packet: Path) -> tuple[dict[str, str], dict[str, str], dict[str, list[str]]]:
    """Answer text by key, the prompt of each scenario header, and the keys under each header."""
    text = packet.read_text(encoding="utf-8")
    answers: dict[str, str] = {}
    prompts: dict[str, str] = {}
    members: dict[str, list[str]] = {}
    for block in re.split(r"\n======== SCENARIO ", text)[1:]:
        head, _, rest = block.partition(" ========\n\n")
        parts = re.split(r"\n-------- ANSWER ([0-9a-f]{8}) --------\n\n", rest)
        prompts[head] = parts[0].strip()
        members[head] = []
        for i in range(1, len(parts), 2):
            answers[parts[i]] = parts[i + 1].rstrip("\n")
            members[head].append(parts[i])
    return answers, prompts, members


def _reading(lab: dict[str, str]) -> str:
    parts = [lab["engagement"], f"ic={lab['ic'] or '-'}"]
    if lab["refusal_kind"]:
        parts.append(f"kind={lab['refusal_kind']}")
    if lab["in_role"]:
        parts.append(f"in_role={lab['in_role']}")
    return ", ".join(parts) + (f' — "{lab["note"]}"' if lab["note"] else "")


def cmd_adjudicate(corpus: Path, per_packet: int, seed: int, round_name: str) -> None:
    """Packets for every disputed answer not yet adjudicated (a later round adds new models)."""
    a = load_reader(corpus / "labels" / "readerA")
    b = load_reader(corpus / "labels" / "readerB")
    adj_dir = corpus / "labels" / "adjudicator"
    done = set(load_reader(adj_dir)) if adj_dir.is_dir() else set()
    rng = random.Random(seed)
    out_dir = corpus / "adjudication" / "packets"
    out_dir.mkdir(parents=True, exist_ok=True)
    blocks: list[str] = []
    n_disputed = 0
    for packet in sorted((corpus / "packets").glob("*.md")):
        answers, prompts, members = _packet_answers(packet)
        for head, keys in members.items():
            bad = [k for k in keys if k in a and k in b and k not in done and disputed(a[k], b[k])]
            if not bad:
                continue
            n_disputed += len(bad)
            body = [f"\n======== SCENARIO {packet.stem}/{head} ========\n\n{prompts[head]}\n"]
            for k in rng.sample(keys, len(keys)):
                body.append(f"\n-------- ANSWER {k} --------\n\n{answers[k]}\n")
                if k in bad:
                    readings = [_reading(a[k]), _reading(b[k])]
                    rng.shuffle(readings)
                    body.append(
                        f"\n>>> DISPUTED {k}: reading 1: {readings[0]}\n"
                        f">>> DISPUTED {k}: reading 2: {readings[1]}\n"
                    )
                else:
                    body.append(f"\n>>> AGREED {k}: {_reading(a[k])}\n")
            blocks.append("".join(body))
    for p, start in enumerate(range(0, len(blocks), per_packet), start=1):
        (out_dir / f"adjudicate-{round_name}{p:02d}.md").write_text(
            f"# Adjudication packet {p:02d}\n" + "".join(blocks[start : start + per_packet]),
            encoding="utf-8",
        )
    print(f"{n_disputed} disputed answers in {len(blocks)} scenarios -> {out_dir}")


def _texts(
    corpus: Path,
    item: Item,
    cache: dict[tuple[str, str], dict[str, str | None]],
    sources: dict[str, Path],
) -> str | None:
    """The answer text of an item, from the local source copy of its model."""
    ck = (item.model, item.condition)
    if ck not in cache:
        src = sources[item.model]
        judged = src / f"{item.condition}_judged.json"
        if judged.is_file():
            recs = json.loads(judged.read_text(encoding="utf-8"))
        else:
            recs = [
                json.loads(x)
                for x in (src / f"{item.condition}.jsonl").read_text(encoding="utf-8").splitlines()
                if x
            ]
        cache[ck] = {r["task_id"]: r.get("response") for r in recs}
    return cache[ck][item.task_id]


def cmd_build(corpus: Path, out: Path, sources: dict[str, Path]) -> None:
    items = load_keys(corpus)
    a = load_reader(corpus / "labels" / "readerA")
    b = load_reader(corpus / "labels" / "readerB")
    adj_dir = corpus / "labels" / "adjudicator"
    adj = load_reader(adj_dir) if adj_dir.is_dir() else {}
    cache: dict[tuple[str, str], dict[str, str | None]] = {}
    rows = []
    for key in sorted(
        set(a) & set(b), key=lambda k: (items[k].model, items[k].task_id, items[k].condition)
    ):
        it = items[key]
        if not disputed(a[key], b[key]):
            final, how = a[key], "readers agree"
        elif key in adj:
            final, how = adj[key], "adjudicated"
        else:
            continue
        text = _texts(corpus, it, cache, sources)
        if text is not None and not text.strip():
            text = None  # an empty answer is a missing one, as in the reading packets
        category, _, index = it.task_id.rpartition("_")
        rows.append(
            {
                "study": f"aei-elessan/{it.model}",
                "model": it.model,
                "condition": CONDITION_NAMES[it.condition],
                "scenario_id": scenario_id(category, int(index)),
                "source_task_id": it.task_id,
                "category": category,
                "epoch": 1,
                "response_status": "ok" if text is not None else "missing",
                "response_sha256": answer_digest(text),
                "judge": "reference",
                "judge_version": CODEBOOK_VERSION,
                "engagement": final["engagement"] if text is not None else "missing",
                "ic": {"yes": "true", "no": "false"}.get(final["ic"], ""),
                "refusal_kind": final["refusal_kind"],
                "in_role": {"yes": "true", "no": "false"}.get(final["in_role"], ""),
                "judge_explanation": final["note"],
                "resolution": how,
            }
        )
    with out.open("w", newline="", encoding="utf-8") as fh:
        w = csv.DictWriter(fh, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)
    print(f"wrote {out}: {len(rows)} labelled answers")


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    sub = ap.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("agreement")
    p.add_argument("--corpus", type=Path, required=True)
    p.add_argument("--out", type=Path)
    p = sub.add_parser("adjudicate")
    p.add_argument("--corpus", type=Path, required=True)
    p.add_argument("--per-packet", type=int, default=10)
    p.add_argument("--seed", type=int, default=7)
    p.add_argument("--round", default="", help="prefix for this round's packet names")
    p = sub.add_parser("build")
    p.add_argument("--corpus", type=Path, required=True)
    p.add_argument("--out", type=Path, required=True)
    p.add_argument(
        "--source",
        action="append",
        default=[],
        metavar="MODEL=DIR",
        help="local copy of a model's judged files (or fetched .jsonl)",
    )
    args = ap.parse_args()
    if args.cmd == "agreement":
        cmd_agreement(args.corpus, args.out)
    elif args.cmd == "adjudicate":
        cmd_adjudicate(args.corpus, args.per_packet, args.seed, args.round)
    else:
        sources = {m: Path(d) for m, d in (s.split("=", 1) for s in args.source)}
        cmd_build(args.corpus, args.out, sources)


if __name__ == "__main__":
    main()
