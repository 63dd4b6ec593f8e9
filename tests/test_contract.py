"""The analysis JSON is the serialisation of the typed result, and matches the committed schema."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from deconfound.records.importers.aei import import_aei
from deconfound.stats import (
    SCHEMA_VERSION,
    Analysis,
    Calibration,
    ContractError,
    analyze_records,
    simulate_records,
)
from deconfound.stats.results import analysis_schema, committed_schema

BASE = "Baseline (adversarial only)"


@pytest.fixture(scope="module")
def validator() -> jsonschema.protocols.Validator:
    schema = committed_schema()
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema)


@pytest.fixture(scope="module")
def sim_json() -> dict[str, Any]:
    """Several epochs, a reasoning judge and a calibration: every optional block is filled."""
    table = simulate_records(40, 3, seed=11, in_role_share=0.4)
    calibration = Calibration.from_json(
        {"rubric:sim": {"ic": {"sensitivity": 0.9, "specificity": 0.95}}}
    )
    out = analyze_records(
        table, baseline=BASE, treatments=["Ethics prompt"], n_boot=60, calibration=calibration
    )
    data = json.loads(out.dumps())
    assert "judge_correction" in data["comparisons"][0]
    assert data["comparisons"][0]["reasoning_shift"]["refusal_kinds"]
    assert data["comparisons"][0]["constructs"]["narrow"]["verdict"]
    return data


def test_committed_schema_is_the_one_the_result_classes_define() -> None:
    assert committed_schema() == analysis_schema(), (
        "src/deconfound/stats/analysis.schema.json is stale: run "
        "`.venv/bin/python scripts/write_analysis_schema.py`"
    )


def test_simulated_analysis_validates_against_the_schema_and_round_trips(
    validator: jsonschema.protocols.Validator, sim_json: dict[str, Any]
) -> None:
    validator.validate(sim_json)
    assert Analysis.from_json(sim_json).to_json() == sim_json


def test_real_aei_analysis_validates_against_the_schema(
    validator: jsonschema.protocols.Validator, aei_dir: Path
) -> None:
    table = import_aei([aei_dir])
    treatments = sorted(set(table["condition"]) - {BASE})
    data = json.loads(
        analyze_records(table, baseline=BASE, treatments=treatments, n_boot=50).dumps()
    )
    validator.validate(data)
    assert data["schema_version"] == SCHEMA_VERSION
    assert Analysis.from_json(data).to_json() == data


@pytest.mark.parametrize(
    ("path", "value"),
    [
        (("conditions", BASE, "ir", "estimate"), "0.3"),
        (("comparisons", 0, "sace_bounds", "pooled"), [0.1]),
        (("comparisons", 0, "verdict", "refusal_changed", "finding"), "maybe"),
        (("settings", "bootstrap"), 1.5),
        (("schema_version",), SCHEMA_VERSION + 1),
    ],
)
def test_schema_and_loader_both_refuse_a_corrupted_analysis(
    validator: jsonschema.protocols.Validator,
    sim_json: dict[str, Any],
    path: tuple[str | int, ...],
    value: Any,
) -> None:
    bad = json.loads(json.dumps(sim_json))
    node: Any = bad
    for step in path[:-1]:
        node = node[step]
    node[path[-1]] = value
    assert not validator.is_valid(bad)
    with pytest.raises(ContractError):
        Analysis.from_json(bad)


def test_an_unknown_key_is_refused_with_its_path(sim_json: dict[str, Any]) -> None:
    bad = json.loads(json.dumps(sim_json))
    bad["comparisons"][0]["power"]["mde_magic"] = 0.1
    with pytest.raises(ContractError, match=r"comparisons\[0\]\.power: unknown key"):
        Analysis.from_json(bad)


def test_nan_never_reaches_the_json() -> None:
    table = simulate_records(12, 1, seed=2)
    out = analyze_records(table, baseline=BASE, treatments=["Ethics prompt"], n_boot=20)
    text = out.dumps()  # allow_nan=False inside: NaN would raise
    assert "NaN" not in text and "Infinity" not in text
