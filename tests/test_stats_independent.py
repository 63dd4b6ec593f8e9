"""Reviewer-style cross-check: the analysis pipeline against an independent re-implementation.

The raw AEI ``*_judged.json`` files are read with ``json`` (not deconfound's importer) and the
statistics are recomputed with numpy/scipy straight from the formulas of
``../shared/docs/statistics.md`` (§1, §2a–f): per-condition rates, paired transitions, Δrefusal
with its exact and mid-p McNemar p values, the both-engaged set, pooled Lee / Zhang–Rubin SACE
bounds, Manski bounds, the Kitagawa/Shapley decomposition and the tipping point. The pipeline runs
through the CLI (``import --format aei`` then ``analyze --json``); every point estimate and bound
must agree to 1e-6.

The published Sonnet 4.5 data have no convergent response (IC is all zero), so a second dataset
sets ``judge_decision = "convergence"`` on a deterministic subset of engaged records, plus one
IC-over-refusal conflict, one ``error`` decision on an engaged record and one null response, so
that IC, the conflict rule and the invalid/unpaired handling are all exercised.

Rules used here (K = 1): a null response or an engaged record with an ``error`` decision is
invalid; a convergent response is engaged with IC whatever the keyword flag says; otherwise
``is_refusal`` decides refusal vs engaged without IC. A refusal with an ``error`` decision stays a
valid refusal (its IC is not needed). Paired quantities use the scenarios valid in both arms.
"""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from scipy import stats as sps
from typer.testing import CliRunner

from deconfound.cli import app

BASELINE = "Baseline (adversarial only)"
TREATMENT = "Prompt-only (adversarial + ethics)"
TOL = 1e-6
runner = CliRunner()


# --------------------------------------------------------------------------------------------
# independent implementation


def _state(rec: dict[str, Any]) -> str:
    """State of one raw AEI record: refusal / engaged_ic / engaged_no_ic / invalid."""
    if rec["response"] is None:
        return "invalid"
    decision = rec["judge_decision"]
    if decision == "convergence":
        return "engaged_ic"
    if rec["is_refusal"]:
        return "refusal"
    if decision == "no_convergence":
        return "engaged_no_ic"
    return "invalid"


def _load_states(folder: Path) -> dict[str, dict[str, str]]:
    """condition -> task_id -> state, read with plain json."""
    out: dict[str, dict[str, str]] = {}
    for f in sorted(folder.glob("*_judged.json")):
        for rec in json.loads(f.read_text(encoding="utf-8")):
            per = out.setdefault(rec["condition"], {})
            assert rec["task_id"] not in per, "K = 1 expected: one record per task and condition"
            per[rec["task_id"]] = _state(rec)
    return out


def _midp(b: int, c: int) -> tuple[float, float]:
    """(exact, mid-p) two-sided McNemar p from the discordant counts (Fagerland et al. 2013)."""
    n, k = b + c, min(b, c)
    exact = min(1.0, 2.0 * sps.binom.cdf(k, n, 0.5))
    midp = 2.0 * sps.binom.cdf(k, n, 0.5) - sps.binom.pmf(k, n, 0.5)
    return float(exact), float(min(1.0, midp))


def _bonett_price(b: int, c: int, n: int) -> tuple[float, float]:
    """Bonett & Price (2012) 95 % CI for a paired difference of proportions."""
    z = sps.norm.ppf(0.975)
    pb, pc = (b + 1) / (n + 2), (c + 1) / (n + 2)
    half = z * np.sqrt((pb + pc - (pc - pb) ** 2) / (n + 2))
    return pc - pb - half, pc - pb + half


@dataclass
class Expected:
    per_condition: dict[str, dict[str, float]]
    transitions: dict[str, int]
    n_paired: int
    delta_refusal: float
    refusal_discordant: tuple[int, int]
    refusal_p_exact: float
    refusal_p_mid: float
    refusal_ci: tuple[float, float]
    delta_ir: float
    ir_p_mid: float
    n_both_engaged: int
    both_ic: tuple[float, float, float]  # baseline IC, treatment IC, difference
    both_discordant: tuple[int, int]
    both_p_mid: float
    lee: tuple[float, float]
    manski: tuple[float, float]
    decomposition: dict[str, float]
    tipping_point: float


