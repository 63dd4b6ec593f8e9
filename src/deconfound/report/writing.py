"""Writing an analysis: its JSON (with provenance) and, when asked, the HTML report beside it.

The ``analyze`` and ``run`` verbs both end here, so the files a study leaves behind are written one
way whichever verb made them.
"""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from typing import Any

from deconfound.provenance import output_provenance
from deconfound.records.io import atomic_write_text
from deconfound.stats.results import Analysis


def write_analysis(
    analysis: Analysis,
    table: Any,
    inputs: dict[str, Path],
    *,
    json_out: Path,
    report_dir: Path | None,
) -> tuple[Analysis, Path | None]:
    """Add provenance, write the analysis JSON and, with ``report_dir``, the HTML report.

    The report reads the JSON text just written through the typed loader (the contract), never
    the in-memory object, and gets the study manifest when ``deconfound run`` left one beside the
    records (condition prompts). Returns the analysis as written and the report path.
    """
    analysis = replace(analysis, provenance=output_provenance(inputs))
    text = analysis.dumps()
    atomic_write_text(json_out, text)
    if report_dir is None:
        return analysis, None
    from deconfound.report.build import build_report

    manifest_file = inputs["records"].parent / "manifest.json"
    manifest = None
    if manifest_file.is_file():
        loaded = json.loads(manifest_file.read_text(encoding="utf-8"))
        manifest = loaded if isinstance(loaded, dict) else None
    written = Analysis.from_json(json.loads(text))
    return written, build_report(written, table, report_dir, manifest=manifest)
