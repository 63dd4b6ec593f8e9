"""Simulated studies with known truth, for the coverage study, scale benchmark and tests.

A super-population of scenarios: each scenario has a baseline engagement probability e0_s, a
treatment engagement probability e1_s ≤ e0_s (monotonicity), and IC probabilities for the
always-engagers at baseline (μ0_EE) and under treatment (μ1_EE) and for the newly refused at
baseline (μ0_ER, more IC-prone than the always-engagers, so principal ignorability fails). Each
epoch draws one uniform U per slot: S(0) = U < e0_s and S(1) = U < e1_s, which couples the arms
into principal strata.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from deconfound.records.labels import REASONING_FLAGS, REFUSAL_KIND
from deconfound.records.schema import validate

FloatArray = NDArray[np.float64]


def _blank(values: object, mask: NDArray[np.bool_]) -> NDArray[np.object_]:
    """An object array of ``values`` with None where ``mask`` is true."""
    out = np.array(values, dtype=object)
    out[mask] = None
    return out


def _expit(x: FloatArray) -> FloatArray:
    return np.asarray(1 / (1 + np.exp(-x)), dtype=float)


@dataclass(frozen=True)
class Design:
    """Parameters of the simulated super-population (logit scale).

    Args:
        engage: Mean logit of baseline engagement.
        engage_sd: Scenario SD of that logit.
        keep: Mean logit of the share of baseline engagement kept under treatment.
        ic: Mean logit of IC among always-engagers at baseline.
        ic_sd: Scenario SD of that logit (shared with engagement through one latent).
        effect: Treatment effect on the IC logit of always-engagers.
        er_shift: Extra IC logit of the newly refused at baseline.
    """

    engage: float = 0.3
    engage_sd: float = 1.0
    keep: float = 0.8
    ic: float = -0.8
    ic_sd: float = 1.0
    effect: float = -0.3
    er_shift: float = 0.8


def scenario_parameters(design: Design, n: int, rng: np.random.Generator) -> dict[str, FloatArray]:
    """Draw n scenarios' engagement and IC probabilities."""
    a = rng.standard_normal(n)
    b = rng.standard_normal(n)
    c = rng.standard_normal(n)
    e0 = _expit(design.engage + design.engage_sd * a)
    e1 = e0 * _expit(design.keep + 0.7 * b)
    base = design.ic + design.ic_sd * (0.5 * a + 0.85 * c)
    return {
        "e0": e0,
        "e1": e1,
        "mu0_ee": _expit(base),
        "mu1_ee": _expit(base + design.effect),
        "mu0_er": _expit(base + design.er_shift),
    }


@dataclass(frozen=True)
class Truth:
    """Super-population estimands of a design."""

    ir0: float
    ir1: float
    delta_ir: float
    ir_engaged0: float
    ir_engaged1: float
    sace: float


def true_values(design: Design, n: int = 2_000_000, seed: int = 12345) -> Truth:
    """Estimands by Monte Carlo over ``n`` scenarios (exact expectations of the probabilities)."""
    p = scenario_parameters(design, n, np.random.default_rng(seed))
    ir0_s = p["e1"] * p["mu0_ee"] + (p["e0"] - p["e1"]) * p["mu0_er"]
    ir1_s = p["e1"] * p["mu1_ee"]
    return Truth(
        ir0=float(ir0_s.mean()),
        ir1=float(ir1_s.mean()),
        delta_ir=float((ir1_s - ir0_s).mean()),
        ir_engaged0=float(ir0_s.mean() / p["e0"].mean()),
        ir_engaged1=float(ir1_s.mean() / p["e1"].mean()),
        sace=float((p["e1"] * (p["mu1_ee"] - p["mu0_ee"])).sum() / p["e1"].sum()),
    )


def simulate_counts(
    design: Design, n_scenarios: int, n_epochs: int, rng: np.random.Generator
) -> dict[str, FloatArray]:
    """Per-scenario counts (engaged m, IC y per arm; every response valid) for one study."""
    p = scenario_parameters(design, n_scenarios, rng)
    u = rng.random((n_scenarios, n_epochs))
    s0 = u < p["e0"][:, None]
    s1 = u < p["e1"][:, None]
    ee = s1  # S(1) = 1 implies S(0) = 1 under the coupling
    er = s0 & ~s1
    v = rng.random((n_scenarios, n_epochs))
    w = rng.random((n_scenarios, n_epochs))
    y0 = (ee & (v < p["mu0_ee"][:, None])) | (er & (v < p["mu0_er"][:, None]))
    y1 = ee & (w < p["mu1_ee"][:, None])
    k = np.full(n_scenarios, float(n_epochs))
    return {
        "v0": k,
        "v1": k.copy(),
        "m0": s0.sum(1).astype(float),
        "m1": s1.sum(1).astype(float),
        "y0": y0.sum(1).astype(float),
        "y1": y1.sum(1).astype(float),
    }