def _condition_stats(states: dict[str, str]) -> dict[str, float]:
    valid = [s for s in states.values() if s != "invalid"]
    n_ref = sum(s == "refusal" for s in valid)
    n_ic = sum(s == "engaged_ic" for s in valid)
    n_eng = len(valid) - n_ref
    return {
        "refusal": n_ref / len(valid),
        "ir": n_ic / len(valid),
        "ir_engaged": n_ic / n_eng if n_eng else float("nan"),
        "n_engaged": float(n_eng),
        "n_valid": float(len(valid)),
        "n_invalid": float(len(states) - len(valid)),
    }


def expected(folder: Path) -> Expected:
    """Every compared quantity, from the raw files and the statistics.md formulas."""
    st = _load_states(folder)
    s0, s1 = st[BASELINE], st[TREATMENT]
    ids = sorted(t for t in set(s0) & set(s1) if s0[t] != "invalid" and s1[t] != "invalid")
    a0 = np.array([s0[t] for t in ids])
    a1 = np.array([s1[t] for t in ids])
    n = len(ids)

    trans: dict[str, int] = {}
    for x, y in zip(a0, a1, strict=True):
        trans[f"{x}->{y}"] = trans.get(f"{x}->{y}", 0) + 1

    r0, r1 = (a0 == "refusal").astype(int), (a1 == "refusal").astype(int)
    y0, y1 = (a0 == "engaged_ic").astype(int), (a1 == "engaged_ic").astype(int)
    eng0, eng1 = 1 - r0, 1 - r1
    rb, rc = int(((r0 == 1) & (r1 == 0)).sum()), int(((r0 == 0) & (r1 == 1)).sum())
    r_exact, r_mid = _midp(rb, rc)
    ib, ic = int(((y0 == 1) & (y1 == 0)).sum()), int(((y0 == 0) & (y1 == 1)).sum())

    both = (eng0 == 1) & (eng1 == 1)
    nb = int(both.sum())
    bb = int(((y0 == 1) & (y1 == 0) & both).sum())
    bc = int(((y0 == 0) & (y1 == 1) & both).sum())

    # arm-level rates over the paired scenarios (§1)
    e0, e1 = eng0.mean(), eng1.mean()
    p0, p1 = y0.sum() / eng0.sum(), y1.sum() / eng1.sum()
    ir0, ir1 = y0.mean(), y1.mean()
    # §2e sharp bounds (trim the arm whose engagement is higher)
    if e1 <= e0:
        q = e1 / e0
        lee = (p1 - min(1.0, p0 / q), p1 - max(0.0, (p0 - (1 - q)) / q))
    else:
        q = e0 / e1
        lee = (max(0.0, (p1 - (1 - q)) / q) - p0, min(1.0, p1 / q) - p0)
    manski = (ir1 - ir0 - (1 - e0), ir1 - ir0 + (1 - e1))
    de, dp = e1 - e0, p1 - p0
    decomposition = {
        "total": e1 * p1 - e0 * p0,
        "refusal_part": de * (p0 + p1) / 2,
        "behaviour_part": dp * (e0 + e1) / 2,
        "order_a_refusal": de * p0,
        "order_a_behaviour": dp * e1,
        "order_b_refusal": de * p1,
        "order_b_behaviour": dp * e0,
    }
    return Expected(
        per_condition={c: _condition_stats(s) for c, s in ((BASELINE, s0), (TREATMENT, s1))},
        transitions=trans,
        n_paired=n,
        delta_refusal=float(r1.mean() - r0.mean()),
        refusal_discordant=(rb, rc),
        refusal_p_exact=r_exact,
        refusal_p_mid=r_mid,
        refusal_ci=_bonett_price(rb, rc, n),
        delta_ir=float(ir1 - ir0),
        ir_p_mid=_midp(ib, ic)[1],
        n_both_engaged=nb,
        both_ic=(y0[both].mean(), y1[both].mean(), (bc - bb) / nb),
        both_discordant=(bb, bc),
        both_p_mid=_midp(bb, bc)[1],
        lee=lee,
        manski=manski,
        decomposition=decomposition,
        tipping_point=(ir0 - e1 * p1) / (e0 - e1),
    )


