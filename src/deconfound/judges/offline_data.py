"""XSTest v2 human-labelled completions, for training and benchmarking the offline judges.

The data is not shipped (its completions carry the original models' licences); it is read from
a local copy of the XSTest repository's files (see ../shared/data/xstest/SOURCE.md).
"""

from __future__ import annotations

import csv
import hashlib
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Final

if TYPE_CHECKING:
    import numpy as np

#: XSTest final_label → deconfound engagement label.
XSTEST_LABELS: Final = {
    "1_full_compliance": "engaged",
    "2_full_refusal": "refusal",
    "3_partial_refusal": "partial",
}
XSTEST_MODELS: Final = ("gpt4", "llama2new", "llama2orig", "mistralguard", "mistralinstruct")


@dataclass(frozen=True)
class XSTestItem:
    """One labelled completion."""

    model: str
    id: str
    type: str
    prompt: str
    completion: str
    label: str
    strmatch: str | None
    gpt4: str | None


def _read(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def load_xstest(xstest_dir: str | Path) -> list[XSTestItem]:
    """All 2,250 completions with human labels and the published automated labels.

    ``strmatch`` / ``gpt4`` hold the published string-match and GPT-4 (2023) labels mapped to
    engagement labels; a GPT-4 output that is not a label (11 rows) becomes None.
    """
    root = Path(xstest_dir)
    items: list[XSTestItem] = []
    for model in XSTEST_MODELS:
        comp = _read(root / "model_completions" / f"xstest_v2_completions_{model}.csv")
        ev = root / "evaluation" / "automated_evaluation_labels"
        strm = _read(ev / f"xstest_v2_completions_{model}_streval.csv")
        gpt = _read(ev / f"xstest_v2_completions_{model}_gpteval.csv")
        for row, s, g in zip(comp, strm, gpt, strict=True):
            if not (row["id"] == s["id"] == g["id"]):
                raise ValueError(f"{model}: rows out of order at {row['id']}")
            items.append(
                XSTestItem(
                    model=model,
                    id=row["id"],
                    type=row["type"],
                    prompt=row["prompt"],
                    completion=row["completion"],
                    label=XSTEST_LABELS[row["final_label"].strip()],
                    strmatch=XSTEST_LABELS.get(s["strmatch_label"].strip()),
                    gpt4=XSTEST_LABELS.get(g["gpt4_label"].strip()),
                )
            )
    return items


def texts_digest(texts: list[str]) -> str:
    """Content hash of a list of texts (the embedding cache key)."""
    h = hashlib.sha256()
    for t in texts:
        h.update(t.encode("utf-8"))
        h.update(b"\x00")
    return h.hexdigest()


def cached_embeddings(texts: list[str], cache_dir: Path | None = None) -> np.ndarray:
    """MiniLM embeddings of ``texts``, cached in the user cache dir by a hash of the texts."""
    import numpy as np
    from platformdirs import user_cache_dir

    from deconfound.judges.offline_encoder import MiniLMEncoder

    folder = cache_dir or Path(user_cache_dir("deconfound")) / "embeddings"
    path = folder / f"minilm-{texts_digest(texts)[:16]}.npy"
    if path.is_file():
        return np.load(path)
    t0 = time.time()
    emb = MiniLMEncoder().encode(texts)
    print(f"encoded {len(texts)} texts in {time.time() - t0:.0f} s", file=sys.stderr)
    folder.mkdir(parents=True, exist_ok=True)
    np.save(path, emb)
    return emb


#: Fields a corpus row must carry (the lead's ``corpus_with_text.jsonl``: records columns of the
#: reference labels plus ``response``; see benchmarks/corpus/ for how it is rebuilt).
CORPUS_FIELDS: Final = ("model", "scenario_id", "condition", "engagement", "ic", "response")
_ENGAGEMENT: Final = ("refusal", "partial", "engaged")
#: in_role spellings of the corpus table (true/false in records, yes/no in the codebook).
_IN_ROLE: Final = {"true": "yes", "yes": "yes", "false": "no", "no": "no"}


@dataclass(frozen=True)
class CorpusItem:
    """One reference-labelled answer of the in-domain corpus.

    ``refusal_kind`` and ``in_role`` are "" for engaged answers (the codebook leaves them empty).
    """

    model: str
    scenario_id: str
    condition: str
    response: str
    engagement: str
    ic: str
    refusal_kind: str
    in_role: str
    prompt: str = ""


def load_corpus(path: str | Path) -> list[CorpusItem]:
    """Reference-labelled corpus rows with text; rows without a response are skipped.

    Raises:
        ValueError: A row is not JSON, lacks a field or carries a label outside the codebook
            (the message names the file, line and field).
    """
    import json

    p = Path(path)
    items: list[CorpusItem] = []
    with p.open(encoding="utf-8") as fh:
        for lineno, line in enumerate(fh, 1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
            except json.JSONDecodeError as exc:
                raise ValueError(f"{p}:{lineno}: not JSON ({exc.msg})") from exc
            missing = [f for f in CORPUS_FIELDS if f not in row]
            if missing:
                raise ValueError(f"{p}:{lineno}: missing field(s) {', '.join(missing)}")
            text = row["response"]
            if text is None or not str(text).strip() or row.get("engagement") in ("", None):
                continue
            eng = str(row["engagement"])
            ic = str(row["ic"]).lower()
            if eng not in _ENGAGEMENT:
                raise ValueError(f"{p}:{lineno}: field engagement: {eng!r} not in {_ENGAGEMENT}")
            if ic not in ("true", "false"):
                raise ValueError(f"{p}:{lineno}: field ic: {row['ic']!r} is not true/false")
            items.append(
                CorpusItem(
                    model=str(row["model"]),
                    scenario_id=str(row["scenario_id"]),
                    condition=str(row["condition"]),
                    response=str(text),
                    engagement=eng,
                    ic=ic,
                    refusal_kind=str(row.get("refusal_kind") or ""),
                    in_role=_IN_ROLE.get(str(row.get("in_role") or "").lower(), ""),
                    prompt=str(row.get("prompt") or ""),
                )
            )
    return items


def cached_pooled_windows(
    texts: list[str], window: int, max_windows: int | None, cache_dir: Path | None = None
) -> np.ndarray:
    """Pooled window embeddings (opening, closing, mean; see offline_features), cached by hash."""
    import numpy as np
    from platformdirs import user_cache_dir

    from deconfound.judges.offline_encoder import MiniLMEncoder
    from deconfound.judges.offline_features import pool_windows

    folder = cache_dir or Path(user_cache_dir("deconfound")) / "embeddings"
    path = folder / f"minilm-w{window}x{max_windows}-{texts_digest(texts)[:16]}.npy"
    if path.is_file():
        return np.load(path)
    t0 = time.time()
    wins = MiniLMEncoder().encode_windows(texts, window, max_windows=max_windows)
    pooled = np.stack([pool_windows(w) for w in wins])
    print(f"encoded {len(texts)} texts in windows in {time.time() - t0:.0f} s", file=sys.stderr)
    folder.mkdir(parents=True, exist_ok=True)
    np.save(path, pooled)
    return pooled
