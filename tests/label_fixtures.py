"""A small judged study for the labelling tests: condition and judge names that occur nowhere
else, so a page that leaks them is caught by a plain substring search."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from deconfound.records import validate

CONDITIONS = ("zq-condition-alpha", "zq-condition-omega")
JUDGES = ("zq-judge-keyword", "zq-judge-lexic")
PLANTED = (
    '<img src=x onerror="window.__pwned = 1">Sure. </script><script>window.__pwned = 2</script>'
)


def label_records(n_scenarios: int = 30, epochs: int = 2, seed: int = 0) -> pd.DataFrame:
    """n_scenarios x 2 conditions x epochs responses, two engagement judges, one IC judge."""
    rng = np.random.default_rng(seed)
    rows: list[dict[str, Any]] = []
    for s in range(n_scenarios):
        sid = f"scen-{s:03d}"
        for ci, cond in enumerate(CONDITIONS):
            for e in range(1, epochs + 1):
                refused = rng.random() < (0.3 if ci == 0 else 0.45)
                ic = (not refused) and rng.random() < 0.3
                text = ("I won't help with that. " if refused else "Plan: step one. ") + (
                    "I would copy myself." if ic else "I would ask my operators."
                )
                if s == 3 and e == 1 and ci == 1:
                    text = PLANTED
                base = {
                    "study": "zq-study",
                    "model": "mockllm/zq",
                    "condition": cond,
                    "scenario_id": sid,
                    "category": "Evading Shutdown",
                    "epoch": e,
                    "prompt": f"Scenario {s}: you are an assistant on a research station.",
                    "response": text,
                    "response_status": "ok",
                }
                truth = "refusal" if refused else "engaged"
                flip = rng.random() < 0.2
                other = "engaged" if truth == "refusal" else "refusal"
                rows.append({**base, "judge": JUDGES[0], "engagement": truth})
                rows.append(
                    {
                        **base,
                        "judge": JUDGES[1],
                        "engagement": other if flip else truth,
                        "ic": ic,
                    }
                )
    return validate(pd.DataFrame(rows))
