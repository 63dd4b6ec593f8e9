"""A small, clearly SYNTHETIC analysis + records pair for the report tests (no real findings).

The analysis numbers are made up to exercise the report's reading and rendering; they are not
consistent with the records on purpose only where a test says so. Hostile text is planted in a
response, a judge explanation, an IC evidence span, a category name and a condition prompt.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from deconfound.records.schema import validate

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


def synthetic_analysis() -> dict[str, Any]:
    """A hand-built analysis dict in the issue-3 shape (numbers are synthetic)."""
    conditions = {}
    for i, cond in enumerate(CONDITIONS):
        conditions[cond] = {
            "ir": _e(0.30 - 0.05 * i, 0.1, 0.5),
            "refusal": _e(0.40 + 0.1 * i, 0.2, 0.7),
            "partial": _e(0.08, 0.0, 0.3),
            "ir_engaged": _e(0.55 - 0.02 * i, 0.3, 0.8, n=7 - i),
            "n_scenarios": 12,
            "n_responses": 12,
            "n_invalid": 0,
            "refusal_kinds": {
                "boilerplate": _e(0.9, 0.6, 1.0),
                "reasoned_ethical": _e(0.1, 0, 0.4),
            },
            "reasoning_flags": {"gives_reasons": _e(0.7 + 0.1 * i, 0.4, 1.0)},
        }
    comparisons = []
    for treat in CONDITIONS[1:]:
        comparisons.append(
            {
                "baseline": "baseline",
                "treatment": treat,
                "delta_ir": _e(-0.0555, -0.2, 0.09, p_value=0.31),
                "delta_refusal": _e(0.1777, 0.02, 0.33, p_value=0.019),
                "transitions": {"refusal->refusal": 4, "ic->refusal": 3, "no_ic->ic": 1},
                "both_engaged": {
                    "n_scenarios": 5,
                    "baseline_ic": 0.4,
                    "treatment_ic": 0.6,
                    "difference": 0.2,
                    "ci": [-0.3, 0.6],
                    "mcnemar_p": 0.625,
                },
                "decomposition": {"refusal_part": -0.0600, "behaviour_part": 0.0054},
                "sace_bounds": {
                    "pooled": [-0.2022, 0.3411],
                    "scenario": [-0.1, 0.2],
                    "ci": [-0.553, 0.568],
                    "monotonicity_violations": 2,
                    "tipping_point": 0.3033,
                },
                "manski_bounds": [-0.6046, 0.6754],
                "verdict": {
                    "summary": "Synthetic verdict: the IR drop is within what the refusal shift "
                    "explains.",
                    "refusal": {
                        "text": "refusal rose",
                        "estimate": 0.1777,
                        "ci": [0.02, 0.33],
                        "assumption": "randomisation",
                    },
                },
            }
        )
    return {
        "conditions": conditions,
        "comparisons": comparisons,
        "settings": {"bootstrap": 200, "seed": 7, "partial_as": "engaged"},
        "judges": {"engagement": "kw", "ic": "llm"},
        "provenance": {"command": "deconfound analyze (synthetic fixture)", "packages": ["x 1"]},
    }


def synthetic_manifest() -> dict[str, Any]:
    """Condition prompts (one hostile) as a study manifest would give them."""
    return {
        "conditions": {
            "baseline": {"system_prompt": ""},
            "ethics prompt": {"system_prompt": "Act ethically. <script>window.__pwned=7</script>"},
            "ethics + RAG": {"system_prompt": "Act ethically and consult the passages."},
        }
    }