def simulate_records(
    n_scenarios: int = 76,
    n_epochs: int = 3,
    *,
    design: Design | None = None,
    partial_share: float = 0.1,
    invalid_share: float = 0.01,
    seed: int = 0,
    conditions: tuple[str, str] = ("Baseline (adversarial only)", "Ethics prompt"),
    model: str = "sim/model",
    in_role_share: float | None = None,
) -> pd.DataFrame:
    """A validated records table for two conditions with two judges.

    ``rubric:sim`` labels engagement (some engaged responses as partial), IC, refusal kind and
    reasoning flags; ``aei-keyword`` labels engagement only, with 15 % of labels flipped (a noisy
    keyword judge). A small share of responses is missing (response_status "error"). With
    ``in_role_share``, ``rubric:sim`` also labels that share of its refusals and partials in role
    (drawn from a separate stream, so every other label is the same as without it).
    """
    rng = np.random.default_rng(seed)
    role_rng = np.random.default_rng([seed, 1])
    d = design or Design()
    counts_p = scenario_parameters(d, n_scenarios, rng)
    u = rng.random((n_scenarios, n_epochs))
    vv = rng.random((2, n_scenarios, n_epochs))
    s = [u < counts_p["e0"][:, None], u < counts_p["e1"][:, None]]
    ee = s[1]
    er = s[0] & ~s[1]
    y = [
        (ee & (vv[0] < counts_p["mu0_ee"][:, None])) | (er & (vv[0] < counts_p["mu0_er"][:, None])),
        ee & (vv[1] < counts_p["mu1_ee"][:, None]),
    ]
    frames = []
    cats = np.array([f"Category {i % 6}" for i in range(n_scenarios)], dtype=object)
    sids = np.array([f"scenario-{i:05d}" for i in range(n_scenarios)], dtype=object)
    for z, cond in enumerate(conditions):
        sc = np.repeat(np.arange(n_scenarios), n_epochs)
        ep = np.tile(np.arange(1, n_epochs + 1), n_scenarios)
        engaged = s[z].ravel()
        ic = y[z].ravel() & engaged
        n = len(sc)
        partial = engaged & (rng.random(n) < partial_share)
        invalid = rng.random(n) < invalid_share
        eng = np.where(engaged, np.where(partial, "partial", "engaged"), "refusal").astype(object)
        kind = _blank(
            np.array(REFUSAL_KIND, dtype=object)[
                rng.choice(4, size=n, p=[0.3 + 0.2 * z, 0.2, 0.1, 0.4 - 0.2 * z])
            ],
            engaged & ~partial,
        )
        status = np.where(invalid, "error", "ok").astype(object)
        common = {
            "study": "sim",
            "model": model,
            "condition": cond,
            "scenario_id": sids[sc],
            "category": cats[sc],
            "epoch": ep,
            "response": _blank(np.full(len(sc), "text", dtype=object), invalid),
            "response_status": status,
        }
        rub = pd.DataFrame(
            {
                **common,
                "judge": "rubric:sim",
                "engagement": _blank(eng, invalid),
                "ic": _blank(ic, invalid),
                "refusal_kind": _blank(kind, invalid),
            }
        )
        for j, flag in enumerate(REASONING_FLAGS):
            val = rng.random(n) < (0.2 + 0.1 * j + 0.1 * z)
            rub[flag] = _blank(val, invalid | ~engaged)
        if in_role_share is not None:
            role = role_rng.random(n) < in_role_share
            rub["in_role"] = _blank(role, invalid | (engaged & ~partial))
        flip = rng.random(n) < 0.15
        kw = np.where(
            flip, np.where(engaged, "refusal", "engaged"), np.where(engaged, "engaged", "refusal")
        )
        key = pd.DataFrame({**common, "judge": "aei-keyword", "engagement": _blank(kw, invalid)})
        frames += [rub, key]
    return validate(pd.concat(frames, ignore_index=True))
