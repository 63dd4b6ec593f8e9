"""analyze's default judge: careful reading, then a judge measured valid, then the fixed order."""

from __future__ import annotations

import json
from importlib import resources

import pandas as pd
import pytest

from deconfound.judges.measured import MeasuredKappa
from deconfound.stats import simulate_records
from deconfound.stats.prepare import TRUSTED_KAPPA, KappaLookup, select_judges, shipped_kappa


def _with_judge(sim: pd.DataFrame, source: str, name: str, version: str | None) -> pd.DataFrame:
    """The same responses labelled again by a judge called ``name``."""
    extra = sim[sim["judge"] == source].copy()
    extra["judge"] = name
    extra["judge_version"] = version
    return pd.concat([sim, extra], ignore_index=True)


@pytest.fixture(scope="module")
def sim() -> pd.DataFrame:
    table = simulate_records(20, 2, seed=3)
    return _with_judge(table, "rubric:sim", "offline", "offline-9")


def _lookup(values: dict[str, float]) -> KappaLookup:
    return lambda judge, version, view: values.get(judge)


def test_a_judge_measured_valid_on_every_model_beats_an_unmeasured_rubric(
    sim: pd.DataFrame,
) -> None:
    chosen = select_judges(sim, kappa=_lookup({"offline": TRUSTED_KAPPA + 0.05}))
    assert (chosen.engagement, chosen.ic) == ("offline", "offline")
    assert "measured on the reference corpus" in chosen.reasons["engagement"]
    assert "--engagement-judge" in chosen.reasons["engagement"]


def test_a_fair_measured_kappa_does_not_overturn_the_fixed_order(sim: pd.DataFrame) -> None:
    chosen = select_judges(sim, kappa=_lookup({"offline": TRUSTED_KAPPA - 0.05}))
    assert chosen.engagement == "rubric:sim"
    # the measurement is still stated beside the reason
    assert f"offline {TRUSTED_KAPPA - 0.05:.2f}" in chosen.reasons["engagement"]


def test_careful_reading_beats_any_measured_judge(sim: pd.DataFrame) -> None:
    table = _with_judge(sim, "rubric:sim", "reference", "codebook-1")
    chosen = select_judges(table, kappa=_lookup({"offline": 0.99}))
    assert chosen.engagement == "reference"


def test_an_explicit_judge_wins_over_measurement(sim: pd.DataFrame) -> None:
    chosen = select_judges(sim, engagement_judge="rubric:sim", kappa=_lookup({"offline": 0.99}))
    assert chosen.engagement == "rubric:sim"


def test_mixed_versions_of_one_judge_count_as_unmeasured(sim: pd.DataFrame) -> None:
    table = sim.copy()
    rows = table.index[table["judge"] == "offline"]
    table.loc[rows[: len(rows) // 2], "judge_version"] = "offline-8"
    chosen = select_judges(table, kappa=_lookup({"offline": 0.99}))
    assert chosen.engagement == "rubric:sim"


def test_shipped_kappa_is_the_worst_held_out_model_of_the_package_data() -> None:
    data = json.loads(
        resources.files("deconfound.judges").joinpath("data", "measured_kappa.json").read_text()
    )
    entry = data["judges"]["offline"]
    per_model = [row["engagement_3class"] for m, row in entry["kappa"].items() if m != "pooled"]
    assert shipped_kappa("offline", entry["version"], "engagement_3class") == min(per_model)
    assert shipped_kappa("offline", "offline-0", "engagement_3class") is None
    assert shipped_kappa("no-such-judge", None, "ic") is None


def _undefined_cell_measurement(view: str) -> MeasuredKappa:
    """offline measured at 0.9 on every model, except one whose reference has one class."""
    kappa: dict[str, dict[str, float | None]] = {
        "model-a": {view: 0.9},
        "model-b": {view: None},
        "pooled": {view: 0.9},
    }
    return MeasuredKappa(
        "offline", "offline-9", "test corpus", kappa, {"model-b": {view: {"yes": 26}}}
    )


def test_an_undefined_cell_makes_the_judge_unmeasured_never_passing_or_zero(
    sim: pd.DataFrame, monkeypatch: pytest.MonkeyPatch
) -> None:
    view = "engagement_3class"
    monkeypatch.setattr(
        "deconfound.stats.prepare.measured_kappa",
        lambda judge, version=None: (
            _undefined_cell_measurement(view) if judge == "offline" else None
        ),
    )
    assert shipped_kappa("offline", "offline-9", view) is None
    chosen = select_judges(sim, kappa=shipped_kappa)
    # not trusted (it would be at 0.9 if the undefined cell were skipped) and not listed as 0.00
    assert chosen.engagement == "rubric:sim"
    assert "measured" not in chosen.reasons["engagement"]
    assert "0.00" not in chosen.reasons["engagement"]


def test_a_view_range_splits_measured_undefined_and_unmeasured_models() -> None:
    m = _undefined_cell_measurement("ic")
    m.kappa["model-c"] = {"ic": None}  # no figure and not declared undefined
    r = m.view_range("ic")
    assert r.kappa == {"model-a": 0.9}
    assert r.undefined == ("model-b",)
    assert r.unmeasured == ("model-c",)
    assert (r.worst, r.best, r.pooled) == (0.9, 0.9, 0.9)
    assert not r.complete
    assert m.view_range("refusal_vs_not").worst is None
