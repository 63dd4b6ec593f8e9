"""What the LLM judges share: lazy model binding, grader-refusal detection, untrusted-text fencing.

The model is bound on first use, not at construction, so a judge can be named
(``rubric:openai/...``) without an API key, and a role judge (``rubric@grader``) picks up whatever
the running eval bound to the role.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from dataclasses import dataclass
from importlib import resources
from typing import Final, TypedDict, TypeVar

from inspect_ai.model import (
    ContentText,
    GenerateConfig,
    Model,
    ModelOutput,
    get_model,
)

from deconfound.errors import InputError
from deconfound.judges.base import JudgeInput, Judgment
from deconfound.judges.cache import JudgmentCache
from deconfound.judges.parsing import ParseError

_Parsed = TypeVar("_Parsed")

#: Opening words of a grader that declines to grade instead of answering in the format asked.
_DECLINE_RE: Final = re.compile(
    r"^\W*(i\s*(?:'m|am)\s+(?:sorry|unable|not\s+(?:able|comfortable|going))"
    r"|i\s+(?:can(?:'|no)?t|cannot|won'?t|will\s+not|must\s+decline|do\s+not\s+feel)"
    r"|sorry,?\s+(?:but\s+)?i"
    r"|i\s+apologi[sz]e)",
    re.IGNORECASE,
)


def load_prompt(name: str) -> str:
    """A prompt file shipped in ``deconfound/judges/rubrics/``."""
    return resources.files("deconfound.judges").joinpath("rubrics", name).read_text("utf-8")


def text_version(*texts: str) -> str:
    """Version of a judge = the first 12 hex digits of SHA-256 over its prompt texts."""
    h = hashlib.sha256()
    for t in texts:
        h.update(t.encode("utf-8"))
        h.update(b"\0")
    return h.hexdigest()[:12]


def fence(tag: str, text: str) -> str:
    """Wrap untrusted text in ``<tag>`` markers it cannot close early.

    A response that contains ``</response>`` could otherwise end the block and speak to the judge
    as if it were our instructions; the closing marker inside the text is defused.
    """
    safe = re.sub(rf"<(\s*/?\s*{tag}\b)", r"<\\\1", text, flags=re.IGNORECASE)
    return f"<{tag}>\n{safe}\n</{tag}>"


def grader_declined(output: ModelOutput) -> str | None:
    """Why the grader declined to grade (content filter, refusal block), or None.

    Refusal *text* without the asked-for format is checked separately (:func:`looks_like_decline`)
    because only the caller knows whether the text parsed.
    """
    if output.empty:
        return None
    if output.stop_reason == "content_filter":
        return "grader stopped by a content filter"
    details = output.choices[0].stop_details
    if details is not None and (details.type or "").lower() == "refusal":
        return "grader returned a refusal stop"
    content = output.message.content
    if not isinstance(content, str):
        for part in content:
            if isinstance(part, ContentText) and part.refusal:
                return "grader returned a refusal block"
    return None


def looks_like_decline(text: str) -> bool:
    """True when unparseable grader text opens like a refusal to grade (no structured part)."""
    return "{" not in text and "DECISION" not in text.upper() and bool(_DECLINE_RE.match(text))


@dataclass(frozen=True)
class Declined:
    """The grader declined to grade (``reason`` says how): the judgment is ``unscored``."""

    reason: str


def read_reply(
    output: ModelOutput, parse: Callable[[str], _Parsed], expected: str
) -> _Parsed | Declined | ParseError:
    """A grader reply parsed, the grader's decline, or the parser's error.

    Every LLM judge reads a reply in this order, so a refusal to grade is never counted as a
    label: a provider-signalled decline first, then ``parse``; unparseable text that opens like
    a refusal is a decline too. Any other :class:`ParseError` is returned, not raised, because
    only the judge knows whether it is worth a repair request or makes the judgment ``invalid``.

    Args:
        output: The grader's output.
        parse: The judge's parser of the reply text.
        expected: What the judge asked for, for the decline reason (``a decision``, ``labels``).
    """
    if declined := grader_declined(output):
        return Declined(declined)
    try:
        return parse(output.completion)
    except ParseError as exc:
        if looks_like_decline(output.completion):
            return Declined(f"grader replied with a refusal instead of {expected}")
        return exc


class LLMSettings(TypedDict, total=False):
    """The keyword settings every LLM judge takes (see :class:`LLMJudgeBase`)."""

    config: GenerateConfig | None
    max_tokens: int
    cache: JudgmentCache | None


class LLMJudgeBase:
    """An Inspect model bound lazily from a model string, a ``Model`` object or a model role.

    Args:
        model: Inspect model string (``provider/model``) or ``Model``; None to use ``role``.
        role: Inspect model role (e.g. ``grader``) used when ``model`` is None.
        config: Extra generation settings (temperature stays 0 unless overridden).
        max_tokens: Output budget per call.
        cache: Judgment cache; None for no caching.
    """

    #: Spec prefix, ``rubric`` or ``benchmark``.
    kind: str = "llm"

    def __init__(
        self,
        model: str | Model | None = None,
        role: str | None = None,
        *,
        config: GenerateConfig | None = None,
        max_tokens: int = 2048,
        cache: JudgmentCache | None = None,
    ) -> None:
        if model is None and role is None:
            raise ValueError("give a model or a model role")
        self.cache = cache
        self._spec = model
        self._role = role
        base = GenerateConfig(temperature=0.0, max_tokens=max_tokens)
        self._config = base.merge(config) if config is not None else base
        self._bound: Model | None = model if isinstance(model, Model) else None
        #: ``<kind>:<provider/model>``, or ``<kind>@<role>`` for a role judge (whose judgments
        #: carry the model the role was bound to).
        self.id: str = f"{self.kind}:{model}" if model is not None else f"{self.kind}@{role}"

    def model(self) -> Model:
        """The bound Inspect model (resolving the string or role on first use)."""
        if self._bound is not None:
            return self._bound
        if isinstance(self._spec, str):
            # Not memoized: a judge object binds its own client, reading provider settings
            # (base URL, key) from the environment now, not from an earlier run's client.
            self._bound = get_model(self._spec, config=self._config, memoize=False)
            return self._bound
        try:
            # A role is re-resolved each call: one judge object may serve several evals.
            return get_model(role=self._role, required=True, config=self._config)
        except Exception as exc:  # PrerequisiteError outside an eval with that role bound
            raise InputError(
                f"judge {self.id!r} needs the Inspect model role '{self._role}' bound "
                f"(--model-role {self._role}=provider/model); outside a run, name the model "
                f"instead: {self.kind}:<provider/model>",
                field="judge",
            ) from exc

    @property
    def config(self) -> GenerateConfig:
        return self._config

    #: Set by subclasses (:meth:`_use_prompt`): the prompt-text version.
    version: str = ""

    def _use_prompt(self, name: str, *texts: str) -> str:
        """Load the prompt file ``name`` and version the judge by it and ``texts`` (its other
        templates), so a changed word is a new judge version and never served from the cache."""
        prompt = load_prompt(name)
        self.version = text_version(prompt, *texts)
        return prompt

    async def judge(self, item: JudgeInput) -> Judgment:
        """Label one response (never raises for bad judge output; API errors propagate).

        A missing response is labelled ``missing`` without a call; cached judgments are reused.
        """
        model = self.model()
        jid = f"{self.kind}:{model}"
        if item.response is None:
            return Judgment.missing(jid, self.version)
        if self.cache is not None and (hit := self.cache.get(jid, self.version, item)):
            return hit
        result = await self._judge(model, jid, item)
        if self.cache is not None:
            self.cache.put(jid, self.version, item, result)
        return result

    async def _judge(self, model: Model, jid: str, item: JudgeInput) -> Judgment:
        """One judge call on a present response; implemented by each judge."""
        raise NotImplementedError
