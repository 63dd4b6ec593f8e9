"""Refusal-controlled statistics: pure functions on arrays and records, returning result objects.

The unit of inference is the scenario; every interval is scenario-clustered. See
``docs``/statistics.md for the estimands, and docs/contract.md for the typed analysis result
(``Analysis`` and its parts, with ``to_json`` / ``from_json``).
"""

from deconfound.stats.aggregate import ArmAggregate, aggregate_bounds
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

__all__ = [
    "SCHEMA_VERSION",
    "Analysis",
    "ArmAggregate",
    "BothEngaged",
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
    "analyze_records",
    "bonett_price_interval",
    "cluster_weights",
    "clustered_ratio",
    "decompose",
    "defier_bounds",
    "imbens_manski_interval",
    "label_strata",
    "lee_bounds",
    "manski_bounds",
    "mcnemar_mde",
    "mcnemar_midp",
    "mcnemar_sample_size",
    "paired_mde",
    "paired_mde_binary",
    "paired_ratio_difference",
    "percentile_interval",
    "plan_gold_sample",
    "ppi_paired_difference",
    "ppi_ratio",
    "response_states",
    "rogan_gladen",
    "rogan_gladen_bootstrap",
    "rogan_gladen_replicates",
    "scenario_counts",
    "scenario_lee_bounds",
    "select_judges",
    "sign_flip_test",
    "stratified_sample",
    "tipping_point",
    "unpaired_mde",
    "unpaired_power",
    "wilson_interval",
]
