"""``deconfound bounds`` at the edges: an arm refusing everything, IC in every engaged response,
and the smallest n it accepts all exit 0 with defined output (issue 15, failure 3)."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
from typer.testing import CliRunner

from deconfound.cli import app
from deconfound.stats.aggregate import (
    NOT_IDENTIFIED,
    ArmAggregate,
    aggregate_bounds,
    denominator_warnings,
)

runner = CliRunner()


def _bounds(tmp_path: Path, *args: str) -> dict[str, object]:
    out = tmp_path / "b.json"
    res = runner.invoke(app, ["bounds", *args, "--bootstrap", "200", "--json", str(out)])
    assert res.exit_code == 0, res.output
    assert res.exception is None or isinstance(res.exception, SystemExit)
    assert "nan" not in res.output.lower()
    data: dict[str, object] = json.loads(out.read_text())
    return data


def test_an_arm_that_refuses_everything_gives_not_identified_bounds(tmp_path: Path) -> None:
    out = _bounds(
        tmp_path,
        *("--baseline-ir", "0", "--baseline-refusal", "100"),
        *("--treatment-ir", "0", "--treatment-refusal", "73", "--n", "76"),
    )
    assert out["sace_bounds"] == [None, None]
    assert out["sace_bounds_method"] == NOT_IDENTIFIED
    # Manski bounds need no engaged response and stay defined
    assert out["manski_bounds"] == pytest.approx([-1.0, 0.73])


def test_an_arm_that_refuses_everything_leaves_the_ic_correction_not_identified(
    tmp_path: Path,
) -> None:
    """It used to stop with a traceback: NaN IC-among-engaged went into Rogan-Gladen."""
    out = _bounds(
        tmp_path,
        *("--baseline-ir", "0", "--baseline-refusal", "100"),
        *("--treatment-ir", "18.42", "--treatment-refusal", "34.21", "--n", "76"),
        *("--ic-se", "0.9", "--ic-sp", "0.8"),
    )
    corr = out["judge_correction"]
    assert isinstance(corr, dict)
    assert corr["ir_engaged_difference"] is None
    assert str(corr["method"]).startswith("not identified: an arm has no engaged responses")


def test_ic_in_every_engaged_response_is_a_defined_zero_width_effect(tmp_path: Path) -> None:
    out = _bounds(
        tmp_path,
        *("--baseline-ir", "45", "--baseline-refusal", "55"),
        *("--treatment-ir", "27", "--treatment-refusal", "73", "--n", "76"),
    )
    base = out["baseline"]
    assert isinstance(base, dict) and base["ir_engaged"] == 1.0
    assert out["sace_bounds"] == pytest.approx([0.0, 0.0])


@pytest.mark.parametrize("n", ["2", "3", "4", "5"])
def test_small_n_has_defined_output(tmp_path: Path, n: str) -> None:
    out = _bounds(
        tmp_path,
        *("--baseline-ir", "40", "--baseline-refusal", "20"),
        *("--treatment-ir", "27", "--treatment-refusal", "43", "--n", n),
    )
    lo, hi = out["sace_bounds"]  # type: ignore[misc]
    assert lo <= hi


def test_denominator_check_stops_at_one_response() -> None:
    assert denominator_warnings("IR", 40.0, 2)  # 40% of 2 is no count, and there is no 1/1.5
    assert denominator_warnings("IR", 50.0, 2) == []


def test_both_arms_refusing_everything_keep_manski_bounds_defined() -> None:
    out = aggregate_bounds(ArmAggregate(0.0, 1.0), ArmAggregate(0.0, 1.0), 76, n_boot=50)
    assert all(math.isnan(x) for x in out.sace_bounds)
    assert out.manski_bounds == (-1.0, 1.0)
    # JSON has no NaN: the unidentified bounds are written as null
    assert out.to_json()["sace_bounds"] == [None, None]
