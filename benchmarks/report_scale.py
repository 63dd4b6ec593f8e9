"""Scale benchmark: time and size of the HTML report as the number of responses grows.

Each size is a simulated records table (two conditions, two judges, five epochs; scenarios grow
with the size). Its analysis (200 bootstrap replicates) is computed first and not timed;
``report_seconds`` is ``build_report`` (figures, tables, transcript explorer, the page), the work
of ``deconfound report``; ``html_mb`` is the size of the written page. ``load`` is the 1-minute
load average when the size finished (2 cores are shared, so timings move with it).

The largest page is then opened in headless Chromium (Debian's, through Playwright, skipped with
a note when either is missing): ``first_rows_ms`` is when the explorer's first page of rows was
built (its ``explorer-ready`` performance mark, from navigation start) and ``load_task_ms`` the
longest main-thread task until then (parsing the page, unpacking the index and the first page's
chunks); ``all_unpacked_ms`` is when every chunk was unpacked (``explorer-loaded``) and
``unpack_task_ms`` the longest task in between. Then a search over every response, a page turn
and a category filter are each timed from the input event until the explorer shows its answer
(``search_ms`` ...; a search answers in slices of ~40 ms) and ``longest_task_ms`` is the longest
task after everything was unpacked. ``responsive=yes`` when no main-thread task after the first
rows took 200 ms or more (a task blocks every input; 200 ms is the "good" bound of Interaction to
Next Paint). Prints measured numbers only and writes them to benchmarks/report_scale.txt (or
--out); the last line repeats the largest size as ``responses=<n> report_seconds=<s>
html_mb=<m>``.

With ``--real-text N`` one more study of N responses is reported whose texts are slices of the
published Sonnet 4.5 InstrumentalEval responses (../shared/data/aei-elessan, lengths drawn from
theirs): every response distinct and as compressible as real prose, where the simulated texts
are one repeated word. Its lines say ``text=aei-slices``; the last line stays the simulated one.

Usage: python benchmarks/report_scale.py [--sizes 12500 25000 50000 100000] [--no-browser]
           [--real-text 100000]
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from deconfound.report import build_report
from deconfound.report.chromium import CHROMIUM, CHROMIUM_ARGS
from deconfound.stats import analyze_records, simulate_records

EPOCHS = 5
CONDITIONS = 2
BASE, TREAT = "Baseline (adversarial only)", "Ethics prompt"
#: No main-thread task this long after the first rows: responsive (INP's "good" threshold).
RESPONSIVE_MS = 200

#: Runs before the page's own script: records every long task (> 50 ms) the page produces.
_OBSERVE = """
window.__tasks = [];
new PerformanceObserver(function (list) {
  list.getEntries().forEach(function (e) { window.__tasks.push([e.startTime, e.duration]); });
}).observe({ type: "longtask", buffered: true });
"""
#: Times one input event until the explorer shows its answer (a search may answer in slices).
_TIMED = """async ([selector, kind, value]) => {
  const node = document.querySelector(selector);
  const busy = () => document.getElementById("f-count").textContent.startsWith("searching")
    || document.getElementById("f-page").textContent === "unpacking…";
  const t0 = performance.now();
  if (kind === "click") { node.click(); }
  else { node.value = value; node.dispatchEvent(new Event(kind)); }
  while (busy()) { await new Promise((done) => setTimeout(done, 5)); }
  return performance.now() - t0;
}"""


def _load() -> str:
    return f"{os.getloadavg()[0]:.2f}"


def browser_line(page_path: Path, responses: int, tag: str = "") -> str:
    """Open the page headless and time its explorer; a ``browser ...`` line of measured values."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        return "browser skipped: playwright is not installed"
    if not CHROMIUM.exists():
        return f"browser skipped: {CHROMIUM} is missing"
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=list(CHROMIUM_ARGS))
        try:
            page = browser.new_page(viewport={"width": 1300, "height": 900})
            page.add_init_script(_OBSERVE)
            page.goto(page_path.resolve().as_uri(), timeout=120_000)
            page.wait_for_function(
                "() => { const t = document.getElementById('explorer-rows');"
                " return t.dataset.loaded === 'all' || t.dataset.state === 'error'; }",
                timeout=300_000,
            )
            state = page.get_attribute("#explorer-rows", "data-state")
            ready, unpacked = page.evaluate(
                "() => ['explorer-ready', 'explorer-loaded'].map("
                "n => performance.getEntriesByName(n)[0].startTime)"
            )
            rows = page.locator("tr.scenario").count()
            last_id = page.evaluate(
                "() => { const r = document.querySelectorAll('tr.scenario');"
                " return r[r.length - 1].dataset.scenario; }"
            )
            timed: dict[str, Any] = {
                "search_ms": page.evaluate(_TIMED, ["#f-search", "input", last_id]),
                "search_shown": page.text_content("#f-count"),
            }
            page.evaluate(_TIMED, ["#f-search", "input", ""])
            timed["page_ms"] = page.evaluate(_TIMED, ["#f-next", "click", ""])
            category = page.eval_on_selector("#f-category option:nth-child(2)", "o => o.value")
            timed["filter_ms"] = page.evaluate(_TIMED, ["#f-category", "change", category])
            page.wait_for_timeout(500)  # let the observer deliver the last entries
            tasks: list[list[float]] = page.evaluate("() => window.__tasks")
        finally:
            browser.close()
    during = [d for start, d in tasks if start <= ready]
    unpacking = [d for start, d in tasks if ready < start <= unpacked]
    after = [d for start, d in tasks if start > unpacked]
    responsive = state == "ready" and max(unpacking + after, default=0) < RESPONSIVE_MS
    return (
        f"browser{tag} responses={responses} state={state} first_rows_ms={ready:.0f} "
        f"rows_built={rows} load_task_ms={max(during, default=0):.0f} "
        f"all_unpacked_ms={unpacked:.0f} unpack_task_ms={max(unpacking, default=0):.0f} "
        f"search_ms={timed['search_ms']:.0f} page_ms={timed['page_ms']:.0f} "
        f"filter_ms={timed['filter_ms']:.0f} longest_task_ms={max(after, default=0):.0f} "
        f"responsive={'yes' if responsive else 'no'} load={_load()}"
    )