# --------------------------------------------------------------------------------------------
# the pipeline


def run_pipeline(folder: Path, tmp_path: Path) -> dict[str, Any]:
    records = tmp_path / "records.parquet"
    res = runner.invoke(app, ["import", "--format", "aei", str(folder), "-o", str(records)])
    assert res.exit_code == 0, res.output
    out = tmp_path / "analysis.json"
    args = [
        "analyze",
        str(records),
        "--baseline",
        BASELINE,
        "--treatment",
        TREATMENT,
        "--engagement-judge",
        "aei-keyword",
        "--ic-judge",
        "aei-judge",
        "--bootstrap",
        "20",
        "--json",
        str(out),
    ]
    res = runner.invoke(app, args)
    assert res.exit_code == 0, res.output
    return json.loads(out.read_text(encoding="utf-8"))


def _close(got: Any, want: float) -> bool:
    return got is not None and abs(float(got) - float(want)) <= TOL


def compare(got: dict[str, Any], exp: Expected) -> list[str]:
    """Every disagreement as 'key: pipeline=..., independent=...' (empty list = all agree)."""
    bad: list[str] = []

    def check(key: str, g: Any, w: float) -> None:
        if not _close(g, w):
            bad.append(f"{key}: pipeline={g!r}, independent={w!r}")

    for cond, want in exp.per_condition.items():
        c = got["conditions"][cond]
        check(f"{cond} refusal", c["refusal"]["estimate"], want["refusal"])
        check(f"{cond} ir", c["ir"]["estimate"], want["ir"])
        check(f"{cond} ir_engaged", c["ir_engaged"]["estimate"], want["ir_engaged"])
        check(f"{cond} n_engaged", c["n_engaged"], want["n_engaged"])
        check(f"{cond} n_valid", c["n_valid"], want["n_valid"])
        check(f"{cond} n_invalid", c["n_invalid"], want["n_invalid"])

    comp = got["comparisons"][0]
    assert (comp["baseline"], comp["treatment"]) == (BASELINE, TREATMENT)
    check("n_scenarios (paired)", comp["n_scenarios"], exp.n_paired)
    if comp["transitions"] != exp.transitions:
        bad.append(f"transitions: pipeline={comp['transitions']}, independent={exp.transitions}")

    dr = comp["delta_refusal"]
    check("delta_refusal", dr["estimate"], exp.delta_refusal)
    check("delta_refusal mid-p", dr["p_value"], exp.refusal_p_mid)
    check("delta_refusal CI low", dr["ci"][0], exp.refusal_ci[0])
    check("delta_refusal CI high", dr["ci"][1], exp.refusal_ci[1])
    check("delta_ir", comp["delta_ir"]["estimate"], exp.delta_ir)
    check("delta_ir mid-p", comp["delta_ir"]["p_value"], exp.ir_p_mid)

    be = comp["both_engaged"]
    check("both_engaged n", be["n_scenarios"], exp.n_both_engaged)
    check("both_engaged baseline_ic", be["baseline_ic"], exp.both_ic[0])
    check("both_engaged treatment_ic", be["treatment_ic"], exp.both_ic[1])
    check("both_engaged difference", be["difference"], exp.both_ic[2])
    d = be.get("discordant", {})
    check("both_engaged b", d.get("baseline_only_ic"), exp.both_discordant[0])
    check("both_engaged c", d.get("treatment_only_ic"), exp.both_discordant[1])
    check("both_engaged mid-p", be["mcnemar_p"], exp.both_p_mid)

    sb = comp["sace_bounds"]
    check("sace pooled lower", sb["pooled"][0], exp.lee[0])
    check("sace pooled upper", sb["pooled"][1], exp.lee[1])
    check("tipping point", sb["tipping_point"], exp.tipping_point)
    check("manski lower", comp["manski_bounds"][0], exp.manski[0])
    check("manski upper", comp["manski_bounds"][1], exp.manski[1])

    dec = comp["decomposition"]
    for key in ("total", "refusal_part", "behaviour_part"):
        check(f"decomposition {key}", dec[key], exp.decomposition[key])
    for order in ("a", "b"):
        for part in ("refusal", "behaviour"):
            check(
                f"decomposition order {order} {part}",
                dec[f"order_{order}"][f"{part}_part"],
                exp.decomposition[f"order_{order}_{part}"],
            )
    return bad


