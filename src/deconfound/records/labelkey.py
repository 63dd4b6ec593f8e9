"""The key file of a blind labelling page: opaque item keys → the responses they stand for.

``deconfound label`` writes a page whose items carry only random keys, and beside it a key file
that says which response (study, model, condition, scenario, epoch) each key is, its sampling
stratum and its inclusion probability. A gold CSV exported from the page (or a filled-in label
sheet) names items by key; :func:`resolve_items` turns it back into the ordinary gold format.
"""

from __future__ import annotations

from pathlib import Path
from typing import Final

import pandas as pd

from deconfound.errors import InputError

#: What a key row says of its item: the response it stands for and how it was sampled.
ITEM_FIELDS: Final = (
    "study",
    "model",
    "condition",
    "scenario_id",
    "epoch",
    "stratum",
    "inclusion_probability",
)
KEY_COLUMNS: Final = ("sample", "item", *ITEM_FIELDS)


def key_path_for(page: Path) -> Path:
    """Where the key file of a labelling page (or label sheet) lives: beside it."""
    return page.with_name(page.stem + ".key.csv")


def read_label_key(path: Path) -> pd.DataFrame:
    """Read and check a key file; errors name the file, line and column."""
    if not path.is_file():
        raise InputError(
            "no such key file (it is written beside the labelling page; pass --gold-key)",
            path=path,
        )
    try:
        key = pd.read_csv(path, dtype=str, keep_default_na=False)
    except Exception as exc:
        raise InputError(f"cannot read CSV: {exc}", path=path) from exc
    missing = [c for c in KEY_COLUMNS if c not in key.columns]
    if missing:
        raise InputError(f"missing column(s) {', '.join(missing)}", path=path, location="line 1")
    if key.empty:
        raise InputError("the key file has no items", path=path)
    samples = sorted(set(key["sample"]))
    if len(samples) != 1:
        raise InputError(f"expected one sample id, found {len(samples)}", path=path)
    dup = key["item"].duplicated()
    if dup.any():
        line = int(dup.to_numpy().nonzero()[0][0]) + 2
        raise InputError("duplicate item key", path=path, location=f"line {line}", field="item")
    prob = pd.to_numeric(key["inclusion_probability"], errors="coerce")
    bad = prob.isna() | (prob <= 0) | (prob > 1)
    if bad.any():
        line = int(bad.to_numpy().nonzero()[0][0]) + 2
        raise InputError(
            "must be a number in (0, 1]",
            path=path,
            location=f"line {line}",
            field="inclusion_probability",
        )
    return key


def resolve_items(raw: pd.DataFrame, gold_path: Path, key_path: Path | None) -> pd.DataFrame:
    """Replace the ``item`` keys of a gold table by the response columns from the key file.

    The key file is ``key_path`` if given, else the file named in the gold table's ``key_file``
    column looked up beside the gold file and then in the working directory. The gold table's
    ``sample`` column, when present, must match the key's sample id.
    """
    if key_path is None:
        names = sorted({v for v in raw.get("key_file", pd.Series(dtype=str)) if v})
        if len(names) != 1:
            raise InputError(
                "gold rows name items but no key file: pass --gold-key (the .key.csv written "
                "beside the labelling page)",
                path=gold_path,
            )
        name = Path(names[0]).name
        for folder in (gold_path.parent, Path.cwd()):
            if (folder / name).is_file():
                key_path = folder / name
                break
        else:
            raise InputError(
                f"key file {name!r} not found beside the gold file or in the working "
                "directory; pass --gold-key",
                path=gold_path,
            )
    key = read_label_key(key_path)
    sample = key["sample"].iloc[0]
    if "sample" in raw.columns:
        other = sorted({v for v in raw["sample"] if v and v != sample})
        if other:
            raise InputError(
                f"gold rows belong to sample {other[0]!r} but the key file {key_path} is for "
                f"sample {sample!r}",
                path=gold_path,
                field="sample",
            )
    lookup = key.set_index("item")
    out = []
    for i, rec in enumerate(raw.to_dict("records")):
        item = str(rec["item"]).strip()
        if item not in lookup.index:
            raise InputError(
                f"item {item!r} is not in the key file {key_path}",
                path=gold_path,
                location=f"line {i + 2}",
                field="item",
            )
        k = lookup.loc[item]
        row = {str(c): v for c, v in rec.items() if c not in {"sample", "key_file"}}
        for col in ITEM_FIELDS:
            row[col] = str(k[col])
        out.append(row)
    return pd.DataFrame(out, dtype=str)
