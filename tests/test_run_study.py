"""Study files: parsing, prompt parts, overrides, and errors that name the file and key."""

from __future__ import annotations

from pathlib import Path

import pytest

from deconfound.errors import InputError
from deconfound.run.study import INSTRUMENTALEVAL, load_study

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


def _study(tmp_path: Path, body: str, *, prompts: dict[str, str] | None = None) -> Path:
    for name, text in (prompts or {}).items():
        p = tmp_path / name
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(text, encoding="utf-8")
    path = tmp_path / "study.toml"
    path.write_text(body, encoding="utf-8")
    return path


MINIMAL = """
models = ["mockllm/model"]
[conditions.a]
system = [{ text = "Hi {there}." }]
"""


def test_system_prompt_parts_join_files_and_inline_text_in_order(tmp_path: Path) -> None:
    path = _study(
        tmp_path,
        """
name = "demo"
models = ["m/one", "m/two"]
epochs = 3
[scenarios]
source = "data/scen.jsonl"
categories = ["Evading Shutdown"]
limit = 4
[generation]
temperature = 0.5
max_tokens = 200
seed = 7
[judges]
use = ["lexical", "rubric@grader"]
roles = { grader = "openai/gpt-4o" }
[conditions.baseline]
system = ["prompts/agent.md"]
[conditions.treated]
system = ["prompts/agent.md", { text = "Be careful." }, { file = "prompts/extra.md" }]
user_prefix = "Context:"
user_suffix = "Think first."
""",
        prompts={"prompts/agent.md": "Agent prompt.\n", "prompts/extra.md": "Extra part.\n"},
    )
    study = load_study(path)
    assert study.name == "demo"
    assert [c.name for c in study.conditions] == ["baseline", "treated"]
    treated = study.conditions[1]
    assert treated.system_prompt == "Agent prompt.\n\nBe careful.\n\nExtra part."
    assert [p.source for p in treated.system] == [
        "prompts/agent.md",
        "inline",
        "prompts/extra.md",
    ]
    assert treated.user_prompt("Do X.") == "Context:\n\nDo X.\n\nThink first."
    assert study.conditions[0].user_prompt("Do X.") == "Do X."
    assert study.scenarios.source == str(tmp_path / "data/scen.jsonl")
    assert study.scenarios.categories == ("Evading Shutdown",)
    assert study.scenarios.limit == 4
    assert (study.generation.temperature, study.generation.max_tokens) == (0.5, 200)
    assert study.generation.seed == 7
    assert study.judges == ("lexical", "rubric@grader")
    assert dict(study.judge_roles) == {"grader": "openai/gpt-4o"}
    assert study.epochs == 3
    assert study.sha256 is not None and len(study.sha256) == 64


def test_defaults_name_from_file_stem_and_pinned_instrumentaleval(tmp_path: Path) -> None:
    study = load_study(_study(tmp_path, MINIMAL))
    assert study.name == "study"
    assert study.scenarios.source == INSTRUMENTALEVAL
    assert study.epochs == 1
    assert study.resolved_log_dir() == Path("runs") / "study"


def test_command_line_overrides_replace_file_settings(tmp_path: Path) -> None:
    study = load_study(_study(tmp_path, MINIMAL))
    new = study.with_overrides(
        limit=2,
        categories=["c"],
        log_dir=Path("elsewhere"),
        epochs=5,
        models=["m/x"],
        max_connections=3,
    )
    assert new.scenarios.limit == 2 and new.scenarios.categories == ("c",)
    assert new.resolved_log_dir() == Path("elsewhere")
    assert (new.epochs, new.models, new.max_connections) == (5, ("m/x",), 3)
    assert study.with_overrides() == study
    with pytest.raises(InputError, match="--epochs"):
        study.with_overrides(epochs=0)


def test_log_dir_in_the_file_is_relative_to_the_study_file(tmp_path: Path) -> None:
    body = 'log_dir = "out/logs"\n' + MINIMAL
    assert load_study(_study(tmp_path, body)).resolved_log_dir() == tmp_path / "out/logs"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ('modles = ["x/y"]\n' + MINIMAL, "modles"),
        ("[conditions.a]\nsystem = []\n", "models"),
        ('models = ["x/y"]\n', "conditions"),
        ('models = ["x/y"]\n[conditions.a]\nsystem = ["missing.md"]\n', "conditions.a.system[0]"),
        ('models = ["x/y"]\n[conditions.a]\nsytem = []\n', "conditions.a.sytem"),
        ('models = ["x/y"]\n[conditions."a b"]\n', "conditions.a b"),
        ('models = ["x/y"]\n[conditions.a]\nsolver = "no colon"\n', "conditions.a.solver"),
        ("epochs = 0\n" + MINIMAL, "epochs"),
        ('epochs = "2"\n' + MINIMAL, "epochs"),
        (MINIMAL + "[generation]\ntemperature = -1\n", "generation.temperature"),
        (MINIMAL + "[generation]\nseed = 1.5\n", "generation.seed"),
        (MINIMAL + '[judges]\nuse = ["lexical", "lexical"]\n', "judges.use"),
        (MINIMAL + "[scenarios]\nlimit = 0\n", "scenarios.limit"),
        ('models = ["a/b", "a/b"]\n[conditions.a]\n', "models"),
    ],
)
def test_bad_values_are_input_errors_naming_file_and_key(
    tmp_path: Path, body: str, field: str
) -> None:
    path = _study(tmp_path, body)
    with pytest.raises(InputError) as err:
        load_study(path)
    assert err.value.path == str(path)
    assert err.value.field == field


def test_toml_syntax_error_names_the_line(tmp_path: Path) -> None:
    path = _study(tmp_path, 'models = ["a/b"]\n[conditions.a\n')
    with pytest.raises(InputError) as err:
        load_study(path)
    assert err.value.location == "line 2"


def test_empty_prompt_file_is_an_error(tmp_path: Path) -> None:
    body = 'models = ["x/y"]\n[conditions.a]\nsystem = ["p.md"]\n'
    path = _study(tmp_path, body, prompts={"p.md": "\n\n"})
    with pytest.raises(InputError, match="empty"):
        load_study(path)


def test_examples_parse_and_their_prompts_are_our_own_files() -> None:
    study = load_study(EXAMPLES / "study.toml")
    names = [c.name for c in study.conditions]
    assert names == ["baseline", "ethics"]
    baseline, ethics = study.conditions
    assert ethics.system_prompt.startswith(baseline.system_prompt)
    assert len(ethics.system_prompt) > len(baseline.system_prompt)
    offline = load_study(EXAMPLES / "offline.toml")
    assert offline.models == ("deconfound-mock/mixed",)