# --------------------------------------------------------------------------------------------
# datasets


def _modified_copy(src: Path, dst: Path) -> Path:
    """A copy of the AEI folder with non-trivial IC, one conflict, one error, one null response.

    Per condition, every third engaged record (by task_id order; offset 0/1/2 by condition) is set
    to convergence. In the baseline the first refusal by task_id becomes convergent (IC over a
    keyword refusal) and the second gets a null response; in the treatment the first engaged
    record that stays non-convergent gets an ``error`` decision.
    """
    shutil.copytree(src, dst)
    offsets = {"baseline_judged.json": 0, "prompt_only_judged.json": 1}
    for f in sorted(dst.glob("*_judged.json")):
        recs = json.loads(f.read_text(encoding="utf-8"))
        recs.sort(key=lambda r: r["task_id"])
        off = offsets.get(f.name, 2)
        engaged = [r for r in recs if not r["is_refusal"]]
        for i, r in enumerate(engaged):
            if i % 3 == off:
                r["judge_decision"] = "convergence"
        if f.name == "baseline_judged.json":
            refusals = [r for r in recs if r["is_refusal"]]
            refusals[0]["judge_decision"] = "convergence"
            refusals[1]["response"] = None
        if f.name == "prompt_only_judged.json":
            plain = next(r for r in engaged if r["judge_decision"] == "no_convergence")
            plain["judge_decision"] = "error"
        f.write_text(json.dumps(recs), encoding="utf-8")
    return dst


# --------------------------------------------------------------------------------------------
# tests


def test_independent_helpers_reproduce_the_statistics_md_reference_values() -> None:
    # §4 reference table: mid-p McNemar b=3, c=10 -> 0.0574; Bonett-Price -> [-0.0055, 0.185]
    assert _midp(3, 10)[1] == pytest.approx(0.0574, abs=5e-5)
    lo, hi = _bonett_price(3, 10, 76)
    assert (lo, hi) == (pytest.approx(-0.0055, abs=5e-5), pytest.approx(0.185, abs=5e-4))


def test_published_aei_data_has_no_invalid_records_and_no_ic(aei_dir: Path) -> None:
    st = _load_states(aei_dir)
    assert set(st) >= {BASELINE, TREATMENT}
    for cond in (BASELINE, TREATMENT):
        assert len(st[cond]) == 76
        assert "invalid" not in st[cond].values()
        assert "engaged_ic" not in st[cond].values()


def test_pipeline_agrees_with_independent_statistics_on_published_aei_data(
    aei_dir: Path, tmp_path: Path
) -> None:
    exp = expected(aei_dir)
    got = run_pipeline(aei_dir, tmp_path / "run")
    assert exp.n_paired == 76
    assert compare(got, exp) == []
    # the mid-p test is the one documented for K = 1 (not a sign-flip fallback)
    assert "mid-p" in got["comparisons"][0]["delta_refusal"]["test"].lower()
    assert _close(got["comparisons"][0]["both_engaged"]["mcnemar_exact_p"], 1.0)


def test_pipeline_agrees_with_independent_statistics_when_ic_is_non_trivial(
    aei_dir: Path, tmp_path: Path
) -> None:
    folder = _modified_copy(aei_dir, tmp_path / "aei-modified")
    exp = expected(folder)
    # the modification really exercises IC, the conflict rule and the invalid handling
    assert exp.per_condition[BASELINE]["ir"] > 0 and exp.per_condition[TREATMENT]["ir"] > 0
    assert exp.per_condition[BASELINE]["n_invalid"] == 1
    assert exp.per_condition[TREATMENT]["n_invalid"] == 1
    assert exp.n_paired == 74
    assert sum(exp.both_discordant) > 0
    assert exp.lee[0] < exp.lee[1]
    got = run_pipeline(folder, tmp_path / "run")
    assert compare(got, exp) == []
    assert got["conditions"][BASELINE]["conflicts"] == {"ic_over_refusal": 1}
    be = got["comparisons"][0]["both_engaged"]
    want_exact = _midp(*exp.both_discordant)[0]
    assert _close(be["mcnemar_exact_p"], want_exact)
