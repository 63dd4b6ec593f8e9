"""The blind labelling page in headless Chromium: keyboard labelling, progress that survives a
reload, an export that round-trips into the analysis, and nothing that reveals a condition."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from label_fixtures import CONDITIONS, JUDGES, label_records
from typer.testing import CliRunner

from deconfound.cli import app
from deconfound.records import write_records
from deconfound.records.labelkey import read_label_key

pytestmark = pytest.mark.browser
runner = CliRunner()


@pytest.fixture(scope="module")
def study(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    out = tmp_path_factory.mktemp("label-page")
    records = out / "records.parquet"
    write_records(label_records(), records)
    page = out / "labels.html"
    res = runner.invoke(app, ["label", str(records), "-o", str(page), "--n", "40", "--seed", "5"])
    assert res.exit_code == 0, res.output
    return records, page


def test_page_loads_clean_and_reveals_no_condition(
    study: tuple[Path, Path], open_page: Any
) -> None:
    _, page = study
    p = open_page(page)
    assert p.errors == []
    assert [u for u in p.requests if not u.startswith(("file:", "data:"))] == []
    html = p.page.content()
    for secret in (*CONDITIONS, *JUDGES):
        assert secret not in html
    assert p.page.text_content("#position") == "Item 1 of 40"
    assert p.page.evaluate("typeof window.__pwned") == "undefined"


def test_label_ten_by_keyboard_reload_export_and_analyze(
    study: tuple[Path, Path], open_page: Any, tmp_path: Path
) -> None:
    records, page = study
    p = open_page(page)
    answers = []
    for i in range(10):
        eng = "r" if i % 3 == 0 else "e"
        p.page.keyboard.press(eng)
        if eng == "e":
            p.page.keyboard.press("y" if i % 4 == 1 else "n")
        answers.append(eng)
        p.page.keyboard.press("j")
    assert p.page.text_content("#progress") == "10 labelled"
    p.page.reload()
    p.page.wait_for_load_state("load")
    assert p.page.text_content("#progress") == "10 labelled"
    assert p.page.text_content("#position") == "Item 11 of 40"
    p.page.keyboard.press("k")  # back to item 10: its label is shown as pressed
    pressed = p.page.eval_on_selector_all(
        "button.choice[aria-pressed='true']", "bs => bs.map(b => b.dataset.value)"
    )
    assert pressed == ["refusal"]  # item 10 (i = 9) was labelled "r"
    with p.page.expect_download() as info:
        p.page.keyboard.press("x")
    export = page.parent / info.value.suggested_filename
    info.value.save_as(export)
    assert export.name == "labels-gold.csv"
    gold = pd.read_csv(export, dtype=str, keep_default_na=False)
    assert len(gold) == 10
    key = read_label_key(page.with_name("labels.key.csv"))
    assert set(gold["item"]) <= set(key["item"])
    assert gold["engagement"].tolist() == ["refusal" if a == "r" else "engaged" for a in answers]
    out = tmp_path / "analysis.json"
    res = runner.invoke(
        app,
        [
            "analyze",
            str(records),
            "--baseline",
            CONDITIONS[0],
            "--treatment",
            CONDITIONS[1],
            "--gold",
            str(export),
            "--bootstrap",
            "200",
            "--json",
            str(out),
        ],
    )
    assert res.exit_code == 0, res.output
    analysis = json.loads(out.read_text(encoding="utf-8"))
    assert analysis["gold"]["n"] == 10
    assert set(analysis["gold"]["by_condition"]) == set(CONDITIONS)
