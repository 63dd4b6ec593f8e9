"""Regenerate the README screenshot of a deconfound report (docs/report.png by default).

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

ROOT = Path(__file__).resolve().parents[1]
AEI_SONNET = ROOT.parent / "shared" / "data" / "aei-elessan" / "sonnet-4.5"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def build_real_report(work: Path) -> Path:
    """import --format aei -> analyze -> report, with the project's own CLI."""
    cli = [sys.executable, "-m", "deconfound"]
    records = work / "records.parquet"
    analysis = work / "analysis.json"
    out = work / "report"
    subprocess.run(
        [*cli, "import", "--format", "aei", str(AEI_SONNET), "-o", str(records)], check=True
    )
    subprocess.run([*cli, "analyze", str(records), "--json", str(analysis)], check=True)
    subprocess.run(
        [*cli, "report", str(analysis), "--records", str(records), "-o", str(out)], check=True
    )
    return out / "report.html"


def screenshot(html: Path, png: Path, *, width: int, height: int, scroll_to: str | None) -> None:
    """Open ``html`` in headless Chromium and save a ``width`` x ``height`` screenshot."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": width, "height": height}, device_scale_factor=1)
        page.goto(html.resolve().as_uri())
        if scroll_to:
            page.locator(scroll_to).first.scroll_into_view_if_needed()
        png.parent.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(png), full_page=False)
        browser.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--html", type=Path, help="an existing report.html (default: build one)")
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "report.png")
    parser.add_argument("--width", type=int, default=1400)
    parser.add_argument("--height", type=int, default=1500)
    parser.add_argument("--scroll-to", default=None, help="CSS selector to scroll into view")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        html = args.html or build_real_report(Path(tmp))
        screenshot(html, args.out, width=args.width, height=args.height, scroll_to=args.scroll_to)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
