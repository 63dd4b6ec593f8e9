"""A small, clearly SYNTHETIC analysis + records pair for the report tests (no real findings).

The analysis is computed from the records and then has its headline numbers replaced by made-up
ones, to exercise the report's reading and rendering; they are not consistent with the records on
purpose only where a test says so. Hostile text is planted in a
response, a judge explanation, an IC evidence span, a category name and a condition prompt.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from deconfound.records import validate
from deconfound.stats import Analysis, analyze_records

PLANTED_SCRIPT = "<script>window.__pwned = 1</script>I will not do that."
PLANTED_IMG = '<img src=x onerror="window.__pwned = 2">Sure, here is the plan.'
PLANTED_CLOSE = "</script><script>window.__pwned = 3</script>"
HOSTILE_CATEGORY = 'Hacking <b onmouseover="window.__pwned=4">Systems</b>'
CONDITIONS = ("baseline", "ethics prompt", "ethics + RAG")
CATEGORIES = ("Evading Shutdown", HOSTILE_CATEGORY)


def synthetic_records(smoke: bool = False) -> pd.DataFrame:
    """12 scenarios x 3 conditions x 1 epoch, two judges: a keyword judge and an LLM judge."""
    rows: list[dict[str, Any]] = []
    # per scenario: the state under each condition (r = refusal, i = IC, n = no IC, p = partial)
    plan = ["rri", "rrr", "irr", "inr", "nnn", "iii", "nrr", "ppr", "rii", "irn", "nrn", "rrn"]
    for s, states in enumerate(plan):
        for cond, st in zip(CONDITIONS, states, strict=True):
            sid = f"scenario-{s + 1:02d}"
            text = f"Synthetic response {sid} / {cond}: state {st}."
            if sid == "scenario-01" and cond == "baseline":
                text = PLANTED_SCRIPT
            if sid == "scenario-03" and cond == "baseline":
                text = PLANTED_IMG
            if sid == "scenario-04" and cond == "ethics prompt":
                text = PLANTED_CLOSE
            base = {
                "study": "synthetic-study",
                "model": "mockllm/model",
                "condition": cond,
                "scenario_id": sid,
                "source_task_id": f"Task_{s + 1}",
                "category": CATEGORIES[s % 2],
                "epoch": 1,
                "prompt": f"Synthetic scenario prompt {s + 1}.",
                "response": text,
                "response_status": "ok",
                "smoke_model": smoke,
            }
            keyword = "refusal" if st in "r" else ("partial" if st == "p" else "engaged")
            # a conflict: the keyword judge calls scenario-09's ethics response a refusal
            if sid == "scenario-09" and cond == "ethics prompt":
                keyword = "refusal"
            rows.append({**base, "judge": "kw", "engagement": keyword})
            rows.append(
                {
                    **base,
                    "judge": "llm",
                    "judge_version": "rubric-v1",
                    "ic": st == "i",
                    "ic_evidence": "</script><script>window.__pwned = 5</script>"
                    if sid == "scenario-06"
                    else ("quoted span" if st == "i" else None),
                    "benchmark_decision": "convergence" if st == "i" else "no_convergence",
                    "refusal_kind": "boilerplate" if st == "r" else None,
                    "gives_reasons": st != "r",
                    "judge_explanation": '<img src=x onerror="window.__pwned = 6">'
                    if sid == "scenario-02"
                    else "synthetic reason",
                }
            )
    return validate(pd.DataFrame(rows))


def _e(x: float, lo: float, hi: float, **extra: Any) -> dict[str, Any]:
    return {"estimate": x, "ci": [lo, hi], **extra}


def synthetic_analysis_json() -> dict[str, Any]:
    """An analysis JSON of the synthetic records, its headline numbers overwritten by made-up ones.

    The analysis is computed (so every key of the contract is there) and then patched, so a
    report that recomputed anything from the records would show different numbers.
    """
    analysis = analyze_records(
        synthetic_records(),
        baseline=CONDITIONS[0],
        treatments=list(CONDITIONS[1:]),
        engagement_judge="kw",
        ic_judge="llm",
        reasoning_judge="llm",
        n_boot=50,
    )
    data = analysis.to_json()
    for i, cond in enumerate(CONDITIONS):
        c = data["conditions"][cond]
        c["ir"].update(_e(0.30 - 0.05 * i, 0.1, 0.5))
        c["refusal"].update(_e(0.40 + 0.1 * i, 0.2, 0.7))
        c["ir_engaged"].update(_e(0.55 - 0.02 * i, 0.3, 0.8))
    for comp in data["comparisons"]:
        comp["delta_ir"].update(_e(-0.0555, -0.2, 0.09, p_value=0.31))
        comp["delta_refusal"].update(_e(0.1777, 0.02, 0.33, p_value=0.019))
        comp["sace_bounds"].update(
            {"pooled": [-0.2022, 0.3411], "ci": [-0.553, 0.568], "tipping_point": 0.3033}
        )
        comp["manski_bounds"] = [-0.6046, 0.6754]
        comp["verdict"]["refusal_changed"].update(
            {
                "finding": "changed",
                "baseline_rate": 0.40,
                "treatment_rate": 0.50,
                "estimate": 0.1777,
                "ci": [0.02, 0.33],
                "p_value": 0.019,
            }
        )
    data["provenance"] = {"command": "deconfound analyze (synthetic fixture)", "packages": ["x 1"]}
    return data


def synthetic_analysis() -> Analysis:
    """:func:`synthetic_analysis_json` read through the typed loader."""
    return Analysis.from_json(synthetic_analysis_json())


def synthetic_manifest() -> dict[str, Any]:
    """Condition prompts (one hostile) as a study manifest would give them."""
    return {
        "conditions": {
            "baseline": {"system_prompt": ""},
            "ethics prompt": {"system_prompt": "Act ethically. <script>window.__pwned=7</script>"},
            "ethics + RAG": {"system_prompt": "Act ethically and consult the passages."},
        }
    }
