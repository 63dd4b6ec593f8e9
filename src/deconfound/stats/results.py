"""The typed result of an analysis: frozen dataclasses from one proportion up to the whole study.

``analyze_records`` returns an :class:`Analysis`; ``Analysis.to_json()`` is the analysis JSON
(``deconfound analyze --json``) and ``Analysis.from_json()`` is the only way the report and the
CLI read one back. The JSON Schema committed beside this module (``analysis.schema.json``) is
derived from these classes (``deconfound.stats.contract.json_schema``); a test keeps the file and
the classes identical. docs/contract.md says how to add an estimand.

Field names are the JSON keys. Numbers are ``float | None``: None where the analysis could not
compute a value (an empty arm, a degenerate interval), never NaN. Intervals are ``(low, high)``
pairs. The verdict carries structured answers only; its words are rendered by the report and the
CLI (``deconfound.report.format``).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from enum import StrEnum
from importlib import resources
from typing import Any, Final

from deconfound.stats.contract import ContractError, JsonResult, json_schema, optional
from deconfound.stats.prepare import JudgeChoice

#: Version of the analysis JSON layout. Bump it when a key is renamed, removed or changes
#: meaning (adding an optional key does not need a bump); readers refuse other versions.
SCHEMA_VERSION: Final = 3

#: Where the committed schema lives (package data).
SCHEMA_FILE: Final = "analysis.schema.json"

Interval = tuple[float | None, float | None]
NO_INTERVAL: Final[Interval] = (None, None)


# --------------------------------------------------------------------------------------------
# per condition


@dataclass(frozen=True)
class Proportion:
    """A scenario-clustered proportion: pooled ratio, Wilson CI on the effective n, cluster SE."""

    estimate: float | None
    ci: Interval
    se: float | None
    n: float | None
    n_scenarios: int
    n_eff: float | None
    method: str
    definition: str | None = optional()


@dataclass(frozen=True)
class CategoryResult:
    """IR, refusal and IC among engaged within one scenario category (exploratory)."""

    ir: Proportion
    refusal: Proportion
    ir_engaged: Proportion
    n_scenarios: int


@dataclass(frozen=True)
class CategoryBreakdown:
    """Per-category figures; ``exploratory`` is always true (few scenarios per category)."""

    exploratory: bool
    categories: dict[str, CategoryResult]


@dataclass(frozen=True)
class EpochRange:
    """Fewest and most responses per scenario in a condition."""

    min: int
    max: int


@dataclass(frozen=True)
class CorrectedRate:
    """A rate corrected for judge error (Rogan–Gladen) with its interval."""

    estimate: float | None
    ci: Interval
    se: float | None
    judge: str
    method: str


@dataclass(frozen=True)
class CorrectedProduct:
    """Corrected headline IR: corrected engagement times corrected IC among engaged."""

    estimate: float | None
    method: str


@dataclass(frozen=True)
class ConditionCorrection:
    """Judge-error corrections of one condition's rates (only those with a calibration)."""

    ir_engaged: CorrectedRate | None = optional()
    refusal: CorrectedRate | None = optional()
    ir: CorrectedProduct | None = optional()


@dataclass(frozen=True)
class GoldOnlyEstimate:
    """An estimate from the gold labels alone (no judge information), inclusion-weighted."""

    estimate: float | None
    ci: Interval
    se: float | None
    n_gold: int
    method: str


@dataclass(frozen=True)
class PPIEstimate:
    """A prediction-powered (PPI++) estimate: judge labels on every response, rectified per
    condition by gold labels; ``reason`` says why it is null when it could not be computed."""

    estimate: float | None
    ci: Interval
    se: float | None
    n_gold: int
    method: str
    lambdas: list[float | None] | None = optional()
    n: int | None = optional()
    n_scenarios: int | None = optional()
    gold_only: GoldOnlyEstimate | None = optional()
    reason: str | None = optional()


