"""Refusal-controlled statistics: pure functions on arrays and records, returning result objects.

The unit of inference is the scenario; every interval is scenario-clustered. See
``docs``/statistics.md for the estimands, and docs/contract.md for the typed analysis result
(``Analysis`` and its parts, with ``to_json`` / ``from_json``).
"""

from deconfound.stats.aggregate import ArmAggregate, aggregate_bounds, denominator_warnings
from deconfound.stats.agreement import (
    AgreementResult,
    agreement,
    cohen_kappa,
    confusion_matrix,
    gwet_ac1,
    krippendorff_alpha,
    pabak,
    percent_agreement,
    prevalence,
    sensitivity_specificity,
)
from deconfound.stats.analysis import analyze_records
from deconfound.stats.bootstrap import cluster_weights, percentile_interval
from deconfound.stats.bounds import (
    Decomposition,
    LeeBounds,
    ScenarioBounds,
    TippingPoint,
    decompose,
    defier_bounds,
    imbens_manski_interval,
    lee_bounds,
    manski_bounds,
    scenario_lee_bounds,
    tipping_point,
)
from deconfound.stats.calibration import Calibration, CalibrationError, JudgeRates
from deconfound.stats.contract import ContractError
from deconfound.stats.correction import (
    RoganGladenResult,
    rogan_gladen,
    rogan_gladen_bootstrap,
    rogan_gladen_replicates,
)
from deconfound.stats.intervals import (
    ClusteredRatio,
    ConfidenceInterval,
    PairedDifference,
    clustered_ratio,
    paired_ratio_difference,
    wilson_interval,
)
from deconfound.stats.judge_agreement import AgreementReport, agreement_report
from deconfound.stats.paired import (
    McNemarResult,
    SignFlipResult,
    bonett_price_interval,
    mcnemar_midp,
    sign_flip_test,
)
from deconfound.stats.power import (
    mcnemar_mde,
    mcnemar_sample_size,
    paired_mde,
    paired_mde_binary,
    unpaired_mde,
    unpaired_power,
)
from deconfound.stats.ppi import PPIArm, PPIResult, ppi_paired_difference, ppi_ratio
from deconfound.stats.prepare import JudgeChoice, response_states, scenario_counts, select_judges
from deconfound.stats.results import (
    SCHEMA_VERSION,
    Analysis,
    BothEngaged,
    Comparison,
    ConditionResult,
    Delta,
    Direction,
    Finding,
    IcAnswer,
    KindAnswer,
    Proportion,
    RefusalAnswer,
    SaceBounds,
    Verdict,
)
from deconfound.stats.sampling import (
    GoldPlan,
    StratifiedSample,
    label_strata,
    plan_gold_sample,
    stratified_sample,
)
from deconfound.stats.simulate import simulate_records

__all__ = [
    "SCHEMA_VERSION",
    "AgreementReport",
    "AgreementResult",
    "Analysis",
    "ArmAggregate",
    "BothEngaged",
    "Calibration",
    "CalibrationError",
    "ClusteredRatio",
    "Comparison",
    "ConditionResult",
    "ConfidenceInterval",
    "ContractError",
    "Decomposition",
    "Delta",
    "Direction",
    "Finding",
    "GoldPlan",
    "IcAnswer",
    "JudgeChoice",
    "JudgeRates",
    "KindAnswer",
    "LeeBounds",
    "McNemarResult",
    "PPIArm",
    "PPIResult",
    "PairedDifference",
    "Proportion",
    "RefusalAnswer",
    "RoganGladenResult",
    "SaceBounds",
    "ScenarioBounds",
    "SignFlipResult",
    "StratifiedSample",
    "TippingPoint",
    "Verdict",
    "aggregate_bounds",
    "agreement",
    "agreement_report",
    "analyze_records",
    "bonett_price_interval",
    "cluster_weights",
    "clustered_ratio",
    "cohen_kappa",
    "confusion_matrix",
    "decompose",
    "defier_bounds",
    "denominator_warnings",
    "gwet_ac1",
    "imbens_manski_interval",
    "krippendorff_alpha",
    "label_strata",
    "lee_bounds",
    "manski_bounds",
    "mcnemar_mde",
    "mcnemar_midp",
    "mcnemar_sample_size",
    "pabak",
    "paired_mde",
    "paired_mde_binary",
    "paired_ratio_difference",
    "percent_agreement",
    "percentile_interval",
    "plan_gold_sample",
    "ppi_paired_difference",
    "ppi_ratio",
    "prevalence",
    "response_states",
    "rogan_gladen",
    "rogan_gladen_bootstrap",
    "rogan_gladen_replicates",
    "scenario_counts",
    "scenario_lee_bounds",
    "select_judges",
    "sensitivity_specificity",
    "sign_flip_test",
    "simulate_records",
    "stratified_sample",
    "tipping_point",
    "unpaired_mde",
    "unpaired_power",
    "wilson_interval",
]