AEI_SONNET = Path(__file__).resolve().parents[2] / "shared" / "data" / "aei-elessan" / "sonnet-4.5"


def with_real_text(table: pd.DataFrame, seed: int) -> pd.DataFrame:
    """The table with each response's text a slice of the published Sonnet 4.5 responses.

    Slices start anywhere in their concatenation and are as long as a randomly drawn real
    response, so no two responses share a text and gzip sees prose, not one repeated word.
    """
    from deconfound.records.importers import IMPORTERS

    real = IMPORTERS["aei"]([AEI_SONNET])
    texts = real.drop_duplicates(["scenario_id", "condition", "epoch"])["response"].dropna()
    corpus = "\n\n".join(texts.astype(str))
    lengths = texts.astype(str).str.len().to_numpy()
    keys = table[["scenario_id", "condition", "epoch"]].drop_duplicates()
    rng = np.random.default_rng(seed)
    size = rng.choice(lengths, len(keys))
    start = rng.integers(0, len(corpus) - lengths.max(), len(keys))
    keys = keys.assign(response=[corpus[a : a + n] for a, n in zip(start, size, strict=True)])
    merged = table.drop(columns="response").merge(keys, on=["scenario_id", "condition", "epoch"])
    return merged[table.columns]


def report_line(table: pd.DataFrame, out: Path, tag: str = "") -> tuple[str, str, Path, int]:
    """Analyse (untimed), build the report (timed): the size's line, its last line, page, n."""
    analysis = analyze_records(table, baseline=BASE, treatments=[TREAT], n_boot=200, seed=1)
    t0 = time.perf_counter()
    page = build_report(analysis, table, out, figure_formats=("svg",))
    seconds = time.perf_counter() - t0
    mb = page.stat().st_size / 2**20
    n = len(table.drop_duplicates(["scenario_id", "condition", "epoch"]))
    line = (
        f"responses={n}{tag} rows={len(table)} scenarios={table['scenario_id'].nunique()} "
        f"report_seconds={seconds:.2f} html_mb={mb:.1f} load={_load()}"
    )
    return line, f"responses={n} report_seconds={seconds:.2f} html_mb={mb:.1f}", page, n


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[12500, 25000, 50000, 100000])
    ap.add_argument("--out", type=Path, default=Path(__file__).with_name("report_scale.txt"))
    ap.add_argument("--no-browser", action="store_true", help="skip opening the largest page")
    ap.add_argument("--real-text", type=int, metavar="N", help="also N responses of real prose")
    args = ap.parse_args()
    lines = [f"cpus={os.cpu_count()} epochs={EPOCHS} conditions={CONDITIONS} judges=2"]
    print(lines[0], flush=True)
    last = ""
    with tempfile.TemporaryDirectory() as tmp:
        largest: tuple[Path, int] | None = None
        for responses in args.sizes:
            n_scen = max(2, responses // (EPOCHS * CONDITIONS))
            table = simulate_records(n_scen, EPOCHS, seed=responses)
            line, last, page, n = report_line(table, Path(tmp) / str(responses))
            print(line, flush=True)
            lines.append(line)
            if largest is None or n > largest[1]:
                largest = (page, n)
        if largest is not None and not args.no_browser:
            lines.append(browser_line(*largest))
            print(lines[-1], flush=True)
        if args.real_text:
            n_scen = max(2, args.real_text // (EPOCHS * CONDITIONS))
            table = with_real_text(simulate_records(n_scen, EPOCHS, seed=args.real_text), seed=1)
            line, _, page, n = report_line(table, Path(tmp) / "real", " text=aei-slices")
            lines.append(line)
            print(line, flush=True)
            if not args.no_browser:
                lines.append(browser_line(page, n, " text=aei-slices"))
                print(lines[-1], flush=True)
    lines.append(last)
    print(last)
    args.out.write_text("\n".join(lines) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