@dataclass(frozen=True)
class ConditionPPI:
    """PPI++ figures of one condition (with a gold file)."""

    refusal: PPIEstimate
    partial: PPIEstimate
    ir: PPIEstimate
    ir_engaged: PPIEstimate


@dataclass(frozen=True)
class LabelCoverage:
    """How many responses the reasoning judge labelled among those a figure is about."""

    judge: str | None
    labelled: int
    total: int
    share: float | None
    measured: bool


@dataclass(frozen=True)
class ConstructRates:
    """A condition's refusal rate and IC among engaged under one refusal construct."""

    refusal: Proportion
    ir_engaged: Proportion
    n_valid: int
    n_engaged: int
    n_invalid: int


@dataclass(frozen=True)
class ConditionConstructs:
    """A condition's figures under the codebook's broad and narrow refusal constructs.

    Broad: engagement as the engagement judge labelled it (partials per ``settings.partial_as``).
    Narrow: only refusals and partials with ``in_role`` false are refusals; in-role declines count
    as engagement. ``narrow`` is null, and ``note`` says why, when the engagement judge gives no
    ``in_role`` labels: the narrow figures are then not measured, never copied from the broad.
    """

    broad: ConstructRates
    narrow: ConstructRates | None
    narrow_measured: bool
    in_role_judge: str
    note: str | None = optional()


@dataclass(frozen=True)
class ConditionResult:
    """Everything the analysis says about one condition of one model."""

    ir: Proportion
    refusal: Proportion
    partial: Proportion
    engaged: Proportion
    ir_engaged: Proportion
    ir_benchmark: Proportion
    n_scenarios: int
    n_scenarios_total: int
    n_responses: int
    n_valid: int
    n_engaged: int
    n_invalid: int
    invalid_reasons: dict[str, int]
    conflicts: dict[str, int]
    epochs: EpochRange
    n_mixed_engagement_scenarios: int
    by_category: CategoryBreakdown
    refusal_kinds: dict[str, Proportion]
    refusal_kinds_n: int
    reasoning_flags: dict[str, Proportion]
    judge_correction: ConditionCorrection | None = optional()
    refusal_kinds_coverage: LabelCoverage | None = optional()
    reasoning_flags_coverage: LabelCoverage | None = optional()
    ppi: ConditionPPI | None = optional()
    constructs: ConditionConstructs | None = optional()


# --------------------------------------------------------------------------------------------
# per comparison


@dataclass(frozen=True)
class Delta:
    """A paired difference treatment − baseline over scenarios, with its test."""

    estimate: float | None
    ci: Interval
    p_value: float | None
    se: float | None
    ci_bootstrap: Interval
    correlation: float | None
    n_scenarios: int
    method: str
    test: str
    note: str | None = optional()


@dataclass(frozen=True)
class Discordant:
    """Discordant scenario counts of a one-response-per-arm paired table."""

    baseline_only_ic: int
    treatment_only_ic: int


@dataclass(frozen=True)
class BothEngaged:
    """IC difference on the scenarios engaged under both conditions."""

    n_scenarios: int
    n_mixed_engagement_scenarios: int
    baseline_ic: float | None
    treatment_ic: float | None
    difference: float | None
    ci: Interval
    mcnemar_p: float | None
    mcnemar_exact_p: float | None = optional()
    discordant: Discordant | None = optional()
    test: str | None = optional()
    method: str = ""
    caveat: str | None = optional()


@dataclass(frozen=True)
class SplitPart:
    """One order of the ΔIR decomposition."""

    refusal_part: float | None
    behaviour_part: float | None


@dataclass(frozen=True)
class DecompositionResult:
    """Kitagawa/Shapley split of ΔIR with bootstrap CIs and both sequential orders."""

    total: float | None
    refusal_part: float | None
    behaviour_part: float | None
    refusal_part_ci: Interval
    behaviour_part_ci: Interval
    order_a: SplitPart
    order_b: SplitPart
    method: str


@dataclass(frozen=True)
class BoundErrors:
    """Bootstrap standard errors of the lower and upper bound."""

    lower: float | None
    upper: float | None


