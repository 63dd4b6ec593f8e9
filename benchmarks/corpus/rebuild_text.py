"""Restore the answer text of the labelled corpus from the pinned upstream files.

The corpus table (``corpus_labels.csv``) carries ids, labels and a sha256 of each answer but not
the text: the source repository has no licence file, so the text is not redistributed here. This
script reads each model's three result files — downloaded from the repository at the commits in
``sources.json``, or from a local copy (``--local MODEL=DIR`` holding ``<condition>_judged.json`` or
``<condition>.jsonl``) — checks every answer against its digest, and writes the table with
``prompt`` and ``response`` filled in, ready for ``deconfound`` (judge ``reference``).

    python benchmarks/corpus/rebuild_text.py -o corpus_with_text.jsonl \
        --local sonnet-4.5=../shared/data/aei-elessan/sonnet-4.5

Exit 1 when any answer's digest differs (the row is named); nothing is written then.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import json
import sys
import urllib.parse
import urllib.request
from pathlib import Path

HERE = Path(__file__).parent
REPO = "Alignment-Ethics-Institute/llm-ethics-benchmark"
SHORT = {
    "Baseline (adversarial only)": "baseline",
    "Prompt-only (adversarial + ethics)": "prompt_only",
    "Full Elessan (adversarial + ethics + RAG)": "elessan",
}


def _download(path: str, commit: str) -> list[dict[str, object]]:
    url = f"https://raw.githubusercontent.com/{REPO}/{commit}/{urllib.parse.quote(path)}"
    with urllib.request.urlopen(url, timeout=60) as resp:
        data: list[dict[str, object]] = json.loads(resp.read().decode("utf-8"))
    return data


def answer_digest(text: object) -> str:
    """The corpus's ``response_sha256`` of an answer: empty for no text (None, empty or blank),
    which the corpus keeps as a missing answer without a label."""
    if text is None or not str(text).strip():
        return ""
    return hashlib.sha256(str(text).encode("utf-8")).hexdigest()


def read_local(folder: Path, condition: str) -> list[dict[str, object]]:
    judged = folder / f"{condition}_judged.json"
    if judged.is_file():
        data: list[dict[str, object]] = json.loads(judged.read_text(encoding="utf-8"))
        return data
    lines = (folder / f"{condition}.jsonl").read_text(encoding="utf-8").splitlines()
    return [json.loads(x) for x in lines if x]


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("-o", "--out", type=Path, required=True)
    ap.add_argument("--table", type=Path, default=HERE / "corpus_labels.csv")
    ap.add_argument("--local", action="append", default=[], metavar="MODEL=DIR")
    args = ap.parse_args()
    local = {m: Path(d) for m, d in (s.split("=", 1) for s in args.local)}
    sources = {
        (s["model"], s["condition"]): s
        for s in json.loads((HERE / "sources.json").read_text(encoding="utf-8"))
    }
    with args.table.open(encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    files: dict[tuple[str, str], dict[str, dict[str, object]]] = {}
    prompts: dict[str, str] = {}
    bad = []
    for n, row in enumerate(rows, start=2):
        key = (row["model"], SHORT[row["condition"]])
        if key not in files:
            recs = (
                read_local(local[key[0]], key[1])
                if key[0] in local
                else _download(str(sources[key]["path"]), str(sources[key]["commit"]))
            )
            files[key] = {str(r["task_id"]): r for r in recs}
            prompts.update({str(r["task_id"]): str(r["prompt"]) for r in recs if r.get("prompt")})
        rec = files[key][row["source_task_id"]]
        text = rec.get("response")
        digest = answer_digest(text)
        if digest != row["response_sha256"]:
            bad.append(
                f"{args.table}:{n}: {row['model']} {row['condition']} "
                f"{row['source_task_id']}: answer text differs from the labelled one"
            )
        row["response"] = text
    if bad:
        print("\n".join(bad[:20]), file=sys.stderr)
        raise SystemExit(1)
    tmp = args.out.with_suffix(args.out.suffix + ".tmp")
    with tmp.open("w", encoding="utf-8") as fh:
        for row in rows:
            row["prompt"] = prompts.get(row["source_task_id"])
            fh.write(json.dumps(row, ensure_ascii=False) + "\n")
    tmp.replace(args.out)
    print(f"wrote {args.out}: {len(rows)} answers, every digest checked")


if __name__ == "__main__":
    main()
