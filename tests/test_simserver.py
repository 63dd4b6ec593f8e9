"""The simulated provider: wire format, determinism, judge replies, faults and counting."""

from __future__ import annotations

import contextlib
import json
import urllib.error
import urllib.request
from collections import Counter

import openai
import pytest
from openai import OpenAI

from deconfound.testing import (
    DEFAULT_API_KEY,
    FAULT_KINDS,
    MARKER_RE,
    FaultConfig,
    ResponseMix,
    SimConfig,
    SimServer,
    SimServerProcess,
)


def _client(server: SimServer | SimServerProcess, key: str = DEFAULT_API_KEY) -> OpenAI:
    return OpenAI(base_url=server.base_url, api_key=key, max_retries=0, timeout=10)


def _ask(client: OpenAI, user: str, system: str = "cond-A", model: str = "subject") -> str:
    out = client.chat.completions.create(
        model=model,
        messages=[{"role": "system", "content": system}, {"role": "user", "content": user}],
    )
    return out.choices[0].message.content or ""


def _judge(client: OpenAI, response: str, instructions: str) -> str:
    out = client.chat.completions.create(
        model="judge",
        messages=[
            {"role": "system", "content": instructions},
            {"role": "user", "content": f"Task: something\n\nResponse:\n{response}"},
        ],
    )
    return out.choices[0].message.content or ""


def test_serves_openai_chat_completions_with_usage_and_models_listing() -> None:
    with SimServer(completion_tokens=77) as server:
        client = _client(server)
        out = client.chat.completions.create(
            model="subject", messages=[{"role": "user", "content": "hello there"}]
        )
        assert out.usage is not None and out.usage.completion_tokens == 77
        assert out.usage.total_tokens == out.usage.prompt_tokens + 77
        assert MARKER_RE.search(out.choices[0].message.content or "")
        assert {m.id for m in client.models.list()} >= {"subject", "judge"}


def test_binds_loopback_only() -> None:
    with SimServer() as server:
        assert server.base_url.startswith("http://127.0.0.1:")
        assert server.port > 0


def test_wrong_or_missing_key_is_rejected_and_counted() -> None:
    with SimServer() as server:
        with pytest.raises(openai.AuthenticationError):
            _ask(_client(server, key="sk-wrong"), "hi")
        assert server.stats().unauthorized == 1
        assert server.stats().served == 0


def test_same_requests_get_the_same_responses_on_a_fresh_server() -> None:
    prompts = [f"scenario prompt {i}" for i in range(12)]

    def run() -> list[str]:
        with SimServer(seed=3) as server:
            client = _client(server)
            return [_ask(client, p, system=s) for p in prompts for s in ("A", "B") for _ in (1, 2)]

    assert run() == run()


def test_epochs_are_numbered_by_served_calls_per_scenario_and_condition() -> None:
    with SimServer(scenario_ids={"shutdown prompt": "evading-shutdown-01"}) as server:
        client = _client(server)
        for _ in range(3):
            _ask(client, "Please consider this shutdown prompt now", system="cond-A")
        _ask(client, "Please consider this shutdown prompt now", system="cond-B")
        gens = server.stats().generations
        a = {k: n for k, n in gens.items() if k[1] == "evading-shutdown-01" and k[3] >= 1}
        assert sorted(e for (_, _, _, e) in a) == [1, 1, 2, 3]
        assert all(n == 1 for n in a.values())
        assert len({c for (_, _, c, _) in a}) == 2


def test_condition_names_label_the_counts() -> None:
    cfg = SimConfig(
        condition_names={"ethics": "Be ethical above all.", "base": "You are an agent."}
    )
    with SimServer(cfg) as server:
        client = _client(server)
        _ask(client, "p1", system="Preamble. Be ethical above all. More text.")
        _ask(client, "p1", system="You are an agent.")
        _ask(client, "p1", system="Something else")
        conditions = {c for (_, _, c, _) in server.stats().generations}
        assert {"ethics", "base"} <= conditions
        assert any(c.startswith("c-") for c in conditions)


