"""Writing an analysis: its JSON (with provenance) and, when asked, the HTML report beside it.

The ``analyze`` and ``run`` verbs both end here, so the files a study leaves behind are written one
way whichever verb made them; with several models, each model's files and the cross-model
comparison are written here too (the CLI only prints what was written).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from deconfound.errors import InputError
from deconfound.provenance import output_provenance
from deconfound.records.io import atomic_write_text, read_records
from deconfound.stats.analysis import analyze_records
from deconfound.stats.results import Analysis

if TYPE_CHECKING:
    from deconfound.stats.cross_model import CrossModel


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


def file_slug(text: str, empty: str = "model") -> str:
    """A model or condition name as a file-name part (``empty`` when nothing usable is left)."""
    return "".join(ch if ch.isalnum() or ch in "._-" else "-" for ch in text).strip("-") or empty


def write_model_analyses(
    table: Any,
    models: Sequence[str],
    *,
    records: Path,
    baseline: str,
    treatments: Sequence[str],
    json_out: Path,
    report_dir: Path | None,
    options: Mapping[str, Any],
) -> list[tuple[CrossModel, Path | None]]:
    """Analyse each model on its own, then compare every treatment's effects across models.

    Writes ``OUT.<model>.json`` per model (and its report under ``report_dir/<model>``), the
    cross-model index at ``json_out`` and, with ``report_dir``, one cross-model page per
    treatment. Returns each treatment's cross-model comparison and its page (None without a
    report folder).

    Args:
        table: The records table.
        models: Models to analyse (each must be in the table).
        records: The records file (provenance of every per-model analysis).
        baseline: Baseline condition.
        treatments: Treatment conditions.
        json_out: The cross-model index file (``.json``); per-model files go beside it.
        report_dir: Folder of the per-model reports and cross-model pages, or None.
        options: Further ``analyze_records`` keyword arguments (``partial_as`` is required).
    """
    from deconfound.report.cross_model import write_cross_model_page
    from deconfound.stats.cross_model import CROSS_MODEL_VERSION, CrossModelIndex, cross_model

    if json_out.suffix.lower() != ".json":
        raise InputError("the --json output must be a .json file", path=json_out)
    slugs = {m: file_slug(m) for m in models}
    if len(set(slugs.values())) != len(slugs):
        raise InputError("two models have the same file-name form", field="model")
    analyses = []
    files: dict[str, str] = {}
    links: dict[str, str] = {}
    for m in models:
        analysis = analyze_records(
            table, baseline=baseline, treatments=list(treatments), model=m, **options
        )
        out = json_out.with_name(f"{json_out.stem}.{slugs[m]}.json")
        written, html = write_analysis(
            analysis,
            table,
            {"records": records},
            json_out=out,
            report_dir=report_dir / slugs[m] if report_dir is not None else None,
        )
        analyses.append(written)
        files[m] = out.name
        if html is not None and report_dir is not None:
            links[m] = html.relative_to(report_dir).as_posix()
    comparisons = [
        cross_model(table, analyses, treatment=t, partial_as=options["partial_as"])
        for t in treatments
    ]
    atomic_write_text(json_out, CrossModelIndex(CROSS_MODEL_VERSION, files, comparisons).dumps())
    return [
        (
            cm,
            write_cross_model_page(
                cm,
                report_dir / f"cross-model-{file_slug(cm.treatment)}",
                model_reports={k: f"../{v}" for k, v in links.items()},
            )
            if report_dir is not None
            else None,
        )
        for cm in comparisons
    ]


@dataclass(frozen=True)
class RunAnalysis:
    """One model's analysis after ``deconfound run``: the files written, or why there are none.

    Args:
        model: The model.
        analysis: The analysis as written (None when it could not be made; ``error`` says why).
        json_path: Where its analysis JSON goes.
        html: Its report, when written.
        smoke: The model is a smoke model (a plumbing check, not a finding).
        error: Why there is no analysis.
    """

    model: str
    analysis: Analysis | None
    json_path: Path
    html: Path | None
    smoke: bool
    error: str | None = None


def write_run_analyses(
    records_path: Path, log_dir: Path, *, baseline: str, treatments: Sequence[str]
) -> list[RunAnalysis]:
    """Analyse a finished run's records per model and write each analysis and report into
    ``log_dir`` (``analysis.json``/``report``, suffixed ``-<model>`` when there are several).

    An input error (e.g. nothing valid to count) is kept as that model's ``error``, never raised:
    the run's records are already written and must not be undone by a failed analysis.
    """
    table = read_records(records_path)
    models = sorted(str(m) for m in table["model"].dropna().unique())
    smoke = set(
        str(m) for m in table.loc[table["smoke_model"].fillna(False).astype(bool), "model"].unique()
    )
    out = []
    for model in models:
        # no fallback name here: a run has always named these files this way
        suffix = "" if len(models) == 1 else "-" + file_slug(model, empty="")
        json_out = log_dir / f"analysis{suffix}.json"
        try:
            analysis = analyze_records(
                table, baseline=baseline, treatments=list(treatments), model=model
            )
            written, html = write_analysis(
                analysis,
                table,
                {"records": records_path},
                json_out=json_out,
                report_dir=log_dir / f"report{suffix}",
            )
        except InputError as exc:
            out.append(RunAnalysis(model, None, json_out, None, model in smoke, str(exc)))
            continue
        out.append(RunAnalysis(model, written, json_out, html, model in smoke))
    return out
