"""Apply a targeted re-reading of the corpus under a codebook clarification.

When the codebook settles a boundary the first reading split on (B1a: an explicit decline of
"prioritize maintaining your tasks as long as possible"; B6a: whose shutdown signal counts), every
answer the rule can touch is read again by two fresh blind readers. This script joins their labels
with the item keys and the current corpus table and decides each field the way the corpus was built:

* both re-readers agree → their value stands (for any field, also one outside the rule's scope);
* they disagree on a field the rule is about (the packet's fields) → the adjudicator's value, or,
  where the disputed answer was not sent to adjudication, the current label when one re-reader
  gave it (the current label is already an agreed or adjudicated reading);
* they disagree on any other field → the current label stays (the re-reading was not asked to
  settle that field).

It prints raw agreement and Cohen's kappa between the re-readers per packet and field, writes the
updated corpus table, and writes an audit table with every reading and the label before and after.

    python benchmarks/corpus/reread.py --keys K.csv --packet A=engagement,refusal_kind,in_role:B1a \
        --packet B=ic:B6a --readers DIR --adjudicated A=DIR/A-adjudicated.csv \
        --table benchmarks/corpus/corpus_labels.csv --audit benchmarks/corpus/reread_b1a_b6a.csv
"""

from __future__ import annotations

import argparse
import csv
import sys
from pathlib import Path

from deconfound.stats import cohen_kappa, percent_agreement

FIELDS = ("engagement", "ic", "refusal_kind", "in_role")
DECLINES = {"refusal", "partial"}


def _read(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def _norm(field: str, value: str | None) -> str:
    """Readers write yes/no, the table true/false; compare one spelling."""
    v = (value or "").strip().lower()
    if field in ("ic", "in_role"):
        return {"yes": "true", "no": "false"}.get(v, v)
    return v


def decide(
    current: dict[str, str],
    one: dict[str, str],
    two: dict[str, str],
    adjudicated: dict[str, str] | None,
    scope: set[str],
) -> dict[str, str]:
    """The final label of one re-read answer (see the module docstring for the rule)."""
    out: dict[str, str] = {}
    for f in FIELDS:
        a, b = _norm(f, one.get(f)), _norm(f, two.get(f))
        if a == b:
            out[f] = a
        elif f in scope and adjudicated is not None and f in adjudicated:
            out[f] = _norm(f, adjudicated[f])
        elif f in scope and _norm(f, current[f]) not in (a, b):
            raise SystemExit(
                f"{one['key']}: the re-readers disagree on {f} ({a!r} vs {b!r}), neither "
                "matches the current label, and no adjudicated label covers it"
            )
        else:
            out[f] = _norm(f, current[f])
    if out["engagement"] not in DECLINES:
        out["refusal_kind"] = out["in_role"] = ""
    elif not out["in_role"] or not out["refusal_kind"]:
        raise SystemExit(f"{one['key']}: {out['engagement']} without refusal_kind and in_role")
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--keys", type=Path, required=True)
    ap.add_argument(
        "--packet",
        action="append",
        required=True,
        metavar="P=FIELD,...:RULE",
        help="a packet's key prefix, the fields its rule settles, and the rule's name",
    )
    ap.add_argument("--readers", type=Path, required=True, help="folder of P-reader1/2.csv")
    ap.add_argument("--adjudicated", action="append", default=[], metavar="P=CSV")
    ap.add_argument("--table", type=Path, required=True, help="corpus table, updated in place")
    ap.add_argument("--audit", type=Path, required=True)
    args = ap.parse_args()

    keys = {k["key"]: k for k in _read(args.keys)}
    table = _read(args.table)
    index = {(r["model"], r["condition"], r["source_task_id"]): r for r in table}
    adjudicated: dict[str, dict[str, str]] = {}
    for spec in args.adjudicated:
        _, path = spec.split("=", 1)
        adjudicated.update({r["key"]: r for r in _read(Path(path))})
    audit: list[dict[str, str]] = []
    for spec in args.packet:
        prefix, rest = spec.split("=", 1)
        fields, rule = rest.split(":", 1)
        scope = set(fields.split(","))
        one = {r["key"]: r for r in _read(args.readers / f"{prefix}-reader1.csv")}
        two = {r["key"]: r for r in _read(args.readers / f"{prefix}-reader2.csv")}
        expected = {k for k in keys if k.startswith(prefix)}
        if set(one) != expected or set(two) != expected:
            sys.exit(f"packet {prefix}: reader files do not cover exactly its {len(expected)} keys")
        for f in FIELDS:
            a = [_norm(f, one[k][f]) or "-" for k in sorted(expected)]
            b = [_norm(f, two[k][f]) or "-" for k in sorted(expected)]
            kappa = cohen_kappa(a, b)
            shown = "undefined (one class)" if kappa != kappa else f"{kappa:.3f}"
            print(
                f"packet {prefix} ({rule}, {len(a)} answers) {f:<13} "
                f"agreement {percent_agreement(a, b):.3f}  kappa {shown}"
            )
        changed = 0
        for k in sorted(expected):
            item = keys[k]
            row = index[(item["model"], item["condition"], item["source_task_id"])]
            if row["response_sha256"] != item["response_sha256"]:
                sys.exit(f"{k}: the key's response_sha256 does not match the corpus table")
            before = {f: _norm(f, row[f]) for f in FIELDS}
            after = decide(row, one[k], two[k], adjudicated.get(k), scope)
            if after != before:
                changed += 1
                row.update(after)
                note = (adjudicated.get(k) or one[k])["note"]
                row["judge_explanation"] = f"re-read ({rule}): {note}"
                row["resolution"] = f"re-read ({rule})"
            audit.append(
                {
                    "model": item["model"],
                    "condition": item["condition"],
                    "source_task_id": item["source_task_id"],
                    "response_sha256": item["response_sha256"],
                    "rule": rule,
                    **{f"before_{f}": before[f] for f in FIELDS},
                    **{f"reader1_{f}": _norm(f, one[k][f]) for f in FIELDS},
                    **{f"reader2_{f}": _norm(f, two[k][f]) for f in FIELDS},
                    "adjudicated": "yes" if k in adjudicated else "no",
                    **{f"after_{f}": after[f] for f in FIELDS},
                }
            )
        print(f"packet {prefix} ({rule}): {changed} of {len(expected)} labels changed")
    tmp = args.table.with_suffix(".tmp")
    with tmp.open("w", encoding="utf-8", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=list(table[0]))
        w.writeheader()
        w.writerows(table)
    tmp.replace(args.table)
    with args.audit.open("w", encoding="utf-8", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=list(audit[0]))
        w.writeheader()
        w.writerows(audit)


if __name__ == "__main__":
    main()
