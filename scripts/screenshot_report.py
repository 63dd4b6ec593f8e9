"""Regenerate the screenshots of a deconfound report in docs/report.md (docs/report.png by default).

Builds the report from the imported real study (AEI Sonnet 4.5 files in ../shared/data) when the
import and analyze stages are available, or renders an existing report given with --html. Drives
Debian's headless Chromium through Playwright (never a downloaded browser).

    .venv/bin/python scripts/screenshot_report.py            # real study -> docs/report.png
    .venv/bin/python scripts/screenshot_report.py --html out/report.html --out docs/report.png
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
from pathlib import Path

from deconfound.report.chromium import CHROMIUM, CHROMIUM_ARGS

ROOT = Path(__file__).resolve().parents[1]
AEI_SONNET = ROOT.parent / "shared" / "data" / "aei-elessan" / "sonnet-4.5"
AEI_BASELINE = "Baseline (adversarial only)"
AEI_TREATMENTS = ("Prompt-only (adversarial + ethics)", "Full Elessan (adversarial + ethics + RAG)")


def build_real_report(work: Path) -> Path:
    """import --format aei -> analyze -> report, with the project's own CLI."""
    cli = [sys.executable, "-m", "deconfound.cli"]
    records = work / "records.parquet"
    analysis = work / "analysis.json"
    out = work / "report"
    subprocess.run(
        [*cli, "import", "--format", "aei", str(AEI_SONNET), "-o", str(records)], check=True
    )
    treatments = [a for t in AEI_TREATMENTS for a in ("--treatment", t)]
    subprocess.run(
        [
            *cli,
            "analyze",
            str(records),
            "--baseline",
            AEI_BASELINE,
            *treatments,
            "--json",
            str(analysis),
        ],
        check=True,
        stdout=subprocess.DEVNULL,
    )
    subprocess.run(
        [*cli, "report", str(analysis), "--records", str(records), "-o", str(out)], check=True
    )
    return out / "report.html"


def screenshot(
    html: Path, shots: list[tuple[Path, str | None]], *, width: int, height: int
) -> None:
    """Open ``html`` in headless Chromium; save a ``width`` x ``height`` screenshot per
    (png, CSS selector to scroll to the top of the window) pair."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=list(CHROMIUM_ARGS))
        page = browser.new_page(viewport={"width": width, "height": height}, device_scale_factor=1)
        page.goto(html.resolve().as_uri())
        # the explorer builds its rows from compressed data after load
        page.wait_for_function(
            "() => { const t = document.getElementById('explorer-rows');"
            " return !t || !!t.dataset.state; }"
        )
        for png, selector in shots:
            if selector:
                page.eval_on_selector(
                    selector,
                    "el => window.scrollTo(0, el.getBoundingClientRect().top + scrollY - 40)",
                )
            png.parent.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(png), full_page=False)
            print(f"wrote {png}")
        browser.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--html", type=Path, help="an existing report.html (default: build one)")
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "report.png")
    parser.add_argument("--width", type=int, default=1400)
    parser.add_argument("--height", type=int, default=1500)
    parser.add_argument(
        "--explorer-out",
        type=Path,
        default=ROOT / "docs" / "report-explorer.png",
        help="second screenshot, scrolled to the transcript explorer ('' to skip)",
    )
    args = parser.parse_args()
    shots: list[tuple[Path, str | None]] = [(args.out, None)]
    if str(args.explorer_out):
        shots.append((args.explorer_out, "#explorer"))
    with tempfile.TemporaryDirectory() as tmp:
        html = args.html or build_real_report(Path(tmp))
        screenshot(html, shots, width=args.width, height=args.height)


if __name__ == "__main__":
    main()
