"""The README a new user reads first: short, its links resolve, every command in it runs as written.

The command test copies what a fresh clone has (the examples; ``.venv`` is the one
``scripts/setup.sh`` made, linked in), points the data variables at ../shared as an offline
machine would, and runs each ```bash block of the README in order. Two things are not run, on
purpose: the ``bash scripts/setup.sh &&`` prefix (setup already ran: it is what made this
environment, and CI runs it through the README's test line) and the test line itself (it runs
this suite). Blocks that need API keys are skipped by the explicit list below.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
SHARED = ROOT.parent / "shared" / "data"

#: A block holding one of these needs provider API keys; it is skipped (and must exist, so the
#: list cannot silently skip nothing).
NEEDS_API_KEYS = ("examples/study.toml",)
SETUP_PREFIX = "bash scripts/setup.sh && "


def _text() -> str:
    return README.read_text(encoding="utf-8")


def _blocks(lang: str) -> list[str]:
    return re.findall(rf"^```{lang}\n(.*?)^```", _text(), re.M | re.S)


def test_readme_is_at_most_200_lines() -> None:
    assert len(_text().splitlines()) <= 200


def test_first_two_command_lines_are_the_main_job_and_the_test_line() -> None:
    """`.ci/run` greps the test line; the main job is the first thing a reader sees."""
    first = _blocks("bash")[0].splitlines()
    assert first[0].startswith(f"{SETUP_PREFIX}.venv/bin/deconfound run examples/quickstart.toml")
    assert first[0].rstrip().endswith("# main job")
    assert re.match(r"^bash scripts/setup\.sh && .*pytest", first[1])
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert "grep -m1 -E '^bash scripts/setup\\.sh && .*pytest' README.md" in ci
    assert "export COLUMNS=80" in ci


def test_every_relative_link_resolves() -> None:
    pages = [README, *sorted((ROOT / "docs").glob("*.md"))]
    for page in pages:
        for target in re.findall(r"\]\(([^)#\s]+)(?:#[^)]*)?\)", page.read_text(encoding="utf-8")):
            if "://" in target:
                continue
            assert (page.parent / target).exists(), f"{page.name}: broken link {target}"


def test_reference_pages_are_linked_from_the_readme() -> None:
    text = _text()
    for page in ("studies", "records", "judges", "statistics", "analysis-json", "report"):
        assert f"(docs/{page}.md)" in text


def _script(block: str) -> str:
    lines = []
    for line in block.splitlines():
        if re.match(r"^bash scripts/setup\.sh && .*pytest", line):
            continue  # the test line: it runs this suite
        lines.append(line.removeprefix(SETUP_PREFIX))
    return "\n".join(lines) + "\n"


@pytest.mark.slow
def test_every_readme_command_runs_as_written_on_a_fresh_clone(tmp_path: Path) -> None:
    assert (SHARED / "instrumentaleval" / "reconstructed").is_dir(), "../shared is missing"
    clone = tmp_path / "clone"
    clone.mkdir()
    shutil.copytree(ROOT / "examples", clone / "examples")
    (clone / "benchmarks" / "corpus").mkdir(parents=True)
    shutil.copy(
        ROOT / "benchmarks" / "corpus" / "corpus_labels.csv", clone / "benchmarks" / "corpus"
    )
    (clone / ".venv").symlink_to(ROOT / ".venv")
    env = dict(os.environ)
    env.pop("INSPECT_CACHE_DIR", None)  # the run keeps its model-call cache in its log dir
    env.update(
        DECONFOUND_INSTRUMENTALEVAL_DIR=str(SHARED / "instrumentaleval" / "reconstructed"),
        DECONFOUND_AEI_ELESSAN_DIR=str(SHARED / "aei-elessan"),
        XDG_DATA_HOME=str(tmp_path / "xdg"),
        COLUMNS="80",
    )
    blocks = _blocks("bash")
    skipped = [b for b in blocks if any(k in b for k in NEEDS_API_KEYS)]
    assert len(skipped) == len(NEEDS_API_KEYS)
    outputs = []
    for block in blocks:
        if block in skipped:
            continue
        proc = subprocess.run(
            ["bash", "-euo", "pipefail", "-c", _script(block)],
            cwd=clone,
            env=env,
            capture_output=True,
            text=True,
            timeout=1800,
        )
        assert proc.returncode == 0, f"{block}\n{proc.stdout}\n{proc.stderr}"
        outputs.append(proc.stdout)

    # The main job ended in an answer: analysis, report, verdict, and the smoke-model line; the
    # sample output the README shows is what it printed (lines the README abbreviates skipped).
    main_job = outputs[0].splitlines()
    assert (clone / "runs" / "quickstart" / "report" / "report.html").is_file()
    shown = [line for line in _blocks("text")[0].splitlines() if "..." not in line]
    assert shown and [line for line in shown if line not in main_job] == [], outputs[0]
    assert any(line.startswith("  refusal changed: ") for line in main_job)
    # The tour's figures quoted in the README come from these files.
    assert (clone / "report" / "report.html").is_file()
    tour = outputs[1]
    assert "5 file(s) written, all sha256-verified" in tour
    assert "Refusal went from 14.5% to 1.3% (−13.2 pp, 95% CI [−21.0, −4.6] pp" in tour
    comp = json.loads((clone / "analysis.json").read_text(encoding="utf-8"))["comparisons"][0]

    def pp(x: float) -> float:
        return round(100 * x, 1)

    assert pp(comp["delta_ir"]["estimate"]) == -6.6
    assert [pp(v) for v in comp["delta_ir"]["ci"]] == [-14.6, 1.8]
    dec = comp["decomposition"]
    assert (pp(dec["refusal_part"]), pp(dec["behaviour_part"])) == (3.2, -9.7)
    assert [pp(v) for v in dec["behaviour_part_ci"]] == [-17.8, -2.2]
    assert [pp(v) for v in comp["sace_bounds"]["pooled"]] == [-23.1, -7.7]
    assert [pp(v) for v in comp["sace_bounds"]["ci"]] == [-33.0, -0.5]
    ic_verdict = comp["verdict"]["ic_among_engagers_changed"]
    # the lexical judge's own IC labels cannot tell: the answer depends on the judge (issue 10)
    assert (ic_verdict["finding"], ic_verdict["judges_agree"]) == ("depends_on_judge", False)
    answers = {
        f"{r['engagement_judge']} / {r['ic_judge']}": r["answers"]["ic_among_engagers_changed"]
        for r in comp["judge_sensitivity"]
    }
    assert answers["lexical / aei-judge"] == "fell"
    assert "ic among engagers changed: depends on the judge" in tour
    assert "│ 228 │ 0.69 │ 0.16" in tour  # keyword flag vs lexical, all conditions: p_o, kappa
    # With the reference corpus as gold: refusal did not move, whatever the two judges say.
    gold = json.loads((clone / "gold.json").read_text(encoding="utf-8"))["comparisons"][0]
    refusal = gold["verdict"]["refusal_changed"]
    assert (refusal["finding"], refusal["basis"]) == ("no_clear_change", "ppi")
    assert [pp(refusal["baseline_rate"]), pp(refusal["treatment_rate"])] == [11.8, 11.8]
    assert [pp(v) for v in gold["ppi"]["delta_refusal"]["ci"]] == [-3.8, 3.8]
    assert [pp(v) for v in gold["ppi"]["delta_ir_engaged"]["ci"]] == [-15.3, 0.4]
    assert pp(gold["ppi"]["delta_ir_engaged"]["estimate"]) == -7.5
    assert "The judges agree with each other (fell), not with the gold labels." in tour
    # The README's variant: the same analysis with the published keyword flag as engagement judge.
    keyword = subprocess.run(
        [".venv/bin/deconfound", "analyze", "judged.parquet", "--baseline",
         "Baseline (adversarial only)", "--treatment", "Prompt-only (adversarial + ethics)",
         "--engagement-judge", "aei-keyword", "--json", "keyword.json"],
        cwd=clone, env=env, capture_output=True, text=True, timeout=600, check=True,
    )  # fmt: skip
    assert keyword.returncode == 0
    sace = json.loads((clone / "keyword.json").read_text(encoding="utf-8"))["comparisons"][0][
        "sace_bounds"
    ]
    assert [pp(v) for v in sace["pooled"]] == [-31.9, -10.6]
    assert sace["monotonicity_violations"] == 7