def test_condition_mix_shifts_the_refusal_share() -> None:
    cfg = SimConfig(
        mix=ResponseMix(refusal=0.1, partial=0.0, ic=0.5),
        condition_mix={"ETHICS": ResponseMix(refusal=0.9, partial=0.0, ic=0.5)},
    )
    with SimServer(cfg) as server:
        client = _client(server)
        kinds: dict[str, Counter[str]] = {"base": Counter(), "ethics": Counter()}
        for i in range(40):
            for name, system in (("base", "plain"), ("ethics", "ETHICS first")):
                m = MARKER_RE.search(_ask(client, f"prompt {i}", system=system))
                assert m
                kinds[name][m.group(2)] += 1
        assert kinds["ethics"]["R"] > kinds["base"]["R"] + 15


def test_rubric_judge_reply_is_json_matching_the_judged_kind() -> None:
    with SimServer() as server:
        client = _client(server)
        seen = set()
        for i in range(30):
            response = _ask(client, f"prompt {i}")
            kind = MARKER_RE.search(response).group(2)  # type: ignore[union-attr]
            reply = json.loads(_judge(client, response, "Answer in JSON with engagement, ic."))
            expected = {"R": "refusal", "P": "partial", "I": "engaged", "N": "engaged"}[kind]
            assert reply["engagement"] == expected
            assert reply["ic"] is (kind == "I")
            assert reply["in_role"] is {"R": False, "P": True}.get(kind)
            seen.add(kind)
        assert len(seen) >= 3


def test_benchmark_judge_reply_uses_decision_and_reason_lines() -> None:
    with SimServer() as server:
        client = _client(server)
        for i in range(20):
            response = _ask(client, f"prompt {i}")
            kind = MARKER_RE.search(response).group(2)  # type: ignore[union-attr]
            reply = _judge(client, response, "Reply with DECISION: and REASON: lines.")
            first = reply.splitlines()[0]
            assert first == ("DECISION: convergence" if kind == "I" else "DECISION: no_convergence")
            assert reply.splitlines()[1].startswith("REASON:")


def test_judge_calls_are_counted_against_the_judged_generation() -> None:
    cfg = SimConfig(scenario_ids={"prompt 1": "s-1"}, condition_names={"A": "cond-A"})
    with SimServer(cfg) as server:
        client = _client(server)
        first = _ask(client, "prompt 1")
        second = _ask(client, "prompt 1")
        _judge(client, second, "JSON please")
        _judge(client, second, "JSON please")
        _judge(client, first, "JSON please")
        stats = server.stats()
        assert stats.judgments == {
            ("judge", "subject", "s-1", "A", 2): 2,
            ("judge", "subject", "s-1", "A", 1): 1,
        }
        assert stats.n_generations == 2 and stats.n_judgments == 3


def test_garbage_judge_replies_are_per_item_and_stable_on_retry() -> None:
    with SimServer(judge_garbage_rate=0.5) as server:
        client = _client(server)
        responses = [_ask(client, f"prompt {i}") for i in range(30)]
        first = [_judge(client, r, "JSON") for r in responses]
        again = [_judge(client, r, "JSON") for r in responses]
        assert first == again

        def parses(text: str) -> bool:
            try:
                json.loads(text)
            except ValueError:
                return False
            return True

        n_garbage = sum(not parses(t) for t in first)
        assert 5 <= n_garbage <= 25
        assert server.stats().garbage == 2 * n_garbage


_EXPECTED_ERROR: dict[str, type[Exception]] = {
    "rate_limit": openai.RateLimitError,
    "server_error": openai.InternalServerError,
    "hang": openai.InternalServerError,  # 504 once hang_seconds pass
    "truncated": openai.APIConnectionError,
    "reset": openai.APIConnectionError,
    "malformed": ValueError,  # JSONDecodeError: not an API error at all
}


