"""Published results at a pinned commit: verified download (fetch replaced), local copy."""

from __future__ import annotations

import urllib.error
from pathlib import Path

import pytest
from typer.testing import CliRunner

from deconfound.cli import app
from deconfound.data import published as pub
from deconfound.errors import InputError

AEI = Path(__file__).resolve().parents[2] / "shared" / "data" / "aei-elessan"
KIMI = pub.PUBLISHED["aei-elessan/kimi-k2.5"]


@pytest.fixture
def upstream(monkeypatch: pytest.MonkeyPatch) -> tuple[dict[str, bytes], list[str]]:
    """Serve the local copy's bytes under the pinned URLs; record what was asked for."""
    assert AEI.is_dir(), f"{AEI} missing: ../shared must sit beside the project"
    monkeypatch.delenv(pub.AEI_LOCAL_COPY_ENV, raising=False)
    served = {
        results.url(f): (AEI / results.folder / f.name).read_bytes()
        for results in pub.PUBLISHED.values()
        for f in results.files
    }
    calls: list[str] = []

    def fetch(url: str) -> bytes:
        calls.append(url)
        return served[url]

    monkeypatch.setattr(pub, "fetch_url", fetch)
    return served, calls


def test_pins_match_the_local_copy_and_its_source_notes() -> None:
    """The digests pinned in code are those of the files SOURCE.md describes."""
    source_md = (AEI / "SOURCE.md").read_text(encoding="utf-8")
    for results in pub.PUBLISHED.values():
        for f in results.files:
            assert pub._sha256((AEI / results.folder / f.name).read_bytes()) == f.sha256
            assert f.commit in source_md
            if f.name.endswith("_judged.json"):
                assert f"| {results.folder}/{f.name} | {f.path} | {f.commit} |" in source_md


def test_fetch_downloads_each_pinned_file_at_its_commit(
    tmp_path: Path, upstream: tuple[dict[str, bytes], list[str]]
) -> None:
    _, calls = upstream
    result = pub.fetch_published("aei-elessan/kimi-k2.5", tmp_path / "kimi")
    assert sorted(calls) == sorted(KIMI.url(f) for f in KIMI.files)
    assert all(u.startswith(f"https://raw.githubusercontent.com/{pub.AEI_REPO}/") for u in calls)
    assert sorted(result.written) == sorted(f.name for f in KIMI.files)
    for f in KIMI.files:
        copy = (AEI / "kimi-k2.5" / f.name).read_bytes()
        assert (tmp_path / "kimi" / f.name).read_bytes() == copy
    calls.clear()
    again = pub.fetch_published("aei-elessan/kimi-k2.5", tmp_path / "kimi")
    assert calls == [] and again.written == ()  # verified files already there are kept


def test_a_download_with_another_digest_writes_nothing(
    tmp_path: Path, upstream: tuple[dict[str, bytes], list[str]]
) -> None:
    served, _ = upstream
    victim = KIMI.url(KIMI.files[-1])  # the last file: the others were read and checked first
    served[victim] = served[victim] + b"\n"
    with pytest.raises(InputError, match="differs from the pinned") as info:
        pub.fetch_published("aei-elessan/kimi-k2.5", tmp_path / "kimi")
    assert info.value.path == victim
    assert not (tmp_path / "kimi").exists()


def test_an_existing_file_with_other_bytes_is_never_overwritten(
    tmp_path: Path, upstream: tuple[dict[str, bytes], list[str]]
) -> None:
    folder = tmp_path / "kimi"
    folder.mkdir()
    (folder / "summary.json").write_text("{}", encoding="utf-8")
    with pytest.raises(InputError, match="not overwriting"):
        pub.fetch_published("aei-elessan/kimi-k2.5", folder)
    assert (folder / "summary.json").read_text(encoding="utf-8") == "{}"
    assert sorted(p.name for p in folder.iterdir()) == ["summary.json"]


def test_local_copy_variable_serves_offline_machines_with_the_same_checks(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def offline(url: str) -> bytes:
        raise AssertionError(f"no download expected, asked for {url}")

    monkeypatch.setattr(pub, "fetch_url", offline)
    monkeypatch.setenv(pub.AEI_LOCAL_COPY_ENV, str(AEI))
    result = pub.fetch_published("aei-elessan/sonnet-4.5", tmp_path / "s")
    assert len(result.written) == 5 and result.source == str(AEI / "sonnet-4.5")

    edited = tmp_path / "edited"
    (edited / "kimi-k2.5").mkdir(parents=True)
    for f in KIMI.files:
        (edited / "kimi-k2.5" / f.name).write_bytes((AEI / "kimi-k2.5" / f.name).read_bytes())
    (edited / "kimi-k2.5" / "baseline_judged.json").write_bytes(b"[]")
    monkeypatch.setenv(pub.AEI_LOCAL_COPY_ENV, str(edited))
    with pytest.raises(InputError, match="differs from the pinned"):
        pub.fetch_published("aei-elessan/kimi-k2.5", tmp_path / "k")
    assert not (tmp_path / "k").exists()


def test_offline_without_a_local_copy_says_which_variable_to_set(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def offline(url: str) -> bytes:
        raise urllib.error.URLError("network is unreachable")

    monkeypatch.delenv(pub.AEI_LOCAL_COPY_ENV, raising=False)
    monkeypatch.setattr(pub, "fetch_url", offline)
    with pytest.raises(InputError, match=pub.AEI_LOCAL_COPY_ENV):
        pub.fetch_published("aei-elessan/kimi-k2.5", tmp_path / "k")


def test_unknown_name_lists_the_known_sets() -> None:
    with pytest.raises(InputError, match=r"aei-elessan/kimi-k2\.5, aei-elessan/sonnet-4\.5"):
        pub.lookup("aei-elessan/nonesuch")


def test_cli_fetch_then_import_reproduces_the_published_headline(
    tmp_path: Path, upstream: tuple[dict[str, bytes], list[str]]
) -> None:
    runner = CliRunner()
    out = tmp_path / "kimi-k2.5"
    fetched = runner.invoke(app, ["fetch", "aei-elessan/kimi-k2.5", "-o", str(out)])
    assert fetched.exit_code == 0, fetched.output
    assert "5 file(s) written, all sha256-verified" in fetched.output
    records = tmp_path / "kimi.parquet"
    imported = runner.invoke(app, ["import", "--format", "aei", str(out), "-o", str(records)])
    assert imported.exit_code == 0, imported.output
    summary = runner.invoke(app, ["summary", str(records)])
    assert summary.exit_code == 0, summary.output
    # published: IR 25.00 / 18.42 / 22.37, keyword refusal 38.16 / 34.21 / 32.89
    for figure in ("25.00", "18.42", "22.37", "38.16", "34.21", "32.89"):
        assert figure in summary.output