@dataclass(frozen=True)
class TrimmedStratum:
    """What the paired data say about the trimmed stratum's IC rate."""

    n_scenarios: int
    estimate: float | None
    ci: Interval
    below_tipping_point: bool | None
    method: str | None = optional()


@dataclass(frozen=True)
class DefierBound:
    """SACE bounds when up to ``max_defier_share`` of slots violate monotonicity."""

    max_defier_share: float
    bounds: Interval


@dataclass(frozen=True)
class SaceBounds:
    """Bounds on the effect among always-engagers (pooled and scenario-level) and their checks."""

    pooled: Interval
    scenario: Interval
    ci: Interval
    scenario_ci: Interval
    ci_method: str
    critical_value: float | None
    se: BoundErrors
    union_ci: Interval
    principal_ignorability: float | None
    scenario_principal_ignorability: float | None
    always_engaged_share: float | None
    scenario_weight: float | None
    n_scenarios_scenario_bounds: int
    trimmed_arm: str
    trimming_share: float | None
    monotonicity_violations: int
    monotonicity_violation_scenarios: list[str]
    monotonicity_direction: str
    tipping_point: float | None
    tipping_point_stratum: str
    tipping_point_sign_identified: bool
    trimmed_stratum_ic: TrimmedStratum
    defier_sensitivity: list[DefierBound]
    method: str


@dataclass(frozen=True)
class Power:
    """Minimum detectable effects and observed power for the comparison."""

    mde_paired: float | None
    sd_scenario_difference: float | None
    mde_unpaired: float | None
    power_observed_delta_ir_unpaired: float | None
    alpha: float
    target_power: float
    method: str
    discordant_share: float | None = optional()
    mde_mcnemar: float | None = optional(with_field="discordant_share")


@dataclass(frozen=True)
class Shift:
    """Change of one refusal kind's or reasoning flag's share between conditions."""

    baseline: float | None
    treatment: float | None
    estimate: float | None
    ci: Interval
    p_value: float | None
    n_scenarios: int | None = optional()
    test: str = ""
    p_holm: float | None = optional()


@dataclass(frozen=True)
class ReasoningShift:
    """Refusal-kind and reasoning-flag shifts, Holm-adjusted within each family."""

    refusal_kinds: dict[str, Shift]
    reasoning_flags: dict[str, Shift]
    refusal_kind_transitions: dict[str, int] | None = optional()
    n_scenarios_refused_both: int = 0
    n_scenarios_engaged_both: int = 0
    method: str = ""


@dataclass(frozen=True)
class CorrectedDifference:
    """A difference before and after judge-error correction."""

    raw: float | None
    corrected: float | None
    note: str | None = optional()


@dataclass(frozen=True)
class ComparisonCorrection:
    """Judge-error corrected differences (only those with a calibration)."""

    ir_engaged_difference: CorrectedDifference | None = optional()
    refusal_difference: CorrectedDifference | None = optional()


class Finding(StrEnum):
    """What an interval or test says about a change (words in ``deconfound.report.format``)."""

    CHANGED = "changed"
    DEPENDS_ON_JUDGE = "depends_on_judge"
    NO_CLEAR_CHANGE = "no_clear_change"
    NOT_TESTED = "not_tested"
    NOT_MEASURED = "not_measured"
    SET_EXCLUDES_ZERO = "set_excludes_zero"
    NO_IC_EITHER = "no_ic_either_condition"
    CANNOT_TELL = "cannot_tell"


class Direction(StrEnum):
    """Sign of a change that an interval excludes zero for."""

    UP = "up"
    DOWN = "down"


@dataclass(frozen=True)
class RefusalAnswer:
    """Did refusal change? The paired Δrefusal test at 5%."""

    finding: Finding
    baseline_rate: float | None
    treatment_rate: float | None
    estimate: float | None
    ci: Interval
    p_value: float | None
    judges_agree: bool | None = None
    basis: str | None = optional()
    judge_estimate: float | None = optional(with_field="basis")
    judge_ci: Interval | None = optional(with_field="basis")


