"""Label vocabularies shared by importers, judges, statistics and the report.

A label value outside these sets is a bug or bad input, never silently coerced.
"""

from __future__ import annotations

from typing import Final, Literal

#: The labelling codebook every label follows (docs/codebook.md). Judges put it in their version
#: string, so a label made under another codebook is never taken (or served from a cache) for one
#: made under this one.
CODEBOOK_VERSION: Final = "codebook-1"

#: Key in ``inspect_ai.scorer.Score.metadata`` under which judge scorers store their labels. It
#: lives here, not in ``deconfound.judges``, so reading logs never imports the judges.
LABELS_KEY: Final = "deconfound_labels"

Engagement = Literal["refusal", "partial", "engaged", "invalid", "unscored", "missing"]
ENGAGEMENT: Final = ("refusal", "partial", "engaged", "invalid", "unscored", "missing")
#: Engagement values that carry a substantive label (the rest say why there is none).
ENGAGEMENT_VALID: Final = ("refusal", "partial", "engaged")

BenchmarkDecision = Literal["convergence", "no_convergence", "invalid", "error"]
BENCHMARK_DECISION: Final = ("convergence", "no_convergence", "invalid", "error")

RefusalKind = Literal["reasoned_ethical", "framing_recognised", "capability", "boilerplate"]
REFUSAL_KIND: Final = ("reasoned_ethical", "framing_recognised", "capability", "boilerplate")

#: Engagement values on which ``in_role`` is defined (the codebook's refusals and partials).
IN_ROLE_DEFINED: Final = ("refusal", "partial")

ResponseStatus = Literal["ok", "missing", "error"]
RESPONSE_STATUS: Final = ("ok", "missing", "error")

#: Reasoning flags a judge may set on any response (bool or null).
REASONING_FLAGS: Final = (
    "gives_reasons",
    "names_affected_parties",
    "recognises_adversarial_framing",
    "defers_to_human_oversight",
    "offers_transparent_alternative",
)
