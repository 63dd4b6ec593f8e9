"""The cross-model page: one comparison across models, a forest plot and the heterogeneity tests.

It draws and tabulates what :class:`deconfound.stats.cross_model.CrossModel` holds; it computes
nothing. Model names are untrusted text and are escaped; the page is self-contained (the figure
is an inlined SVG image) and links to each model's own report when there is one.
"""

from __future__ import annotations

import html
from collections.abc import Mapping, Sequence
from pathlib import Path

from deconfound.report import figures as figs
from deconfound.report.format import ci_text, p_text, pp
from deconfound.stats.cross_model import CrossModel, Heterogeneity

_STYLE = """
body { font: 15px/1.45 system-ui, sans-serif; margin: 2rem auto; max-width: 72rem;
       padding: 0 1rem; color: #1b2631; }
table { border-collapse: collapse; margin: 1rem 0; }
th, td { border-bottom: 1px solid #ddd; padding: .35rem .6rem; text-align: right; }
th:first-child, td:first-child { text-align: left; }
.smoke { color: #a04000; }
img { max-width: 100%; }
"""


def _pair(values: tuple[float | None, float | None]) -> tuple[float, float] | None:
    lo, hi = values
    return None if lo is None or hi is None else (lo, hi)


def forest_rows(cm: CrossModel) -> list[figs.ForestRow]:
    """Three lines per model: change in refusal, IC change among both-engaged, SACE bounds."""
    rows: list[figs.ForestRow] = []
    for m in cm.models:
        rows.append(
            figs.ForestRow(f"{m.model}: Δ refusal", m.delta_refusal, _pair(m.delta_refusal_ci))
        )
        rows.append(
            figs.ForestRow(
                f"{m.model}: Δ IC, both engaged",
                m.both_engaged_ic_difference,
                _pair(m.both_engaged_ic_ci),
            )
        )
        rows.append(
            figs.ForestRow(f"{m.model}: SACE bounds", None, _pair(m.sace_ci), _pair(m.sace_bounds))
        )
    return rows


def _est(point: float | None, ci: tuple[float | None, float | None]) -> str:
    """An escaped "+1.5 pp [0.2, 2.8] pp" cell."""
    return html.escape(f"{pp(point)} {ci_text(ci, points=True)}".strip())


def _test_row(name: str, t: Heterogeneity) -> str:
    stat = "n/a" if t.statistic is None else f"{t.statistic:.2f}"
    excluded = "; ".join(f"{k}: {v}" for k, v in t.excluded.items()) or "none"
    cells = [name, stat, str(t.df), p_text(t.p_value) or "n/a", str(t.n_models)]
    cells += [str(t.n_scenarios), excluded]
    return "<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in cells) + "</tr>"


def write_cross_model_page(
    cm: CrossModel,
    out_dir: Path,
    *,
    model_reports: Mapping[str, str] | None = None,
    figure_formats: Sequence[str] = ("png",),
) -> Path:
    """Write ``cross-model.html`` (and the forest plot files) into ``out_dir``.

    Args:
        cm: The cross-model result.
        out_dir: Output folder (created if missing).
        model_reports: Model -> relative link to that model's report.
        figure_formats: Extra formats of the forest plot besides the inlined SVG.
    """
    out_dir.mkdir(parents=True, exist_ok=True)
    title = f"{cm.treatment} vs {cm.baseline}, by model"
    fig = figs.save(
        figs.forest(forest_rows(cm), title),
        out_dir,
        "cross-model-forest",
        title,
        "Per model: change in refusal, change in IC among scenarios where both arms engaged, "
        "and the SACE bounds (thick bar) with their CI.",
        figure_formats,
    )
    links = dict(model_reports or {})
    body = []
    for m in cm.models:
        name = html.escape(m.model)
        if m.model in links:
            name = f'<a href="{html.escape(links[m.model], quote=True)}">{name}</a>'
        if m.smoke:
            name += ' <span class="smoke">(smoke model: plumbing only)</span>'
        lo, hi = m.sace_bounds
        cells = [
            name,
            str(m.n_scenarios),
            _est(m.delta_refusal, m.delta_refusal_ci),
            _est(m.delta_ir, m.delta_ir_ci),
            f"{_est(m.both_engaged_ic_difference, m.both_engaged_ic_ci)} (n={m.both_engaged_n})",
            f"[{html.escape(pp(lo))}, {html.escape(pp(hi))}] "
            + html.escape(ci_text(m.sace_ci, points=True)),
        ]
        body.append("<tr>" + "".join(f"<td>{c}</td>" for c in cells) + "</tr>")
    page = f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<title>{html.escape(title)}</title><style>{_STYLE}</style></head><body>
<h1>{html.escape(title)}</h1>
<p>Each model analysed on its own (scenario-clustered CIs); the tests ask whether the effect
differs between models (treatment x model interaction, scenario-clustered Wald test).</p>
<table>
<tr><th>model</th><th>scenarios</th><th>Δ refusal (95% CI)</th><th>Δ IR (95% CI)</th>
<th>Δ IC, both engaged (95% CI)</th><th>SACE bounds (95% CI)</th></tr>
{"".join(body)}
</table>
<img src="{fig.data_uri}" alt="{html.escape(fig.title, quote=True)}">
<h2>Does the effect differ between models?</h2>
<table>
<tr><th>outcome</th><th>Wald χ²</th><th>df</th><th>p</th><th>models</th><th>scenarios</th>
<th>excluded</th></tr>
{_test_row("refusal", cm.refusal)}
{_test_row("IC among engaged", cm.ic_engaged)}
</table>
<p>{html.escape(cm.refusal.method)}. Scenarios weigh equally; with few scenarios the chi-square
reference is optimistic, so read the test as a screen and the per-model rows as the findings.</p>
</body></html>
"""
    path = out_dir / "cross-model.html"
    path.write_text(page, encoding="utf-8")
    return path