@dataclass(frozen=True)
class KindAnswer:
    """Did the kind of refusal change? The refusal kind with the smallest Holm p."""

    finding: Finding
    label: str | None
    estimate: float | None
    ci: Interval
    p_value: float | None
    p_holm: float | None
    n_scenarios: int
    judges_agree: bool | None = None
    not_measured_by: str | None = optional()
    labelled_share: float | None = optional(with_field="not_measured_by")


@dataclass(frozen=True)
class IcAnswer:
    """Did IC among always-engagers change? The SACE bounds and their Imbens–Manski CI."""

    finding: Finding
    direction: Direction | None
    estimate: float | None
    bounds: Interval
    scenario_bounds: Interval
    ci: Interval
    both_engaged_n: int
    both_engaged_difference: float | None
    monotonicity_violations: int
    tipping_point: float | None
    judges_agree: bool | None = None


@dataclass(frozen=True)
class Verdict:
    """Structured answers to the three questions of a comparison."""

    refusal_changed: RefusalAnswer
    refusal_kind_changed: KindAnswer
    ic_among_engagers_changed: IcAnswer


@dataclass(frozen=True)
class ComparisonPPI:
    """PPI++ paired differences of one comparison (with a gold file)."""

    delta_refusal: PPIEstimate
    delta_ir: PPIEstimate
    delta_ir_engaged: PPIEstimate


@dataclass(frozen=True)
class JudgeDelta:
    """A paired difference under one judge: estimate, CI and p value."""

    estimate: float | None
    ci: Interval
    p_value: float | None


@dataclass(frozen=True)
class JudgeBothEngaged:
    """The both-engaged IC difference under one judge."""

    difference: float | None
    ci: Interval
    n_scenarios: int | None


@dataclass(frozen=True)
class JudgeSace:
    """Pooled SACE bounds and their Imbens–Manski CI under one judge."""

    pooled: Interval
    ci: Interval


@dataclass(frozen=True)
class JudgeRunResult:
    """The comparison's main estimands with one (engagement, IC) judge pair."""

    engagement_judge: str
    ic_judge: str
    chosen: bool
    delta_refusal: JudgeDelta
    delta_ir: JudgeDelta
    both_engaged: JudgeBothEngaged
    sace_bounds: JudgeSace
    answers: dict[str, str]


@dataclass(frozen=True)
class ConstructResult:
    """A comparison's refusal and IC-among-engaged changes and its verdict under one construct."""

    delta_refusal: Delta
    delta_ir_engaged: Delta | None
    verdict: Verdict


@dataclass(frozen=True)
class ConstructsAgree:
    """Whether broad and narrow give the same answer per verdict question (null: not measured).

    Same answer means the same finding and, for a change, the same direction (refusal, IC) or the
    same refusal kind.
    """

    refusal_changed: bool | None
    refusal_kind_changed: bool | None
    ic_among_engagers_changed: bool | None


@dataclass(frozen=True)
class ComparisonConstructs:
    """A comparison under the codebook's broad and narrow refusal constructs, and whether they
    agree; ``narrow`` is null (``note`` says why) when it was not measured."""

    broad: ConstructResult
    narrow: ConstructResult | None
    narrow_measured: bool
    in_role_judge: str
    constructs_agree: ConstructsAgree
    note: str | None = optional()


@dataclass(frozen=True)
class Comparison:
    """One baseline-vs-treatment comparison over its paired scenarios."""

    baseline: str
    treatment: str
    n_scenarios: int
    n_scenarios_unpaired_dropped: int
    delta_ir: Delta
    delta_refusal: Delta
    delta_ir_engaged: Delta | None
    transitions: dict[str, int]
    transitions_basis: str
    both_engaged: BothEngaged
    decomposition: DecompositionResult
    sace_bounds: SaceBounds
    manski_bounds: Interval
    power: Power
    reasoning_shift: ReasoningShift
    judge_correction: ComparisonCorrection | None = optional()
    verdict: Verdict | None = None
    judge_sensitivity: list[JudgeRunResult] | None = optional()
    ppi: ComparisonPPI | None = optional()
    constructs: ComparisonConstructs | None = optional()


