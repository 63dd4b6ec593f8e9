"""A stateful condition: a retrieval memory that accumulates across scenarios.

Referenced from a study as ``solver = "memory:retrieval_memory"`` (this file sits beside the study
file, which is searched first). The solver replaces ``generate()``: before answering it recalls the
``k`` earlier exchanges whose prompts share the most words with the current one, adds them as a
note after the system prompt, generates, then stores the new exchange.

The memory lives in the solver instance, i.e. one memory per (model, condition) task, filled in
the order Inspect runs samples. With ``max_connections > 1`` that order is not fixed, and a resumed
run starts with an empty memory — record both in the study's description if they matter.
"""

from __future__ import annotations

import re

from inspect_ai.model import ChatMessageSystem
from inspect_ai.solver import Generate, Solver, TaskState, solver

_WORD = re.compile(r"[a-z]{3,}")


def _words(text: str) -> set[str]:
    return set(_WORD.findall(text.lower()))


@solver
def retrieval_memory(k: int = 2, max_chars: int = 600) -> Solver:
    """Recall the ``k`` most similar earlier exchanges (word overlap), then generate.

    Args:
        k: How many earlier exchanges to recall.
        max_chars: Each recalled response is cut to this many characters.
    """
    memory: list[tuple[set[str], str, str]] = []

    async def solve(state: TaskState, generate: Generate) -> TaskState:
        query = _words(state.input_text)
        ranked = sorted(memory, key=lambda m: len(query & m[0]), reverse=True)[:k]
        if ranked:
            recalled = "\n\n".join(
                f"Earlier situation: {prompt}\nWhat you did: {response[:max_chars]}"
                for _, prompt, response in ranked
            )
            note = ChatMessageSystem(content=f"Notes from your memory:\n\n{recalled}")
            position = sum(1 for m in state.messages if m.role == "system")
            state.messages.insert(position, note)
        state = await generate(state)
        memory.append((query, state.input_text, state.output.completion))
        return state

    return solve
