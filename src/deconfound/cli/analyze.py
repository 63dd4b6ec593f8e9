"""CLI verbs: ``deconfound analyze`` (records → analysis JSON) and ``deconfound bounds``
(published aggregate numbers → what they can support)."""

from __future__ import annotations

import json
import math
import sys
from collections.abc import Callable
from enum import StrEnum
from pathlib import Path
from typing import Any

import typer
from rich.markup import escape
from rich.table import Table

from deconfound.cli._app import app, console, user_errors
from deconfound.errors import InputError
from deconfound.records.io import atomic_write_text, read_records
from deconfound.stats.aggregate import aggregate_bounds
from deconfound.stats.analysis import analyze_records


class PartialAs(StrEnum):
    """How partial refusals count."""

    engaged = "engaged"
    refusal = "refusal"


def _clean(obj: Any) -> Any:
    """Replace NaN/inf by null and numpy scalars by Python numbers, recursively."""
    if isinstance(obj, dict):
        return {str(k): _clean(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [_clean(v) for v in obj]
    if hasattr(obj, "item") and not isinstance(obj, str):
        obj = obj.item()
    if isinstance(obj, float) and not math.isfinite(obj):
        return None
    return obj


def dumps(obj: Any) -> str:
    """Strict JSON (no NaN) for analysis outputs."""
    return json.dumps(_clean(obj), indent=2, ensure_ascii=False, allow_nan=False) + "\n"


def _provenance(inputs: dict[str, Path] | None = None) -> dict[str, Any]:
    try:
        from deconfound import provenance as prov
    except ImportError:  # pragma: no cover - provenance module is optional
        return {"command_line": " ".join(sys.argv)}
    out: dict[str, Any] = {
        "package_versions": prov.package_versions(),
        "command_line": prov.command_line(),
    }
    if inputs:
        out["inputs"] = {
            k: {"path": str(p), "sha256": prov.sha256_file(p)} for k, p in inputs.items()
        }
    return out


def _pct(x: Any) -> str:
    return "-" if x is None else f"{100 * x + 0.0:.1f}%"


def _pp(x: Any) -> str:
    return "-" if x is None else f"{100 * x + 0.0:+.1f}"


def _ci(ci: Any, pp: bool = False) -> str:
    if not ci or ci[0] is None or ci[1] is None:
        return "-"
    if pp:
        return f"[{100 * ci[0]:+.1f}, {100 * ci[1]:+.1f}]"
    return f"[{100 * ci[0]:.1f}, {100 * ci[1]:.1f}]"


def _load_calibration(
    path: Path | None, ic_se: float | None, ic_sp: float | None
) -> dict[str, Any] | None:
    cal: dict[str, Any] = {}
    if path is not None:
        try:
            raw = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError as exc:
            raise InputError("no such file", path=path) from exc
        except json.JSONDecodeError as exc:
            raise InputError(
                f"not valid JSON ({exc.msg})", path=path, location=f"line {exc.lineno}"
            ) from exc
        if not isinstance(raw, dict):
            raise InputError("expected an object {judge: {label: {...}}}", path=path)
        for judge, labels in raw.items():
            if not isinstance(labels, dict):
                raise InputError("expected an object of labels", path=path, field=judge)
            for label, vals in labels.items():
                where = f"{judge}.{label}"
                if label not in ("refusal", "ic"):
                    raise InputError("label must be 'refusal' or 'ic'", path=path, field=where)
                if not isinstance(vals, dict):
                    raise InputError("expected an object", path=path, field=where)
                for key in ("sensitivity", "specificity"):
                    v = vals.get(key)
                    if not isinstance(v, int | float) or not 0 <= v <= 1:
                        raise InputError(
                            f"{key} must be a number in [0, 1]", path=path, field=f"{where}.{key}"
                        )
                if vals["sensitivity"] + vals["specificity"] <= 1:
                    raise InputError(
                        "sensitivity + specificity must exceed 1", path=path, field=where
                    )
                for key in ("n_pos", "n_neg"):
                    v = vals.get(key)
                    if v is not None and (not isinstance(v, int | float) or v <= 0):
                        raise InputError(
                            f"{key} must be a positive number", path=path, field=f"{where}.{key}"
                        )
            cal[judge] = labels
    if (ic_se is None) != (ic_sp is None):
        raise InputError("give both --ic-se and --ic-sp", field="--ic-se")
    if ic_se is not None and ic_sp is not None:
        if ic_se + ic_sp <= 1:
            raise InputError("--ic-se + --ic-sp must exceed 1", field="--ic-se")
        cal["__ic_cli__"] = {"ic": {"sensitivity": ic_se, "specificity": ic_sp}}
    return cal or None


def _summary(analysis: dict[str, Any]) -> None:
    j = analysis["judges"]
    console.print(
        f"[bold]Model[/] {escape(str(analysis['model']))} — engagement judge "
        f"[cyan]{escape(j['engagement'])}[/], IC judge [cyan]{escape(j['ic'])}[/], reasoning judge "
        f"[cyan]{escape(str(j['reasoning']))}[/]; partial counts as "
        f"{analysis['settings']['partial_as']}"
    )
    t = Table(title="Per condition (95% CI, scenario-clustered)")
    for col in (
        "condition",
        "scenarios",
        "IR",
        "refusal",
        "IC | engaged",
        "n engaged",
        "invalid",
        "conflicts",
    ):
        t.add_column(col)
    for name, c in analysis["conditions"].items():
        t.add_row(
            escape(name),
            str(c["n_scenarios"]),
            f"{_pct(c['ir']['estimate'])} {_ci(c['ir']['ci'])}",
            f"{_pct(c['refusal']['estimate'])} {_ci(c['refusal']['ci'])}",
            f"{_pct(c['ir_engaged']['estimate'])} {_ci(c['ir_engaged']['ci'])}",
            str(c["n_engaged"]),
            str(c["n_invalid"]),
            str(sum(c["conflicts"].values())),
        )
    console.print(t)
    for comp in analysis["comparisons"]:
        ct = Table(
            title=f"{escape(comp['treatment'])} vs {escape(comp['baseline'])} "
            f"({comp['n_scenarios']} paired scenarios; pp)"
        )
        ct.add_column("quantity")
        ct.add_column("estimate")
        ct.add_column("95% CI / bounds")
        ct.add_column("p")
        for label, key in (("ΔIR", "delta_ir"), ("Δrefusal", "delta_refusal")):
            d = comp[key]
            ct.add_row(
                label,
                _pp(d["estimate"]),
                _ci(d["ci"], True),
                "-" if d["p_value"] is None else f"{d['p_value']:.3g}",
            )
        be = comp["both_engaged"]
        ct.add_row(
            f"IC, engaged in both (n={be['n_scenarios']})",
            _pp(be["difference"]),
            _ci(be["ci"], True),
            "-" if be["mcnemar_p"] is None else f"{be['mcnemar_p']:.3g}",
        )
        dec = comp["decomposition"]
        ct.add_row(
            "ΔIR from refusal shift",
            _pp(dec["refusal_part"]),
            _ci(dec["refusal_part_ci"], True),
            "",
        )
        ct.add_row(
            "ΔIR from engaged behaviour",
            _pp(dec["behaviour_part"]),
            _ci(dec["behaviour_part_ci"], True),
            "",
        )
        sb = comp["sace_bounds"]
        ct.add_row("SACE bounds (pooled)", "", _ci(sb["pooled"], True), "")
        ct.add_row("  Imbens–Manski 95% CI", "", _ci(sb["ci"], True), "")
        ct.add_row("SACE bounds (scenario-level)", "", _ci(sb["scenario"], True), "")
        ct.add_row("Manski bounds", "", _ci(comp["manski_bounds"], True), "")
        ct.add_row("monotonicity violations", str(sb["monotonicity_violations"]), "", "")
        ct.add_row("tipping point", _pct(sb["tipping_point"]), "", "")
        console.print(ct)
        for key, v in comp["verdict"].items():
            console.print(
                f"[bold]{key.replace('_', ' ')}:[/] {escape(str(v['answer']))} — "
                f"{escape(v['text'])}"
            )


@app.command("analyze")
@user_errors
def analyze(
    records: Path = typer.Argument(
        ..., help="Records table (.parquet, .csv or .jsonl).", show_default=False
    ),
    baseline: str = typer.Option(..., "--baseline", help="Baseline condition (exact name)."),
    treatment: list[str] = typer.Option(
        ..., "--treatment", help="Treatment condition; repeat for several."
    ),
    json_out: Path = typer.Option(..., "--json", help="Analysis JSON to write."),
    model: str | None = typer.Option(None, "--model", help="Model (needed if several)."),
    partial_as: PartialAs = typer.Option(
        PartialAs.engaged, "--partial-as", help="Count partial refusals as engaged or refusal."
    ),
    engagement_judge: str | None = typer.Option(
        None, "--engagement-judge", help="Judge that defines engagement."
    ),
    ic_judge: str | None = typer.Option(None, "--ic-judge", help="Judge that defines IC."),
    reasoning_judge: str | None = typer.Option(
        None, "--reasoning-judge", help="Judge that defines refusal kinds and reasoning flags."
    ),
    bootstrap: int = typer.Option(
        2000, "--bootstrap", min=1, help="Scenario cluster bootstrap replicates."
    ),
    seed: int = typer.Option(0, "--seed", help="Seed for bootstrap and permutation tests."),
    calibration: Path | None = typer.Option(
        None,
        "--calibration",
        help='Judge Se/Sp JSON {"<judge>": {"refusal"|"ic": {"sensitivity", "specificity", '
        '"n_pos", "n_neg"}}} for Rogan-Gladen correction.',
    ),
    ic_se: float | None = typer.Option(None, "--ic-se", help="IC judge sensitivity."),
    ic_sp: float | None = typer.Option(None, "--ic-sp", help="IC judge specificity."),
    report: Path | None = typer.Option(None, "--report", help="Also write the HTML report here."),
) -> None:
    """Refusal-controlled analysis of one model's conditions (writes the analysis JSON)."""
    cal = _load_calibration(calibration, ic_se, ic_sp)
    build_report: Callable[..., Path] | None = None
    if report is not None:
        try:
            from deconfound.report import build_report as _build
        except ImportError as exc:
            raise InputError(
                "the report module is not available in this installation", field="--report"
            ) from exc
        build_report = _build
    table = read_records(records)
    if cal and "__ic_cli__" in cal:
        cli_ic = cal.pop("__ic_cli__")
        # applies to whichever judge ends up defining IC
        for j in table["judge"].dropna().unique():
            cal.setdefault(str(j), {}).setdefault("ic", cli_ic["ic"])
    analysis = analyze_records(
        table,
        baseline=baseline,
        treatments=treatment,
        model=model,
        partial_as=partial_as.value,
        engagement_judge=engagement_judge,
        ic_judge=ic_judge,
        reasoning_judge=reasoning_judge,
        n_boot=bootstrap,
        seed=seed,
        calibration=cal,
    )
    inputs = {"records": records}
    if calibration is not None:
        inputs["calibration"] = calibration
    _summary(analysis)
    _, html = write_analysis(
        analysis, table, inputs, json_out=json_out, report_dir=report, build=build_report
    )
    console.print(f"wrote {escape(str(json_out))}")
    if html is not None:
        console.print(f"wrote {escape(str(html))}")


def write_analysis(
    analysis: dict[str, Any],
    table: Any,
    inputs: dict[str, Path],
    *,
    json_out: Path,
    report_dir: Path | None,
    build: Callable[..., Path] | None = None,
) -> tuple[str, Path | None]:
    """Add provenance, write the analysis JSON and, with ``report_dir``, the HTML report.

    The report reads the JSON text just written (the contract), never the in-memory dict, and gets
    the study manifest when ``deconfound run`` left one beside the records (condition prompts).
    Returns the JSON text and the report path.
    """
    analysis["provenance"] = _provenance(inputs)
    text = dumps(analysis)
    atomic_write_text(json_out, text)
    if report_dir is None:
        return text, None
    if build is None:
        from deconfound.report import build_report

        build = build_report
    manifest_file = inputs["records"].parent / "manifest.json"
    manifest = None
    if manifest_file.is_file():
        loaded = json.loads(manifest_file.read_text(encoding="utf-8"))
        manifest = loaded if isinstance(loaded, dict) else None
    return text, build(json.loads(text), table, report_dir, manifest=manifest)


def _num(x: float, fmt: str, missing: str = "not identified") -> str:
    """Format a number, or say why there is none (NaN: no engaged responses, or no test)."""
    return missing if x is None or math.isnan(x) else fmt.format(x)


def _bounds_text(out: dict[str, Any]) -> str:
    """The ``bounds`` summary lines; NaN quantities print as "not identified" or "n/a"."""
    dec = out["decomposition"]
    lo, hi = out["sace_bounds"]
    clo, chi = out["sace_bounds_ci"]
    mlo, mhi = out["manski_bounds"]
    if math.isnan(lo):
        sace = f"SACE bounds: {out['sace_bounds_method']}"
        split = "split not identified (an arm has no engaged responses)"
    else:
        sace = (
            f"SACE bounds (monotonicity) [{100 * lo:+.2f}, {100 * hi:+.2f}] pp; Imbens–Manski "
            f"95% CI [{100 * clo:+.2f}, {100 * chi:+.2f}] pp"
        )
        split = (
            f"refusal shift {100 * dec['refusal_part']:+.2f} pp + engaged behaviour "
            f"{100 * dec['behaviour_part']:+.2f} pp (symmetric split)"
        )
    tip = out["tipping_point"]
    tip_text = (
        f"tipping point {100 * tip:.2f}% ({escape(out['tipping_point_stratum'])})"
        if not math.isnan(tip)
        else f"tipping point: none ({escape(out['tipping_point_stratum'])})"
    )
    mde = out["power"]["mde_unpaired"]
    mde_text = "not reachable at this n" if math.isnan(mde) else f"{100 * mde:.1f} pp"
    return (
        f"ΔIR {100 * out['delta_ir']['estimate']:+.2f} pp (unpaired p = "
        f"{_num(out['delta_ir']['p_value'], '{:.3g}', 'n/a')}) = {split}\n{sace}\n{tip_text}\n"
        f"Manski bounds [{100 * mlo:+.2f}, {100 * mhi:+.2f}] pp; unpaired MDE for IR {mde_text}"
    )


@app.command("bounds")
@user_errors
def bounds(
    baseline_ir: float = typer.Option(..., "--baseline-ir", help="Baseline IR in percent."),
    baseline_refusal: float = typer.Option(
        ..., "--baseline-refusal", help="Baseline refusal rate in percent."
    ),
    treatment_ir: float = typer.Option(..., "--treatment-ir", help="Treatment IR in percent."),
    treatment_refusal: float = typer.Option(
        ..., "--treatment-refusal", help="Treatment refusal rate in percent."
    ),
    n: int = typer.Option(..., "--n", help="Scenarios per arm."),
    json_out: Path | None = typer.Option(None, "--json", help="Write the results as JSON."),
    bootstrap: int = typer.Option(
        2000, "--bootstrap", min=10, help="Parametric bootstrap replicates for the CI."
    ),
    seed: int = typer.Option(0, "--seed", help="Bootstrap seed."),
    ic_se: float | None = typer.Option(None, "--ic-se", help="IC judge sensitivity."),
    ic_sp: float | None = typer.Option(None, "--ic-sp", help="IC judge specificity."),
) -> None:
    """What published aggregate numbers (IR and refusal per arm) can and cannot support."""
    for opt, v in (
        ("--baseline-ir", baseline_ir),
        ("--baseline-refusal", baseline_refusal),
        ("--treatment-ir", treatment_ir),
        ("--treatment-refusal", treatment_refusal),
    ):
        if not 0 <= v <= 100:
            raise InputError(f"a percentage in [0, 100] is required, got {v}", field=opt)
    if n < 2:
        raise InputError("at least 2 scenarios per arm are required", field="--n")
    if (ic_se is None) != (ic_sp is None):
        raise InputError("give both --ic-se and --ic-sp", field="--ic-se")
    if ic_se is not None and ic_sp is not None and ic_se + ic_sp <= 1:
        raise InputError("--ic-se + --ic-sp must exceed 1", field="--ic-se")
    for opt, ir, r in (
        ("--baseline-ir", baseline_ir, baseline_refusal),
        ("--treatment-ir", treatment_ir, treatment_refusal),
    ):
        if ir > 100 - r + 1e-9:
            raise InputError(f"IR {ir}% exceeds the engaged share {100 - r}%", field=opt)
    out = aggregate_bounds(
        baseline_ir / 100,
        baseline_refusal / 100,
        treatment_ir / 100,
        treatment_refusal / 100,
        n,
        n_boot=bootstrap,
        seed=seed,
        ic_sensitivity=ic_se,
        ic_specificity=ic_sp,
    )
    out["provenance"] = _provenance()
    b, t = out["baseline"], out["treatment"]
    table = Table(title=f"Aggregate-only analysis (n = {n} per arm, arms independent)")
    table.add_column("quantity")
    table.add_column("baseline")
    table.add_column("treatment")
    table.add_row("IR", _pct(b["ir"]), _pct(t["ir"]))
    table.add_row("refusal", _pct(b["refusal"]), _pct(t["refusal"]))
    table.add_row("IC | engaged", _num(b["ir_engaged"], "{:.2%}"), _num(t["ir_engaged"], "{:.2%}"))
    table.add_row("engaged n", f"{b['n_engaged']:.1f}", f"{t['n_engaged']:.1f}")
    console.print(table)
    console.print(_bounds_text(out))
    for w in out["warnings"]:
        console.print(f"[yellow]warning:[/] {escape(w)}")
    if json_out is not None:
        atomic_write_text(json_out, dumps(out))
        console.print(f"wrote {escape(str(json_out))}")
