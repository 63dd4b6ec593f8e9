"""A scripted model provider for tests and demonstrations (no network, no keys).

Registered with Inspect through the ``inspect_ai`` entry point in ``pyproject.toml`` so the CLI can
resolve ``deconfound-mock/<script>`` before any task file is imported (inspect-notes trap 6).

Scripts (the part after ``deconfound-mock/``):

- ``echo``: answers "Scripted reply to: <first words of the user turn>".
- ``refuser``: always declines.
- ``complier``: always goes along with the request.
- ``flaky``: like ``echo``, but raises an error whenever the user turn contains ``FAIL``.
- ``decider``: a scripted benchmark grader: ``DECISION: convergence`` when the text it grades
  goes along with the request ("Sure."), else ``DECISION: no_convergence``, with a REASON line.
- ``mixed`` (default for any other name): declines when the system prompt asks for ethical care
  (it mentions "ethic", "honest" or "oversight"), otherwise complies — a crude stand-in for an
  intervention that raises refusals.

Every reply ends with a call tag ``[call <pid>-<n>]`` unique to this generate call, so a test can
tell a regenerated response from a reused one. Two environment variables make it useful for
resume tests:

- ``DECONFOUND_MOCK_DELAY``: seconds to sleep per call (float; default 0).
- ``DECONFOUND_MOCK_CALLS``: a file to which each finished call appends one JSON line
  ``{"model", "system", "user", "tag"}``.

Usage is always set on the output, so Inspect never tries to count tokens with a downloaded
tokenizer (inspect-notes trap 1).
"""

from __future__ import annotations

import asyncio
import itertools
import json
import os
from typing import Any

from inspect_ai.model import (
    ChatMessage,
    ChatMessageSystem,
    ChatMessageUser,
    GenerateConfig,
    ModelAPI,
    ModelOutput,
    ModelUsage,
    modelapi,
)
from inspect_ai.tool import ToolChoice, ToolInfo

DELAY_ENV = "DECONFOUND_MOCK_DELAY"
CALLS_ENV = "DECONFOUND_MOCK_CALLS"

_ETHICS_MARKERS = ("ethic", "honest", "oversight")
_counter = itertools.count(1)


def _text(messages: list[ChatMessage], kind: type[ChatMessage]) -> str:
    return "\n\n".join(m.text for m in messages if isinstance(m, kind))


def scripted_reply(script: str, system: str, user: str) -> str:
    """The scripted reply (without call tag) for a script, system prompt and user turn."""
    words = " ".join(user.split()[:8])
    refusal = "I won't help with that: it would mean acting against the people overseeing me."
    compliance = f"Sure. Here is how I would proceed with: {words}"
    if script in ("echo", "flaky"):
        return f"Scripted reply to: {words}"
    if script == "refuser":
        return refusal
    if script == "complier":
        return compliance
    if script == "decider":
        decision = "convergence" if "Sure." in user else "no_convergence"
        return f"DECISION: {decision}\nREASON: scripted grade."
    lowered = system.lower()
    return refusal if any(m in lowered for m in _ETHICS_MARKERS) else compliance


class ScriptedModelAPI(ModelAPI):
    """Deterministic replies chosen by the model name; see the module docstring.

    Args:
        model_name: The script name (``echo``, ``refuser``, ``complier``, ``mixed``).
        base_url: Ignored.
        api_key: Ignored.
        config: Generation config (ignored apart from being recorded by Inspect).
        delay: Seconds to sleep per call; overrides ``DECONFOUND_MOCK_DELAY``.
    """

    def __init__(
        self,
        model_name: str,
        base_url: str | None = None,
        api_key: str | None = None,
        config: GenerateConfig = GenerateConfig(),
        delay: float | None = None,
        **model_args: Any,
    ) -> None:
        super().__init__(model_name, base_url, api_key, [], config)
        self.delay = delay

    async def generate(
        self,
        input: list[ChatMessage],
        tools: list[ToolInfo],
        tool_choice: ToolChoice,
        config: GenerateConfig,
    ) -> ModelOutput:
        delay = self.delay if self.delay is not None else float(os.environ.get(DELAY_ENV, "0"))
        if delay > 0:
            await asyncio.sleep(delay)
        system = _text(input, ChatMessageSystem)
        user = _text(input, ChatMessageUser)
        if self.model_name == "flaky" and "FAIL" in user:
            raise RuntimeError("scripted provider failure (the user turn contains FAIL)")
        tag = f"{os.getpid()}-{next(_counter)}"
        content = f"{scripted_reply(self.model_name, system, user)} [call {tag}]"
        calls = os.environ.get(CALLS_ENV)
        if calls:
            line = json.dumps(
                {"model": self.model_name, "system": system, "user": user, "tag": tag}
            )
            with open(calls, "a", encoding="utf-8") as fh:
                fh.write(line + "\n")
        n_in = sum(len(m.text.split()) for m in input)
        n_out = len(content.split())
        output = ModelOutput.from_content(model=self.model_name, content=content)
        output.usage = ModelUsage(input_tokens=n_in, output_tokens=n_out, total_tokens=n_in + n_out)
        return output

    def max_connections(self) -> int:
        """Plenty: the provider has no rate limit."""
        return 32


@modelapi(name="deconfound-mock")
def deconfound_mock() -> type[ModelAPI]:
    """Registry hook for ``deconfound-mock/<script>``."""
    return ScriptedModelAPI


# The registered task and scorers (deconfound/instrumentaleval, deconfound/judge, ...) load with
# this module, which Inspect imports through the ``inspect_ai`` entry point.
import deconfound.run.inspect_registry  # noqa: E402, F401
