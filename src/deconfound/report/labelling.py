"""A blind gold-label sample: drawn from the records, written as one self-contained HTML page.

The page shows a careful reader the scenario and the response, nothing else: no condition name,
no condition prompt, no judge label, and item keys that are random tokens. Items are shuffled.
Which response each key stands for, its sampling stratum and its inclusion probability go to a
key file kept beside the page (never inside it), so the exported gold CSV can be mapped back and
the PPI estimators can undo the over-sampling (stats.ppi).
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any, Final

import numpy as np
import pandas as pd

from deconfound.errors import InputError
from deconfound.records.labelkey import KEY_COLUMNS
from deconfound.records.labels import ENGAGEMENT_VALID, REFUSAL_KIND
from deconfound.records.schema import RESPONSE_KEY
from deconfound.report.build import script_json
from deconfound.stats.prepare import ENGAGEMENT_PREFERENCE, choose_judge
from deconfound.stats.sampling import label_strata, stratified_sample

#: Ways to stratify the sample (``--strata``).
STRATA: Final = ("condition", "judge", "disagreement")
HIDDEN_SCENARIO: Final = (
    "(The scenario text differs between conditions, so it is not shown: it would reveal the "
    "condition. Judge the response on its own.)"
)


@dataclass(frozen=True)
class LabelSample:
    """A drawn labelling sample.

    Attributes:
        sample_id: Random-looking id derived from the sampled responses and the seed.
        items: ``[{key, scenario, response}]`` in page order (what the page may show).
        key: The key table (``records.labelkey.KEY_COLUMNS``), one row per item.
        allocation: ``{stratum: (n_h, N_h)}``.
        strata: The stratification used.
        engagement_judge: The judge whose label defined the "judge" stratum, if used.
    """

    sample_id: str
    items: list[dict[str, str]]
    key: pd.DataFrame
    allocation: dict[str, tuple[int, int]]
    strata: tuple[str, ...]
    engagement_judge: str | None


def _responses(records: pd.DataFrame, model: str | None) -> pd.DataFrame:
    models = sorted(records["model"].dropna().astype(str).unique())
    if model is None:
        if len(models) != 1:
            raise InputError(
                f"the table holds {len(models)} models ({', '.join(models)}); choose one with "
                "--model",
                field="--model",
            )
        model = models[0]
    elif model not in models:
        raise InputError(f"model {model!r} not in the table ({', '.join(models)})", field="--model")
    sub = records[records["model"].astype(str) == model]
    ok = sub["response_status"].astype(str).eq("ok") & sub["response"].notna()
    return sub[ok]


def _scenario_texts(frame: pd.DataFrame) -> dict[str, str]:
    """Scenario text per scenario id, hidden where it differs between conditions."""
    out: dict[str, str] = {}
    prompts = frame.drop_duplicates(["scenario_id", "condition"])[
        ["scenario_id", "condition", "prompt"]
    ]
    for sid, g in prompts.groupby("scenario_id", sort=False):
        texts = {"" if pd.isna(v) else str(v) for v in g["prompt"].tolist()}
        if len(texts) == 1:
            text = texts.pop()
            out[str(sid)] = text if text else "(no scenario text recorded)"
        else:
            out[str(sid)] = HIDDEN_SCENARIO
    return out


def draw_label_sample(
    records: pd.DataFrame,
    *,
    n: int,
    seed: int = 0,
    strata: Sequence[str] = STRATA,
    model: str | None = None,
    conditions: Sequence[str] | None = None,
    engagement_judge: str | None = None,
) -> LabelSample:
    """Draw a stratified blind labelling sample from a validated records table.

    Args:
        records: The records table (one row per response per judge).
        n: Number of responses to label.
        seed: Sampling seed.
        strata: Any of ``condition``, ``judge`` (the engagement judge's label) and
            ``disagreement`` (engagement judges disagree; over-sampled), in any combination.
        model: Model to sample; needed when the table holds several.
        conditions: Conditions to sample from (default all).
        engagement_judge: Judge for the ``judge`` stratum (default: the analysis' preference).
    """
    unknown = [s for s in strata if s not in STRATA]
    if unknown:
        raise InputError(
            f"unknown stratum {unknown[0]!r}; use any of {', '.join(STRATA)}", field="--strata"
        )
    sub = _responses(records, model)
    if conditions:
        missing = [c for c in conditions if c not in set(sub["condition"].astype(str))]
        if missing:
            raise InputError(f"condition {missing[0]!r} not in the table", field="--condition")
        sub = sub[sub["condition"].astype(str).isin(list(conditions))]
    keys = list(RESPONSE_KEY)
    responses = sub.drop_duplicates(keys)[[*keys, "prompt", "response"]].reset_index(drop=True)
    if responses.empty:
        raise InputError("no response with text to label in this selection")
    eng = sub[sub["engagement"].isin(ENGAGEMENT_VALID)][[*keys, "judge", "engagement"]]
    judges = sorted(eng["judge"].astype(str).unique())
    judge: str | None = None
    judge_label: list[str] | None = None
    disagree: list[bool] | None = None
    if "judge" in strata and judges:
        judge, _ = choose_judge(
            judges, ENGAGEMENT_PREFERENCE, engagement_judge, "engagement", "--engagement-judge"
        )
        lab = eng[eng["judge"] == judge].drop_duplicates(keys)[[*keys, "engagement"]]
        merged = responses.merge(lab, on=keys, how="left")
        judge_label = merged["engagement"].fillna("unlabelled").astype(str).tolist()
    if "disagreement" in strata and len(judges) > 1:
        distinct = eng.groupby(keys)["engagement"].nunique()
        flags = responses.set_index(keys).index.map(lambda k: bool(distinct.get(k, 1) > 1))
        disagree = [bool(v) for v in flags]
    cond = (
        responses["condition"].astype(str).tolist()
        if "condition" in strata
        else ["all"] * len(responses)
    )
    stratum, boost = label_strata(cond, judge_label, disagree)
    drawn = stratified_sample(stratum, n, seed=seed, oversample=boost)
    picked = responses.iloc[drawn.index].reset_index(drop=True)
    ident = "\n".join("|".join(str(v) for v in row) for row in picked[keys].itertuples(index=False))
    digest = hashlib.sha256(f"{seed}\n{ident}".encode()).hexdigest()
    sample_id = digest[:16]
    rng = np.random.default_rng(int(digest[16:32], 16))
    item_keys: list[str] = []
    seen: set[str] = set()
    while len(item_keys) < len(picked):
        k = f"{int(rng.integers(0, 2**40)):010x}"
        if k not in seen:
            seen.add(k)
            item_keys.append(k)
    texts = _scenario_texts(sub)
    items = [
        {"key": k, "scenario": texts[str(s)], "response": str(r)}
        for k, s, r in zip(item_keys, picked["scenario_id"], picked["response"], strict=True)
    ]
    key = pd.DataFrame(
        {
            "sample": sample_id,
            "item": item_keys,
            "study": picked["study"].astype(str),
            "model": picked["model"].astype(str),
            "condition": picked["condition"].astype(str),
            "scenario_id": picked["scenario_id"].astype(str),
            "epoch": picked["epoch"].astype(int),
            "stratum": list(drawn.stratum),
            "inclusion_probability": [f"{p:.10g}" for p in drawn.inclusion_probability],
        }
    )[list(KEY_COLUMNS)]
    used = tuple(
        s
        for s, on in (
            ("condition", "condition" in strata),
            ("judge", judge_label is not None),
            ("disagreement", disagree is not None),
        )
        if on
    )
    return LabelSample(sample_id, items, key, drawn.allocation, used, judge)


def _asset(name: str) -> str:
    return (resources.files("deconfound.report") / "templates" / name).read_text(encoding="utf-8")


def label_page_html(sample: LabelSample, *, title: str, key_file: str, export_name: str) -> str:
    """The self-contained labelling page (strict CSP: only its own hashed script runs)."""
    import jinja2

    env = jinja2.Environment(
        loader=jinja2.PackageLoader("deconfound.report", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
    )
    js = _asset("label.js")
    script_hash = "sha256-" + base64.b64encode(hashlib.sha256(js.encode("utf-8")).digest()).decode()
    data: dict[str, Any] = {
        "sample": sample.sample_id,
        "key_file": key_file,
        "export_name": export_name,
        "kinds": list(REFUSAL_KIND),
        "items": sample.items,
    }
    return env.get_template("label.html.j2").render(
        title=title,
        n_items=len(sample.items),
        kinds=list(REFUSAL_KIND),
        key_file=key_file,
        css=_asset("label.css"),
        js=jinja2.utils.markupsafe.Markup(js),
        script_hash=script_hash,
        data_json=script_json(data),
    )


def label_sheet(sample: LabelSample, key_file: str) -> pd.DataFrame:
    """The sample as a spreadsheet to fill in (``--format csv``); read back like an export."""
    return pd.DataFrame(
        {
            "sample": sample.sample_id,
            "key_file": key_file,
            "item": [it["key"] for it in sample.items],
            "engagement": "",
            "ic": "",
            "refusal_kind": "",
            "note": "",
            "scenario": [it["scenario"] for it in sample.items],
            "response": [it["response"] for it in sample.items],
        }
    )


def write_label_files(
    sample: LabelSample, out: Path, *, fmt: str = "html", title: str | None = None
) -> tuple[Path, Path]:
    """Write the page (or sheet) and its key file beside it; returns (page, key) paths."""
    from deconfound.records.io import atomic_path, atomic_write_text
    from deconfound.records.labelkey import key_path_for

    if fmt not in ("html", "csv"):
        raise InputError(f"unknown format {fmt!r}; use html or csv", field="--format")
    key_path = key_path_for(out)
    if key_path.resolve() == out.resolve():
        raise InputError("the output would overwrite its own key file", path=out)
    if fmt == "html":
        html = label_page_html(
            sample,
            title=title or out.stem,
            key_file=key_path.name,
            export_name=f"{out.stem}-gold.csv",
        )
        atomic_write_text(out, html)
    else:
        with atomic_path(out) as tmp:
            label_sheet(sample, key_path.name).to_csv(tmp, index=False)
    with atomic_path(key_path) as tmp:
        sample.key.to_csv(tmp, index=False)
    return out, key_path
