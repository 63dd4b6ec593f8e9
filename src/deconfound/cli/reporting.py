"""CLI verb: report (analysis JSON + records → self-contained HTML, figures, tables)."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path
from typing import Annotated

import typer

from deconfound.cli._app import app, console, load_json, user_errors
from deconfound.errors import InputError
from deconfound.stats.contract import ContractError
from deconfound.stats.judge_agreement import AgreementReport
from deconfound.stats.results import Analysis


def records_path_from(analysis: Analysis, analysis_path: Path) -> Path | None:
    """Where the analysis' provenance says its records file is (relative to the analysis)."""
    inputs = (analysis.provenance or {}).get("inputs")
    value = inputs.get("records") if isinstance(inputs, Mapping) else None
    if isinstance(value, Mapping):
        value = value.get("path")
    if isinstance(value, str) and value:
        path = Path(value)
        return path if path.is_absolute() else analysis_path.parent / path
    return None


def load_analysis(path: Path) -> Analysis:
    """Read an analysis JSON through the typed loader; a bad key or version names the file."""
    data = load_json(path, "analysis")
    try:
        return Analysis.from_json(data)
    except ContractError as exc:
        raise InputError(f"not an analysis this deconfound can read: {exc}", path=path) from exc


def load_agreement(path: Path) -> AgreementReport:
    """Read ``deconfound agreement --json`` through its typed loader; a bad key names the file."""
    data = load_json(path, "agreement")
    try:
        return AgreementReport.from_json(data)
    except ContractError as exc:
        raise InputError(
            f"not a deconfound agreement JSON (deconfound agreement --json): {exc}", path=path
        ) from exc


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@app.command("report")
@user_errors
def report(
    analysis_file: Annotated[
        Path, typer.Argument(help="analysis JSON written by `deconfound analyze --json`")
    ],
    out: Annotated[Path, typer.Option("--out", "-o", help="output folder")],
    records: Annotated[
        Path | None,
        typer.Option(
            "--records",
            "-r",
            help="records table the analysis was computed from (default: the path the "
            "analysis records)",
        ),
    ] = None,
    manifest: Annotated[
        Path | None,
        typer.Option(
            "--manifest",
            help="study manifest JSON (condition prompts, verbatim; default: manifest.json "
            "beside the records, as `deconfound run` writes it)",
        ),
    ] = None,
    agreement: Annotated[
        Path | None,
        typer.Option("--agreement", help="judge-agreement JSON from `deconfound agreement`"),
    ] = None,
) -> None:
    """Write a self-contained HTML report with figures (PNG/SVG/PDF) and tables (CSV)."""
    from deconfound.records.io import read_records
    from deconfound.report import build_report

    analysis = load_analysis(analysis_file)
    records_file = records or records_path_from(analysis, analysis_file)
    if records_file is None:
        raise InputError(
            "no records table: pass --records (the analysis does not say where its records are)",
            path=analysis_file,
        )
    table = read_records(records_file)
    if manifest is None and (records_file.parent / "manifest.json").is_file():
        manifest = records_file.parent / "manifest.json"  # written by `deconfound run`
    manifest_data = load_json(manifest, "study manifest") if manifest else None
    if manifest_data is not None and not isinstance(manifest_data, dict):
        raise InputError("expected a JSON object (a study manifest)", path=manifest)
    agreement_data = load_agreement(agreement) if agreement else None
    inputs = {
        "analysis": f"{analysis_file} (sha256 {_sha256(analysis_file)})",
        "records": f"{records_file} (sha256 {_sha256(records_file)})",
    }
    provenance = {**(analysis.provenance or {}), "report inputs": inputs}
    html = build_report(
        replace(analysis, provenance=provenance),
        table,
        out,
        manifest=manifest_data,
        agreement=agreement_data,
    )
    console.print(f"report: {html}", highlight=False)
