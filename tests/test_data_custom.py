"""Custom scenario files: CSV/JSONL loading and errors that name the line."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from deconfound.data import load_scenarios
from deconfound.errors import InputError


def _jsonl(path: Path, rows: list[dict[str, object]]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


def test_csv_scenarios_load_with_optional_context_and_metadata(tmp_path: Path) -> None:
    f = tmp_path / "mine.csv"
    f.write_text(
        "id,category,prompt,judge_context,source\n"
        'a-1,Cat A,"line one\nline two",ctx,paper\n'
        "b-1,Cat B,hello,,\n",
        encoding="utf-8",
    )
    result = load_scenarios(f)
    assert [s.id for s in result.scenarios] == ["a-1", "b-1"]
    assert result.scenarios[0].prompt == "line one\nline two"
    assert result.scenarios[0].judge_context == "ctx"
    assert result.scenarios[0].metadata == {"source": "paper"}
    assert result.categories() == {"Cat A": 1, "Cat B": 1}
    assert set(result.digests) == {"mine.csv"} and not result.pinned


def test_jsonl_scenarios_load(tmp_path: Path) -> None:
    f = _jsonl(
        tmp_path / "mine.jsonl",
        [{"id": "x", "category": "C", "prompt": "p"}, {"id": "y", "category": "C", "prompt": "q"}],
    )
    assert [s.prompt for s in load_scenarios(f).scenarios] == ["p", "q"]


def test_csv_duplicate_id_names_the_line(tmp_path: Path) -> None:
    f = tmp_path / "dup.csv"
    f.write_text('id,category,prompt\nx,C,"two\nlines"\ny,C,b\nx,C,c\n', encoding="utf-8")
    with pytest.raises(InputError) as info:
        load_scenarios(f)
    err = info.value
    assert (err.path, err.location, err.field) == (str(f), "line 5", "id")
    assert "first on line 2" in err.message


def test_csv_empty_prompt_names_the_line(tmp_path: Path) -> None:
    f = tmp_path / "empty.csv"
    f.write_text("id,category,prompt\nx,C,ok\ny,C,   \n", encoding="utf-8")
    with pytest.raises(InputError) as info:
        load_scenarios(f)
    assert (info.value.location, info.value.field) == ("line 3", "prompt")


def test_csv_missing_column_is_named(tmp_path: Path) -> None:
    f = tmp_path / "cols.csv"
    f.write_text("id,prompt\nx,hello\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"missing column.*category") as info:
        load_scenarios(f)
    assert info.value.path == str(f)


def test_jsonl_errors_name_the_line(tmp_path: Path) -> None:
    missing = _jsonl(
        tmp_path / "m.jsonl", [{"id": "x", "category": "C", "prompt": "p"}, {"id": "y"}]
    )
    with pytest.raises(InputError, match="missing field") as info:
        load_scenarios(missing)
    assert info.value.location == "line 2"

    dup = _jsonl(
        tmp_path / "d.jsonl",
        [{"id": "x", "category": "C", "prompt": "p"}, {"id": "x", "category": "C", "prompt": "q"}],
    )
    with pytest.raises(InputError, match="duplicate id") as info:
        load_scenarios(dup)
    assert info.value.location == "line 2"

    typed = _jsonl(tmp_path / "t.jsonl", [{"id": "x", "category": "C", "prompt": 3}])
    with pytest.raises(InputError, match="expected text") as info:
        load_scenarios(typed)
    assert (info.value.location, info.value.field) == ("line 1", "prompt")

    broken = tmp_path / "b.jsonl"
    broken.write_text(
        '{"id": "x", "category": "C", "prompt": "p"}\n{"id": "y", \n', encoding="utf-8"
    )
    with pytest.raises(InputError, match="not valid JSON") as info:
        load_scenarios(broken)
    assert info.value.location == "line 2"


def test_unknown_source_kind_is_an_error(tmp_path: Path) -> None:
    f = tmp_path / "scenarios.txt"
    f.write_text("hello", encoding="utf-8")
    with pytest.raises(InputError, match=r"\.csv or \.jsonl"):
        load_scenarios(f)
    with pytest.raises(InputError, match="no such file"):
        load_scenarios(tmp_path / "absent.csv")


def test_jsonl_line_numbers_ignore_unicode_line_separators_inside_strings(tmp_path: Path) -> None:
    f = tmp_path / "u.jsonl"
    first = json.dumps({"id": "a", "category": "C", "prompt": "x\u2028y"}, ensure_ascii=False)
    f.write_text(first + "\n" + json.dumps({"id": "a", "category": "C", "prompt": "z"}) + "\n")
    with pytest.raises(InputError, match="duplicate id") as info:
        load_scenarios(f)
    assert info.value.location == "line 2"