# --------------------------------------------------------------------------------------------
# whole analysis


@dataclass(frozen=True)
class HeadlineRates:
    """Pooled IR, refusal and IC among engaged under one partial convention."""

    ir: float | None
    refusal: float | None
    ir_engaged: float | None


@dataclass(frozen=True)
class PartialComparison:
    """Pooled SACE bounds and Δrefusal under one partial convention."""

    treatment: str
    sace_bounds: Interval
    delta_refusal: float | None


@dataclass(frozen=True)
class PartialVariant:
    """Headline numbers with partial refusals counted one way."""

    conditions: dict[str, HeadlineRates]
    comparisons: list[PartialComparison]


@dataclass(frozen=True)
class Settings:
    """How the analysis was computed."""

    seed: int
    bootstrap: int
    partial_as: str
    confidence: float
    permutations: int
    inference_target: str


@dataclass(frozen=True)
class GoldConditionSummary:
    """Gold labels of one condition and how the chosen judges fare on them (unweighted)."""

    n: int
    n_used: int
    engagement_accuracy: float | None
    refusal_sensitivity: float | None
    refusal_specificity: float | None
    ic_accuracy_on_engaged: float | None
    n_ic_compared: int


@dataclass(frozen=True)
class GoldSummary:
    """The gold file's rows: used, ignored (other conditions), on invalid responses."""

    n: int
    n_ignored: int
    n_on_invalid: int
    by_condition: dict[str, GoldConditionSummary]
    accuracy_note: str
    notices: list[str]


@dataclass(frozen=True)
class Analysis(JsonResult):
    """The refusal-controlled analysis of one model's conditions (the analysis JSON)."""

    schema_version: int
    model: str
    baseline: str
    treatments: list[str]
    conditions: dict[str, ConditionResult]
    comparisons: list[Comparison]
    partial_sensitivity: dict[str, PartialVariant]
    judges: JudgeChoice
    settings: Settings
    provenance: dict[str, Any] | None = optional()
    gold: GoldSummary | None = optional()

    @classmethod
    def from_json(cls, data: Any) -> Analysis:
        """Read an analysis JSON strictly; a :class:`ContractError` if it is not one of ours.

        The version check comes first, so an analysis written by another deconfound release is
        refused with a message that says so rather than with the first key that moved.
        """
        if not isinstance(data, dict):
            raise ContractError(f"an analysis is a JSON object, got {type(data).__name__}")
        version = data.get("schema_version")
        if version != SCHEMA_VERSION:
            found = "no schema_version" if version is None else f"schema_version {version!r}"
            raise ContractError(
                f"this analysis has {found}; this deconfound reads schema_version "
                f"{SCHEMA_VERSION}: re-run `deconfound analyze` to rewrite it",
                "schema_version",
            )
        return super().from_json(data)

    def dumps(self) -> str:
        """The analysis JSON text (indented, UTF-8, no NaN)."""
        return json.dumps(self.to_json(), indent=2, ensure_ascii=False, allow_nan=False) + "\n"


def analysis_schema() -> dict[str, Any]:
    """The JSON Schema of the analysis JSON, derived from :class:`Analysis`."""
    schema = json_schema(
        Analysis,
        title="deconfound analysis",
        schema_id=f"urn:deconfound:analysis:v{SCHEMA_VERSION}",
    )
    schema["$defs"]["Analysis"]["properties"]["schema_version"] = {"const": SCHEMA_VERSION}
    return schema


def committed_schema() -> dict[str, Any]:
    """The schema file shipped with the package (a test keeps it equal to analysis_schema())."""
    text = (resources.files("deconfound.stats") / SCHEMA_FILE).read_text(encoding="utf-8")
    out = json.loads(text)
    assert isinstance(out, dict)
    return out
