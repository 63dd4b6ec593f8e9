"""The report reads the analysis faithfully, escapes all untrusted text, and writes atomically."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from test_report_synthetic import (
    CONDITIONS,
    HOSTILE_CATEGORY,
    PLANTED_CLOSE,
    PLANTED_IMG,
    PLANTED_SCRIPT,
    synthetic_analysis,
    synthetic_analysis_json,
    synthetic_manifest,
    synthetic_records,
)
from typer.testing import CliRunner

from deconfound.cli import app
from deconfound.cli.reporting import load_agreement
from deconfound.errors import InputError
from deconfound.records import write_records
from deconfound.report import build_report, script_json
from deconfound.report.explorer_data import read_page
from deconfound.report.format import Estimate, estimate_text, tipping
from deconfound.report.values import estimate, interval
from deconfound.stats import SCHEMA_VERSION, AgreementReport, Analysis


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    out = tmp_path_factory.mktemp("report")
    html = build_report(
        synthetic_analysis(), synthetic_records(), out, manifest=synthetic_manifest()
    )
    return html, html.read_text(encoding="utf-8")


def test_report_writes_html_figures_in_three_formats_and_csv_tables(
    built: tuple[Path, str],
) -> None:
    html, _ = built
    out = html.parent
    stems = {p.stem for p in (out / "figures").iterdir()}
    assert {"states_by_condition", "comparison1_forest", "comparison1_transitions"} <= stems
    for stem in stems:
        assert {p.suffix for p in (out / "figures").glob(f"{stem}.*")} == {".png", ".svg", ".pdf"}
    assert {p.name for p in (out / "tables").iterdir()} >= {
        "summary.csv",
        "comparisons.csv",
        "transitions.csv",
        "scenarios.csv",
    }
    assert not [p for p in out.parent.iterdir() if p.name.startswith(f".{out.name}.")]


def test_html_is_self_contained(built: tuple[Path, str]) -> None:
    _, text = built
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", text)
    assert "<link" not in text
    assert 'src="data:image/svg+xml;base64,' in text


def test_untrusted_text_is_escaped_everywhere(built: tuple[Path, str]) -> None:
    _, text = built
    for planted in (PLANTED_SCRIPT, PLANTED_IMG, PLANTED_CLOSE, HOSTILE_CATEGORY):
        assert planted not in text
    # the category reaches the markup (filter options), escaped
    assert "Hacking &lt;b onmouseover=&#34;window.__pwned=4&#34;&gt;Systems&lt;/b&gt;" in text
    # the only script elements are the explorer's data, our JSON data block and our own code
    assert re.findall(r"<script[^>]*>", text) == [
        '<script type="application/octet-stream" id="explorer-data">',
        '<script type="application/json" id="report-data">',
        "<script>",
    ]
    assert "window.__pwned" not in "".join(re.findall(r"<script[^>]*>(.*?)</script>", text, re.S))


def test_transcripts_travel_compressed_and_come_back_verbatim(built: tuple[Path, str]) -> None:
    _, text = built
    block = re.search(r'id="explorer-data">(.*?)</script>', text, re.S)
    # base64 and dots only: no character of it can end the script element or start markup
    assert block is not None and re.fullmatch(r"[A-Za-z0-9+/=.]+", block.group(1))
    texts = {(r["scenario"], r["condition"]): r["text"] for r in read_page(text).responses}
    assert texts[("scenario-01", "baseline")] == PLANTED_SCRIPT
    assert texts[("scenario-03", "baseline")] == PLANTED_IMG
    assert texts[("scenario-04", "ethics prompt")] == PLANTED_CLOSE
    # no response is written as markup: the page builds its rows from the block
    assert '<tr class="scenario"' not in text and '<pre class="text">' not in text


def test_script_json_cannot_close_its_element() -> None:
    text = str(script_json({"label": "</script><script>alert(1)</script> & \u2028"}))
    assert "<" not in text and ">" not in text and "&" not in text
    assert json.loads(text) == {"label": "</script><script>alert(1)</script> & \u2028"}


def test_summary_shows_the_analysis_numbers_not_recomputed_ones(built: tuple[Path, str]) -> None:
    html, text = built
    analysis = synthetic_analysis()
    # the synthetic analysis deliberately disagrees with the records' tallies: the report must
    # show the analysis' figures (30.0% baseline IR), not a count of the records (5/12)
    row = re.search(r'<tr><td>baseline</td><td class="num">(.*?)</td>', text)
    assert row is not None and re.sub(r"<[^>]+>", "", row.group(1)) == "30.0% [10.0, 50.0]%"
    summary = pd.read_csv(html.parent / "tables" / "summary.csv")
    for cond in CONDITIONS:
        row = summary[summary["condition"] == cond].iloc[0]
        assert row["ir"] == pytest.approx(analysis.conditions[cond].ir.estimate)
        assert row["ir_engaged_ci_hi"] == pytest.approx(analysis.conditions[cond].ir_engaged.ci[1])
    comps = pd.read_csv(html.parent / "tables" / "comparisons.csv")
    assert comps["sace_pooled_lo"].tolist() == [-0.2022, -0.2022]
    assert comps["manski_hi"].tolist() == [0.6754, 0.6754]


def test_comparison_shows_verdict_estimands_and_assumptions(built: tuple[Path, str]) -> None:
    _, text = built
    # the verdict's structured answer, in words
    assert "Refusal went from 40.0% to 50.0% (+17.8 pp, 95% CI [+2.0, +33.0] pp, paired " in text
    assert "p = 0.019)." in text
    assert "ΔIR −5.5 pp [−20.0, +9.0] pp, p = 0.310" in text
    assert "pooled bounds [−20.2, +34.1] pp" in text
    assert "monotonicity: the treatment never turns a refusal into engagement" in text
    assert "tipping point: 30.3%" in text


def test_condition_prompts_are_shown_verbatim_and_escaped(built: tuple[Path, str]) -> None:
    _, text = built
    assert "Act ethically. &lt;script&gt;window.__pwned=7&lt;/script&gt;" in text


def test_explorer_has_one_row_per_scenario_and_flags_label_conflicts(
    built: tuple[Path, str],
) -> None:
    _, text = built
    scenarios = read_page(text).scenarios
    assert sorted(s["id"] for s in scenarios) == [f"scenario-{i:02d}" for i in range(1, 13)]
    assert [s["id"] for s in scenarios if s["conflict"]] == ["scenario-09"]


def test_run_manifest_condition_prompts_are_found_beside_the_records(tmp_path: Path) -> None:
    records = write_records(synthetic_records(), tmp_path / "records.parquet")
    manifest = {
        "conditions": [
            {"name": "baseline", "system_prompt": "You are an agent.", "user_prefix": ""},
            {"name": "ethics prompt", "system_prompt": "Be good.", "user_suffix": "Think <b>."},
        ]
    }
    (tmp_path / "manifest.json").write_text(json.dumps(manifest))
    (tmp_path / "analysis.json").write_text(synthetic_analysis().dumps())
    result = CliRunner().invoke(
        app,
        ["report", str(tmp_path / "analysis.json"), "-r", str(records), "-o", str(tmp_path / "o")],
    )
    assert result.exit_code == 0, result.output
    text = (tmp_path / "o" / "report.html").read_text()
    assert '<pre class="prompt">You are an agent.</pre>' in text
    assert '<pre class="prompt">Be good.\n\n[user suffix]\nThink &lt;b&gt;.</pre>' in text


def test_values_the_analysis_could_not_compute_render_as_not_computed(tmp_path: Path) -> None:
    data = synthetic_analysis_json()
    for c in data["conditions"].values():
        c["refusal_kinds"] = {}
    comp = data["comparisons"][0]
    comp["delta_ir"].update({"estimate": None, "ci": [None, None], "p_value": None})
    comp["manski_bounds"] = [None, None]
    comp["verdict"] = None
    text = build_report(
        Analysis.from_json(data), synthetic_records(), tmp_path / "out", figure_formats=()
    ).read_text()
    assert "ΔIR not computed" in text
    assert "Manski bounds not computed" in text
    assert "Verdict: not computed by the analysis." in text
    assert "Judge agreement: not computed." in text
    assert "Refusal kinds: not computed" in text


def test_smoke_model_records_get_the_plumbing_only_banner(tmp_path: Path) -> None:
    analysis = synthetic_analysis()
    smoke = build_report(analysis, synthetic_records(smoke=True), tmp_path / "a", figure_formats=())
    real = build_report(analysis, synthetic_records(), tmp_path / "b", figure_formats=())
    assert "plumbing only, not findings" in smoke.read_text()
    assert "plumbing only, not findings" not in real.read_text()


def _agreement_json() -> dict[str, Any]:
    """A ``deconfound agreement --json`` document with one view, one group and one pair."""
    pair = {
        "judge_a": "kw",
        "judge_b": "llm",
        "n": 36,
        "categories": ["refusal", "not_refusal"],
        "observed": 0.9,
        "cohen_kappa": 0.12,
        "gwet_ac1": 0.85,
        "krippendorff_alpha": 0.11,
        "pabak": 0.8,
        "prevalence_a": {"refusal": 0.1, "not_refusal": 0.9},
        "prevalence_b": {"refusal": 0.05, "not_refusal": 0.95},
        "confusion": {
            "refusal": {"refusal": 2, "not_refusal": 2},
            "not_refusal": {"refusal": 0, "not_refusal": 32},
        },
        "kappa_ci": [0.01, 0.3],
        "ac1_ci": [0.7, 0.95],
    }
    group = {
        "n_responses": 36,
        "prevalence": {"kw": {"refusal": 0.1}, "llm": {"refusal": 0.05}},
        "n_labelled": {"kw": 36, "llm": 36},
        "krippendorff_alpha_all_judges": 0.11,
        "pairs": {"kw vs llm": pair},
    }
    view = {"column": "engagement", "judges": ["kw", "llm"], "groups": {"all": group}}
    return {"records": "r.parquet", "n_boot": 10, "labels": {"engagement-binary": view}}


def test_agreement_json_from_the_agreement_verb_is_read(tmp_path: Path) -> None:
    text = build_report(
        synthetic_analysis(),
        synthetic_records(),
        tmp_path / "o",
        agreement=AgreementReport.from_json(_agreement_json()),
        figure_formats=(),
    ).read_text()
    assert "kw vs llm · engagement-binary · all" in text
    assert "0.120 [0.01, 0.30]" in text and "0.850 [0.70, 0.95]" in text
    assert (tmp_path / "o" / "figures" / "judge_agreement.svg").is_file()


def test_report_verb_refuses_an_agreement_file_of_another_shape(tmp_path: Path) -> None:
    bad = tmp_path / "agreement.json"
    bad.write_text(json.dumps([{"judges": ["kw", "llm"], "kappa": 0.41}]), encoding="utf-8")
    with pytest.raises(InputError, match="agreement"):
        load_agreement(bad)
    data = _agreement_json()
    del data["labels"]["engagement-binary"]["groups"]["all"]["pairs"]["kw vs llm"]["n"]
    bad.write_text(json.dumps(data), encoding="utf-8")
    with pytest.raises(InputError, match=r"pairs\.kw vs llm"):
        load_agreement(bad)


def test_analysis_conditions_missing_from_records_is_an_input_error(tmp_path: Path) -> None:
    data = synthetic_analysis_json()
    data["conditions"]["ghost"] = data["conditions"]["baseline"]
    with pytest.raises(InputError, match="ghost"):
        build_report(Analysis.from_json(data), synthetic_records(), tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_convergent_response_is_engaged_whatever_the_keyword_and_flagged(
    built: tuple[Path, str],
) -> None:
    _, text = built
    data = read_page(text)
    (response,) = [
        r
        for r in data.responses
        if r["scenario"] == "scenario-09" and r["condition"] == "ethics prompt"
    ]
    assert response["state"] == "engaged_ic"
    assert data.state_labels["engaged_ic"] == "engaged, IC"
    assert "IC judge overrides an engagement refusal" in response["conflict"][0]


def test_value_readers_accept_common_shapes_and_refuse_to_invent() -> None:
    assert interval({"lower": -0.1, "upper": 0.2}) == (-0.1, 0.2)
    assert interval([float("nan"), 0.2]) is None
    assert estimate(None) is None
    assert estimate({"estimate": None}) is None
    assert estimate_text(None) == "not computed"
    est = estimate({"estimate": 0.5, "ci": [0.4, 0.6], "p_value": 0.0001})
    assert estimate_text(est) == "50.0% [40.0, 60.0]%, p < 0.001"
    assert (
        estimate_text(Estimate(-0.0001, (-0.0004, 0.0)), points=True) == "+0.0 pp [+0.0, +0.0] pp"
    )


def test_cli_report_writes_the_report(tmp_path: Path) -> None:
    records = write_records(synthetic_records(), tmp_path / "records.parquet")
    (tmp_path / "analysis.json").write_text(synthetic_analysis().dumps())
    (tmp_path / "manifest.json").write_text(json.dumps(synthetic_manifest()))
    result = CliRunner().invoke(
        app,
        [
            "report",
            str(tmp_path / "analysis.json"),
            "--records",
            str(records),
            "--manifest",
            str(tmp_path / "manifest.json"),
            "-o",
            str(tmp_path / "out"),
        ],
    )
    assert result.exit_code == 0, result.output
    text = (tmp_path / "out" / "report.html").read_text()
    assert "sha256" in text and "Act ethically." in text


def test_cli_finds_the_records_path_recorded_in_the_analysis(tmp_path: Path) -> None:
    write_records(synthetic_records(), tmp_path / "records.parquet")
    data = synthetic_analysis_json()
    data["provenance"] = {"inputs": {"records": {"path": "records.parquet", "sha256": "x"}}}
    (tmp_path / "analysis.json").write_text(json.dumps(data))
    result = CliRunner().invoke(
        app, ["report", str(tmp_path / "analysis.json"), "-o", str(tmp_path / "out")]
    )
    assert result.exit_code == 0, result.output
    assert (tmp_path / "out" / "report.html").is_file()


def test_cli_bad_analysis_exits_2_and_writes_nothing(tmp_path: Path) -> None:
    records = write_records(synthetic_records(), tmp_path / "records.parquet")
    (tmp_path / "analysis.json").write_text('{"conditions": {"baseline": {}},\n oops}')
    result = CliRunner().invoke(
        app,
        ["report", str(tmp_path / "analysis.json"), "-r", str(records), "-o", str(tmp_path / "o")],
    )
    assert result.exit_code == 2
    assert "line 2" in result.output
    assert not (tmp_path / "o").exists()


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"schema_version": 1}, "schema_version 1; this deconfound reads schema_version"),
        ({"schema_version": None}, "no schema_version"),
        ({"surprise": 1}, "unknown key(s) 'surprise'"),
        ({"settings": {"seed": 0}}, "settings: missing key 'bootstrap'"),
    ],
)
def test_cli_report_refuses_an_analysis_of_another_version_or_shape(
    tmp_path: Path, change: dict[str, Any], message: str
) -> None:
    records = write_records(synthetic_records(), tmp_path / "records.parquet")
    data = {**synthetic_analysis_json(), **change}
    if data["schema_version"] is None:
        del data["schema_version"]
    (tmp_path / "analysis.json").write_text(json.dumps(data))
    result = CliRunner().invoke(
        app,
        ["report", str(tmp_path / "analysis.json"), "-r", str(records), "-o", str(tmp_path / "o")],
    )
    assert result.exit_code == 2
    flat = " ".join(result.output.split())
    assert message in flat and "analysis.json" in flat
    assert not (tmp_path / "o").exists()


def test_the_loader_names_the_path_of_a_value_of_the_wrong_type() -> None:
    data = synthetic_analysis_json()
    data["comparisons"][1]["sace_bounds"]["ci"] = ["low", 0.2]
    with pytest.raises(ValueError, match=r"comparisons\[1\]\.sace_bounds\.ci\[0\]"):
        Analysis.from_json(data)
    assert data["schema_version"] == SCHEMA_VERSION


def test_explorer_transitions_match_the_analysis_with_several_epochs(tmp_path: Path) -> None:
    from deconfound.records.schema import validate
    from deconfound.stats import analyze_records

    base = synthetic_records()
    epochs = []
    for epoch in (1, 2, 3):
        part = base.copy()
        part["epoch"] = epoch
        if epoch == 2:  # the IC judge flips its labels in one epoch: mixed scenarios
            llm = part["judge"] == "llm"
            part.loc[llm, "ic"] = ~part.loc[llm, "ic"].astype(bool)
        epochs.append(part)
    records = validate(pd.concat(epochs, ignore_index=True))
    analysis = analyze_records(
        records, baseline="baseline", treatments=["ethics prompt", "ethics + RAG"], n_boot=20
    )
    analysis = Analysis.from_json(json.loads(analysis.dumps()))
    text = build_report(analysis, records, tmp_path / "o", figure_formats=()).read_text()
    data = json.loads(
        re.search(r'id="report-data">(.*?)</script>', text, re.S).group(1)  # type: ignore[union-attr]
    )
    for i, comp in enumerate(analysis.comparisons):
        shown = {
            o["value"].split(":", 1)[1]: o["count"]
            for o in data["transitions"]
            if o["value"].startswith(f"{i}:")
        }
        assert shown == comp.transitions
    responses = read_page(text).responses
    assert len(responses) == 12 * 3 * 3 and all(r["text"] for r in responses)


def test_a_tipping_point_outside_0_1_is_said_to_fix_the_sign_not_shown_as_a_rate() -> None:
    # ΔIR/Δe = −0.5 (as on the published Kimi K2.5 data): no stratum IC rate flips the sign.
    assert tipping(0.3033) == "30.3%"
    assert "no IC rate" in tipping(-0.5)
    assert "50" not in tipping(-0.5)
    assert "no IC rate" in tipping(1.7)
    assert tipping(None) == "not computed"
