"""Scenario ids and condition names cannot become paths (issue 15, failure 10).

Before, the id ``../../../../outside/x`` became the ``.eval`` member
``samples/../../../../outside/x_epoch_1.json``.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from deconfound.data import load_scenarios
from deconfound.data.scenario import Scenario, scenario_id_problem
from deconfound.errors import InputError
from deconfound.run import load_study, run_study


@pytest.mark.parametrize(
    "sid",
    [
        "../../../../outside/x",
        "a/b",
        "a\\b",
        ".hidden",
        "C:evil",
        "tab\there",
        "new\nline",
        "x" * 129,
        "",
        "ünï",
    ],
)
def test_unsafe_scenario_ids_are_refused(sid: str) -> None:
    assert scenario_id_problem(sid) is not None


@pytest.mark.parametrize(
    "sid", ["evading-shutdown-09", "Evading Shutdown_9", "s.1", "A (v2)", "q+1,#3", "x" * 128]
)
def test_ordinary_scenario_ids_pass(sid: str) -> None:
    assert scenario_id_problem(sid) is None


def test_a_scenario_file_with_a_path_like_id_is_an_input_error_naming_the_line(
    tmp_path: Path,
) -> None:
    path = tmp_path / "s.jsonl"
    rows = [
        {"id": "ok-1", "category": "C", "prompt": "p"},
        {"id": "../../../../outside/x", "category": "C", "prompt": "q"},
    ]
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    with pytest.raises(InputError) as err:
        load_scenarios(path)
    assert (err.value.path, err.value.location, err.value.field) == (str(path), "line 2", "id")
    assert "not allowed" in str(err.value)


def test_run_study_refuses_unsafe_ids_handed_over_directly(tmp_path: Path) -> None:
    study = tmp_path / "study.toml"
    study.write_text(
        'name = "ids"\nmodels = ["deconfound-mock/echo"]\n'
        '[conditions.baseline]\nsystem = [{ text = "x" }]\n'
    )
    bad = [Scenario(id="../../../../outside/x", category="C", prompt="p")]
    with pytest.raises(InputError, match="not allowed"):
        run_study(load_study(study), log_dir=tmp_path / "logs", scenarios=bad, display="none")
    assert not (tmp_path / "outside").exists()
    assert not list((tmp_path / "logs").glob("*.eval"))


def test_condition_names_are_restricted_in_the_study_file(tmp_path: Path) -> None:
    study = tmp_path / "study.toml"
    study.write_text(
        'name = "c"\nmodels = ["deconfound-mock/echo"]\n'
        '[conditions."../evil"]\nsystem = [{ text = "x" }]\n'
    )
    with pytest.raises(InputError) as err:
        load_study(study)
    assert err.value.field == "conditions.../evil"
