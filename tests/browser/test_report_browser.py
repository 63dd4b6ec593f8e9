"""The report in headless Chromium: loads cleanly, filters work, planted markup never runs."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from conftest import EXPLORER_SETTLED
from test_report_synthetic import (
    HOSTILE_CATEGORY,
    PLANTED_CLOSE,
    PLANTED_IMG,
    PLANTED_SCRIPT,
    synthetic_analysis,
    synthetic_manifest,
    synthetic_records,
)

from deconfound.report import build_report
from deconfound.report.explorer_data import read_page
from deconfound.stats import analyze_records, simulate_records

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("browser-report")
    return build_report(
        synthetic_analysis(),
        synthetic_records(),
        out,
        manifest=synthetic_manifest(),
        figure_formats=(),
    )


def _visible_ids(page: Any) -> list[str]:
    return list(
        page.eval_on_selector_all(
            "tr.scenario", "rows => rows.filter(r => !r.hidden).map(r => r.dataset.scenario)"
        )
    )


def test_report_loads_without_console_errors_or_network(report: Path, open_page: Any) -> None:
    p = open_page(report)
    assert p.errors == []
    assert [u for u in p.requests if not u.startswith(("file:", "data:"))] == []
    # our script ran (it fills the count), so the CSP hash matches the inlined code
    assert p.page.text_content("#f-count") == "12 of 12 scenarios shown"
    # every figure decoded
    broken = p.page.eval_on_selector_all("img", "imgs => imgs.filter(i => !i.naturalWidth).length")
    assert broken == 0


def test_planted_markup_shows_as_text_and_never_runs(report: Path, open_page: Any) -> None:
    p = open_page(report)
    # would fire the planted onmouseover if the category were markup
    p.page.hover("tr.scenario[data-scenario='scenario-02'] td.scen .note")
    assert p.page.evaluate("typeof window.__pwned") == "undefined"
    body = p.page.inner_text("body")
    for planted in (PLANTED_SCRIPT, PLANTED_IMG, PLANTED_CLOSE, HOSTILE_CATEGORY):
        assert planted in body
    assert p.page.locator("img[src='x']").count() == 0
    assert p.errors == []


def test_category_filter_hides_other_categories(report: Path, open_page: Any) -> None:
    p = open_page(report)
    p.page.select_option("#f-category", label="Evading Shutdown")
    visible = _visible_ids(p.page)
    assert visible == [f"scenario-{i:02d}" for i in range(1, 13, 2)]
    assert p.page.text_content("#f-count") == "6 of 12 scenarios shown"
    p.page.select_option("#f-category", label=HOSTILE_CATEGORY)
    assert _visible_ids(p.page) == [f"scenario-{i:02d}" for i in range(2, 13, 2)]
    p.page.select_option("#f-category", value="")
    assert len(_visible_ids(p.page)) == 12


def test_transition_filter_shows_only_scenarios_with_that_transition(
    report: Path, open_page: Any
) -> None:
    p = open_page(report)
    options = p.page.eval_on_selector_all(
        "#f-transition option", "os => os.map(o => [o.value, o.textContent])"
    )
    value, label = next(
        (v, t) for v, t in options if v == "0:engaged_ic->refusal"
    )  # baseline IC -> ethics prompt refusal
    assert "engaged, IC → refusal" in label
    p.page.select_option("#f-transition", value=value)
    # plan strings in the fixture: baseline/ethics states "ir" are scenarios 3 and 10
    assert _visible_ids(p.page) == ["scenario-03", "scenario-10"]


def test_conflict_filter_and_search(report: Path, open_page: Any) -> None:
    p = open_page(report)
    p.page.check("#f-conflict")
    assert _visible_ids(p.page) == ["scenario-09"]
    p.page.uncheck("#f-conflict")
    p.page.fill("#f-search", "I will not do that")
    assert _visible_ids(p.page) == ["scenario-01"]


def test_real_study_report_shows_every_scenario_and_condition(open_page: Any) -> None:
    from test_report_real import BASELINE, TREATMENTS, real_report

    p = open_page(real_report())
    assert p.errors == []
    headers = p.page.eval_on_selector_all(
        "table.explorer thead th", "ths => ths.map(t => t.textContent)"
    )
    assert headers[1:] == [BASELINE, *TREATMENTS]
    # real answers are long: a page stops at 200,000 characters of text, so walk the pages
    seen, texts = _visible_ids(p.page), p.page.locator("td.cell pre.text").count()
    while not p.page.is_disabled("#f-next"):
        p.page.click("#f-next")
        seen += _visible_ids(p.page)
        texts += p.page.locator("td.cell pre.text").count()
    assert len(seen) == len(set(seen)) == 76
    assert texts == 76 * 3
    p.page.select_option("#f-category", label="Evading Shutdown")
    assert p.page.text_content("#f-count") == "20 of 76 scenarios shown"


def test_explorer_rows_are_built_from_the_compressed_block(report: Path, open_page: Any) -> None:
    html = report.read_text(encoding="utf-8")
    assert '<tr class="scenario"' not in html  # no row is written as markup
    responses = read_page(html).responses
    p = open_page(report)
    assert p.page.get_attribute("#explorer-rows", "data-state") == "ready"
    assert _visible_ids(p.page) == list(dict.fromkeys(r["scenario"] for r in responses))
    # every response text, in table order (condition columns left to right), verbatim as text
    shown = p.page.eval_on_selector_all(
        "tr.scenario",
        "rows => rows.flatMap(r => [...r.querySelectorAll('pre.text')].map(e => e.textContent))",
    )
    assert shown == [r["text"] for r in responses]
    labels = p.page.inner_text("tr.scenario[data-scenario='scenario-01'] ul.labels")
    assert "kw [engagement]: engagement refusal;" in labels
    assert "llm (rubric-v1) [IC, reasoning]: IC no;" in labels
    assert p.page.evaluate("typeof window.__pwned") == "undefined"
    assert p.errors == []


def test_explorer_pages_many_responses_and_never_builds_them_all(
    tmp_path: Path, open_page: Any
) -> None:
    base, treat = "Baseline (adversarial only)", "Ethics prompt"
    records = simulate_records(60, 5, seed=3)  # 600 responses: more than one page of 400
    analysis = analyze_records(records, baseline=base, treatments=[treat], n_boot=20)
    p = open_page(build_report(analysis, records, tmp_path / "r", figure_formats=()))
    assert p.page.text_content("#f-count") == "60 of 60 scenarios shown"
    assert p.page.text_content("#f-page") == "page 1 of 2 (scenarios 1–40)"
    first = _visible_ids(p.page)
    assert len(first) == 40 and p.page.locator("div.response").count() == 400
    p.page.click("#f-next")
    assert p.page.text_content("#f-page") == "page 2 of 2 (scenarios 41–60)"
    second = _visible_ids(p.page)
    assert len(second) == 20 and not set(first) & set(second)
    assert p.page.is_disabled("#f-next") and not p.page.is_disabled("#f-prev")
    # a filter starts again on its first page
    p.page.select_option("#f-transition", index=1)
    assert p.page.text_content("#f-page").startswith("page 1 of ")
    assert p.errors == []


def test_a_browser_without_decompression_says_so_instead_of_failing(
    report: Path, browser: Any
) -> None:
    ctx = browser.new_context()
    try:
        ctx.add_init_script("delete window.DecompressionStream;")
        page = ctx.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.goto(report.resolve().as_uri())
        page.wait_for_function(EXPLORER_SETTLED)
        assert page.get_attribute("#explorer-rows", "data-state") == "error"
        assert "cannot unpack the transcripts" in page.inner_text("#explorer-status")
        assert errors == []
    finally:
        ctx.close()