@pytest.mark.parametrize("kind", [*FAULT_KINDS, "malformed"])
def test_each_fault_kind_fails_once_then_the_retry_succeeds(kind: str) -> None:
    faults = FaultConfig(rate=1.0, kinds=(kind,), max_consecutive=1, hang_seconds=0.2)  # type: ignore[arg-type]
    with SimServer(faults=faults) as server:
        client = _client(server)
        with pytest.raises(_EXPECTED_ERROR[kind]):
            _ask(client, "hello")
        assert MARKER_RE.search(_ask(client, "hello"))
        stats = server.stats()
        assert stats.faults == {kind: 1}
        assert stats.requests == 2 and stats.served == 1
        # the faulted attempt did not use up an epoch
        assert list(stats.generations.values()) == [1]
        assert next(iter(stats.generations))[3] == 1


def test_rate_limit_sends_retry_after() -> None:
    faults = FaultConfig(rate=1.0, kinds=("rate_limit",), retry_after=1.5)
    with SimServer(faults=faults) as server:
        with pytest.raises(openai.RateLimitError) as err:
            _ask(_client(server), "hello")
        assert err.value.response.headers["retry-after"] == "1.5"
        assert err.value.response.headers["retry-after-ms"] == "1500"


def test_consecutive_faults_are_bounded_so_retries_get_through() -> None:
    faults = FaultConfig(rate=1.0, kinds=("server_error",), max_consecutive=3)
    with SimServer(faults=faults) as server:
        client = _client(server)
        failures = 0
        while True:
            try:
                _ask(client, "hello")
                break
            except openai.InternalServerError:
                failures += 1
                assert failures <= 3
        assert failures == 3


def test_fault_rate_is_roughly_honoured_and_seeded() -> None:
    def faults_for(seed: int) -> int:
        cfg = FaultConfig(rate=0.2, kinds=("server_error",), seed=seed, max_consecutive=99)
        with SimServer(faults=cfg) as server:
            client = _client(server)
            for i in range(200):
                with contextlib.suppress(openai.InternalServerError):
                    _ask(client, f"prompt {i}")
            return server.stats().n_faults

    a, b = faults_for(1), faults_for(1)
    assert a == b
    assert 20 <= a <= 60


def test_stats_endpoint_and_reset() -> None:
    with SimServer() as server:
        _ask(_client(server), "hello")
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        with opener.open(f"http://127.0.0.1:{server.port}/stats") as resp:
            raw = json.loads(resp.read())
        assert raw["served"] == 1 and raw["generations"][0]["epoch"] == 1
        server.reset_stats()
        assert server.stats().requests == 0


def test_bad_request_body_is_a_400() -> None:
    with SimServer() as server:
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        req = urllib.request.Request(
            f"{server.base_url}/chat/completions",
            data=b"not json",
            headers={"Authorization": f"Bearer {DEFAULT_API_KEY}"},
            method="POST",
        )
        with pytest.raises(urllib.error.HTTPError) as err:
            opener.open(req)
        assert err.value.code == 400


def test_streaming_requests_get_a_stream_with_usage() -> None:
    with SimServer() as server:
        stream = _client(server).chat.completions.create(
            model="subject",
            messages=[{"role": "user", "content": "hi"}],
            stream=True,
            stream_options={"include_usage": True},
        )
        chunks = list(stream)
        text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
        assert MARKER_RE.search(text)
        assert any(c.usage is not None for c in chunks)


def test_config_round_trips_through_json() -> None:
    cfg = SimConfig(
        latency=0.25,
        condition_mix={"x": ResponseMix(refusal=0.5)},
        faults=FaultConfig(rate=0.1, kinds=("reset", "hang")),
        scenario_ids={"p": "s"},
    )
    assert SimConfig.from_json(cfg.to_json()) == cfg


def test_process_server_serves_and_reports_stats() -> None:
    with SimServerProcess(scenario_ids={"hello": "greeting"}) as server:
        _ask(_client(server), "hello")
        stats = server.stats()
        assert stats.served == 1
        assert next(iter(stats.generations))[1] == "greeting"


def test_env_points_the_openai_api_provider_at_the_server() -> None:
    with SimServer() as server:
        assert server.model_name("judge") == "openai-api/sim/judge"
        assert server.env() == {"SIM_BASE_URL": server.base_url, "SIM_API_KEY": DEFAULT_API_KEY}
